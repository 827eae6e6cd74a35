"""dotlab.course_map: every idea can be followed from its page to its code, checks and tests.

The map is read from what the code declares, so these tests are also the rules that keep
the course navigable: a graded task needs a package module, a check, catalogued wrong
answers and a test of the package's own version; a concept module declares ``__all__``
and has a mirror test module. When one fails, its message says what to add.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from dotlab import course_map
from dotlab.course_map import ROOT, concept_modules, graded_tasks, map_rows, section_id, sources, task_markers

#: Modules the rules below do not hold, each with the reason. dotlab.sphinxext is a
#: Sphinx extension: Sphinx calls its setup(), nothing imports names from it, and the
#: browser suite (tests/test_browser.py) tests what it does to the built pages.
NOT_YET = {
    "dotlab.sphinxext": "a Sphinx extension, tested through the built book",
}


def _in_the_book() -> set[int]:
    """Chapters whose page the book's table of contents lists."""
    import re

    return {int(n) for n in re.findall(r"chapters/ch(\d\d)_", (ROOT / "_toc.yml").read_text())}


@pytest.fixture(scope="module")
def rows():
    return map_rows()


def test_the_kv_cache_can_be_followed_from_page_to_tests(rows):
    """The walk the map exists for: the KV cache's section, task, module, check and tests."""
    row = next(r for r in rows if r.function == "decode_step")
    assert (row.chapter, row.task) == (6, "6.5")
    assert row.concept == "Remembering keys and values: the KV cache"
    assert (row.page, row.anchor) == ("chapters/ch06_vocabulary", "remembering-keys-and-values-the-kv-cache")
    assert row.modules == ("dotlab.kvcache",)  # found through the task marker in its tests
    assert row.check == "dotlab.checks.ch06.check_decode_step"
    assert row.wrong >= 5 and row.catalogue == "tests/catalogue/ch06.py"
    assert {"tests/test_kvcache.py", "tests/test_checks_ch06.py"} <= set(row.tests)


@pytest.mark.parametrize("task", [t.task for t in graded_tasks() if t.chapter in _in_the_book()])
def test_every_graded_task_in_the_book_reaches_its_code_checks_and_tests(rows, task):
    row = next(r for r in rows if r.task == task)
    mirror_or_marked = [t for t in row.tests if not Path(t).name.startswith("test_checks_")]
    assert row.modules, (f"task {task} ({row.function}) has no package module: add its name to a module's __all__, "
                         f'or mark a test of the package\'s version with @pytest.mark.task(id="{task}")')
    assert mirror_or_marked, f"task {task}: no test module holds the package's own {row.function} to its word"
    assert f"tests/test_checks_ch{row.chapter:02d}.py" in row.tests
    assert row.wrong > 0, f"task {task}: tests/catalogue/ch{row.chapter:02d}.py has no wrong {row.function} to prove the check on"


def test_a_section_is_found_from_prose_before_the_assignment_table(rows):
    by_task = {r.task: r for r in rows if r.task}
    assert by_task["2.3"].concept == "Search is one matrix product and a partial sort"  # "(task 2.3)" in prose
    assert by_task["5.1"].concept == "Masks"  # no "task 5.1" in prose: the first `causal_mask(`
    assert by_task["2.6"].anchor == "what-quantisation-costs-in-answers"


PAGE = """# Chapter

## Words first

Later we write `top_k_sample`.

```{code-cell} ipython3
from dotlab.vocab import (sample_token,
                          top_k_filter)
```

## Code first

```{code-cell} ipython3
probs = top_k_filter(logits, 5)  # (V,)
```

## Said plainly

This is task 6.4, and this `top_k_sample` too.

## The assignment

| task | function |
|---|---|
| 6.3 | `top_k_sample` |
| 6.4 | `top_p_sample` |
| 6.9 | `unmentioned` |
"""


@pytest.mark.parametrize("task, names, section", [
    ("6.4", ["top_p_sample"], "Said plainly"),  # "task 6.4" in prose wins over everything
    ("6.3", ["top_k_sample", "top_k_filter"], "Words first"),  # then the name in backticks
    ("6.3", ["top_k_filter"], "Code first"),  # then code that uses it (imports do not count)
    ("6.9", ["unmentioned"], "The assignment"),  # last, the table that only lists it
])
def test_the_section_of_a_task_is_where_the_page_first_uses_it(tmp_path, task, names, section):
    page = tmp_path / "ch06_page.md"
    page.write_text(PAGE)
    assert course_map._section(course_map._prose(page), task, names) == (section, section_id(section))


def test_section_ids_are_the_ones_sphinx_writes():
    # as in the built chapter 4: <section id="a-dot-product-s-spread-grows-with-d-k">
    assert section_id("A dot product's spread grows with $d_k$") == "a-dot-product-s-spread-grows-with-d-k"
    assert section_id("INT8: one byte per component") == "int8-one-byte-per-component"
    assert section_id("The misquote: random *unit* vectors") == "the-misquote-random-unit-vectors"


@pytest.mark.parametrize("name", sorted(set(concept_modules()) - set(NOT_YET)))
def test_every_concept_module_declares_all_and_has_a_mirror_test(name):
    info = concept_modules()[name]
    assert info.names, f"{info.path.relative_to(ROOT)} declares no __all__: list the names it offers"
    mirror = ROOT / "tests" / f"test_{name.removeprefix('dotlab.')}.py"
    assert mirror.is_file(), f"{name} has no mirror test module {mirror.relative_to(ROOT)}"


def test_modules_no_task_grades_still_have_a_row(rows):
    ungraded = {r.modules[0]: r for r in rows if r.task is None}
    assert ungraded["dotlab.ledger"].chapter == 8 and ungraded["dotlab.ledger"].page == "chapters/ch08_forward_pass"
    assert ungraded["dotlab.embedding_cache"].tests == ("tests/test_embedding_cache.py",)
    graded = {m for r in rows if r.task for m in r.modules}
    assert not graded & set(ungraded)


def test_markers_are_read_from_the_source():
    markers = task_markers()
    assert "tests/test_kvcache.py" in markers["6.5"]
    assert all(not Path(m).name.startswith("test_checks_") for ms in markers.values() for m in ms)


def test_every_file_a_row_comes_from_redraws_the_map(rows):
    watched = {p.relative_to(ROOT).as_posix() for p in sources()}
    for row in rows:
        assert row.page is None or f"{row.page}.md" in watched
        assert set(row.tests) <= watched
        assert row.catalogue is None or row.catalogue in watched
    assert "src/dotlab/checks/ch06.py" in watched


def test_a_check_not_named_after_its_function_is_refused(monkeypatch):
    fake = types.ModuleType("dotlab.checks.ch99")

    def grade(fn):  # should be check_<function>
        pass

    fake.CHECKS = {"99.1": grade}
    monkeypatch.setitem(sys.modules, "dotlab.checks.ch99", fake)
    monkeypatch.setattr(course_map, "_check_modules", lambda: [(99, "dotlab.checks.ch99")])
    with pytest.raises(ValueError, match=r"dotlab.checks.ch99.CHECKS\['99.1'\] is 'grade'"):
        graded_tasks()


def test_the_book_build_draws_the_map(tmp_path):
    """A one-page Sphinx project with the directive: the table is in the HTML, links and all."""
    from sphinx.cmd.build import build_main

    (tmp_path / "conf.py").write_text('extensions = ["myst_parser", "dotlab.course_map"]\n')
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.md").write_text("# Home\n\n```{toctree}\nchapters/map\n```\n")
    (tmp_path / "chapters" / "map.md").write_text((ROOT / "chapters" / "map.md").read_text())
    out = tmp_path / "html"
    assert build_main(["-b", "html", "-q", "-W", str(tmp_path), str(out)]) == 0
    html = (out / "chapters" / "map.html").read_text()
    assert html.count("<tr") >= len(graded_tasks()) + 1
    assert 'href="ch06_vocabulary.html#remembering-keys-and-values-the-kv-cache"' in html
    assert '<span class="pre">kvcache</span>' in html and '<span class="pre">checks_ch06</span>' in html
