"""Answers that look alike: which learners' code an instructor should compare by eye.

``python -m dotlab.grading.similarity ch01`` reads every learner's submitted notebook
for the assignment, keeps the code they wrote (answer cells and cells they added),
removes what the released stubs gave everybody, and compares each pair of learners, and
each learner with the course's own reference implementations in ``dotlab``. It writes
``reports/ch01/similarity.csv`` and ``reports/ch01/similarity.html`` (the matching lines
side by side). It flags pairs for a person to look at; it never changes a score.

The fingerprinting is copydetect's (https://github.com/blingenf/copydetect): names are
replaced by placeholders, so renaming variables hides nothing, and the code is reduced
to winnowed hashes of k-grams, the method of MOSS (Schleimer, Wilkerson and Aiken 2003).
We only choose what to compare and how to show it.

A learner's whole assignment is one document: two honest learners may well write the
same three-line loop for one task, but rarely the same code for all of them.
"""

from __future__ import annotations

import argparse
import ast
import csv
import html
import io
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Document", "Match", "learner_documents", "reference_sources", "reference_document", "compare", "write_report", "main"]

REFERENCE = "(course reference)"

#: copydetect's defaults: k-grams of 25 characters of filtered code, and every match of
#: 30 or more is guaranteed to be found (window = 30 - 25 + 1).
NOISE, GUARANTEE = 25, 30

#: Flag a pair when at least this share of each side's fingerprinted code is found in
#: the other. Measured on the made-up class of tests/test_similarity.py: copies, renamed
#: copies and a copy with comments and one answer rewritten score about 0.9 and above,
#: honest solutions of the same assignment about 0.5 and below.
THRESHOLD = 0.6

#: Fingerprinted code shorter than this (characters of filtered code) is too little to
#: call a copy: an untouched stub, or a single line.
MIN_CODE = 60


@dataclass(frozen=True)
class Document:
    """One learner's own code for an assignment, as one Python text."""

    owner: str
    text: str


@dataclass(frozen=True)
class Match:
    """How much of two documents is shared, and where."""

    a: str
    b: str
    similarity_a: float  # share of a's fingerprinted code found in b
    similarity_b: float
    shared_lines_a: tuple[int, ...]  # 1-based line numbers of a's text inside a match
    shared_lines_b: tuple[int, ...]
    flagged: bool


def _own_code(nb: nbformat.NotebookNode) -> list[str]:
    """Sources of the cells the learner writes: answer cells and any cell they added."""
    sources = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") or not meta:
            sources.append(cell.source)
    return sources


def learner_documents(course_root: Path, assignment: str) -> list[Document]:
    """Every learner's code for the assignment, from ``submitted/<learner>/<assignment>/``."""
    submitted = Path(course_root) / "submitted"
    documents = []
    for folder in sorted(submitted.glob(f"*/{assignment}")):
        # never follow a link a learner could have planted in their own folder
        if folder.is_symlink() or not folder.is_dir():
            continue
        parts = []
        for path in sorted(folder.glob("*.ipynb")):
            if path.is_symlink():
                continue
            parts += _own_code(nbformat.read(path, as_version=4))
        documents.append(Document(folder.parent.name, "\n\n".join(parts)))
    return documents


def stub_document(course_root: Path, assignment: str) -> Document:
    """What the release gave every learner in those cells: removed before comparing."""
    release = Path(course_root) / "exercises" / assignment
    parts = []
    for path in sorted(release.glob("*.ipynb")):
        parts += _own_code(nbformat.read(path, as_version=4))
    return Document("(release)", "\n\n".join(parts))


def _defined_names(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a learner's source may be any text
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def reference_sources(names: list[str], package: Path | None = None) -> dict[str, str]:
    """The package's own functions of those names, read from source (nothing imported).

    The checks and the grading code are left out: they are not what learners imitate.
    """
    package = Path(package) if package else Path(__file__).resolve().parents[1]
    wanted, found = set(names), {}
    for path in sorted(package.rglob("*.py")):
        if {"checks", "grading"} & set(path.relative_to(package).parts):
            continue
        source = path.read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name in wanted and node.name not in found:
                found[node.name] = ast.get_source_segment(source, node)
    return {n: found[n] for n in names if n in found}


def reference_document(names: list[str], package: Path | None = None) -> Document:
    """The course's reference implementations of those functions, as one document."""
    return Document(REFERENCE, "\n\n".join(reference_sources(names, package).values()))


def _fingerprint(document: Document, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{document.owner}.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                           fp=io.StringIO(document.text))


def _lines(text: str, slices) -> tuple[int, ...]:
    """1-based numbers of the lines that the character ranges in ``slices`` touch."""
    starts = [0]
    for i, char in enumerate(text):
        if char == "\n":
            starts.append(i + 1)
    lines = set()
    for start, end in zip(*slices):
        first = sum(1 for s in starts if s <= start)
        last = sum(1 for s in starts if s < end)
        lines.update(range(first, last + 1))
    return tuple(sorted(lines))


def compare(documents: list[Document], stub: Document | None = None, reference: Document | None = None,
            threshold: float = THRESHOLD) -> list[Match]:
    """Every pair of learners, and every learner against the reference, most alike first."""
    from copydetect import compare_files

    if not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold} must be in (0, 1]")
    owners = [d.owner for d in documents]
    twice = sorted({o for o in owners if owners.count(o) > 1})
    if twice:
        raise ValueError(f"each learner may appear once, but {', '.join(twice)} appear more than once")
    boilerplate = list(_fingerprint(stub, []).hashes) if stub and stub.text.strip() else []
    prints = {d.owner: (d, _fingerprint(d, boilerplate)) for d in documents}
    pairs = list(itertools.combinations(documents, 2))
    if reference is not None and reference.text.strip():
        prints[reference.owner] = (reference, _fingerprint(reference, boilerplate))
        pairs += [(d, reference) for d in documents]
    matches = []
    for a, b in pairs:
        fa, fb = prints[a.owner][1], prints[b.owner][1]
        _, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
        enough = min(len(fa.filtered_code), len(fb.filtered_code)) >= MIN_CODE
        if b.owner == REFERENCE:
            # the reference carries checks and docstrings a learner need not copy
            flagged = enough and sim_a >= threshold
        else:
            flagged = enough and min(sim_a, sim_b) >= threshold
        matches.append(Match(a.owner, b.owner, float(sim_a), float(sim_b),
                             _lines(a.text, slices_a) if sim_a else (), _lines(b.text, slices_b) if sim_b else (),
                             bool(flagged)))
    matches.sort(key=lambda m: (-min(m.similarity_a, m.similarity_b), m.a, m.b))
    return matches


def _side(document: Document, shared: tuple[int, ...]) -> str:
    rows = []
    for number, line in enumerate(document.text.splitlines(), start=1):
        mark = ' class="shared"' if number in shared else ""
        rows.append(f'<tr{mark}><td class="n">{number}</td><td><code>{html.escape(line) or "&nbsp;"}</code></td></tr>')
    return f'<table class="code"><caption>{html.escape(document.owner)}</caption>{"".join(rows)}</table>'


def html_fragment(matches: list[Match], documents: dict[str, Document]) -> str:
    """The flagged pairs, each with both sides' code and the shared lines marked."""
    flagged = [m for m in matches if m.flagged]
    if not flagged:
        return "<p>No pair of answers is alike enough to flag.</p>"
    parts = []
    for m in flagged:
        parts.append(
            f"<section class='pair'><h3>{html.escape(m.a)} and {html.escape(m.b)}: "
            f"{m.similarity_a:.0%} and {m.similarity_b:.0%} shared</h3>"
            f"<div class='sides'>{_side(documents[m.a], m.shared_lines_a)}{_side(documents[m.b], m.shared_lines_b)}</div>"
            "</section>")
    return "\n".join(parts)


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 72rem; }
.sides { display: flex; gap: 1rem; flex-wrap: wrap; }
table.code { border-collapse: collapse; font-size: 0.85rem; flex: 1 1 30rem; }
table.code caption { text-align: left; font-weight: bold; }
table.code td.n { color: #777; padding-right: 0.5rem; text-align: right; }
tr.shared { background: #ffe9a8; }
@media (prefers-color-scheme: dark) {
  body { background: #16181d; color: #e6e6e6; } tr.shared { background: #5a4a12; }
}
"""


def write_report(course_root: Path, assignment: str, out: Path | None = None,
                 threshold: float = THRESHOLD) -> tuple[Path, Path, list[Match]]:
    """Write the CSV of every pair and the HTML page of the flagged ones; return both paths."""
    course_root = Path(course_root)
    documents = learner_documents(course_root, assignment)
    if not documents:
        raise ValueError(f"no submissions of {assignment!r} under {course_root / 'submitted'}: collect them first")
    stub = stub_document(course_root, assignment)
    names = sorted({n for d in documents + [stub] for n in _defined_names(d.text)})
    reference = reference_document(names)
    matches = compare(documents, stub, reference, threshold)
    out = Path(out) if out else course_root / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / "similarity.csv", out / "similarity.html"
    # write next to the target, then rename: a failure leaves no half-written file
    tmp = csv_path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_a", "learner_b", "similarity_a", "similarity_b", "flagged"])
        for m in matches:
            writer.writerow([m.a, m.b, f"{m.similarity_a:.3f}", f"{m.similarity_b:.3f}", "yes" if m.flagged else "no"])
    tmp.replace(csv_path)
    by_owner = {d.owner: d for d in documents + [reference]}
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(assignment)}: answers that look alike</title><style>{PAGE_STYLE}</style></head><body>"
            f"<h1>{html.escape(assignment)}: answers that look alike</h1>"
            f"<p>Pairs where at least {threshold:.0%} of each side's code (names replaced, the released stubs removed) "
            f"is found in the other. A flag asks a person to look; it changes no score.</p>"
            f"{html_fragment(matches, by_owner)}</body></html>")
    tmp = html_path.with_suffix(".html.tmp")
    tmp.write_text(page)
    tmp.replace(html_path)
    return csv_path, html_path, matches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.grading.similarity", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the assignment, e.g. ch01")
    parser.add_argument("--course", default=".", help="the course directory (default: here)")
    parser.add_argument("--out", default=None, help="folder for the report (default: reports/<assignment>)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help=f"share of shared code that flags a pair (default {THRESHOLD})")
    args = parser.parse_args(argv)
    try:
        csv_path, html_path, matches = write_report(Path(args.course), args.assignment, args.out, args.threshold)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    flagged = [m for m in matches if m.flagged]
    print(f"{len(flagged)} of {len(matches)} pairs flagged; wrote {csv_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
