"""Code on a book page fits the page's column: no line longer than 76 characters.

Why 76: at 1280 px the book's text column is 672 CSS px wide; a code block sets its
text in the theme's monospace at about 8.4 px a character inside its padding, so about
76 characters show before a line wraps (or, where wrapping is off, scrolls). A wrapped
line of code reads as two statements, so code is written for the column instead: wrapped
where a reader would break it, a long comment on its own line above its code.

What counts as code on a page: every code cell of every page in ``_toc.yml`` written
in MyST Markdown (the chapters and the front page), every fenced code block in their
text, and every package function whose source a page prints, with ``show_source(f)``
(its code without the docstring) or ``inspect.getsource(f)`` (all of it). The released
exercises (``exercises/chNN/chNN.ipynb``) are pages too: their code cells, as the book
shows them and a learner opens them, and the fenced blocks of their Markdown cells.
They are generated from ``solutions/``, so a long line is shortened there and the
release regenerated. Read from the sources as text, without running or importing
anything: the test takes a fraction of a second.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
WIDTH = 76

# A fence opens a block (``` or ~~~, three or more) and the same fence closes it.
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\{[\w-]+\})?\s*([\w+-]*)")
# Fenced blocks whose body is code: a code cell, a code directive, or a language name.
CODE_DIRECTIVES = {"{code-cell}", "{code-block}", "{code}", "{sourcecode}"}


def _toc_files() -> list[str]:
    """Every page ``_toc.yml`` names, without its suffix, in the book's order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def book_pages() -> list[Path]:
    """Every Markdown page the book builds, from ``_toc.yml``."""
    return [ROOT / f"{f}.md" for f in _toc_files() if (ROOT / f"{f}.md").is_file()]


def notebook_pages() -> list[Path]:
    """Every notebook page the book shows (the released exercises), from ``_toc.yml``."""
    return [ROOT / f"{f}.ipynb" for f in _toc_files() if (ROOT / f"{f}.ipynb").is_file()]


def notebook_code(notebook: Path) -> list[tuple[str, list[tuple[int, str]]]]:
    """A notebook's code as the book shows it: (where, numbered lines) per block.

    Each code cell is one block; so is each fenced code block in a Markdown cell.
    Read as JSON, so nothing is run.

    Examples
    --------
    >>> import json, tempfile
    >>> cells = [{"cell_type": "code", "source": ["x = 1\\n", "y = 2"]},
    ...          {"cell_type": "markdown", "source": "Run:\\n```python\\nz = 3\\n```"}]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "nb.ipynb"
    ...     _ = path.write_text(json.dumps({"cells": cells}))
    ...     notebook_code(path)
    [('cell 1', [(1, 'x = 1'), (2, 'y = 2')]), ('cell 2', [(3, 'z = 3')])]
    """
    blocks = []
    for number, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"], 1):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code":
            blocks.append((f"cell {number}", list(enumerate(source.splitlines(), 1))))
        elif cell["cell_type"] == "markdown":
            blocks += [(f"cell {number}", block) for block in code_blocks(source)]
    return blocks


def code_blocks(text: str) -> list[list[tuple[int, str]]]:
    """Each fenced code block of a MyST page: its lines, each with its line number.

    A code cell's options (``:tags:``, a ``---`` block of YAML) are not code and are
    left out; fences nested in a directive (an admonition holding a listing) count.

    Examples
    --------
    >>> page = "text\\n```{code-cell} ipython3\\n:tags: [hide-input]\\n\\nx = 1\\n```\\n"
    >>> code_blocks(page)
    [[(4, ''), (5, 'x = 1')]]
    >>> code_blocks("```{note}\\nprose, not code\\n```\\n```python\\ny = 2\\n```")
    [[(5, 'y = 2')]]
    """
    lines = text.splitlines()
    blocks, stack = [], []  # stack: (fence, is_code, body)
    for number, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if stack and stack[-1][1]:  # inside code: only its own fence closes it
            fence = stack[-1][0]
            if line.strip() == fence:
                blocks.append(_without_options(stack.pop()[2]))
            else:
                stack[-1][2].append((number, line))
            continue
        if m and stack and line.strip() == stack[-1][0]:
            stack.pop()
        elif m:
            directive, language = m.group(3), m.group(4)
            is_code = directive in CODE_DIRECTIVES or (directive is None and bool(language))
            stack.append((m.group(2), is_code, []))
    return blocks


def _without_options(body: list[tuple[int, str]]) -> list[tuple[int, str]]:
    if body and body[0][1].strip() == "---":  # a YAML block of options
        end = next((i for i, (_, line) in enumerate(body[1:], 1) if line.strip() == "---"), 0)
        return body[end + 1:]
    start = 0
    while start < len(body) and body[start][1].startswith(":"):  # :tags: [...]
        start += 1
    return body[start:]


def _module_file(module: str) -> Path | None:
    path = SRC.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(cells: str) -> dict[str, str]:
    """Names a page imports, each with the dotted module or object it stands for."""
    names = {}
    pattern = r"^from ([\w.]+) import (?:\(([\w\s,]+)\)|([\w \t,]+))"
    for match in re.finditer(pattern, cells, re.M):
        for name in (match.group(2) or match.group(3)).split(","):
            name = name.split(" as ")[-1].strip()
            if name:
                names[name] = f"{match.group(1)}.{name}"
    for match in re.finditer(r"^import ([\w.]+)(?: as (\w+))?", cells, re.M):
        names[match.group(2) or match.group(1).split(".")[0]] = match.group(1)
    return names


def _function_source(dotted: str) -> str | None:
    """The source of a function of the package, found in its file without importing it."""
    module, _, name = dotted.rpartition(".")
    path = _module_file(module)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return "\n".join(text.splitlines()[first - 1:node.end_lineno])
    return None


def _without_docstring(source: str) -> str:
    source = textwrap.dedent(source)
    body = ast.parse(source).body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        lines = source.splitlines()
        del lines[body[0].lineno - 1:body[0].end_lineno]
        return "\n".join(lines)
    return source


def listings(page: Path) -> list[tuple[str, str]]:
    """The package functions a page prints the source of: (how it is named, its source).

    ``show_source(f)`` shows ``f`` without its docstring; ``inspect.getsource(f)`` all of
    it, dedented as a listing is.
    """
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    cells = "\n".join(line for block in blocks for _, line in block)
    imported = _imports(cells)
    found = []
    for call, expression in re.findall(r"\b(show_source|inspect\.getsource)\(([\w.]+)\)", cells):
        head, _, rest = expression.partition(".")
        if head not in imported:
            continue  # defined on the page itself: its lines are the page's own cells
        dotted = imported[head] + (f".{rest}" if rest else "")
        source = _function_source(dotted)
        assert source is not None, f"{page.name} prints the source of {expression} ({dotted}), not found in src/"
        found.append((expression, _without_docstring(source) if call == "show_source" else textwrap.dedent(source)))
    return found


def _long(lines, where: str) -> list[str]:
    return [f"{where} line {i}: {len(line)} characters: {line.strip()[:60]}..."
            for i, line in lines if len(line) > WIDTH]


PAGES = book_pages()
NOTEBOOKS = notebook_pages()


def test_the_book_has_pages_and_the_pages_have_code():
    names = {p.name for p in PAGES}
    assert {"index.md", "ch01_dot_product.md", "claims.md"} <= names, sorted(names)
    assert sum(len(code_blocks(p.read_text(encoding="utf-8"))) for p in PAGES) > 100


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_cells_and_listings_fit_the_column(page):
    too_long = []
    for block in code_blocks(page.read_text(encoding="utf-8")):
        too_long += _long(block, page.name)
    for name, source in listings(page):
        too_long += _long(enumerate(source.splitlines(), 1), f"{page.name} prints {name}:")
    assert not too_long, (f"code wider than the column ({WIDTH} characters); wrap it where a reader "
                          f"would, and move a long comment above its line:\n" + "\n".join(too_long))


def test_the_book_shows_every_released_exercise():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    released = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("exercises/ch*/ch*.ipynb")}
    assert released and names == released, (sorted(names), sorted(released))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_released_exercise_code_fits_the_column(notebook):
    too_long = []
    for where, lines in notebook_code(notebook):
        too_long += _long(lines, f"{notebook.relative_to(ROOT)} {where}")
    assert not too_long, (f"code wider than the column ({WIDTH} characters) in a released exercise; "
                          f"shorten it in solutions/{notebook.parent.name}/ (the text and code a learner "
                          f"sees) and run `python -m dotlab.grading.release {notebook.parent.name}`:\n"
                          + "\n".join(too_long))


def test_the_checks_catch_a_long_line_and_a_long_listing(tmp_path):
    page = tmp_path / "page.md"
    long_line = "x = [" + ", ".join(["1"] * 30) + "]"
    page.write_text("```{code-cell} ipython3\n" + long_line + "\n```\n"
                    "```{code-cell} ipython3\nfrom dotlab.forward import forward\n"
                    "show_source(forward)\n```\n", encoding="utf-8")
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    assert blocks[0] == [(2, long_line)] and len(long_line) > WIDTH
    (name, source), = listings(page)
    assert name == "forward" and source.startswith("def forward(") and '"""' not in source
    notebook = tmp_path / "exercise.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["Short.\n"]},
        {"cell_type": "code", "source": ["def f():\n", f"    {long_line}\n", "    return x"]},
    ]}), encoding="utf-8")
    (where, lines), = notebook_code(notebook)
    assert where == "cell 2" and _long(lines, "exercise") == [
        f"exercise line 2: {len(long_line) + 4} characters: {long_line[:60]}..."]
