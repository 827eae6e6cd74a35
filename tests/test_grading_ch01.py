"""Chapter 1's assignment graded for real: nbgrader release, autograde, feedback, export.

A class of learners is made from the instructor's solutions and the catalogue of wrong
versions: the reference solution; one learner per row of the catalogue, with a different
mistake in each function; the untouched release; a learner whose function never returns;
one who edited a test cell and one who deleted one. Each must get exactly the score that
their code earned, the batch must finish, and feedback must not reveal hidden tests.
"""

from __future__ import annotations

import html
import itertools

import pytest

from catalogue.ch01 import WRONG
from grading import Course, Submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-ch01")]

FUNCTIONS = ["dot_loop", "dot", "norm", "angle_between", "project"]
LOOP_FOREVER = '''def angle_between(a, b, degrees=False):
    while True:  # never returns: the grader must time out and move on
        pass
'''


def _class(course: Course) -> tuple[list[Submission], dict[str, set[str]]]:
    """The submissions, and for each student the functions that should score 0."""
    right = course.solution_sources()
    subs = [Submission("reference", dict(right))]
    failing = {"reference": set()}
    rows = itertools.zip_longest(*(WRONG.for_target(f) for f in FUNCTIONS))
    for i, row in enumerate(rows):
        answers, wrong_here = dict(right), set()
        for wrong in filter(None, row):
            answers[wrong.target] = wrong.source
            wrong_here.add(wrong.target)
        subs.append(Submission(f"mistakes{i:02d}", answers))
        failing[f"mistakes{i:02d}"] = wrong_here
    subs.append(Submission("untouched"))
    failing["untouched"] = set(FUNCTIONS)
    subs.append(Submission("looper", {**right, "angle_between": LOOP_FOREVER}))
    failing["looper"] = {"angle_between"}
    # Edit the dot test cell to pass, with a wrong dot: the grader restores the test.
    wrong_dot = WRONG.for_target("dot")[0].source
    subs.append(Submission("edited", {**right, "dot": wrong_dot, "test_dot": "print('all good')"}))
    failing["edited"] = {"dot"}
    # Delete the project test cell, with a wrong project: it is put back and fails.
    wrong_project = WRONG.for_target("project")[0].source
    subs.append(Submission("deleted", {**right, "project": wrong_project}, deleted=("test_project",)))
    failing["deleted"] = {"project"}
    return subs, failing


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course"), "ch01")
    subs, failing = _class(course)
    for sub in subs:
        course.submit(sub)
    # A short timeout keeps the test quick; the course's own setting is 30 s.
    log = course.autograde("--Execute.timeout=8")
    return course, failing, log


def test_every_student_gets_what_their_code_earned(graded):
    course, failing, _ = graded
    points = course.points()
    for student, bad in failing.items():
        scores = course.cell_scores(student)
        expected = {f"test_{f}": (0.0 if f in bad else points[f"test_{f}"]) for f in FUNCTIONS}
        assert scores == expected, student


def test_export_totals_match(graded):
    course, failing, _ = graded
    points = course.points()
    totals = course.export()
    assert set(totals) == set(failing)
    for student, bad in failing.items():
        assert totals[student] == sum(p for cell, p in points.items() if cell[len("test_"):] not in bad), student
    assert totals["reference"] == sum(points.values()) == 10
    assert totals["untouched"] == 0


def test_export_by_question_has_a_row_per_learner_and_a_column_per_cell(graded):
    import csv
    import subprocess
    import sys

    from dotlab.grading.release import nbgrader_env

    course, failing, _ = graded
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.export", "ch01", "--to", "by_question.csv"],
                          cwd=course.root, env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(course.root / "by_question.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        table = {row["student_id"]: row for row in reader}
    cells = [f"test_{f}" for f in FUNCTIONS]
    assert reader.fieldnames == ["student_id", "first_name", "last_name", "email", "submitted", *cells, "late_penalty", "total"]
    totals = course.export()  # nbgrader's own export still works, and agrees
    assert set(table) == set(failing)
    for student, row in table.items():
        assert {c: float(row[c]) for c in cells} == course.cell_scores(student), student
        assert float(row["total"]) == totals[student] == sum(float(row[c]) for c in cells), student


def test_the_loop_timed_out_and_the_batch_went_on(graded):
    course, _, log = graded
    autograded = (course.root / "autograded" / "looper" / "ch01" / "ch01.ipynb").read_text()
    assert "did not finish within 8 s" in autograded
    assert course.cell_scores("looper")["test_project"] == 2.0  # the cell after the loop still ran
    assert "mistakes00" in log and "untouched" in log  # and so did everyone else


def test_feedback_teaches_without_revealing_hidden_tests(graded):
    course, failing, _ = graded
    pages = {student: html.unescape(page) for student, page in course.feedback().items()}
    assert set(pages) == set(failing)
    for student, page in pages.items():
        assert "HIDDEN TESTS" not in page, student
        assert "hidden=True" not in page, student
        assert "most recent call last" not in page and "----> " not in page, student
    assert "all good" not in pages["edited"]  # the learner's edit of a test cell is gone


def test_each_mistake_is_named_in_that_learners_feedback(graded):
    course, _, _ = graded
    pages = {student: html.unescape(page) for student, page in course.feedback().items()}
    rows = itertools.zip_longest(*(WRONG.for_target(f) for f in FUNCTIONS))
    for i, row in enumerate(rows):
        for wrong in filter(None, row):
            assert wrong.expect in pages[f"mistakes{i:02d}"], wrong.label


def test_hide_tracebacks_keeps_only_the_checks_words():
    from nbformat.v4 import new_code_cell, new_output

    from dotlab.grading.feedback import HideTracebacks

    cell = new_code_cell("check(f, hidden=True)")
    cell.outputs = [new_output("error", ename="CheckFailure", evalue="f(2) returned 5", traceback=["Traceback", "  check(f, hidden=True)", "CheckFailure: f(2) returned 5"])]
    cell, _ = HideTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == ["CheckFailure: f(2) returned 5"]
    assert HideTracebacks().enabled  # nbgrader registers preprocessors without enabling them
