"""Chapter 6's assignment graded for real: nbgrader release, autograde, feedback, export.

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

from catalogue.ch06 import WRONG
from grading import Course, Submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-ch06")]

FUNCTIONS = ["vocab_logits", "softmax_temperature", "top_k_sample", "top_p_sample", "decode_step"]
LOOP_FOREVER = '''def top_k_sample(logits, k, seed):
    token = 0
    while True:  # never returns: the grader must time out and move on
        token = (token + 1) % len(logits)
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
    subs.append(Submission("looper", {**right, "top_k_sample": LOOP_FOREVER}))
    failing["looper"] = {"top_k_sample"}
    # Edit the temperature test cell to pass, with a wrong function: the grader restores the test.
    wrong_temperature = WRONG.for_target("softmax_temperature")[0].source
    subs.append(Submission("edited", {**right, "softmax_temperature": wrong_temperature,
                                      "test_softmax_temperature": "print('all good')"}))
    failing["edited"] = {"softmax_temperature"}
    # Delete the decode-step test cell, with a wrong function: it is put back and fails.
    wrong_decode = WRONG.for_target("decode_step")[0].source
    subs.append(Submission("deleted", {**right, "decode_step": wrong_decode}, deleted=("test_decode_step",)))
    failing["deleted"] = {"decode_step"}
    return subs, failing


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course"), "ch06")
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
    autograded = (course.root / "autograded" / "looper" / "ch06" / "ch06.ipynb").read_text()
    # nbgrader's own timeout, or the course's confined grader's message for it
    assert "CellTimeoutError" in autograded or "did not finish within 8 s" in autograded
    assert course.cell_scores("looper")["test_top_p_sample"] == 2.0  # the cell after the loop still ran
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
