"""The instructor's guide, tried as a new instructor would: its commands, in its order."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import subprocess

import nbformat
import pytest

from dotlab.grading.release import COURSE_ROOT, nbgrader_env
from grading import Submission

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-guide")]
GUIDE = COURSE_ROOT / "chapters" / "instructor_guide.md"


def _section(title: str) -> str:
    return GUIDE.read_text().split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _commands(section: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(("nbgrader ", "python -m dotlab."))]


def guide_commands() -> list[str]:
    """The commands of the guide's round-trip section, in the order they appear."""
    return _commands(_section("One assignment, from release to grades"))


def _verb(command: str) -> str:
    words = shlex.split(command)
    return words[1] if words[0] == "nbgrader" else words[2]


def test_the_guide_covers_the_whole_round_trip():
    verbs = [_verb(c) for c in guide_commands()]
    assert verbs == ["db", "db", "generate_assignment", "dotlab.grading.grade_class", "generate_feedback", "export",
                     "dotlab.grading.export"]


def test_the_setup_check_runs_as_written():
    (command,) = _commands(_section("Setting up once"))
    done = subprocess.run(shlex.split(command), cwd=COURSE_ROOT, env=nbgrader_env(), capture_output=True, text=True)
    assert done.returncode == 0 and "resource limits" in done.stdout, done.stderr


def test_the_guide_works_as_written(tmp_path):
    shutil.copytree(COURSE_ROOT / "solutions", tmp_path / "solutions")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path)
    env = nbgrader_env()
    for command in guide_commands():
        done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if command.startswith("nbgrader generate_assignment"):
            _collect(tmp_path)  # step 3 of the guide: submissions arrive
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == 10.0
    assert float(rows["bob"]["score"]) == 0.0
    assert rows["alice"]["last_name"] == "Lovelace"
    assert (tmp_path / "feedback" / "alice" / "ch01" / "ch01.html").is_file()
    with open(tmp_path / "grades_by_question.csv", newline="") as handle:
        by_question = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert by_question["alice"]["test_dot_loop"] == "2.0" and by_question["alice"]["total"] == "10.0"
    assert by_question["bob"]["total"] == "0.0" and by_question["bob"]["last_name"] == "Babbage"
    # after grading: the class report and the Canvas file, as the next section shows them
    for command in _commands(_section("After grading: what the class got wrong")):
        done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    with open(tmp_path / "reports" / "ch01" / "learners.csv", newline="") as handle:
        learners = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(learners["alice"]["score"]) == 10.0 and float(learners["bob"]["score"]) == 0.0
    with open(tmp_path / "reports" / "ch01" / "mistakes.csv", newline="") as handle:
        mistakes = {row["cell"]: row for row in csv.DictReader(handle)}
    assert mistakes["test_dot"]["mistake"] == "(not implemented)" and mistakes["test_dot"]["learners"] == "1"
    with open(tmp_path / "ch01_canvas.csv", newline="") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch01"]
    assert canvas[1][0] == "Points Possible" and ["Lovelace, Alice", "", "", "alice", "", "10"] in canvas


def _collect(course):
    release = nbformat.read(course / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
    source = nbformat.read(course / "solutions" / "ch01" / "ch01.ipynb", as_version=4)
    right = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for student, answers in (("alice", right), ("bob", {})):
        folder = course / "submitted" / student / "ch01"
        folder.mkdir(parents=True)
        nbformat.write(Submission(student, answers).build(release), folder / "ch01.ipynb")


def test_every_test_the_guarantees_name_exists():
    """'What grading guarantees' names the test that proves each guarantee: each one must exist."""
    named = re.findall(r"(test_\w+\.py)::(test_\w+)", _section("What grading guarantees"))
    assert len(named) >= 10
    for module, name in named:
        source = (COURSE_ROOT / "tests" / module).read_text()
        assert f"def {name}(" in source, f"{module}::{name}"
