"""Grades exported for a learning platform: Canvas's import format, read back as Canvas would.

The gradebook here is made with nbgrader's own API (no grading needed): three learners,
one of whom submitted nothing. The by-question export is tested on real grading in
tests/test_grading.py.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import pytest

from dotlab.grading.release import COURSE_ROOT, nbgrader_env

# nbgrader's own add_submission warns about its session's autoflush; the rows it writes are right
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

POINTS = {"test_dot": 4.0, "test_norm": 6.0}
LEARNERS = {  # id -> (first, last, score per cell or None for no submission)
    "alice": ("Ada", "Lovelace", {"test_dot": 4.0, "test_norm": 6.0}),
    "bob": ("Bob", "", {"test_dot": 4.0, "test_norm": 0.0}),
    "carol": ("", "", None),
}


@pytest.fixture()
def course(tmp_path):
    from nbgrader.api import Gradebook

    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "dot-product-course") as gb:
        gb.add_assignment("ch01")
        gb.add_notebook("ch01", "ch01")
        for cell, points in POINTS.items():
            gb.add_grade_cell(cell, "ch01", "ch01", max_score=points, cell_type="code")
        for sid, (first, last, scores) in LEARNERS.items():
            gb.add_student(sid, first_name=first or None, last_name=last or None)
            if scores is not None:
                submission = gb.add_submission("ch01", sid)
                for grade in submission.notebooks[0].grades:
                    grade.auto_score = scores[grade.name]
                gb.db.commit()
    return tmp_path


def _export(course, *args):
    return subprocess.run([sys.executable, "-m", "dotlab.grading.export", "ch01", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True)


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_file_has_canvas_columns_points_possible_and_every_learner(course):
    done = _export(course, "--format", "canvas", "--to", "canvas.csv")
    assert done.returncode == 0, done.stderr
    header, points, *learners = _read(course / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch01"]
    assert points[0] == "Points Possible" and float(points[-1]) == sum(POINTS.values())
    by_login = {row[3]: row for row in learners}
    assert set(by_login) == set(LEARNERS)
    assert by_login["alice"][0] == "Lovelace, Ada" and float(by_login["alice"][-1]) == 10.0
    assert by_login["bob"][0] == "Bob" and float(by_login["bob"][-1]) == 4.0
    assert by_login["carol"][0] == "carol" and float(by_login["carol"][-1]) == 0.0  # nothing submitted


def test_roster_supplies_canvas_ids_and_sections(course):
    roster = course / "roster.csv"
    roster.write_text("student_id,canvas_id,sis_user_id,sis_login_id,section\n"
                      "alice,101,S-1,ada.l,A\nbob,102,S-2,bob.b,B\ncarol,103,S-3,carol.c,A\n")
    done = _export(course, "--format", "canvas", "--roster", str(roster), "--to", "canvas.csv")
    assert done.returncode == 0, done.stderr
    _, _, *learners = _read(course / "canvas.csv")
    assert ["Lovelace, Ada", "101", "S-1", "ada.l", "A", "10"] in learners
    assert {row[1] for row in learners} == {"101", "102", "103"}


@pytest.mark.parametrize("roster, says", [
    ("student_id,canvas_id\nalice,1\nbob,2\n", "the roster has no row for carol"),
    ("student_id,canvas_id\nalice,1\nalice,2\nbob,3\ncarol,4\n", "lists 'alice' twice"),
    ("login,canvas_id\nalice,1\n", "needs ['student_id'"),
])
def test_a_bad_roster_is_named_and_nothing_is_written(course, roster, says):
    (course / "roster.csv").write_text(roster)
    done = _export(course, "--format", "canvas", "--roster", "roster.csv", "--to", "canvas.csv")
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (course / "canvas.csv").exists() and not list(course.glob("*.tmp"))
