"""What the grader saw while grading one learner's notebook, kept for the instructor.

The grader writes one JSON record per learner and assignment when it grades them:
which graded cells passed, which plausible mistake the checks diagnosed in the ones that
failed (the :class:`~dotlab.checks.Mistake`'s name and the hint the learner was shown),
anything it flagged (a sandbox event, a suspect construct, a timeout) and how long the
notebook took. The class report (:mod:`dotlab.grading.report`) reads these records, so
it needs no regrading and parses no feedback text.

Records live in ``<course>/grading_log/<assignment>/<student>.json``, beside the
gradebook and outside ``submitted/``, ``autograded/`` and ``feedback/``: no file a learner
hands in can stand in for one. Grading a learner again replaces their record whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CellRecord", "Flag", "LearnerRecord", "log_folder", "write", "read_all"]

FOLDER = "grading_log"


@dataclass
class CellRecord:
    """The verdict on one graded cell."""

    cell: str  # the test cell's grade_id, e.g. "test_dot"
    passed: bool
    mistake: str | None = None  # the catalogued Mistake's name, when the checks named one
    hint: str | None = None  # what the learner was told
    case: str | None = None  # the label of the case that failed


@dataclass
class Flag:
    """Something the instructor should look at; it changes no score by itself."""

    what: str  # "sandbox", "suspect construct", "timeout", "budget"
    detail: str
    cell: str | None = None


@dataclass
class LearnerRecord:
    student: str
    assignment: str
    course_id: str
    seconds: float = 0.0  # wall-clock time the grader spent on this notebook
    cells: list[CellRecord] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> "LearnerRecord":
        return cls(student=data["student"], assignment=data["assignment"], course_id=data["course_id"],
                   seconds=float(data.get("seconds", 0.0)),
                   cells=[CellRecord(**c) for c in data.get("cells", [])],
                   flags=[Flag(**f) for f in data.get("flags", [])])


def log_folder(course_root: Path | str, assignment: str) -> Path:
    return Path(course_root) / FOLDER / assignment


def write(course_root: Path | str, record: LearnerRecord) -> Path:
    """Replace the learner's record atomically (a crash leaves the old one or the new one)."""
    folder = log_folder(course_root, record.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{record.student}.json"
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{record.student}.", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(asdict(record), out, indent=1)
    os.replace(tmp, target)
    return target


def read_all(course_root: Path | str, assignment: str) -> dict[str, LearnerRecord]:
    """student -> record, for every learner graded on the assignment.

    Raises ValueError when a record is unreadable, names another learner, assignment or
    course than its place says, or holds the same cell twice (graded twice into one
    record): the report must not count anything twice.
    """
    records: dict[str, LearnerRecord] = {}
    folder = log_folder(course_root, assignment)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.is_symlink():
            raise ValueError(f"{path} is a link; grading records are written by the grader only")
        try:
            record = LearnerRecord.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a grading record: {exc}") from None
        if record.student != path.stem or record.assignment != assignment:
            raise ValueError(f"{path} holds the record of {record.student!r} for {record.assignment!r}")
        cells = [c.cell for c in record.cells]
        twice = sorted({c for c in cells if cells.count(c) > 1})
        if twice:
            raise ValueError(f"{record.student} was graded twice on {', '.join(twice)} in one record ({path})")
        records[record.student] = record
    return records
