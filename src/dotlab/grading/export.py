"""Grades per learner and per question, as a CSV a learning platform imports.

``python -m dotlab.grading.export ch01 --to grades_by_question.csv`` writes one row per
learner in the gradebook and one column per graded cell (in the notebook's order, named
by the cell's id), then the late penalty and the total, which is the ``score`` of
``nbgrader export`` (that command keeps working and gives one row per assignment)::

    student_id,first_name,last_name,email,submitted,test_dot_loop,test_dot,...,late_penalty,total
    alice,Alice,Lovelace,,yes,2.0,1.0,...,0.0,10.0

A learner who submitted nothing gets a row of zeros with ``submitted`` = ``no``. Any
option after the assignment goes to nbgrader (``--CourseDirectory.db_url=...``).
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


def export(assignment: str, to: Path | str, options: list[str] = ()) -> Path:
    header, table = rows(assignment, options)
    to = Path(to)
    with open(to, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(table)
    return to


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.grading.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the assignment, e.g. ch01")
    parser.add_argument("--to", default=None, help="the CSV file to write (default: <assignment>_grades_by_question.csv)")
    args, options = parser.parse_known_args(argv)
    written = export(args.assignment, args.to or f"{args.assignment}_grades_by_question.csv", options)
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
