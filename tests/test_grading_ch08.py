"""Chapter 8's assignment graded for real: nbgrader release, autograde, feedback, export.

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

from catalogue.ch08 import WRONG
from grading import Course, Submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-ch08")]

FUNCTIONS = ["gpt2_attention", "gpt2_block"]
LOOP_FOREVER = '''def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    while True:  # never returns: the grader must time out and move on
        x = x + 0
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
    subs.append(Submission("looper", {**right, "gpt2_attention": LOOP_FOREVER}))
    failing["looper"] = {"gpt2_attention"}
    # Edit the block's test cell to pass, with a wrong block: the grader restores the test.
    wrong_block = WRONG.for_target("gpt2_block")[0].source
    subs.append(Submission("edited", {**right, "gpt2_block": wrong_block, "test_gpt2_block": "print('all good')"}))
    failing["edited"] = {"gpt2_block"}
    # Delete the attention's test cell, with a wrong function: it is put back and fails.
    wrong_attention = WRONG.for_target("gpt2_attention")[0].source
    subs.append(Submission("deleted", {**right, "gpt2_attention": wrong_attention}, deleted=("test_gpt2_attention",)))
    failing["deleted"] = {"gpt2_attention"}
    return subs, failing


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course"), "ch08")
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


def test_the_loop_timed_out_and_the_batch_went_on(graded):
    course, _, log = graded
    autograded = (course.root / "autograded" / "looper" / "ch08" / "ch08.ipynb").read_text()
    # nbgrader's own timeout, or the course's confined grader's message for it
    assert "CellTimeoutError" in autograded or "did not finish within 8 s" in autograded
    assert course.cell_scores("looper")["test_gpt2_block"] == 5.0  # the cell after the loop still ran
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
