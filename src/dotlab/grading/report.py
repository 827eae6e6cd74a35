"""What the class got wrong: ``python -m dotlab.grading.report ch01`` (or ``make report A=ch01``).

Run after autograding. It reads the gradebook and the grader's records
(:mod:`dotlab.grading.gradelog`), regrades nothing, and writes into
``reports/<assignment>/``:

- ``report.html``: one self-contained page (plots inline, no network) with, per task,
  how many learners passed, the score distribution and the item discrimination; the
  mistakes the checks diagnosed, most common first, each with the hint learners saw and
  a link to the chapter section that teaches the task; per learner, the score, the time
  the grader spent and anything flagged; and the answers that look alike
  (:mod:`dotlab.grading.similarity`);
- ``tasks.csv``, ``mistakes.csv``, ``learners.csv``: the same tables for a spreadsheet.

Item discrimination is the corrected item-total correlation: the Pearson correlation
between a task's score and the rest of the assignment's score (the total without that
task) over the learners who submitted. Near 0, the task does not separate strong from
weak learners; negative, strong learners fail it more often than weak ones (read its
checks and its text again). It is undefined when everybody scored the same on the task
or on the rest.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import importlib
import io
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from dotlab.grading import gradelog, similarity
from dotlab.grading.release import COURSE_ROOT

__all__ = ["ClassResults", "TaskStats", "load", "task_stats", "mistake_table", "write_report", "main"]


@dataclass
class ClassResults:
    """Scores of every learner who submitted, per graded cell, and the grader's records."""

    assignment: str
    cells: list[str]  # graded cells in notebook order
    points: dict[str, float]  # cell -> points available
    scores: dict[str, dict[str, float]]  # student -> cell -> score
    records: dict[str, gradelog.LearnerRecord] = field(default_factory=dict)

    def total(self, student: str, without: str | None = None) -> float:
        return sum(s for c, s in self.scores[student].items() if c != without)


@dataclass
class TaskStats:
    cell: str
    task: str
    points: float
    learners: int
    passed: int
    mean: float
    distribution: dict[float, int]
    discrimination: float | None


def _courses_in(db_url: str) -> set[str]:
    """The course ids a gradebook holds, read without writing to it."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.connect() as conn:
            if not sqlalchemy.inspect(conn).has_table("course"):
                return set()
            return {row[0] for row in conn.execute(sqlalchemy.text("SELECT id FROM course"))}
    finally:
        engine.dispose()


def load(assignment: str, options: list[str] = ()) -> tuple[ClassResults, Path]:
    """The class's results, from the gradebook nbgrader's configuration names."""
    from nbgrader.api import Gradebook, MissingEntry

    from dotlab.grading.export import _app, question_columns

    app = _app(options)
    db_url, course_id = app.coursedir.db_url, app.coursedir.course_id
    root = Path(app.coursedir.root)
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        raise ValueError(f"there is no gradebook at {db_url}: autograde the assignment first")
    courses = _courses_in(db_url)
    if courses and course_id not in courses:
        raise ValueError(f"the gradebook {db_url} belongs to {', '.join(sorted(courses))}, "
                         f"not to this course ({course_id!r}); check CourseDirectory.db_url and course_id")
    with Gradebook(db_url, course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"the gradebook has no assignment {assignment!r}") from None
        columns = question_columns(gb, app, assignment)
        points = {cell: 0.0 for _, cell in columns}
        for notebook in gb.find_assignment(assignment).notebooks:
            for cell in notebook.grade_cells:
                points[cell.name] = float(cell.max_score)
        scores = {}
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            graded = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
            if all(v is None for v in graded.values()):
                continue  # submitted but not autograded yet
            scores[student.id] = {cell: float(graded.get(cell) or 0.0) for _, cell in columns}
    if not scores:
        raise ValueError(f"no graded submissions of {assignment!r} in {db_url}: run nbgrader autograde first")
    records = gradelog.read_all(root, assignment)
    strangers = sorted(set(records) - set(scores))
    if strangers:
        raise ValueError(f"grading records for {', '.join(strangers)}, who have no graded submission of "
                         f"{assignment!r} in the gradebook: is this the right course directory?")
    for record in records.values():
        if record.course_id and record.course_id != course_id:
            raise ValueError(f"the grading record of {record.student} is from course {record.course_id!r}, not {course_id!r}")
    return ClassResults(assignment, [c for _, c in columns], points, scores, records), root


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def task_ids(assignment: str) -> dict[str, str]:
    """test cell -> task id, from the chapter's checks (``CHECKS``: task id -> check_<function>)."""
    try:
        checks = importlib.import_module(f"dotlab.checks.{assignment}").CHECKS
    except (ImportError, AttributeError):
        return {}
    return {f"test_{check.__name__.removeprefix('check_')}": task for task, check in checks.items()}


def task_stats(results: ClassResults) -> list[TaskStats]:
    tasks = task_ids(results.assignment)
    stats = []
    students = sorted(results.scores)
    cells = list(results.cells)
    if all(c in tasks for c in cells):  # in task order, 1.2 before 1.10
        cells.sort(key=lambda c: tuple(int(p) for p in tasks[c].split(".")))
    for cell in cells:
        item = [results.scores[s][cell] for s in students]
        rest = [results.total(s, without=cell) for s in students]
        full = results.points[cell]
        stats.append(TaskStats(cell, tasks.get(cell, ""), full, len(item),
                               sum(1 for x in item if full > 0 and x >= full), sum(item) / len(item),
                               dict(sorted(Counter(item).items())), _pearson(item, rest)))
    return stats


def mistake_table(results: ClassResults) -> list[dict]:
    """Per cell, each diagnosed mistake and how many learners made it, most common first."""
    counts: Counter = Counter()
    hints: dict[tuple[str, str], str] = {}
    undiagnosed: Counter = Counter()
    for record in results.records.values():
        for cell in record.cells:
            if cell.passed:
                continue
            if cell.mistake:
                counts[(cell.cell, cell.mistake)] += 1
                hints.setdefault((cell.cell, cell.mistake), cell.hint or "")
            else:
                undiagnosed[cell.cell] += 1
    order = {c: i for i, c in enumerate(results.cells)}
    rows = [{"cell": c, "mistake": m, "learners": n, "hint": hints[(c, m)]} for (c, m), n in counts.items()]
    rows += [{"cell": c, "mistake": "(no catalogued mistake)", "learners": n, "hint": ""} for c, n in undiagnosed.items()]
    rows.sort(key=lambda r: (order.get(r["cell"], len(order)), -r["learners"], r["mistake"]))
    return rows


def _slug(text: str) -> str:
    from docutils.nodes import make_id

    return make_id(re.sub(r"[`*$]", "", text))


def task_sections(assignment: str, course_root: Path) -> dict[str, tuple[str, str]]:
    """task id -> (chapter page, section anchor) of the section that first names it."""
    number = assignment.removeprefix("ch").lstrip("0")
    pages = sorted((course_root / "chapters").glob(f"{assignment}_*.md"))
    found: dict[str, tuple[str, str]] = {}
    for page in pages:
        heading, in_code = "", False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            for task in re.findall(rf"\btask ({number}\.\d+)", line):
                found.setdefault(task, (page.stem, _slug(heading)))
    return found


def _figure(stats: list[TaskStats], totals: list[float], full: float) -> str:
    """Pass rates per task and the distribution of totals, as one inline PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3), dpi=150, layout="constrained")
    labels = [s.task or s.cell for s in stats]
    left.barh(labels[::-1], [s.passed / s.learners for s in stats][::-1], color="#3b7dd8")
    left.set_xlim(0, 1)
    left.set_xlabel("share of learners with full marks")
    # one bar per point (scores are whole or half points), centred on the score
    width = 1.0 if full <= 40 else full / 40
    edges = [-width / 2 + i * width for i in range(int(full / width) + 2)]
    right.hist(totals, bins=edges, color="#e0803a", edgecolor="white")
    right.set_xlabel(f"total score (of {full:g})")
    right.set_ylabel("learners")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="pass rate per task and distribution of total scores">'


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; } img { max-width: 100%; height: auto; }
@media (prefers-color-scheme: dark) { body { background: #16181d; color: #e6e6e6; } a { color: #8ab4f8; }
  img { background: #fff; } th, td { border-color: #444; } tr.shared { background: #5a4a12; } }
"""


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class='n'>{c}</td>" if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


def write_report(assignment: str, options: list[str] = (), out: Path | None = None,
                 book: str | None = None) -> Path:
    """Write the page and the CSV files; return the page's path."""
    results, root = load(assignment, options)
    out = Path(out) if out else root / "reports" / assignment
    book = book or (COURSE_ROOT / "_build" / "html").as_uri()
    stats = task_stats(results)
    mistakes = mistake_table(results)
    sections = task_sections(assignment, COURSE_ROOT)  # the book's pages, wherever the class is graded
    tasks = task_ids(assignment)
    full = sum(results.points.values())
    students = sorted(results.scores)
    totals = [results.total(s) for s in students]
    # the answers that look alike, when the submissions are still here to compare
    try:
        _, _, matches = similarity.write_report(root, assignment, out)
        documents = {d.owner: d for d in similarity.learner_documents(root, assignment)}
        names = sorted({n for d in documents.values() for n in similarity._defined_names(d.text)})
        documents[similarity.REFERENCE] = similarity.reference_document(names)
        alike = similarity.html_fragment(matches, documents)
    except ValueError as exc:
        alike = f"<p>Not compared: {html.escape(str(exc))}.</p>"
    out.mkdir(parents=True, exist_ok=True)

    def link(cell: str) -> str:
        task = tasks.get(cell, "")
        label = html.escape(f"task {task}" if task else cell)
        if task in sections:
            page, anchor = sections[task]
            return f"<a href='{html.escape(book)}/chapters/{html.escape(page)}.html#{html.escape(anchor)}'>{label}</a>"
        return label

    task_rows = [[link(s.cell), html.escape(s.cell), f"{s.points:g}", str(s.learners), f"{s.passed}",
                  f"{s.mean:.2f}", html.escape(", ".join(f"{k:g}: {v}" for k, v in s.distribution.items())),
                  "—" if s.discrimination is None else f"{s.discrimination:+.2f}"] for s in stats]
    mistake_rows = [[link(m["cell"]), html.escape(m["mistake"]), str(m["learners"]), html.escape(m["hint"])]
                    for m in mistakes]
    learner_rows = []
    for s in students:
        record = results.records.get(s)
        flags = "; ".join(f"{f.what}{f' in {f.cell}' if f.cell else ''}: {f.detail}" for f in record.flags) if record else ""
        seconds = f"{record.seconds:.1f}" if record else "—"
        learner_rows.append([html.escape(s), f"{results.total(s):g}", seconds, html.escape(flags)])
    graded_by = len(results.records)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(assignment)}: what the class got wrong</title><style>{STYLE}{similarity.PAGE_STYLE.split('@media')[0]}</style></head>
<body><h1>{html.escape(assignment)}: what the class got wrong</h1>
<p>{len(students)} learners graded, out of {full:g} points; mean {sum(totals) / len(totals):.2f}.
Mistakes come from the grader's own records of {graded_by} of them (nothing was regraded).</p>
{_figure(stats, totals, full)}
<h2>Tasks</h2>
<p>Discrimination is the correlation between a task's score and the rest of the assignment's score:
near 0 or negative, the task does not separate strong learners from weak ones.</p>
{_table(["task", "cell", "points", "learners", "full marks", "mean", "scores (score: learners)", "discrimination"],
        task_rows, {2, 3, 4, 5, 7})}
<h2>Mistakes the checks diagnosed</h2>
{_table(["task", "mistake", "learners", "what they were told"], mistake_rows, {2}) if mistake_rows else "<p>None recorded.</p>"}
<h2>Learners</h2>
{_table(["learner", "score", "grading seconds", "flagged"], learner_rows, {1, 2})}
<h2>Answers that look alike</h2>
<p>A flag asks a person to compare the code; it changes no score.</p>
{alike}
</body></html>"""
    _write_csv(out / "tasks.csv", ["cell", "task", "points", "learners", "full_marks", "mean", "discrimination"],
               [[s.cell, s.task, s.points, s.learners, s.passed, f"{s.mean:.4f}",
                 "" if s.discrimination is None else f"{s.discrimination:.4f}"] for s in stats])
    _write_csv(out / "mistakes.csv", ["cell", "task", "mistake", "learners", "hint"],
               [[m["cell"], tasks.get(m["cell"], ""), m["mistake"], m["learners"], m["hint"]] for m in mistakes])
    _write_csv(out / "learners.csv", ["student_id", "score", "grading_seconds", "flags"],
               [[s, results.total(s), results.records[s].seconds if s in results.records else "",
                 "; ".join(f"{f.what}: {f.detail}" for f in results.records[s].flags) if s in results.records else ""]
                for s in students])
    target = out / "report.html"
    tmp = target.with_name("report.html.tmp")
    tmp.write_text(page)
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.grading.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the assignment, e.g. ch01")
    parser.add_argument("--out", default=None, help="folder to write into (default: reports/<assignment>)")
    parser.add_argument("--book", default=None, help="where the book is published, for links (default: _build/html)")
    args, options = parser.parse_known_args(argv)
    try:
        page = write_report(args.assignment, options, args.out, args.book)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {page} (and tasks.csv, mistakes.csv, learners.csv beside it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
