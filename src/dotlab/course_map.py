"""The course's map: from each idea to its page section, task, package module, checks and tests.

The package is organised by concept, the checks, catalogues and exercises by chapter;
this module joins the two from what the code already declares, so the map in the book
(``chapters/map.md``, drawn by this module's ``course-map`` directive) cannot go stale:

- the graded tasks: each chapter's ``dotlab.checks.chNN.CHECKS`` (:func:`graded_tasks`);
- the package module of a task: the concept module whose ``__all__`` names the graded
  function, else the module mirrored by the test modules that carry the task's pytest
  marker, ``@pytest.mark.task(id="6.5")`` (:func:`task_markers`), else a module named
  after the function;
- the page section: the heading above the chapter page's first mention of "task N.M";
- the wrong and right answers: ``tests/catalogue/chNN.py``'s ``WRONG`` (:func:`catalogue_counts`);
- the tests: the module's mirror ``tests/test_<module>.py``, the marked test modules and
  the chapter's ``tests/test_checks_chNN.py``.

Concept modules that no task grades (the ledger, the embedding cache, ...) get a row of
their own, under the chapter their docstring names ("Chapter 8: ...").

Examples
--------
>>> row = next(r for r in map_rows() if r.task == "2.3")
>>> row.function, row.modules, row.check
('top_k', ('dotlab.search',), 'dotlab.checks.ch02.check_top_k')
>>> "tests/test_search.py" in row.tests
True
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import posixpath
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GradedTask",
    "MapRow",
    "ModuleInfo",
    "ROOT",
    "catalogue_counts",
    "concept_modules",
    "graded_tasks",
    "map_rows",
    "section_id",
    "setup",
    "sources",
    "table",
    "task_markers",
]

#: The repository: the package lives in ``src/dotlab`` (installed in editable mode).
ROOT = Path(__file__).resolve().parents[2]

#: Sub-packages that are machinery, not concepts of the course: the checks have a column
#: of their own, and grading is how notebooks are marked, not an idea the book teaches.
_NOT_CONCEPTS = {"checks", "grading"}


@dataclass(frozen=True)
class GradedTask:
    """One graded function: its task id, its name in the exercise and its check."""

    chapter: int
    task: str  # "2.3": the id shared by the chapter, the exercise and the pytest marker
    function: str  # "top_k": the name the learner defines
    check: str  # "dotlab.checks.ch02.check_top_k"


@dataclass(frozen=True)
class ModuleInfo:
    """A concept module of the package, as its source declares it."""

    name: str  # "dotlab.search"
    names: tuple[str, ...]  # its __all__
    summary: str  # the first line of its docstring
    chapter: int | None  # from a docstring that starts "Chapter N"
    path: Path


@dataclass(frozen=True)
class MapRow:
    """One line of the map: a graded task, or a concept module no task grades."""

    chapter: int | None
    concept: str  # the page section's title, or the module's summary
    page: str | None  # the chapter page, relative to the repository, without ".md"
    anchor: str | None  # the section's HTML id on that page (None: the page's top)
    task: str | None
    function: str | None
    modules: tuple[str, ...]
    check: str | None
    wrong: int  # catalogued wrong answers the checks must name
    right: int  # catalogued unusual right answers the checks must accept
    catalogue: str | None  # "tests/catalogue/ch02.py"
    tests: tuple[str, ...]  # test modules, relative to the repository


# -- what the checks declare ----------------------------------------------------------------


def _check_modules() -> list[tuple[int, str]]:
    import dotlab.checks

    found = (re.fullmatch(r"ch(\d\d)", m.name) for m in pkgutil.iter_modules(dotlab.checks.__path__))
    return sorted((int(m.group(1)), f"dotlab.checks.{m.group(0)}") for m in found if m)


def graded_tasks() -> list[GradedTask]:
    """Every chapter's graded tasks, from ``dotlab.checks.chNN.CHECKS``.

    The one place that reads the checks' structures, and all it relies on: each chapter's
    check module ``dotlab.checks.chNN`` has a dict ``CHECKS`` from task id (``"2.3"``) to
    a check function named ``check_<the graded function's name>``. Anything else about
    the checks may change without touching the map.

    Examples
    --------
    >>> graded_tasks()[0]
    GradedTask(chapter=1, task='1.1', function='dot_loop', check='dotlab.checks.ch01.check_dot_loop')
    """
    tasks = []
    for chapter, module_name in _check_modules():
        module = importlib.import_module(module_name)
        for task, check in getattr(module, "CHECKS", {}).items():
            name = check.__name__
            if not name.startswith("check_"):
                raise ValueError(f"{module_name}.CHECKS[{task!r}] is {name!r}: the map expects a check named check_<function>")
            tasks.append(GradedTask(chapter, str(task), name.removeprefix("check_"), f"{module_name}.{name}"))
    return sorted(tasks, key=lambda t: tuple(int(p) for p in t.task.split(".")))


def catalogue_counts(chapter: int, root: Path = ROOT) -> dict[str, Counter]:
    """Wrong and right answers per graded function, from ``tests/catalogue/chNN.py``.

    Relies only on this: the module has a ``WRONG`` catalogue whose ``entries`` each have
    a ``target`` (the graded function's name); an entry of the class ``Right`` is a right
    answer, any other a wrong one. Returns ``{function: Counter(wrong=..., right=...)}``,
    empty when the chapter has no catalogue.
    """
    path = root / "tests" / "catalogue" / f"ch{chapter:02d}.py"
    if not path.is_file():
        return {}
    tests = str(root / "tests")
    added = tests not in sys.path
    if added:
        sys.path.insert(0, tests)  # the catalogues import their package as "catalogue"
    try:
        module = importlib.import_module(f"catalogue.ch{chapter:02d}")
    finally:
        if added:
            sys.path.remove(tests)
    counts: dict[str, Counter] = {}
    for entry in module.WRONG.entries:
        kind = "right" if type(entry).__name__ == "Right" else "wrong"
        counts.setdefault(entry.target, Counter())[kind] += 1
    return counts


# -- what the package and the tests declare ----------------------------------------------------


def _literal_all(tree: ast.Module) -> tuple[str, ...]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()


def concept_modules(root: Path = ROOT) -> dict[str, ModuleInfo]:
    """The package's concept modules, read from their source (nothing is imported).

    Every public module and sub-package of ``dotlab`` but the checks and grading, with the
    names its ``__all__`` declares and the chapter its docstring names.

    Examples
    --------
    >>> concept_modules()["dotlab.kvcache"].chapter
    6
    """
    package = root / "src" / "dotlab"
    candidates = [p for p in sorted(package.glob("*.py")) if not p.name.startswith("_")]
    candidates += [p / "__init__.py" for p in sorted(package.iterdir())
                   if (p / "__init__.py").is_file() and p.name not in _NOT_CONCEPTS]
    modules = {}
    for path in candidates:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = (ast.get_docstring(tree) or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        chapter = re.search(r"\b[Cc]hapters? (\d+)", summary)
        stem = path.parent.name if path.name == "__init__.py" else path.stem
        modules[f"dotlab.{stem}"] = ModuleInfo(f"dotlab.{stem}", _literal_all(tree), summary,
                                               int(chapter.group(1)) if chapter else None, path)
    return modules


def _marker_task(call: ast.Call) -> str | None:
    """The id in ``pytest.mark.task(id="6.5")`` or ``pytest.mark.task("6.5")``, when written out."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "task"):
        return None
    values = [k.value for k in call.keywords if k.arg == "id"] + list(call.args[:1])
    if values and isinstance(values[0], ast.Constant) and isinstance(values[0].value, str):
        return values[0].value
    return None


def _called(function: ast.AST) -> list[str]:
    """The names a test function calls, in the order they first appear."""
    calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
    names = [c.func.id if isinstance(c.func, ast.Name) else c.func.attr
             for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))
             if isinstance(c.func, (ast.Name, ast.Attribute))]
    return list(dict.fromkeys(names))


def task_markers(root: Path = ROOT) -> dict[str, dict[str, list[str]]]:
    """The test modules that carry each task's pytest marker, with what the marked tests call.

    Read from the source: ``{task: {test module: [names the marked tests call]}}``. Only
    markers written out with a literal id count (``@pytest.mark.task(id="6.5")`` on a test
    function, or in a module's ``pytestmark``); the checks' test modules, whose markers
    are computed, are joined by chapter instead.

    Examples
    --------
    >>> "head_decode_step" in task_markers()["6.5"]["tests/test_kvcache.py"]
    True
    """
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted((root / "tests").glob("test_*.py")):
        module = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (task := _marker_task(node)):
                found.setdefault(task, {}).setdefault(module, [])
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            for decorator in function.decorator_list:
                if isinstance(decorator, ast.Call) and (task := _marker_task(decorator)):
                    calls = found[task][module]
                    calls += [name for name in _called(function) if name not in calls]
    return found


# -- what the pages say --------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_TASKS = re.compile(r"\btasks?\s+(\d+\.\d+(?:\s*(?:,|and|or|to|–)\s*\d+\.\d+)*)")


def section_id(title: str) -> str:
    """The HTML id Sphinx gives a section, from its MyST title (math and markup dropped).

    Examples
    --------
    >>> section_id("A dot product's spread grows with $d_k$")
    'a-dot-product-s-spread-grows-with-d-k'
    """
    from docutils.nodes import make_id

    return make_id(re.sub(r"[`*$]|\{[a-z]+\}", "", title))


def _chapter_page(chapter: int, root: Path) -> Path | None:
    pages = sorted((root / "chapters").glob(f"ch{chapter:02d}_*.md"))
    return pages[0] if pages else None


def _prose(page: Path) -> list[tuple[str, str | None, str, bool]]:
    """The page's lines, each with the title and id of its section and whether it is code.

    Import statements are left out: a page imports everything at its top, which says
    nothing about where it uses a name.
    """
    lines, title, anchor, fence, importing = [], page.stem, None, None, False
    for line in page.read_text(encoding="utf-8").splitlines():
        opened = _FENCE.match(line)
        if opened and (fence is None or opened.group(1).startswith(fence)):
            fence = None if fence else opened.group(1)[0] * 3
            continue
        if not fence and (heading := _HEADING.match(line)):
            level, title = heading.groups()
            anchor = None if len(level) == 1 else section_id(title)
            continue
        if fence and (importing or re.match(r"\s*(from|import)\s", line)):
            importing = line.count("(") > line.count(")") or (importing and ")" not in line)
            continue
        lines.append((title, anchor, line, fence is not None))
    return lines


def _mentions(line: str) -> list[str]:
    return [task for m in _TASKS.finditer(line) for task in re.findall(r"\d+\.\d+", m.group(1))]


def _section(lines: list[tuple[str, str | None, str, bool]], task: str, names: list[str]) -> tuple[str | None, str | None]:
    """Where a page introduces a task: the section of its first mention as "task N.M" in
    the prose, else of the first of ``names`` (the graded function's, then the package's
    for it) in backticks in the prose, else of the first code that uses one, else the
    assignment section whose table lists it (which only repeats the ids)."""
    either = "|".join(re.escape(n) for n in names)
    named = re.compile(rf"`({either})[`(]")
    used = re.compile(rf"(?<![\w.])({either})\b")
    listed = re.compile(rf"^\|\s*{re.escape(task)}\s*\|")
    body = [(t, a, line, code) for t, a, line, code in lines if not t.lower().startswith("the assignment")]
    for found in (lambda line, code: not code and task in _mentions(line),
                  lambda line, code: not code and named.search(line),
                  lambda line, code: code and used.search(line)):
        for title, anchor, line, code in body:
            if found(line, code):
                return title, anchor
    for title, anchor, line, code in lines:
        if not code and (listed.match(line) or task in _mentions(line)):
            return title, anchor
    return None, None


# -- the map --------------------------------------------------------------------------------------


def _mirror(module: str, root: Path) -> tuple[str, ...]:
    path = root / "tests" / f"test_{module.rsplit('.', 1)[-1]}.py"
    return (path.relative_to(root).as_posix(),) if path.is_file() else ()


def _relative(path: Path | None, root: Path, suffix: str = "") -> str | None:
    return None if path is None else path.relative_to(root).with_suffix(suffix).as_posix()


def _owners(task: GradedTask, modules: dict[str, ModuleInfo], marked: dict[str, list[str]]) -> tuple[str, ...]:
    """The package modules behind a task: by name in ``__all__``, else through the task's
    markers (the modules their test modules mirror), else a module named after the task."""
    named = [m.name for m in modules.values() if task.function in m.names]
    found = named or [f"dotlab.{Path(t).stem.removeprefix('test_')}" for t in marked] or [f"dotlab.{task.function}"]
    return tuple(m for m in dict.fromkeys(found) if m in modules)


def _task_row(task: GradedTask, owners: tuple[str, ...], marked: dict[str, list[str]], modules: dict[str, ModuleInfo],
              page: Path | None, prose: list, counts: dict[str, Counter], root: Path) -> MapRow:
    # the graded name first, then the package's own names for it, as its marked tests call them
    package_names = {name for owner in owners for name in modules[owner].names}
    names = [task.function] + [n for calls in marked.values() for n in calls if n in package_names and n[0].islower()]
    title, anchor = _section(prose, task.task, list(dict.fromkeys(names)))
    checks_tests = root / "tests" / f"test_checks_ch{task.chapter:02d}.py"
    tests = [m for owner in owners for m in _mirror(owner, root)] + list(marked)
    tests += [_relative(checks_tests, root, ".py")] if checks_tests.is_file() else []
    catalogue = root / "tests" / "catalogue" / f"ch{task.chapter:02d}.py"
    answers = counts.get(task.function, Counter())
    return MapRow(task.chapter, title or f"task {task.task}", _relative(page, root), anchor, task.task, task.function,
                  owners, task.check, answers["wrong"], answers["right"],
                  _relative(catalogue, root, ".py") if catalogue.is_file() else None, tuple(dict.fromkeys(tests)))


def _module_row(info: ModuleInfo, root: Path) -> MapRow:
    page = _chapter_page(info.chapter, root) if info.chapter else None
    return MapRow(info.chapter, info.summary, _relative(page, root), None, None, None, (info.name,), None, 0, 0,
                  None, _mirror(info.name, root))


def map_rows(root: Path = ROOT) -> list[MapRow]:
    """The whole map: a row per graded task, then a row per concept module no task grades.

    Rows come in chapter order; modules that name no chapter come last.
    """
    modules, markers = concept_modules(root), task_markers(root)
    chapters: dict[int, tuple] = {}  # each chapter's page, its prose and its catalogue, read once
    rows = []
    for task in graded_tasks():
        if task.chapter not in chapters:
            page = _chapter_page(task.chapter, root)
            chapters[task.chapter] = (page, _prose(page) if page else [], catalogue_counts(task.chapter, root))
        marked = markers.get(task.task, {})
        rows.append(_task_row(task, _owners(task, modules, marked), marked, modules, *chapters[task.chapter], root))
    graded = {m for row in rows for m in row.modules}
    rows += [_module_row(info, root) for info in modules.values() if info.name not in graded]
    return sorted(rows, key=lambda r: (r.chapter is None, r.chapter or 0, r.task is None,
                                       tuple(int(p) for p in r.task.split(".")) if r.task else (), r.modules))


def sources(root: Path = ROOT) -> list[Path]:
    """Every file the map is read from: a change to any of them redraws the map page."""
    files = list((root / "src" / "dotlab").glob("*.py")) + list((root / "src" / "dotlab").glob("*/__init__.py"))
    files += list((root / "src" / "dotlab" / "checks").glob("*.py"))
    files += list((root / "chapters").glob("ch*.md")) + list((root / "tests" / "catalogue").glob("*.py"))
    files += list((root / "tests").glob("test_*.py"))
    return sorted(files)


# -- the map in the book ----------------------------------------------------------------------


def _text(value: str):
    from docutils import nodes

    return nodes.Text(re.sub(r"[`*$]", "", value))


def _cell(*children):
    from docutils import nodes

    entry = nodes.entry()
    entry += nodes.paragraph("", "", *children) if children else nodes.paragraph()
    return entry


def _literals(values) -> list:
    from docutils import nodes

    out = []
    for i, value in enumerate(values):
        out += ([nodes.Text(", ")] if i else []) + [nodes.literal(value, value)]
    return out


def _link(row: MapRow, here: str, suffix: str):
    """The row's idea as a link to its section, relative to the page the map is on."""
    from docutils import nodes

    if row.page is None:
        return _text(row.concept)
    uri = posixpath.relpath(row.page, posixpath.dirname(here)) + suffix + (f"#{row.anchor}" if row.anchor else "")
    link = nodes.reference("", "", internal=True, refuri=uri)
    link += _text(row.concept)
    return link


def table(rows: list[MapRow], here: str, suffix: str = ".html"):
    """The map as a docutils table, for the page ``here`` (a docname such as ``chapters/map``).

    Four columns, so the table fits the book's column on a desktop screen: names are
    shown without the prefixes every row shares (``dotlab.``, ``tests/test_``, ``.py``),
    and the checks share a cell with the tests that hold them to their word.
    """
    from docutils import nodes

    headers = ("Idea", "Task", "In dotlab", "Checks and tests")
    group = nodes.tgroup(cols=len(headers))
    for width in (34, 22, 16, 28):
        group += nodes.colspec(colwidth=width)
    head = nodes.row()
    for header in headers:
        head += _cell(nodes.Text(header))
    head[-1][0] += [nodes.Text(" "), nodes.literal("test_*", "test_*")]
    group += nodes.thead("", head)
    body = nodes.tbody()
    for r in rows:
        task = [nodes.Text(f"{r.task} "), nodes.literal(r.function, r.function)] if r.task else []
        checks = _cell()
        if r.check:
            module = r.check.rsplit(".", 2)[-2]
            answers = f", {r.wrong} wrong" + (f", {r.right} right" if r.right else "") + " answers"
            checks[0] += [nodes.literal(module, module), nodes.Text(answers)]
        if r.tests:
            checks += nodes.paragraph("", "", *_literals(Path(t).stem.removeprefix("test_") for t in r.tests))
        line = nodes.row()
        for cell in (_cell(_link(r, here, suffix)), _cell(*task),
                     _cell(*_literals(m.removeprefix("dotlab.") for m in r.modules)), checks):
            line += cell
        body += line
    group += body
    return nodes.table("", group, classes=["course-map"])


def setup(app):
    """The ``course-map`` directive: the map, read from the code each time the page is read.

    Every file the map comes from is noted as a dependency of the page, so Sphinx reads
    the page again whenever one of them changes.
    """
    from docutils.parsers.rst import Directive

    class CourseMap(Directive):
        has_content = False

        def run(self):
            env = self.state.document.settings.env
            for path in sources():
                env.note_dependency(str(path))
            suffix = getattr(env.app.builder, "out_suffix", ".html")
            return [table(map_rows(), env.docname, suffix)]

    app.add_directive("course-map", CourseMap)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
