"""Grades per learner and per question, as a CSV a learning platform imports.

``python -m dotlab.grading.export ch01 --to grades_by_question.csv`` writes one row per
learner in the gradebook and one column per graded cell (in the notebook's order, named
by the cell's id), then the late penalty and the total, which is the ``score`` of
``nbgrader export`` (that command keeps working and gives one row per assignment)::

    student_id,first_name,last_name,email,submitted,test_dot_loop,test_dot,...,late_penalty,total
    alice,Alice,Lovelace,,yes,2.0,1.0,...,0.0,10.0

A learner who submitted nothing gets a row of zeros with ``submitted`` = ``no``. Any
option after the assignment goes to nbgrader (``--CourseDirectory.db_url=...``).

``--format canvas`` writes Canvas's gradebook import instead: the five columns Canvas
identifies a learner by (Student, ID, SIS User ID, SIS Login ID, Section), a row of
"Points Possible", and one column for the assignment. Canvas matches a row by whichever
of ID, SIS User ID or SIS Login ID it knows; without ``--roster`` the nbgrader id is
written as the SIS Login ID (a hub login is usually the university login). A roster
CSV with the columns ``student_id`` (nbgrader's), ``canvas_id``, ``sis_user_id``,
``sis_login_id`` and ``section`` gives the other columns, and every graded learner must
be in it::

    Student,ID,SIS User ID,SIS Login ID,Section,ch01
    Points Possible,,,,,10.0
    "Lovelace, Ada",,,alice,,10.0
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import nbformat


def _app(options: list[str]):
    from nbgrader.apps.exportapp import ExportApp

    app = ExportApp()
    app.initialize(list(options))
    return app


def _cell_order(app, assignment: str, notebook: str) -> dict[str, int]:
    """grade_id -> position in the instructor's notebook (the gradebook keeps no order)."""
    source = Path(app.coursedir.format_path(app.coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
    try:
        nb = nbformat.read(source, as_version=4)
    except OSError:
        return {}
    return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells) if "grade_id" in c.metadata.get("nbgrader", {})}


def question_columns(gb, app, assignment: str) -> list[tuple[str, str]]:
    """(notebook, grade cell) for every graded cell of the assignment, in notebook order."""
    columns = []
    for notebook in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
        order = _cell_order(app, assignment, notebook.name)
        cells = sorted(notebook.grade_cells, key=lambda c: (order.get(c.name, len(order)), c.name))
        columns += [(notebook.name, cell.name) for cell in cells]
    return columns


def rows(assignment: str, options: list[str] = ()) -> tuple[list[str], list[dict]]:
    """The CSV's header and one dict per learner."""
    from nbgrader.api import Gradebook, MissingEntry

    app = _app(options)
    with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gb:
        columns = question_columns(gb, app, assignment)
        several = len({nb for nb, _ in columns}) > 1
        names = [f"{nb}:{cell}" if several else cell for nb, cell in columns]
        header = ["student_id", "first_name", "last_name", "email", "submitted", *names, "late_penalty", "total"]
        table = []
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"student_id": student.id, "first_name": student.first_name or "", "last_name": student.last_name or "",
                   "email": student.email or ""}
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                row.update({name: 0.0 for name in names}, submitted="no", late_penalty=0.0, total=0.0)
            else:
                scores = {(nb.name, g.name): float(g.score) for nb in submission.notebooks for g in nb.grades}
                row.update({name: scores.get(col, 0.0) for name, col in zip(names, columns)}, submitted="yes",
                           late_penalty=float(submission.late_submission_penalty or 0.0),
                           # as nbgrader export computes its score column
                           total=max(0.0, float(submission.score) - float(submission.late_submission_penalty or 0.0)))
            table.append(row)
    return header, table


CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ROSTER_COLUMNS = ("student_id", "canvas_id", "sis_user_id", "sis_login_id", "section")


def read_roster(path: Path | str) -> dict[str, dict[str, str]]:
    """nbgrader id -> that learner's Canvas identities, from a roster CSV."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("student_id",) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"the roster {path} has columns {reader.fieldnames} but needs {list(ROSTER_COLUMNS)}")
        roster: dict[str, dict[str, str]] = {}
        for line, row in enumerate(reader, start=2):
            sid = (row.get("student_id") or "").strip()
            if not sid:
                raise ValueError(f"the roster {path}, line {line}, has no student_id")
            if sid in roster:
                raise ValueError(f"the roster {path} lists {sid!r} twice (again on line {line})")
            roster[sid] = {c: (row.get(c) or "").strip() for c in ROSTER_COLUMNS}
    return roster


def canvas_rows(assignment: str, options: list[str] = (), roster: dict | None = None,
                points: float | None = None) -> tuple[list[str], list[dict]]:
    """Canvas's gradebook import: its identity columns, Points Possible, one score column."""
    _, table = rows(assignment, options)
    if roster is not None:
        unknown = sorted(r["student_id"] for r in table if r["student_id"] not in roster)
        if unknown:
            raise ValueError(f"the roster has no row for {', '.join(unknown)}: add them (student_id is nbgrader's id)")
    header = [*CANVAS_IDENTITY, assignment]
    out = [{**dict.fromkeys(CANVAS_IDENTITY, ""), "Student": "Points Possible",
            assignment: "" if points is None else f"{points:g}"}]
    for row in table:
        ids = (roster or {}).get(row["student_id"], {})
        name = ", ".join(p for p in (row["last_name"], row["first_name"]) if p) or row["student_id"]
        out.append({"Student": name, "ID": ids.get("canvas_id", ""), "SIS User ID": ids.get("sis_user_id", ""),
                    "SIS Login ID": ids.get("sis_login_id") or row["student_id"], "Section": ids.get("section", ""),
                    assignment: f"{row['total']:g}"})
    return header, out


def _points_possible(assignment: str, options: list[str]) -> float | None:
    from nbgrader.api import Gradebook, MissingEntry

    app = _app(options)
    with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gb:
        try:
            return float(gb.find_assignment(assignment).max_score)
        except MissingEntry:
            return None


def _write(to: Path, header: list[str], table: list[dict]) -> Path:
    # written beside the target and renamed: a failure leaves no half-written file
    tmp = to.with_name(to.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(table)
    tmp.replace(to)
    return to


def export(assignment: str, to: Path | str, options: list[str] = (), fmt: str = "by-question",
           roster: Path | str | None = None) -> Path:
    if fmt == "canvas":
        header, table = canvas_rows(assignment, options, read_roster(roster) if roster else None,
                                    _points_possible(assignment, options))
    elif fmt == "by-question":
        header, table = rows(assignment, options)
    else:
        raise ValueError(f"format {fmt!r} is not one of 'by-question', 'canvas'")
    return _write(Path(to), header, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.grading.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the assignment, e.g. ch01")
    parser.add_argument("--to", default=None,
                        help="the CSV file to write (default: <assignment>_grades_by_question.csv or _canvas.csv)")
    parser.add_argument("--format", default="by-question", choices=("by-question", "canvas"),
                        help="a column per graded cell (default), or Canvas's gradebook import")
    parser.add_argument("--roster", default=None,
                        help="CSV mapping nbgrader ids to Canvas ids: student_id,canvas_id,sis_user_id,sis_login_id,section")
    args, options = parser.parse_known_args(argv)
    suffix = "canvas" if args.format == "canvas" else "grades_by_question"
    try:
        written = export(args.assignment, args.to or f"{args.assignment}_{suffix}.csv", options, args.format, args.roster)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
