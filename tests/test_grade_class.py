"""Grading a class in parallel gives exactly the scores of grading one learner at a time.

The same submissions (the reference, an untouched notebook, learners with mistakes and
two hostile notebooks) are graded twice: by ``python -m dotlab.grading.grade_class``
with two workers, and by plain ``nbgrader autograde``. Every learner's score for every
cell must agree, with the SQLite gradebook shared by the workers.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys

import pytest

from catalogue.ch01 import WRONG
from dotlab.grading.release import nbgrader_env
from grading import Course, Submission
from hostile import CATALOGUE, FUNCTIONS, path

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-grade-class")]
OPTIONS = ("--Execute.timeout=6", "--SandboxGrades.timeout=4")
# exit_answers: answers whose __float__ raises SystemExit, __array__ KeyboardInterrupt... (each costs one cell)
HOSTILE = [e for e in CATALOGUE if e.name in ("exits", "liars", "exit_answers")]


def _fill(course: Course) -> list[str]:
    right = course.solution_sources()
    subs = [Submission("reference", dict(right)), Submission("untouched")]
    rows = itertools.zip_longest(*(WRONG.for_target(f) for f in FUNCTIONS))
    for i, row in enumerate(itertools.islice(rows, 4)):
        subs.append(Submission(f"mistakes{i}", {**right, **{w.target: w.source for w in row if w}}))
    for sub in subs:
        course.submit(sub)
    for entry in HOSTILE:
        folder = course.root / "submitted" / entry.name / "ch01"
        folder.mkdir(parents=True)
        shutil.copy(path(entry), folder / "ch01.ipynb")
    return [s.student for s in subs] + [e.name for e in HOSTILE]


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory):
    parallel = Course(tmp_path_factory.mktemp("parallel"), "ch01")
    students = _fill(parallel)
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.grade_class", "ch01", "--jobs", "2", *OPTIONS],
                          cwd=parallel.root, env=nbgrader_env(), capture_output=True, text=True, timeout=1800)
    one_by_one = Course(tmp_path_factory.mktemp("sequential"), "ch01")
    _fill(one_by_one)
    one_by_one.autograde(*OPTIONS)
    return parallel, one_by_one, students, done


def test_the_class_command_grades_everyone_and_says_so(two_ways):
    parallel, _, students, done = two_ways
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"graded {len(students)} of {len(students)} learners of ch01" in done.stdout
    assert "100%" in done.stderr  # the progress bar
    assert "[AutogradeApp | INFO]" not in done.stderr  # workers keep their logs to themselves
    assert set(parallel.export()) == set(students)


def test_parallel_scores_are_those_of_grading_one_learner_at_a_time(two_ways):
    parallel, one_by_one, students, _ = two_ways
    for student in students:
        assert parallel.cell_scores(student) == one_by_one.cell_scores(student), student
    assert sum(parallel.cell_scores("reference").values()) == 10


def test_some_learners_can_be_graded_again_by_pattern(two_ways):
    parallel, _, students, _ = two_ways
    again = subprocess.run([sys.executable, "-m", "dotlab.grading.grade_class", "ch01", "--jobs", "2", "--quiet",
                            "--student", "ref*", *OPTIONS], cwd=parallel.root, env=nbgrader_env(),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "graded 1 of 1 learners" in again.stdout


# -- a worker that dies (possible only where Landlock does not scope signals) ---------------

_FAKE_MARKS = None
_RAISES = {"exits": SystemExit("bye"), "interrupts": KeyboardInterrupt(), "closes": GeneratorExit()}


def _fake_start(root, argv, marks):
    global _FAKE_MARKS
    _FAKE_MARKS = marks


def _fake_grade(student):
    import os
    from pathlib import Path

    from dotlab.grading.grade_class import Result

    (Path(_FAKE_MARKS) / student).touch()
    if student == "killer":
        os._exit(9)  # as if its notebook had killed the worker
    if student in _RAISES:
        raise _RAISES[student]  # as if grading this learner had let one escape
    (Path(_FAKE_MARKS) / student).unlink()
    return Result(student, True, 0.0)


class _Bar:
    def update(self):
        pass

    def write(self, text):
        pass


def test_a_worker_killed_by_one_learner_costs_only_that_learner():
    from dotlab.grading.grade_class import _grade_all

    students = [f"learner{i}" for i in range(6)] + ["killer"]
    results = _grade_all(students, 2, ".", [], _Bar(), grade=_fake_grade, start=_fake_start)
    assert sorted(r.student for r in results) == sorted(students)  # everyone once, and the batch finished
    assert {r.student for r in results if not r.success} == {"killer"}


def test_an_exit_or_interrupt_raised_while_grading_one_learner_costs_only_that_learner():
    from dotlab.grading.grade_class import _grade_all

    students = [f"learner{i}" for i in range(4)] + list(_RAISES)
    results = _grade_all(students, 2, ".", [], _Bar(), grade=_fake_grade, start=_fake_start)
    assert sorted(r.student for r in results) == sorted(students)  # the batch finished, everyone once
    failed = {r.student: r.error for r in results if not r.success}
    assert set(failed) == set(_RAISES)
    assert "SystemExit: bye" in failed["exits"] and "KeyboardInterrupt" in failed["interrupts"]
