"""The class report counts what the grader recorded, computes item statistics right, and reads offline.

A made-up class of 30 learners for chapter 1, written straight into a gradebook with
nbgrader's API and into the grader's records (dotlab.grading.gradelog), with mistakes
planted in known numbers. The report on a class graded for real by nbgrader is tested
in tests/test_grading.py.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from dotlab.grading import gradelog, report
from dotlab.grading.release import COURSE_ROOT, nbgrader_env

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission

COURSE_ID = "dot-product-course"
POINTS = {"test_dot_loop": 2.0, "test_dot": 1.0, "test_norm": 2.0, "test_angle_between": 3.0, "test_project": 2.0}
# cell -> [(mistake, hint, how many learners made it)]
PLANTED = {
    "test_dot_loop": [("elementwise", "you returned the element-wise products", 6), ("start at one", "starts at 1", 2)],
    "test_angle_between": [("unclipped", "clip cos θ to [-1, 1]", 9), ("degrees", "radians were asked for", 3)],
    "test_project": [("one norm", "divide by |onto|²", 4)],
}
UNDIAGNOSED = {"test_norm": 5}  # failed, but matching no catalogued mistake
N = 30


def _class():
    """student -> {cell: (passed, mistake, hint)}; mistakes handed out deterministically."""
    rng = np.random.default_rng(7)
    learners = {f"learner{i:02d}": {cell: (True, None, None) for cell in POINTS} for i in range(N)}
    names = sorted(learners)
    for cell, planted in PLANTED.items():
        order = list(rng.permutation(names))
        for mistake, hint, count in planted:
            for _ in range(count):
                learners[order.pop()][cell] = (False, mistake, hint)
    for cell, count in UNDIAGNOSED.items():
        for name in list(rng.permutation(names))[:count]:
            learners[name][cell] = (False, None, None)
    return learners


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("report")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    learners = _class()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        gb.add_assignment("ch01")
        gb.add_notebook("ch01", "ch01")
        for cell, points in POINTS.items():
            gb.add_grade_cell(cell, "ch01", "ch01", max_score=points, cell_type="code")
        gb.add_student("absent")  # submitted nothing: not in the report
        for student, cells in learners.items():
            gb.add_student(student)
            submission = gb.add_submission("ch01", student)
            for grade in submission.notebooks[0].grades:
                grade.auto_score = POINTS[grade.name] if cells[grade.name][0] else 0.0
            gb.db.commit()
    for i, (student, cells) in enumerate(learners.items()):
        flags = [gradelog.Flag("timeout", "a call did not finish within 30 s", "test_norm")] if i == 3 else []
        gradelog.write(root, gradelog.LearnerRecord(
            student, "ch01", COURSE_ID, seconds=2.0 + i / 10, flags=flags,
            cells=[gradelog.CellRecord(cell, passed, mistake, hint, None if passed else "a case")
                   for cell, (passed, mistake, hint) in cells.items()]))
    return root, learners


def _run(root, *args):
    return subprocess.run([sys.executable, "-m", "dotlab.grading.report", "ch01", *args], cwd=root,
                          env=nbgrader_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def written(course):
    root, learners = course
    done = _run(root)
    assert done.returncode == 0, done.stderr
    return root / "reports" / "ch01", learners


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_mistake_counts_equal_the_mistakes_planted(written):
    folder, _ = written
    got = {(r["cell"], r["mistake"]): int(r["learners"]) for r in _rows(folder / "mistakes.csv")}
    want = {(cell, m): n for cell, planted in PLANTED.items() for m, _, n in planted}
    want.update({(cell, "(no catalogued mistake)"): n for cell, n in UNDIAGNOSED.items()})
    assert got == want
    # most common first within a task, and each with the hint learners saw
    rows = [r for r in _rows(folder / "mistakes.csv") if r["cell"] == "test_angle_between"]
    assert [r["mistake"] for r in rows] == ["unclipped", "degrees"]
    assert rows[0]["hint"] == "clip cos θ to [-1, 1]" and rows[0]["task"] == "1.4"


def test_task_statistics_match_an_independent_computation(written):
    folder, learners = written
    rows = {r["cell"]: r for r in _rows(folder / "tasks.csv")}
    names = sorted(learners)
    scores = np.array([[POINTS[c] if learners[s][c][0] else 0.0 for c in POINTS] for s in names])
    for j, cell in enumerate(POINTS):
        row = rows[cell]
        assert int(row["learners"]) == N
        assert int(row["full_marks"]) == int((scores[:, j] == POINTS[cell]).sum())
        assert float(row["mean"]) == pytest.approx(scores[:, j].mean(), abs=1e-4)
        rest = scores.sum(axis=1) - scores[:, j]
        if scores[:, j].std() == 0:
            continue  # checked below
        assert float(row["discrimination"]) == pytest.approx(np.corrcoef(scores[:, j], rest)[0, 1], abs=1e-4)
    assert rows["test_dot"]["discrimination"] == ""  # everybody passed: undefined, not 0


def test_learners_table_has_scores_times_and_flags(written):
    folder, learners = written
    rows = {r["student_id"]: r for r in _rows(folder / "learners.csv")}
    assert set(rows) == set(learners)  # "absent" submitted nothing
    for student, cells in learners.items():
        assert float(rows[student]["score"]) == sum(POINTS[c] for c, (ok, _, _) in cells.items() if ok)
    assert "timeout" in rows["learner03"]["flags"] and rows["learner04"]["flags"] == ""


def test_page_is_self_contained_and_links_to_the_chapter(written):
    folder, _ = written
    page = (folder / "report.html").read_text()
    assert "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "chapters/ch01_dot_product.html#" in page
    assert "unclipped" in page and "clip cos θ to [-1, 1]" in page


@pytest.mark.slow
def test_page_renders_in_chromium_offline(written):
    from playwright.sync_api import sync_playwright

    from browser.site import launch

    folder, _ = written
    requests = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("request", lambda r: requests.append(r.url))
                page.goto((folder / "report.html").as_uri())
                assert page.locator("h1").inner_text() == "ch01: what the class got wrong"
                assert page.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
                assert page.locator("table").count() >= 3
                # nothing wider than the window: wide tables scroll in their own box
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
                page.close()
        finally:
            browser.close()
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_bad_input_is_named_and_nothing_is_written(course, tmp_path):
    root, _ = course
    # no gradebook at all
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    done = _run(tmp_path)
    assert done.returncode == 2 and "no gradebook" in done.stderr
    # an assignment nobody was graded on
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.report", "ch02"], cwd=root, env=nbgrader_env(),
                          capture_output=True, text=True)
    assert done.returncode == 2 and "no assignment 'ch02'" in done.stderr
    assert not (root / "reports" / "ch02").exists()
    # a gradebook from another course
    done = _run(root, "--CourseDirectory.course_id=another-course")
    assert done.returncode == 2 and "belongs to dot-product-course, not to this course ('another-course')" in done.stderr


def test_a_learner_graded_twice_into_one_record_is_refused(course, tmp_path):
    root, _ = course
    copy = tmp_path / "course"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / "reports", ignore_errors=True)
    twice = gradelog.LearnerRecord("learner00", "ch01", COURSE_ID,
                                   cells=[gradelog.CellRecord("test_dot", True), gradelog.CellRecord("test_dot", False)])
    gradelog.write(copy, twice)
    done = _run(copy)
    assert done.returncode == 2 and "learner00 was graded twice on test_dot" in done.stderr
    assert not (copy / "reports" / "ch01" / "report.html").exists()


def test_records_are_replaced_whole(tmp_path):
    record = gradelog.LearnerRecord("ada", "ch01", COURSE_ID, cells=[gradelog.CellRecord("test_dot", False, "abs")])
    gradelog.write(tmp_path, record)
    record.cells = [gradelog.CellRecord("test_dot", True)]
    gradelog.write(tmp_path, record)
    read = gradelog.read_all(tmp_path, "ch01")
    assert read["ada"].cells == [gradelog.CellRecord("test_dot", True)]
    assert Counter(p.suffix for p in gradelog.log_folder(tmp_path, "ch01").iterdir()) == {".json": 1}
