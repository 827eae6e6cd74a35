"""dotlab.lab_pages: the book's pages, opened as notebooks, read as words, and save back as the book's text.

Every role and directive on every page is either turned into words here or one that
jupyterlab-myst renders itself (the browser half, tests/test_jupyterlab.py, checks that
it does); opening and saving a page through the contents manager changes none of its
bytes; a learner's edit is kept, with the book's markup back around it.
"""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
from pathlib import Path

import jupytext
import pytest

from dotlab.course_map import ROOT
from dotlab.lab_pages import (GLUED_MATH, GLUED_NOTE, GLUED_VALUE, META_KEY, Book, ChapterContentsManager,
                              Span, plain_words, restore)

PAGES = sorted((ROOT / "chapters").glob("*.md"))
#: Directives jupyterlab-myst renders itself, so they stay as they are.
LEFT_TO_JUPYTERLAB_MYST = {"dropdown", "admonition", "glossary"}
ROLE = re.compile(r"\{([\w:.+-]+)\}`")
FENCE = re.compile(r"^ {0,3}(`{3,}|:{3,})\s*\{([^}]+)\}", re.M)


@pytest.fixture(scope="module")
def book():
    return Book(ROOT)


def _markdown(page: Path) -> list[str]:
    return [c.source for c in jupytext.read(page).cells if c.cell_type == "markdown"]


def _without_code(text: str) -> str:
    """The text with code blocks and inline code removed (a role written there is an example)."""
    text = re.sub(r"^ {0,3}(`{3,})[^{\n]*\n.*?^ {0,3}\1\s*$", "", text, flags=re.M | re.S)
    return re.sub(r"(`+)(?!\{).+?\1", "", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_role_on_the_page_reads_as_words(book, page):
    for source in _markdown(page):
        shown, spans = plain_words(source, book, page)
        prose = _without_code(shown)
        assert not ROLE.search(prose), f"{page.name}: a role is left as markup: {ROLE.search(prose)[0]!r}"
        left = {m[2] for m in FENCE.finditer(shown)} - {"code-cell"}
        shown_raw = left - LEFT_TO_JUPYTERLAB_MYST
        assert not shown_raw, f"{page.name}: directives shown as markup: {shown_raw}"
        for span in spans:
            words, markup = shown[span.start:span.end], span.markup
            if not markup:  # the note on what a glued value's mark means, only where one stands
                assert words == "\n\n" + GLUED_NOTE and span.end == len(shown) and GLUED_VALUE in shown
                continue
            assert words and "`" not in words.replace("`dotlab.course_map`", "") or markup.startswith("```{include}")
            _assert_resolved(book, page, markup, words)


def _assert_resolved(book, page, markup, words):
    """Each role reads as what the book shows, not a key or a fallback."""
    role = re.match(r"\{([\w:]+)\}`([^`]+)`", markup)
    if role is None:
        return
    name, body = role.groups()
    if name.startswith("cite"):
        keys = body.split(",")
        assert all(k.strip() in book.sources for k in keys), f"{markup}: unknown source"
        assert len(re.findall(r"\b(19|20)\d\d\b", words)) == len(keys) and not any(k in words for k in keys), words
    elif name == "doc" and "<" not in body:
        assert words == book.title(page, body) and words != body.rsplit("/", 1)[-1], f"{markup} -> {words!r}"
    elif name == "numref":
        assert words.startswith("the figure “"), f"{markup} -> {words!r}: its figure was not found"
    elif name == "glue:text":
        assert words == GLUED_VALUE


def test_citations_read_as_the_books_author_year(book):
    assert book.cite("t", ["vaswani2017attention"]) == "Vaswani et al. (2017)"
    assert book.cite("p", ["press2017using"]) == "(Press and Wolf, 2017)"
    assert book.cite("p", ["shazeer2019fast", "ainslie2023gqa"]) == "(Shazeer, 2019; Ainslie et al., 2023)"
    assert book.cite("t", ["openai2023gpt4"]) == "OpenAI (2023)"  # {{OpenAI}}: braces are LaTeX, not words
    assert book.cite("t", ["johnson2021billion"]) == "Johnson et al. (2021)"


def test_glued_values_and_directives_the_book_fills_read_as_words(book):
    page = ROOT / "chapters" / "ch01_dot_product.md"
    source = "Before.\n\n```{glue:math} q1_terms\n:label: eq-x\n```\nIt is {glue:text}`q1_result:.0f`.\n"
    shown, spans = plain_words(source, book, page)
    # The mark for a glued value is explained once, after the cell.
    assert shown == f"Before.\n\n{GLUED_MATH}\nIt is {GLUED_VALUE}.\n\n\n{GLUED_NOTE}"
    assert restore(shown, spans) == source
    bib, _ = plain_words("```{bibliography}\n:all:\n```", book, ROOT / "chapters" / "bibliography.md")
    assert bib.count("\n- ") == len(book.sources) - 1 and "Attention is all you need" in bib


def test_code_is_never_rewritten(book):
    page = ROOT / "chapters" / "instructor_guide.md"
    source = ("A term is written ``{term}`word` `` and a source ``{cite:p}`key` ``:\n\n"
              "```bash\necho {doc}`notation`\n```\n{term}`token`")
    shown, spans = plain_words(source, book, page)
    assert shown == source.replace("{term}`token`", "token") and len(spans) == 1


def test_a_role_inside_a_kept_directive_is_rewritten_and_the_directive_kept(book):
    page = ROOT / "chapters" / "ch01_dot_product.md"
    source = "````{dropdown} Answer\n```{admonition} Note\nSee {term}`token`.\n```\n````\nAfter {term}`key`."
    shown, spans = plain_words(source, book, page)
    assert shown == source.replace("{term}`token`", "token").replace("{term}`key`", "key")
    assert restore(shown, spans) == source


def test_restore_puts_markup_back_only_where_the_words_were():
    source = "a token is a {term}`token`"
    shown, spans = "a token is a token", [Span(13, 18, "{term}`token`")]
    assert restore(shown, spans) == source
    # The learner's edit before it is kept; the plain "token" they did not touch stays plain.
    assert restore(shown, spans, now="so a token is a token") == "so a token is a {term}`token`"
    # Words the learner changed are theirs: no markup is forced back around them.
    assert restore(shown, spans, now="a token is a tok") == "a token is a tok"


def _copy_book(tmp_path: Path) -> Path:
    (tmp_path / "chapters").mkdir()
    for page in PAGES:
        shutil.copy(page, tmp_path / "chapters")
    for name in ("_toc.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path)
    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "RESULTS.md", tmp_path / "benchmarks")
    return tmp_path


def _as_jupyterlab_sends(nb: dict) -> dict:
    """What JupyterLab sends back after Run All and a look around: ids, outputs,
    jupyterlab-myst's empty records, a collapsed heading, a hidden input, timings."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
        if cell["cell_type"] == "markdown":
            cell["metadata"]["user_expressions"] = []
            cell["metadata"]["jp-MarkdownHeadingCollapsed"] = True
        else:
            cell["execution_count"] = i
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
            cell["metadata"]["jupyter"] = {"source_hidden": True}
            cell["metadata"]["execution"] = {"shell.execute_reply": "2026-12-07T00:00:00Z"}
    return nb


def test_every_page_opened_run_and_saved_unchanged_keeps_its_bytes(tmp_path):
    root = _copy_book(tmp_path)
    manager = ChapterContentsManager(root_dir=str(root))

    async def round_trips():
        for page in PAGES:
            path = f"chapters/{page.name}"
            model = await manager.get(path, content=True, type="notebook")
            nb = model["content"]
            assert nb["metadata"]["language_info"]["name"] == "python"
            saved = await manager.save({"type": "notebook", "format": "json", "content": _as_jupyterlab_sends(nb)},
                                       path)
            assert saved["type"] == "notebook" and "content" not in saved or saved["content"] is None
            assert (root / path).read_bytes() == page.read_bytes(), f"{page.name} changed on a save"

    asyncio.run(round_trips())


def test_a_learners_edit_is_saved_with_the_books_markup_around_it(tmp_path):
    root = _copy_book(tmp_path)
    manager = ChapterContentsManager(root_dir=str(root))
    path = "chapters/ch01_dot_product.md"
    book_text = (root / path).read_text()

    async def edit():
        nb = _as_jupyterlab_sends((await manager.get(path, content=True, type="notebook"))["content"])
        first = nb["cells"][0]
        assert "(Vaswani et al., 2017)" in first["source"] and META_KEY in first["metadata"]
        first["source"] = first["source"].replace("It is the dot product", "It is the DOT PRODUCT")
        await manager.save({"type": "notebook", "format": "json", "content": nb}, path)

    asyncio.run(edit())
    # Only the edit changed: the markup is back and every other cell keeps its bytes.
    assert (root / path).read_text() == book_text.replace("It is the {term}`dot product`",
                                                          "It is the DOT PRODUCT")


def test_a_learners_new_cell_is_saved_and_no_plain_words_reach_the_page(tmp_path):
    root = _copy_book(tmp_path)
    manager = ChapterContentsManager(root_dir=str(root))
    path = "chapters/ch01_dot_product.md"

    async def add_cell():
        nb = (await manager.get(path, content=True, type="notebook"))["content"]
        nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": "My note."})
        await manager.save({"type": "notebook", "format": "json", "content": nb}, path)

    asyncio.run(add_cell())
    saved = (root / path).read_text()
    assert "My note." in saved
    for words in (GLUED_VALUE, GLUED_NOTE, "(Vaswani et al., 2017)", META_KEY):
        assert words not in saved, words
    # Jupytext rewrote the page (its cells moved), so compare what it holds, not its bytes.
    book_nb, saved_nb = jupytext.read(ROOT / path), jupytext.reads(saved, fmt="md:myst")
    assert [c.source for c in saved_nb.cells] == [c.source for c in book_nb.cells[:1]] + ["My note."] + [
        c.source for c in book_nb.cells[1:]]


def test_files_outside_the_books_pages_are_jupytexts_alone(tmp_path):
    root = _copy_book(tmp_path)
    (root / "notes").mkdir()
    text = (ROOT / "chapters" / "ch01_dot_product.md").read_text()
    (root / "notes" / "ch01.md").write_text(text)
    (root / "ch01.md").write_text(text)
    manager = ChapterContentsManager(root_dir=str(root))

    async def opened(path):
        return (await manager.get(path, content=True, type="notebook"))["content"]

    for path in ("notes/ch01.md", "ch01.md"):
        nb = asyncio.run(opened(path))
        assert "{cite:p}`vaswani2017attention`" in nb["cells"][0]["source"]
        assert not any(META_KEY in c["metadata"] for c in nb["cells"])
    # Without the book (no _toc.yml next to chapters/), its pages are not the book's either.
    (root / "_toc.yml").unlink()
    assert "{term}`token`" in asyncio.run(opened("chapters/ch01_dot_product.md"))["cells"][0]["source"]


def test_a_page_saved_under_another_name_carries_the_books_markup(tmp_path):
    """Save As, elsewhere or as a new page: the copy holds the book's roles, not the words."""
    root = _copy_book(tmp_path)
    (root / "notes").mkdir()
    manager = ChapterContentsManager(root_dir=str(root))

    async def save_as(path):
        nb = (await manager.get("chapters/ch01_dot_product.md", content=True, type="notebook"))["content"]
        await manager.save({"type": "notebook", "format": "json", "content": nb}, path)
        return jupytext.read(root / path)

    book_cells = [c.source for c in jupytext.read(ROOT / "chapters" / "ch01_dot_product.md").cells]
    for path in ("notes/ch01_copy.md", "chapters/ch01_copy.md"):
        copy_ = asyncio.run(save_as(path))
        assert [c.source for c in copy_.cells] == book_cells, path
        assert not any(META_KEY in c.metadata for c in copy_.cells), path
