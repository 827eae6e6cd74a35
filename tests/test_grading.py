"""Every assignment graded for real: nbgrader release, autograde, feedback, export.

For each chapter a class of learners is made from the instructor's solutions and that
chapter's catalogue of wrong versions: the reference solution; one learner per row of the
catalogue, with a different mistake in each function; the untouched release; a learner
whose function never returns; one who edited a test cell and one who deleted one. Each
must get exactly the score their code earned, the batch must finish, and feedback must
teach without revealing hidden tests.
"""

from __future__ import annotations

import csv
import html
import importlib
import itertools
import subprocess
import sys
from dataclasses import dataclass

import pytest

from dotlab.grading.release import nbgrader_env
from grading import Course, Submission


@dataclass(frozen=True)
class Assignment:
    """What differs between chapters: the graded functions and the learners' sabotage."""

    chapter: str
    functions: tuple[str, ...]
    total: float  # points for the whole assignment
    looper: str  # the function that never returns
    loop_forever: str  # its source
    after_loop: tuple[str, float]  # the next test cell and its points: it must still run
    edited: str  # whose test cell is edited to pass, with a wrong answer
    deleted: str  # whose test cell is deleted, with a wrong answer
    timeout: int = 8  # seconds per cell; shorter than the course's 30 s to keep the looper quick


ASSIGNMENTS = [
    Assignment("ch01", ("dot_loop", "dot", "norm", "angle_between", "project"), 10,
               "angle_between", "def angle_between(a, b, degrees=False):\n    while True:\n        pass\n",
               ("test_project", 2.0), edited="dot", deleted="project"),
    Assignment("ch02", ("cosine_similarity", "normalise", "top_k", "quantise_int8", "int8_dot", "recall_at_k"), 12,
               "top_k", "def top_k(corpus, queries, k):\n    while True:\n        pass\n",
               ("test_quantise_int8", 2.0), edited="cosine_similarity", deleted="recall_at_k"),
    Assignment("ch03", ("linear", "matmul_from_dots", "matmul_count", "embedding_lookup"), 8,
               "matmul_from_dots", "def matmul_from_dots(A, B):\n    while True:\n        pass\n",
               ("test_matmul_count", 2.0), edited="linear", deleted="embedding_lookup"),
    # Chapters 4 and 5 import torch in the notebook: a longer timeout for a busy machine.
    Assignment("ch04", ("softmax", "scaled_scores", "entropy", "dot_product_variance"), 10,
               "entropy", "def entropy(p, axis=-1):\n    total = 0.0\n    while True:\n        total += 0.0\n",
               ("test_dot_product_variance", 3.0), edited="softmax", deleted="dot_product_variance", timeout=15),
    Assignment("ch05", ("causal_mask", "attention", "split_heads", "merge_heads", "tiled_attention"), 10,
               "split_heads",
               "def split_heads(x, n_heads):\n    heads = []\n    while len(heads) < n_heads:  # never grows\n        pass\n",
               ("test_merge_heads", 1.0), edited="attention", deleted="tiled_attention", timeout=15),
    Assignment("ch06", ("vocab_logits", "softmax_temperature", "top_k_sample", "top_p_sample", "decode_step"), 10,
               "top_k_sample",
               "def top_k_sample(logits, k, seed):\n    token = 0\n    while True:\n"
               "        token = (token + 1) % len(logits)\n",
               ("test_top_p_sample", 2.0), edited="softmax_temperature", deleted="decode_step"),
    Assignment("ch07", ("matmul_count", "prefill_count", "decode_count", "kv_cache_bytes", "crossover_length",
                        "matmul_intensity"), 10,
               "crossover_length", "def crossover_length(shape):\n    T = 1\n    while True:\n        T += 0\n",
               ("test_matmul_intensity", 1.0), edited="prefill_count", deleted="kv_cache_bytes"),
    Assignment("ch08", ("gpt2_attention", "gpt2_block"), 10,
               "gpt2_attention",
               "def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):\n    while True:\n        x = x + 0\n",
               ("test_gpt2_block", 5.0), edited="gpt2_block", deleted="gpt2_attention"),
    Assignment("ch09", ("rope", "grouped_query_attention", "sliding_window_mask", "kv_cache_bytes", "ivf_search"),
               10, "sliding_window_mask",
               "def sliding_window_mask(n_queries, n_keys, window):\n    while True:\n        pass\n",
               ("test_kv_cache_bytes", 2.0), edited="rope", deleted="ivf_search", timeout=15),
]


def _wrong(spec: Assignment):
    return importlib.import_module(f"catalogue.{spec.chapter}").WRONG


def _mistake_rows(spec: Assignment):
    """Row i of the catalogue: the i-th wrong version of every function that has one."""
    wrong = _wrong(spec)
    return list(itertools.zip_longest(*(wrong.for_target(f) for f in spec.functions)))


def _class(course: Course, spec: Assignment) -> tuple[list[Submission], dict[str, set[str]]]:
    """The submissions, and for each learner the functions that should score 0."""
    right = course.solution_sources()
    first_wrong = {f: _wrong(spec).for_target(f)[0].source for f in (spec.edited, spec.deleted)}
    subs = [Submission("reference", dict(right))]
    failing = {"reference": set()}
    for i, row in enumerate(_mistake_rows(spec)):
        answers, wrong_here = dict(right), set()
        for wrong in filter(None, row):
            answers[wrong.target] = wrong.source
            wrong_here.add(wrong.target)
        subs.append(Submission(f"mistakes{i:02d}", answers))
        failing[f"mistakes{i:02d}"] = wrong_here
    subs.append(Submission("untouched"))
    failing["untouched"] = set(spec.functions)
    subs.append(Submission("looper", {**right, spec.looper: spec.loop_forever}))
    failing["looper"] = {spec.looper}
    # A wrong answer whose test cell was edited to pass: the grader restores the test.
    subs.append(Submission("edited", {**right, spec.edited: first_wrong[spec.edited],
                                      f"test_{spec.edited}": "print('all good')"}))
    failing["edited"] = {spec.edited}
    # A wrong answer whose test cell was deleted: the grader puts it back and it fails.
    subs.append(Submission("deleted", {**right, spec.deleted: first_wrong[spec.deleted]},
                           deleted=(f"test_{spec.deleted}",)))
    failing["deleted"] = {spec.deleted}
    return subs, failing


@dataclass
class Graded:
    spec: Assignment
    course: Course
    failing: dict[str, set[str]]
    log: str


# One batch per chapter; each chapter's batch stays on one xdist worker.
@pytest.fixture(scope="module", params=[
    pytest.param(spec, id=spec.chapter, marks=[pytest.mark.slow, pytest.mark.xdist_group(f"nbgrader-{spec.chapter}")])
    for spec in ASSIGNMENTS
])
def graded(request, tmp_path_factory) -> Graded:
    spec = request.param
    course = Course(tmp_path_factory.mktemp(spec.chapter), spec.chapter)
    subs, failing = _class(course, spec)
    for sub in subs:
        course.submit(sub)
    log = course.autograde(f"--Execute.timeout={spec.timeout}")
    return Graded(spec, course, failing, log)


def test_every_learner_gets_what_their_code_earned(graded):
    points = graded.course.points()
    for student, bad in graded.failing.items():
        expected = {f"test_{f}": (0.0 if f in bad else points[f"test_{f}"]) for f in graded.spec.functions}
        assert graded.course.cell_scores(student) == expected, student


def test_export_totals_match(graded):
    points = graded.course.points()
    totals = graded.course.export()
    assert set(totals) == set(graded.failing)
    for student, bad in graded.failing.items():
        assert totals[student] == sum(p for cell, p in points.items() if cell[len("test_"):] not in bad), student
    assert totals["reference"] == sum(points.values()) == graded.spec.total
    assert totals["untouched"] == 0


def test_export_by_question_has_a_row_per_learner_and_a_column_per_cell(graded):
    course, chapter = graded.course, graded.spec.chapter
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.export", chapter, "--to", "by_question.csv"],
                          cwd=course.root, env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(course.root / "by_question.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        table = {row["student_id"]: row for row in reader}
    cells = [f"test_{f}" for f in graded.spec.functions]
    assert reader.fieldnames == ["student_id", "first_name", "last_name", "email", "submitted", *cells,
                                 "late_penalty", "total"]
    totals = course.export()  # nbgrader's own export still works, and agrees
    assert set(table) == set(graded.failing)
    for student, row in table.items():
        assert {c: float(row[c]) for c in cells} == course.cell_scores(student), student
        assert float(row["total"]) == totals[student] == sum(float(row[c]) for c in cells), student


def test_the_loop_timed_out_and_the_batch_went_on(graded):
    course, spec = graded.course, graded.spec
    autograded = (course.root / "autograded" / "looper" / spec.chapter / f"{spec.chapter}.ipynb").read_text()
    # nbgrader's own timeout, or the course's sandboxed checks' message for it
    assert "CellTimeoutError" in autograded or f"did not finish within {spec.timeout} s" in autograded
    next_cell, its_points = spec.after_loop
    assert course.cell_scores("looper")[next_cell] == its_points  # the cell after the loop still ran
    assert "mistakes00" in graded.log and "untouched" in graded.log  # and so did everyone else


def test_feedback_teaches_without_revealing_hidden_tests(graded):
    pages = {student: html.unescape(page) for student, page in graded.course.feedback().items()}
    assert set(pages) == set(graded.failing)
    for student, page in pages.items():
        assert "HIDDEN TESTS" not in page, student
        assert "hidden=True" not in page, student
        assert "most recent call last" not in page and "----> " not in page, student
    assert "all good" not in pages["edited"]  # the learner's edit of a test cell is gone


def test_each_mistake_is_named_in_that_learners_feedback(graded):
    pages = {student: html.unescape(page) for student, page in graded.course.feedback().items()}
    for i, row in enumerate(_mistake_rows(graded.spec)):
        for wrong in filter(None, row):
            assert wrong.expect in pages[f"mistakes{i:02d}"], wrong.label


def test_the_class_report_counts_the_mistakes_planted(graded):
    """The grader recorded each failed cell with what the checks said (issue 18): the report's
    counts equal the mistakes planted in the class, learner by learner, with no regrading."""
    from collections import Counter

    from dotlab.grading import gradelog

    course, spec = graded.course, graded.spec
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.report", spec.chapter], cwd=course.root,
                          env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = gradelog.read_all(course.root, spec.chapter)
    assert set(records) == set(graded.failing)
    for student, bad in graded.failing.items():
        failed = {c.cell for c in records[student].cells if not c.passed}
        assert failed == {f"test_{f}" for f in bad}, student
    # a diagnosed mistake is recorded under its catalogued name, with the hint the learner saw
    from dotlab.checks import Mistake

    checks = importlib.import_module(f"dotlab.checks.{spec.chapter}")
    # every Mistake the chapter's checks know: the tasks' own, and those a task's custom judge uses
    names = {m.name for task in checks.TASKS.values() for m in task.mistakes}
    for value in vars(checks).values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        names |= {m.name for m in items if isinstance(m, Mistake)}
    named = [c for r in records.values() for c in r.cells
             if not c.passed and c.mistake and not c.mistake.startswith("(")]
    assert named, "the grader recorded no diagnosed mistake"
    for said in named:
        assert said.mistake in names and said.hint, said
    with open(course.root / "reports" / spec.chapter / "mistakes.csv", newline="") as handle:
        counted = Counter()
        for line in csv.DictReader(handle):
            counted[line["cell"]] += int(line["learners"])
    assert counted == Counter(f"test_{f}" for bad in graded.failing.values() for f in bad)
    page = (course.root / "reports" / spec.chapter / "report.html").read_text()
    assert "<script" not in page and "what the class got wrong" in page
