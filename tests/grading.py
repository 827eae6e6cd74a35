"""A throwaway nbgrader course for the round-trip tests: release, submit, grade, export.

Everything here drives the real ``nbgrader`` command line, as an instructor would, in a
temporary directory built from this repository's ``solutions/`` and nbgrader config.
"""

from __future__ import annotations

import copy
import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from dotlab.grading.release import COURSE_ROOT, nbgrader


@dataclass
class Submission:
    """One learner's notebook: the release with some cells' sources replaced or removed."""

    student: str
    answers: dict[str, str] = field(default_factory=dict)  # grade_id -> new source
    deleted: tuple[str, ...] = ()  # grade_ids of cells the learner deleted

    def build(self, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb = copy.deepcopy(release)
        kept = []
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in self.deleted:
                continue
            if grade_id in self.answers:
                cell.source = self.answers[grade_id]
            kept.append(cell)
        nb.cells = kept
        return nb


class Course:
    """A course directory holding one assignment, released with the real nbgrader."""

    def __init__(self, root: Path, assignment: str):
        self.root, self.assignment = root, assignment
        shutil.copytree(COURSE_ROOT / "solutions" / assignment, root / "solutions" / assignment)
        shutil.copy(COURSE_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        nbgrader("generate_assignment", assignment, cwd=root)

    @property
    def release_path(self) -> Path:
        return self.root / "exercises" / self.assignment / f"{self.assignment}.ipynb"

    def release(self) -> nbformat.NotebookNode:
        return nbformat.read(self.release_path, as_version=4)

    def solution_sources(self) -> dict[str, str]:
        """grade_id -> source of every answer cell in the instructor's notebook."""
        nb = nbformat.read(self.root / "solutions" / self.assignment / f"{self.assignment}.ipynb", as_version=4)
        return {
            cell.metadata["nbgrader"]["grade_id"]: cell.source
            for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("solution")
        }

    def submit(self, submission: Submission) -> None:
        folder = self.root / "submitted" / submission.student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission.build(self.release()), folder / f"{self.assignment}.ipynb")

    def autograde(self, *extra: str, check: bool = True) -> str:
        """The log of ``nbgrader autograde``; with ``check=False``, also when a learner could not be graded."""
        result = nbgrader("autograde", self.assignment, *extra, cwd=self.root, check=check)
        return result.stdout + result.stderr

    def feedback(self) -> dict[str, str]:
        nbgrader("generate_feedback", self.assignment, cwd=self.root)
        pages = self.root.glob(f"feedback/*/{self.assignment}/{self.assignment}.html")
        return {page.parts[-3]: page.read_text() for page in pages}

    def export(self) -> dict[str, float]:
        """student -> total score, from the CSV that ``nbgrader export`` writes."""
        nbgrader("export", cwd=self.root)
        with open(self.root / "grades.csv", newline="") as handle:
            return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}

    def cell_scores(self, student: str) -> dict[str, float]:
        """grade cell -> score for one student, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            submission = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return {grade.name: grade.score for grade in submission.grades}

    def points(self) -> dict[str, float]:
        """grade cell -> points available, read from the release notebook."""
        return {
            cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
            for cell in self.release().cells
            if cell.metadata.get("nbgrader", {}).get("grade")
        }
