"""The book's pages opened as notebooks in JupyterLab read as plain words where the book's roles cannot resolve.

The course's JupyterLab opens ``chapters/*.md`` as Jupytext notebooks and renders their
MyST with jupyterlab-myst (issue 20). Inside the book, Sphinx resolves the roles the
pages use: ``{cite:p}`` (sphinxcontrib-bibtex, from ``references.bib``), ``{term}``,
``{doc}`` and ``{numref}`` (Sphinx's cross-references, from the whole book) and
``{glue:text}``/``{glue:math}`` (myst-nb, from outputs of the executed page). A notebook
has none of that: jupyterlab-myst 2.7 shows a citation as a warning icon and its key, a
glued value as its key, ``{glue:math}`` as an "Unknown Directive" box, and terms and
page links as links that go nowhere. It has no setting to change that (citations from a
BibTeX file are on its to-do list: jupyter-book/jupyterlab-myst#127), and no maintained
JupyterLab extension resolves Sphinx's or myst-nb's roles outside a Sphinx build
(jupyterlab-citation-manager keeps its own citation syntax, not Jupyter Book's:
jupyterlab-contrib/jupyterlab-citation-manager#15), so the course writes its own, on
the server, where the book's files are: a Jupyter server contents manager that wraps
Jupytext's and, when a page is opened as a notebook, turns each role that cannot
resolve into the words the book would show ("Vaswani et al. (2017)", the term, the
page's title, the figure's caption), and restores the markup when the notebook is
saved, so the book's source never changes through JupyterLab:

- ``plain_words(source, book, page)``: a markdown cell's text with each role and
  directive that cannot resolve replaced by words, and where each replacement sits;
- ``restore(shown, spans)``: the text with the markup back in place of each replacement
  the learner left intact (their edits elsewhere are kept);
- ``ChapterContentsManager``: Jupytext's contents manager, doing both for the book's
  pages and nothing else (``jupyter/jupyter_server_config.json``, installed by the
  Makefile's setup, names it). A page saved unchanged is not written at all, so its
  bytes stay the book's (Jupytext would re-wrap the cells' YAML options); a page
  changed by a learner keeps the book's text for every cell they did not change.

Roles and directives jupyterlab-myst renders itself (dropdowns, admonitions, the
glossary, math) are left to it.

A glued value reads as a mark, "(value)", explained once after its cell: the book's
value is an output of the executed page, which a notebook does not hold. jupyterlab-myst's
``{eval}`` role could show a value after Run All, but only by evaluating an expression
in the kernel, and myst-nb's ``glue(name, value)`` keeps no copy there; the expression
glued may be reassigned before the sentence that shows it, so the number shown could
differ from the book's.

Opening a page also writes into it what JupyterLab would write when the page's kernel
starts (the kernel's spec and ``language_info``), so a page is not "modified" before
the learner touches it; saving writes the page's own header back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from pathlib import Path

__all__ = ["Book", "ChapterContentsManager", "plain_words", "restore"]

#: Where a cell keeps what was replaced, so that saving can put the markup back.
META_KEY = "dotlab_plain"
#: Cell metadata JupyterLab writes for the view, not the page: a collapsed heading, a
#: hidden input or output, a run's timings, jupyterlab-myst's inline results. Jupytext
#: would write them into the book's text; a page keeps the book's own (none, so far).
VIEW_STATE = ("jp-MarkdownHeadingCollapsed", "jupyter", "collapsed", "scrolled", "execution",
              "editable", "deletable", "user_expressions")

#: A role: ``{name}`body```; its body may wrap onto the next line, as prose does.
_ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}`(?P<body>[^`]+)`")
#: An inline code span, inside which nothing is a role.
_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?:.|\n)*?(?<!`)(?P=ticks)(?!`)")
#: A fence line: ```lang, ```{directive} argument, :::{directive} argument, or a bare close.
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[^}]+)\}\s*(?P<arg>.*)$")
_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>\s*$", re.S)

#: What stands for a glued value. The book prints the value the page's code computed;
#: a notebook has no glue (myst-nb's glue(..., display=False) shows nothing in
#: JupyterLab, and jupyterlab-myst has no glue role), so the words say where the value
#: comes from instead of inventing one: a short mark in the sentence, and once at the
#: end of the cell what the mark means. No apostrophes: jupyterlab-myst curls them.
GLUED_VALUE = "*(value)*"
GLUED_NOTE = "*(value): computed by the code of this page; the book shows it here.*"
GLUED_MATH = "*(An equation the code of this page writes out; the book shows it here.)*"
COURSE_MAP = ("*(The book draws the map here from the code each time it is built: "
              "`dotlab.course_map`.)*")


@dataclass(frozen=True)
class Span:
    """One replacement: ``shown[start:end]`` stands for ``markup`` in the book's source."""

    start: int
    end: int
    markup: str


@dataclass
class Book:
    """What the book knows that a lone page does not: its sources, titles, labels and figures.

    Parameters
    ----------
    root : Path
        The book's root (the directory holding ``_toc.yml`` and ``references.bib``).

    Examples
    --------
    >>> from dotlab.course_map import ROOT
    >>> Book(ROOT).cite("t", ["vaswani2017attention"])
    'Vaswani et al. (2017)'
    """

    root: Path
    _titles: dict[Path, str] = field(default_factory=dict, repr=False)

    @cached_property
    def sources(self) -> dict:
        """The bibliography's entries by key (pybtex), empty without ``references.bib``."""
        from pybtex.database import parse_file

        bib = self.root / "references.bib"
        return dict(parse_file(str(bib), "bibtex").entries) if bib.is_file() else {}

    @cached_property
    def _author_year(self) -> dict[str, tuple[str, str]]:
        """Each source as the book's author-year citations name it: ("Vaswani et al.", "2017")."""
        from pybtex.plugin import find_plugin
        from pybtex.richtext import Text

        text = find_plugin("pybtex.backends", "text")()  # found once: each lookup scans entry points
        named = {}
        for key, entry in self.sources.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [Text.from_latex(" ".join(p.prelast_names + p.last_names)).render(text) for p in people]
            if len(names) > 2 or "others" in names:
                who = f"{names[0]} et al."
            else:
                who = " and ".join(names) or key
            named[key] = (who, entry.fields.get("year", ""))
        return named

    def cite(self, style: str, keys: list[str]) -> str:
        """A citation in words: textual ``"A et al. (2017)"`` or parenthetical ``"(A et al., 2017)"``.

        Examples
        --------
        >>> from dotlab.course_map import ROOT
        >>> Book(ROOT).cite("p", ["press2017using", "shazeer2019fast"])
        '(Press and Wolf, 2017; Shazeer, 2019)'
        """
        pairs = [self._author_year.get(k, (k, "")) for k in keys]
        if style.startswith("t"):
            return ", ".join(f"{who} ({year})" if year else who for who, year in pairs)
        return "(" + "; ".join(f"{who}, {year}" if year else who for who, year in pairs) + ")"

    def bibliography(self) -> str:
        """Every source as a markdown list, in the book's style (pybtex's ``plain``)."""
        from pybtex.database import BibliographyData
        from pybtex.plugin import find_plugin

        style = find_plugin("pybtex.style.formatting", "plain")()
        backend = find_plugin("pybtex.backends", "markdown")()
        formatted = style.format_bibliography(BibliographyData(entries=self.sources))
        return "\n".join("- " + e.text.render(backend).replace("\n", " ") for e in formatted)

    def title(self, page: Path, target: str) -> str | None:
        """The title of the page ``target`` names (relative to ``page``'s folder, or to the root)."""
        base = self.root if target.startswith("/") else page.parent
        stem = (base / target.lstrip("/")).resolve()
        for path in (stem.with_name(stem.name + ".md"), stem.with_name(stem.name + ".ipynb"), stem):
            if path.is_file():
                if path not in self._titles:
                    self._titles[path] = _first_heading(path)
                return self._titles[path]
        return None

    @cached_property
    def labels(self) -> dict[str, str]:
        """Each label's words: a section's title, or a figure's caption (its first clause)."""
        found = {}
        for page in sorted({*self.root.glob("*.md"), *(self.root / "chapters").glob("*.md")}):
            text = page.read_text(encoding="utf-8")
            for m in re.finditer(r"^\((?P<label>[^()\s]+)\)=\s*\n+#+\s+(?P<title>.+)$", text, re.M):
                found[m["label"]] = m["title"].strip()
            # A myst-nb figure: its options name it and give its caption (either order).
            for block in re.findall(r"^```\{code-cell\}[^\n]*\n---\n(.*?)^---$", text, re.M | re.S):
                name = re.search(r"^\s+name:\s*['\"]?([\w.-]+)", block, re.M)
                caption = re.search(r"^\s+caption:\s*(['\"]?)(.+?)\1\s*$", block, re.M)
                if name and caption:
                    clause = re.split(r"[,.:;]\s", caption[2], maxsplit=1)[0].rstrip(".")
                    found[name[1]] = f"the figure “{clause}”"
        return found


def _first_heading(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        text = "\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    return heading[1].strip() if heading else path.stem


def _role_words(name: str, body: str, book: Book, page: Path) -> str | None:
    """The words a role reads as, or None for a role left to jupyterlab-myst."""
    explicit = _TARGET.match(body)
    text, target = (explicit["text"], explicit["target"]) if explicit else (None, body.strip())
    if name == "term":
        return text if explicit else body
    if name == "doc":
        return text if explicit else (book.title(page, target) or target.rsplit("/", 1)[-1])
    if name in ("numref", "ref"):
        words = book.labels.get(target, target.replace("-", " "))
        return text.replace("%s", words).replace("{name}", words) if explicit else words
    if name == "cite" or name.startswith("cite:"):
        style = name.partition(":")[2] or "p"
        return book.cite(style, [k.strip() for k in body.split(",") if k.strip()])
    if name in ("glue", "glue:", "glue:any", "glue:text"):
        return GLUED_VALUE
    return None


def _directive_words(name: str, arg: str, body: list[str], book: Book, page: Path) -> str | None:
    """The text a directive reads as, or None for one jupyterlab-myst renders itself."""
    if name in ("glue", "glue:", "glue:any", "glue:figure"):
        return GLUED_VALUE
    if name == "glue:math":
        return GLUED_MATH
    if name == "bibliography":
        return book.bibliography()
    if name == "course-map":
        return COURSE_MAP
    if name == "include":
        path = (page.parent / arg).resolve()
        if not path.is_file():
            return f"*(The book includes `{arg}` here.)*"
        lines = path.read_text(encoding="utf-8").splitlines()
        start = next((int(l.split(":", 2)[2]) for l in body if l.startswith(":start-line:")), 0)
        return "\n".join(lines[start:]).strip("\n")
    return None


def _prose(text: str, offset: int, book: Book, page: Path, out: list, spans: list[Span]) -> int:
    """Rewrite the roles in a stretch of prose; return how long the written text now is."""
    pos = 0
    while m := re.search(f"{_ROLE.pattern}|{_CODE_SPAN.pattern}", text[pos:]):
        start, end = pos + m.start(), pos + m.end()
        out.append(text[pos:start])
        offset += start - pos
        words = _role_words(m["name"], m["body"], book, page) if m["name"] else None
        if words is None:
            out.append(text[start:end])
            offset += end - start
        else:
            out.append(words)
            spans.append(Span(offset, offset + len(words), text[start:end]))
            offset += len(words)
        pos = end
    out.append(text[pos:])
    return offset + len(text) - pos


def plain_words(source: str, book: Book, page: Path) -> tuple[str, list[Span]]:
    """A markdown cell with every role and directive that cannot resolve outside the book in words.

    Parameters
    ----------
    source : str
        The cell's text, as the page holds it.
    book : Book
        The book the page belongs to.
    page : Path
        The page's file (links and includes are relative to it).

    Returns
    -------
    shown : str
        The text to show.
    spans : list of Span
        Where each replacement sits in ``shown``, with the markup it replaced.

    Examples
    --------
    >>> from dotlab.course_map import ROOT
    >>> page = ROOT / "chapters" / "ch01_dot_product.md"
    >>> shown, spans = plain_words("A {term}`token` {cite:p}`vaswani2017attention`.", Book(ROOT), page)
    >>> shown
    'A token (Vaswani et al., 2017).'
    >>> restore(shown, spans) == "A {term}`token` {cite:p}`vaswani2017attention`."
    True
    """
    lines = source.split("\n")
    out: list[str] = []
    spans: list[Span] = []
    offset = 0
    prose: list[str] = []
    opened: list[tuple[str, int]] = []  # the directives whose bodies are prose, innermost last

    def flush():
        nonlocal offset, prose
        if prose:
            offset = _prose("".join(prose), offset, book, page, out, spans)
            prose = []

    def verbatim(text: str):
        nonlocal offset
        flush()
        out.append(text)
        offset += len(text)

    i = 0
    while i < len(lines):
        line = lines[i] + ("\n" if i < len(lines) - 1 else "")
        fence = _FENCE.match(lines[i])
        if not fence:
            prose.append(line)
            i += 1
            continue
        char, length, info = fence["fence"][0], len(fence["fence"]), fence["info"]
        if not info and opened and opened[-1][0] == char and length >= opened[-1][1]:
            opened.pop()  # the close of a directive whose body was prose
            verbatim(line)
            i += 1
            continue
        close = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], char, length)), len(lines) - 1)
        directive = _DIRECTIVE.match(info)
        if directive is None:  # a code block: nothing in it is a role
            block = "\n".join(lines[i:close + 1])
            verbatim(block + ("\n" if close < len(lines) - 1 else ""))
            i = close + 1
            continue
        body = lines[i + 1:close]
        words = _directive_words(directive["name"], directive["arg"], body, book, page)
        if words is None:
            opened.append((char, length))
            verbatim(line)
            i += 1
            continue
        flush()
        markup = "\n".join(lines[i:close + 1])
        spans.append(Span(offset, offset + len(words), markup))
        out.append(words)
        offset += len(words)
        if close < len(lines) - 1:
            out.append("\n")
            offset += 1
        i = close + 1
    flush()
    shown = "".join(out)
    # What the mark means, once, after the cell's text (it is no part of the book's text,
    # so it stands for nothing: saving takes it out).
    if any(shown[s.start:s.end] == GLUED_VALUE for s in spans):
        note = "\n\n" + GLUED_NOTE
        spans.append(Span(len(shown), len(shown) + len(note), ""))
        shown += note
    return shown, spans


def _closes(line: str, char: str, length: int) -> bool:
    fence = _FENCE.match(line)
    return bool(fence and not fence["info"] and fence["fence"][0] == char and len(fence["fence"]) >= length)


def restore(shown: str, spans: list[Span], now: str | None = None) -> str:
    """The book's markup back in place of each replacement.

    Parameters
    ----------
    shown : str
        The text as ``plain_words`` wrote it.
    spans : list of Span
        Its replacements.
    now : str, optional
        The text as the learner left it (default: ``shown``, unchanged). Each
        replacement still intact in it gets its markup back; the learner's edits
        elsewhere, and to the words of a replacement, are kept as they are.

    Examples
    --------
    >>> s = [Span(2, 7, "{term}`token`")]
    >>> restore("A token.", s, now="A token, edited.")
    'A {term}`token`, edited.'
    """
    now = shown if now is None else now
    if now == shown:
        pieces, pos = [], 0
        for span in spans:
            pieces += [shown[pos:span.start], span.markup]
            pos = span.end
        return "".join(pieces) + shown[pos:]
    blocks = SequenceMatcher(None, shown, now, autojunk=False).get_matching_blocks()
    moved = []
    for span in spans:
        block = next((b for b in blocks if b.a <= span.start and span.end <= b.a + b.size), None)
        if block is not None and span.end > span.start:
            moved.append((span.start - block.a + block.b, span.end - block.a + block.b, span.markup))
    for start, end, markup in sorted(moved, reverse=True):
        now = now[:start] + markup + now[end:]
    return now


def _splice(text: str, before: list, after: list) -> str | None:
    """The page's text with only the changed cells' sources replaced, or None when cells were added or moved.

    Each cell's source stands verbatim in the page (Jupytext only trims blank lines
    around it), so a changed cell is found where its old source stands and replaced
    there; everything else keeps the book's bytes.
    """
    same = len(before) == len(after) and all(
        a.cell_type == b.cell_type and a.metadata == b.metadata for a, b in zip(before, after))
    if not same:
        return None
    pieces, pos = [], 0
    for old, new in zip(before, after):
        at = text.find(old.source, pos)
        if at < 0 or not old.source:
            return None
        pieces += [text[pos:at], new.source]
        pos = at + len(old.source)
    return "".join(pieces) + text[pos:]


def _shown_cell(cell, book: Book, page: Path) -> None:
    """Put the words in a markdown cell, and what they replaced in its metadata."""
    if cell.cell_type != "markdown":
        return
    shown, spans = plain_words(cell.source, book, page)
    if spans:
        cell.source = shown
        cell.metadata[META_KEY] = {"shown": shown, "spans": [[s.start, s.end, s.markup] for s in spans]}


def _book_cell(cell) -> None:
    """Put the book's markup back in a cell, in place of the words that stood for it."""
    kept = cell.metadata.pop(META_KEY, None)
    if kept:
        spans = [Span(*s) for s in kept["spans"]]
        cell.source = restore(kept["shown"], spans, now=cell.source)


def _book_view(cells: list, book_cells: list) -> None:
    """Each cell's view state as the book's page has it (by position while no cell was added or removed)."""
    same = len(cells) == len(book_cells)
    for i, cell in enumerate(cells):
        for key in VIEW_STATE:
            cell.metadata.pop(key, None)
            if same and key in book_cells[i].metadata:
                cell.metadata[key] = book_cells[i].metadata[key]


def _contents_manager_base():
    # Jupytext's manager built on jupyter_server's default (the one its own server
    # extension would build), so chapters still open as Jupytext notebooks.
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    return build_async_jupytext_contents_manager_class(AsyncLargeFileManager)


class ChapterContentsManager(_contents_manager_base()):
    """Jupytext's contents manager; the book's pages open in plain words and save as the book's text.

    A page is a ``.md`` file in a ``chapters/`` folder next to the book's ``_toc.yml``;
    every other file is Jupytext's business alone.
    """

    def _page(self, path: str) -> tuple[Path, Book] | None:
        path = path.strip("/")
        if not path.endswith(".md"):
            return None
        os_path = Path(self._get_os_path(path))
        if os_path.parent.name != "chapters" or not (os_path.parent.parent / "_toc.yml").is_file():
            return None
        return os_path, Book(os_path.parent.parent)

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        found = self._page(path)
        if not (found and content and model["type"] == "notebook"):
            return model
        page, book = found
        nb = model["content"]
        for cell in nb.cells:
            _shown_cell(cell, book, page)
        _as_jupyterlab_announces(nb, getattr(self.parent, "kernel_spec_manager", None))
        return model

    async def save(self, model, path=""):
        if not (model.get("type") == "notebook" and model.get("content")):
            return await super().save(model, path)
        import jupytext
        import nbformat

        nb = nbformat.from_dict(model["content"])
        page = self._page(path) is not None and await self.file_exists(path)
        for cell in nb.cells:
            # A page saved under another name, or its cells pasted elsewhere, carry the
            # book's markup too, never the words that stood in for it.
            _book_cell(cell)
        if not page:
            return await super().save(dict(model, content=nb), path)
        on_disk = await self.super.get(path, content=True, type="file", format="text")
        text = on_disk["content"]
        config = await self.get_config(path)
        fmt = dict(nb.metadata.get("jupytext", {}).get("text_representation", {}), extension=".md")
        fmt = {k: v for k, v in fmt.items() if k in ("extension", "format_name")}
        book_nb = jupytext.reads(text, fmt=fmt, config=config)
        # The page's header is the book's: a kernel JupyterLab picked is not written into it.
        nb.metadata = book_nb.metadata
        _book_view(nb.cells, book_nb.cells)
        wanted = jupytext.writes(nb, fmt=fmt, config=config)
        if wanted == jupytext.writes(book_nb, fmt=fmt, config=config):
            self.log.info("%s: unchanged, not written", path)
            return await self.get(path, content=False)
        spliced = _splice(text, book_nb.cells, nb.cells)
        if spliced is not None and jupytext.writes(jupytext.reads(spliced, fmt=fmt, config=config),
                                                   fmt=fmt, config=config) == wanted:
            await self.super.save({"type": "file", "format": "text", "content": spliced}, path)
            return await self.get(path, content=False)
        return await super().save(dict(model, content=nb), path)


def _as_jupyterlab_announces(nb, specs=None) -> None:
    """The kernel metadata JupyterLab writes when the page's kernel starts, written already.

    JupyterLab writes the kernel's spec (its ``display_name`` is "Python 3 (ipykernel)"
    where the pages say "Python 3") and ``language_info`` the moment the kernel starts;
    had the page not held them already, it would be "modified" before the learner
    touched it. Saving writes the page's own header back (``save``). ``specs`` is the
    server's kernel spec manager (default: Jupyter's).
    """
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = nb.metadata.get("kernelspec", {}).get("name", "python3")
    try:
        spec = (specs or KernelSpecManager()).get_kernel_spec(name)
    except NoSuchKernel:
        return
    nb.metadata["kernelspec"] = {"display_name": spec.display_name, "language": spec.language, "name": name}
    if spec.language == "python":
        nb.metadata["language_info"] = dict(IPythonKernel.language_info)
