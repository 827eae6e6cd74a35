"""The built book, read as a reader reads it: in Chromium, served on 127.0.0.1, with no network.

Every page of ``_build/html`` (or of ``$DOTLAB_BOOK_HTML``) is opened once at desktop width
(1280 px), once at tablet width (800 px) and once at phone width (390 px), and read in the
light and the dark theme at each; screenshots at 1280 and 390 px go to
``_build/screenshots/{desktop,phone}/`` (beside the site, never in it; or
``$DOTLAB_SCREENSHOTS``) for a person to look at. Every request that
tries to leave 127.0.0.1 is blocked and fails the page. The book must be built first
(``make book``); this module does not build it, and fails every page test if it is missing.

Tests per page: no console error and no network; every formula typeset; every image
loaded, with alt text; every internal link (and #anchor) resolving; nothing wider than a
phone; every explorer responding to each of its controls; the download button; the menu
and contents buttons opening the navigation at every width; nothing wider than the column
at 1280 px; no figure shown below 60 % of its drawn size, each a link to itself; nothing
clipped on a phone or tablet, and every box that scrolls showing that it does; the dark
theme's figures (each one a dark rendering) and explorers; no NumPy repr or float
noise in an output.
Then the search page, the released exercises, chapter-to-exercise links, the launch
buttons of an instructor's configuration (a second, small build in a temporary folder),
and the explorers themselves: the browser's ports against the Python functions.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from browser.site import CHROMIUM, DESKTOP, SMALLEST_FIGURE, WIDTHS, Server, Site, book_pages, launch

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("DOTLAB_BOOK_HTML", ROOT / "_build" / "html"))
# Screenshots for a person to look at: beside the site, never in it (everything under
# the html folder is published).
SCREENSHOTS = Path(os.environ.get("DOTLAB_SCREENSHOTS", BOOK.parent / "screenshots"))
BUILT = (BOOK / "index.html").is_file()
PAGES = book_pages(BOOK) if BUILT else ["(book not built)"]
# Pages Sphinx writes itself: no source, so no download button.
GENERATED = {"genindex.html", "search.html"}
SOURCE_PAGES = [p for p in PAGES if p not in GENERATED]
EXERCISE_PAGES = [p for p in PAGES if re.fullmatch(r"exercises/ch\d\d/ch\d\d\.html", p)]
CHAPTER_PAGES = [p for p in PAGES if re.fullmatch(r"chapters/ch\d\d_\w+\.html", p)]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (`apt-get install -y chromium`, "
                    "which `make test` does); never `playwright install`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def site(browser):
    if not BUILT:
        pytest.fail(f"no built book at {BOOK}: run `make book` first (or set DOTLAB_BOOK_HTML)")
    server = Server(BOOK)
    yield Site(browser, BOOK, server, screenshots=SCREENSHOTS)
    server.close()


# -- every page -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors_and_no_network(site, path):
    r = site.report(path)
    assert not r.blocked, f"{path} tried to reach the network (the book must read offline):\n" + "\n".join(r.blocked)
    assert not r.failed, f"{path} has requests that failed:\n" + "\n".join(r.failed)
    assert not r.errors, f"{path} logged errors:\n" + "\n".join(r.errors)


@pytest.mark.parametrize("path", PAGES)
def test_every_formula_is_typeset(site, path):
    m = site.report(path).math
    assert not m["untypeset"], f"{path}: MathJax left these formulas untypeset: {m['untypeset']}"
    assert not m["errors"], f"{path}: MathJax could not typeset: {m['errors']}"
    assert not m["raw"], f"{path}: raw TeX in the text: {m['raw']}"


@pytest.mark.parametrize("path", PAGES)
def test_every_image_loads_and_has_alt_text(site, path):
    images = site.report(path).images
    assert not [i for i in images if i["width"] == 0], f"{path}: images that did not load: {images}"
    assert not [i for i in images if not i["alt"]], f"{path}: images without alt text: " + str(
        [i["src"] for i in images if not i["alt"]])


@pytest.mark.parametrize("path", PAGES)
def test_every_internal_link_resolves(site, path):
    broken = site.broken_links(site.report(path).links)
    assert not broken, f"{path} has broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize("path", PAGES)
def test_fits_a_phone_and_is_photographed(site, path):
    r = site.report(path)
    for shot in r.screenshots:
        assert shot.stat().st_size > 1000, f"screenshot {shot} is empty"
    assert r.phone_scroll_width <= 390 + 1, (
        f"{path} is {r.phone_scroll_width} px wide on a 390 px phone: something overflows "
        f"(see {r.screenshots[-1]})")


@pytest.mark.parametrize("path", PAGES)
def test_explorers_respond_without_a_kernel(site, path):
    r = site.report(path)
    assert r.widget_state == 0, (
        f"{path} embeds ipywidgets state: on a web page those sliders slide but nothing recomputes. "
        "Use an explorer from dotlab.static_widgets (see book_assets/README.md).")
    dead = [e for e in r.explorers if not e["changed"]]
    assert not dead, f"{path}: moving these controls changed nothing on the page: {dead}"


def _layouts(report, widths=WIDTHS, themes=("light", "dark")):
    return {f"{w}-{t}": report.layout[f"{w}-{t}"] for w in widths for t in themes}


@pytest.mark.parametrize("path", PAGES)
def test_navigation_opens_from_its_visible_buttons_at_every_width(site, path):
    nav = site.report(path).navigation
    chapters = {site.url(p) for p in CHAPTER_PAGES}
    for width, n in nav.items():
        # One menu button and one contents button in the page: both themes' scripts bind
        # the first one they find, which must be the one the reader sees.
        assert n["primary_buttons"] == 1, f"{path} at {width}: {n['primary_buttons']} .primary-toggle buttons"
        assert n["secondary_buttons"] <= 1, f"{path} at {width}: {n['secondary_buttons']} .secondary-toggle buttons"
        assert n["primary_visible"], f"{path} at {width}: no visible menu button"
        if width == "desktop":
            assert n["primary_hides"] and n["primary_returns"], f"{path}: the menu button does not hide the sidebar: {n}"
            assert n["search_fields"] == 1, f"{path}: {n['search_fields']} search boxes at desktop width"
        else:
            assert n["primary_opens"] and n["primary_closes"], f"{path} at {width}: tapping the menu does not open it: {n}"
            missing = chapters - set(n["primary_links"])
            assert not missing, f"{path} at {width}: the menu does not reach {sorted(missing)}"
            if n["has_page_toc"]:
                assert n["secondary_visible"] and n["secondary_opens"] and n["secondary_links"] > 0, (
                    f"{path} at {width}: the contents button does not open the page's contents: {n}")


@pytest.mark.parametrize("path", PAGES)
def test_nothing_wider_than_the_column_at_desktop_width(site, path):
    for key, layout in _layouts(site.report(path), ["desktop"]).items():
        assert not layout["overflow"], f"{path} ({key}) is wider than its column:\n" + "\n".join(layout["overflow"][:10])
        assert not layout["clipped"], f"{path} ({key}) cuts content off:\n" + "\n".join(layout["clipped"][:10])


@pytest.mark.parametrize("path", PAGES)
def test_nothing_clipped_on_a_phone_and_every_scrolling_box_shows_it_scrolls(site, path):
    for key, layout in _layouts(site.report(path), ["tablet", "phone"]).items():
        assert not layout["clipped"], f"{path} ({key}) cuts content off with no way to scroll:\n" + "\n".join(
            layout["clipped"][:10])
        assert not layout["uncued"], f"{path} ({key}):\n" + "\n".join(layout["uncued"][:10])
        outside = [o for o in layout["overflow"] if "ends at" in o]
        assert not outside, f"{path} ({key}) stands out of its column:\n" + "\n".join(outside[:10])


@pytest.mark.parametrize("path", PAGES)
def test_explorers_draw_text_no_smaller_than_the_small_print(site, path):
    """The softmax explorer's bar labels were 8.7 px on a phone (its SVG shrunk to the
    column with them): an explorer's text is held to the figures' small print."""
    for key, layout in _layouts(site.report(path)).items():
        assert not layout["small_text"], f"{path} ({key}): explorer text below 14 px: {layout['small_text'][:8]}"


@pytest.mark.parametrize("path", PAGES)
def test_numbers_in_tables_stay_on_one_line(site, path):
    """A phone once showed chapter 7's "1.61 P" as "1.61" over "P": a number and its unit
    are one word, and a table too wide for them scrolls in its box instead."""
    for key, layout in _layouts(site.report(path)).items():
        assert not layout["wrapped_numbers"], f"{path} ({key}) breaks numbers across lines:\n" + "\n".join(
            layout["wrapped_numbers"][:10])


@pytest.mark.parametrize("path", PAGES)
def test_no_figure_shown_below_its_limit_and_every_figure_opens_full_size(site, path):
    for key, layout in _layouts(site.report(path)).items():
        small = [f for f in layout["figures"] if f["ratio"] < SMALLEST_FIGURE - 0.005]
        assert not small, (f"{path} ({key}) shows figures below {SMALLEST_FIGURE:.0%} of the size they were drawn "
                           f"at (draw them for the column: dotlab.figures):\n" + "\n".join(map(str, small)))
        assert not layout["unlinked"], f"{path} ({key}): figures that do not open full size: {layout['unlinked']}"


@pytest.mark.parametrize("path", PAGES)
def test_dark_theme_shows_dark_figures_and_no_light_boxes(site, path):
    for key, layout in _layouts(site.report(path)).items():
        assert not layout["wrong_theme"], f"{path} ({key}) shows the other theme's figures: {layout['wrong_theme']}"
        if key.endswith("dark"):
            assert not layout["light_boxes"], f"{path} ({key}): light boxes in the dark theme: {layout['light_boxes']}"
            assert not layout["no_dark"], (
                f"{path} ({key}): figures with no dark rendering (draw them with dotlab.figures and end the cell "
                f"with figures.show(fig); an explorer's pictures: give each View its dark= picture): "
                f"{layout['no_dark']}")


@pytest.mark.parametrize("path", PAGES)
def test_outputs_read_as_a_person_writes_numbers(site, path):
    repr_ = site.report(path).layout["desktop-light"]["repr"]
    assert not repr_, (f"{path} prints NumPy reprs, float noise, a negative zero or scientific notation a "
                       f"person would not write (print plain, rounded numbers):\n" + "\n".join(repr_))


def test_screenshots_are_never_published_with_the_site():
    assert not SCREENSHOTS.resolve().is_relative_to(BOOK.resolve()), (
        f"screenshots go to {SCREENSHOTS}, inside the site {BOOK}: they would be published")


def test_no_page_names_another_project_for_thebe_or_launch():
    if not BUILT:
        pytest.fail(f"no built book at {BOOK}: run `make book` first (or set DOTLAB_BOOK_HTML)")
    named = {p: re.findall(r"binder-examples/[\w-]+|executablebooks/[\w-]+", (BOOK / p).read_text(encoding="utf-8"))
             for p in PAGES}
    named = {p: sorted(set(n)) for p, n in named.items() if n}
    assert not named, f"pages name repositories that are not this course: {named}"


def test_front_page_promises_only_what_the_site_has():
    text = (ROOT / "index.md").read_text(encoding="utf-8").lower()
    assert "rocket" not in text and "launch button" not in text, (
        "index.md describes a launch button; the committed _config.yml shows none")


def test_front_page_walks_through_every_chapter_the_menu_has():
    """The front page's spine is the book's table of contents in prose: a chapter added to
    _toc.yml and missing from it (as chapter 9 once was) leaves the reader a wrong map."""
    text = (ROOT / "index.md").read_text(encoding="utf-8")
    spine = text.split("## The spine", 1)[1].split("\n## ", 1)[0]
    numbered = re.findall(r"^(\d+)\. ", spine, re.M)
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    chapters = re.findall(r"file:\s*chapters/ch\d\d_\w+", toc)
    assert numbered == [str(i) for i in range(1, len(chapters) + 1)], (
        f"index.md's spine lists chapters {numbered}; _toc.yml has {len(chapters)}")


@pytest.mark.parametrize("path", SOURCE_PAGES)
def test_download_button(site, path):
    r = site.report(path)
    assert r.downloads, f"{path} has no download button"
    assert r.launch_buttons == 0, (
        "launch buttons need repository.url and a hub URL, which the committed _config.yml leaves empty")


# -- search, exercises ------------------------------------------------------------------------


def test_search_finds_a_term(site):
    page = site.open("search.html?q=orthogonal")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=15_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("ch01_dot_product" in h for h in hrefs), hrefs


def test_search_results_quote_formulas_as_text(site):
    page = site.open("search.html?q=projection")
    page.wait_for_function("() => /Search finished/.test(document.getElementById('search-results').innerText)",
                           timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('#search-results p.context')].length > 0",
                           timeout=15_000)
    text = page.locator("#search-results").inner_text()
    raw = re.findall(r".{0,30}(?:\\[()\[\]]|\$\$|\\(?:frac|sqrt|mathbf|cdot|text)\b).{0,30}", text)
    assert not raw, f"search results quote raw TeX: {raw[:5]}"
    cases = {r"\(\mathbf{a}\cdot\mathbf{b}\)": "a·b", r"\(\sqrt{d_k}\)": "√(d_k)",
             r"\[ \frac{\mathbf{q}\cdot\mathbf{k}}{\sqrt{d_k}} \]": "(q·k)/(√(d_k))",
             r"\(d_\text{model}\)": "d_model"}
    got = page.evaluate("cases => cases.map(c => dotlabPlainTeX(c).trim())", list(cases))
    assert got == list(cases.values())


def test_bibliography_lists_authors_and_years_without_numbers(site):
    page = site.open("chapters/bibliography.html")
    entries = page.locator("div.citation")
    assert entries.count() >= 5, "the bibliography page lists the works the course cites"
    shown = page.locator("main").inner_text()
    numbered = re.findall(r"^\s*\[\d+\]", shown, flags=re.M)
    assert not numbered, f"the bibliography numbers its entries ({numbered[:3]}) while the text cites author-year"


@pytest.mark.parametrize("path", EXERCISE_PAGES or ["(no exercise in the book)"])
def test_exercise_page_is_the_released_notebook_with_a_download(site, path):
    if path not in PAGES:
        pytest.fail("the book has no exercises/chNN/chNN page")
    page = site.open(path)
    text = page.locator("main").inner_text()
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
        assert secret not in text, f"{path} shows {secret!r}: the page must be the released notebook"
    assert "NotImplementedError" in text or "YOUR CODE HERE" in text, f"{path} shows no task stubs"
    href = page.locator(".dropdown-download-buttons a[href$='.ipynb']").first.get_attribute("href")
    response = page.request.get(urljoin(site.url(path), href))
    assert response.ok, f"{path}: the .ipynb download {href} answers {response.status}"
    served = response.json()
    released = json.loads((ROOT / path.replace(".html", ".ipynb")).read_text(encoding="utf-8"))
    assert served == released, f"{path}: the download is not the released {path.replace('.html', '.ipynb')}"
    assert not re.search(r"BEGIN SOLUTION|HIDDEN TESTS", response.text())


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter in the book)"])
def test_chapter_links_its_exercise(site, path):
    number = re.search(r"ch(\d\d)_", path).group(1)
    notebook = ROOT / "exercises" / f"ch{number}" / f"ch{number}.ipynb"
    if not notebook.exists():
        pytest.skip(f"chapter {number} has no exercise")
    exercise = f"exercises/ch{number}/ch{number}.html"
    assert exercise in PAGES, f"exercises/ch{number}/ch{number} is released but not in the book's _toc.yml"
    targets = {link.split("#")[0] for link in site.report(path).links}
    assert site.url(exercise) in targets, f"{path} does not link to its exercise {exercise}"


# -- launch buttons: an instructor's configuration, built into a temporary folder -------------

INSTRUCTOR = {
    "repository": {"url": "https://github.com/example-school/dotlab-course", "branch": "main"},
    "launch_buttons": {"jupyterhub_url": "https://hub.example.edu", "binderhub_url": "https://mybinder.org",
                       "colab_url": "https://colab.research.google.com"},
    "html": {"use_repository_button": True, "use_issues_button": True},
}


@pytest.fixture(scope="module")
def instructor_build(tmp_path_factory):
    """Chapter 1 and its exercise, built with the launch settings an instructor fills in.

    Not executed (the buttons do not depend on outputs) and only two pages, so it takes
    seconds rather than the minutes of the whole book.
    """
    tmp = tmp_path_factory.mktemp("instructor")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    for section, values in INSTRUCTOR.items():
        config.setdefault(section, {}).update(values)
    config["execute"]["execute_notebooks"] = "off"
    (tmp / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    toc = {"format": "jb-book", "root": "index", "parts": [
        {"caption": "Chapters", "chapters": [{"file": "chapters/ch01_dot_product"}]},
        {"caption": "Assignments", "chapters": [{"file": "exercises/ch01/ch01"}]},
    ]}
    (tmp / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--builder", "html",
               "--config", str(tmp / "_config.yml"), "--toc", str(tmp / "_toc.yml"), "--path-output", str(tmp)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    html = tmp / "_build" / "html"
    assert done.returncode == 0 and (html / "index.html").is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return html


@pytest.mark.parametrize("path, source", [("chapters/ch01_dot_product.html", "chapters/ch01_dot_product.md"),
                                          ("exercises/ch01/ch01.html", "exercises/ch01/ch01.ipynb")])
def test_launch_buttons_when_an_instructor_fills_the_config(browser, instructor_build, path, source):
    server = Server(instructor_build)
    try:
        page = browser.new_page(viewport=DESKTOP)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.base) else r.abort())
        page.goto(server.base + path, wait_until="load")
        launch_links = page.locator(".dropdown-launch-buttons a")
        hrefs = {launch_links.nth(i).get_attribute("href") for i in range(launch_links.count())}
        repo = "example-school/dotlab-course"
        expected = {
            "Binder": f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{source}",
            "JupyterHub": f"https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A//github.com/{repo}"
                          f"&urlpath=lab/tree/dotlab-course/{source}&branch=main",
            "Colab": f"https://colab.research.google.com/github/{repo}/blob/main/{source}",
        }
        for name, url in expected.items():
            assert url in hrefs, f"{path}: no {name} button to {url}; got {hrefs}"
        assert page.locator(f".article-header-buttons a[href='https://github.com/{repo}']").count() == 1, "no repository button"
        downloads = page.locator(".dropdown-download-buttons a[href]")
        kinds = {downloads.nth(i).get_attribute("href").rsplit(".", 1)[-1] for i in range(downloads.count())}
        assert "ipynb" in kinds, f"{path}: with launch buttons on, the download menu offers a notebook; got {kinds}"
        page.close()
    finally:
        server.close()


# -- the explorers: the browser's ports agree with the Python functions ----------------------


@pytest.fixture(scope="module")
def blank_page(browser):
    """One page with no network at all, reused for the explorers' own tests, and its errors."""
    page, errors = browser.new_page(viewport=DESKTOP), []
    page.route("**/*", lambda r: r.abort())
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    yield page, errors
    page.close()


def _blank(blank_page, html: str):
    """The blank page now holding ``html``, and the (emptied) list of its errors."""
    page, errors = blank_page
    errors.clear()
    page.set_content(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{html}</body></html>")
    return page, errors


def _shown(widget, quantity: str) -> float:
    """A number the explorer displays, as the reader sees it ('1.721', '55.0°')."""
    text = widget.locator(f"[data-quantity={quantity}]").inner_text()
    return float(text.rsplit("=", 1)[-1].strip().rstrip("°"))


def _close_to_shown(shown: float, exact: float, decimals: int) -> bool:
    return abs(shown - exact) <= 0.5 * 10**-decimals + 1e-9


def _flat(value) -> list[float]:
    """A number, a point or a list of points, as one flat list of numbers."""
    if isinstance(value, (int, float)):
        return [value]
    return [x for item in value for x in _flat(item)]


def test_explorer_port_agrees_with_explorer_frame(blank_page):
    from dotlab.explorer import explorer_frame, vector_explorer

    rng = random.Random(0)
    inputs = [(1, 0, 1, 90), (2, 180, 3, 270), (1, 350, 1, 10), (0.5, -90, 4, 90), (2, 10, 3, 70),
              (1.5, 720, 2, -720), (3, 45, 0.1, 225), (2, 0.1, 1.5, 179.9)]
    inputs += [(rng.uniform(0.01, 100), rng.uniform(-720, 720), rng.uniform(0.01, 100), rng.uniform(-720, 720))
               for _ in range(300)]
    inputs += [(rng.choice([0.1, 1.0, 2.5]), rng.randrange(-360, 361), rng.choice([0.3, 1.5, 3.0]),
                rng.randrange(-360, 361)) for _ in range(100)]
    page, errors = _blank(blank_page, vector_explorer().to_html())
    frames = page.evaluate("inputs => inputs.map(x => dotlabWidgets.explorerFrame(...x))", inputs)
    for args, js in zip(inputs, frames):
        py = explorer_frame(*args).as_dict()
        assert js.keys() == py.keys()
        scale = max(args[0], args[2])
        for key, value in py.items():
            # cos and sin come from two different maths libraries: equal to the last bits or so
            assert _flat(js[key]) == pytest.approx(_flat(value), rel=1e-12, abs=1e-12 * scale**2), (args, key)
    assert not errors


def test_explorer_in_the_book_recomputes_when_a_slider_moves(site):
    from dotlab.explorer import explorer_frame

    page = site.open("chapters/ch01_dot_product.html")
    widget = page.locator(".dotlab-widget[data-component=vector-explorer]")
    assert widget.count() == 1, "chapter 1 shows one vector explorer"
    picture = widget.locator("[data-role=picture]")
    before = (_shown(widget, "dot"), picture.inner_html())

    def check():
        values = {c: float(widget.locator(f"input[data-control={c}]").input_value())
                  for c in ("length_a", "angle_a", "length_b", "angle_b")}
        f = explorer_frame(**values)
        for quantity, exact, decimals in (("dot", f.dot, 3), ("dot_by_cosine", f.dot, 3), ("cosine", f.cosine, 3),
                                          ("theta", f.theta, 1), ("scalar_projection", f.scalar_projection, 3)):
            assert _close_to_shown(_shown(widget, quantity), exact, decimals), (values, quantity, exact)
        # b's arrow ends where the frame puts b, in the picture's coordinates (360 units, view ±1.15·3)
        half = 1.15 * 3.0
        tip = [float(v) for v in widget.locator("[data-role=arrow-b]").get_attribute("data-tip").split(",")]
        assert tip == pytest.approx([(f.b[0] + half) / (2 * half) * 360, (half - f.b[1]) / (2 * half) * 360], abs=1e-3)
        return f

    check()
    angle_b = widget.locator("input[data-control=angle_b]")
    angle_b.focus()
    for _ in range(15):  # as a reader does it: the arrow key, one degree a press
        page.keyboard.press("ArrowRight")
    assert angle_b.input_value() == "90"
    f = check()
    assert (_shown(widget, "dot"), picture.inner_html()) != before, "the numbers and the picture changed"
    widget.locator("input[data-control=angle_a]").fill("0")  # a at 0°, b at 90°: perpendicular
    f = check()
    assert f.dot == 0.0 and widget.locator("[data-quantity=dot]").inner_text().endswith("= 0.000")
    widget.locator("input[data-control=length_a]").fill("3")
    widget.locator("input[data-control=angle_b]").fill("180")  # opposed: a·b = -|a||b|
    f = check()
    assert f.dot == pytest.approx(-4.5) and _shown(widget, "cosine") == -1.0


def test_softmax_port_agrees_with_dotlab_softmax(blank_page):
    from dotlab.softmax import entropy, softmax
    from dotlab.static_widgets import softmax_explorer

    rng = random.Random(1)
    cases = [([1.0, 2.0, 3.0], 1.0), ([10_000.0, 0.0], 1.0), ([1.0, 2.0, 3.0], 10.0), ([0.0, 0.0], 0.05),
             ([5.0, -5.0, 0.0], 0.01)]
    cases += [([rng.gauss(0, 5) for _ in range(rng.randrange(1, 20))], 10 ** rng.uniform(-2, 2)) for _ in range(200)]
    page, errors = _blank(blank_page, softmax_explorer([1.0, 2.0]).to_html())
    got = page.evaluate("cases => cases.map(([s, t]) => { const w = dotlabWidgets.softmax(s, t);"
                        " return [w, dotlabWidgets.entropy(w)]; })", cases)
    for (scores, t), (w, h) in zip(cases, got):
        expected = softmax(scores, temperature=t)
        assert w == pytest.approx(expected.tolist(), rel=1e-12, abs=1e-300)
        assert h == pytest.approx(float(entropy(expected)), rel=1e-9, abs=1e-12)
    assert not errors


def test_softmax_explorer_responds_to_temperature(blank_page):
    from dotlab.softmax import entropy, softmax
    from dotlab.static_widgets import softmax_explorer

    scores = [2.0, 1.0, 0.1]
    page, errors = _blank(blank_page, softmax_explorer(scores, ["cat", "dog", "car"]).to_html())
    widget = page.locator(".dotlab-widget")
    bars = widget.locator("rect")
    assert bars.count() == 3
    slider = widget.locator("input[data-control=log10_temperature]")
    assert widget.locator("output").inner_text() == "1.00" and float(slider.input_value()) == 0.0, (
        "the slider starts exactly at τ = 1")
    for log_t in ("1", "-1"):  # τ = 10: nearly uniform; τ = 0.1: nearly one-hot
        heights = [bars.nth(i).get_attribute("height") for i in range(3)]
        slider.fill(log_t)
        assert [bars.nth(i).get_attribute("height") for i in range(3)] != heights, "the bars moved"
        # τ as the slider holds it (a point of its grid near 10**log_t), as the reader reads it
        t = 10 ** float(slider.input_value())
        assert abs(float(log_t) - float(slider.input_value())) < 0.01
        w = softmax(scores, temperature=t)
        shown = [float(x) for x in widget.locator("[data-quantity=weights]").inner_text().split(",")]
        assert shown == pytest.approx(w.tolist(), abs=5e-4)
        assert _close_to_shown(_shown(widget, "max_weight"), float(w.max()), 3)
        assert entropy(w) == pytest.approx(float(widget.locator("[data-quantity=entropy]").inner_text().split()[0]), abs=5e-4)
    slider.fill("5")  # past the end: the slider stops at t_max exactly
    assert widget.locator("output").inner_text() == "20.00"
    assert not errors


def test_precomputed_dk_histogram_switches_with_the_controls(blank_page):
    """Chapter 4's d_k explorer, built exactly as book_assets/README.md tells chapters to."""
    from dotlab.score_explorer import panel_png, score_panel
    from dotlab.static_widgets import Choice, View, precomputed

    def render(d_k, scaled):
        panel = score_panel(d_k, scaled=scaled)
        what = "q·k / √d_k" if scaled else "q·k"
        return View(panel_png(panel, dpi=50),
                    alt=f"Histogram of {what} over random pairs at d_k = {d_k}: standard deviation "
                        f"{panel.std:.2f}; one query's softmax weights have entropy {panel.entropy:.2f} nats.",
                    readout=f"standard deviation <b data-quantity=std>{panel.std:.2f}</b>")

    widget = precomputed([Choice("d_k", (4, 64, 1024), value=64, label="d_k"),
                          Choice("scaled", (False, True), label="divide by √d_k")], render)
    page, errors = _blank(blank_page, widget.to_html())
    img = page.locator(".dotlab-widget img[data-role=picture]")
    assert img.evaluate("i => i.naturalWidth") > 0
    seen = {(img.get_attribute("src"), img.get_attribute("alt"))}
    page.locator("input[data-control=d_k]").fill("2")  # index 2: d_k = 1024
    assert "d_k = 1024" in img.get_attribute("alt")
    assert 25 < float(page.locator("[data-quantity=std]").inner_text()) < 40  # about sqrt(1024) = 32
    seen.add((img.get_attribute("src"), img.get_attribute("alt")))
    page.locator("input[data-control=scaled]").check()
    assert 0.9 < float(page.locator("[data-quantity=std]").inner_text()) < 1.1  # scaled: about 1
    seen.add((img.get_attribute("src"), img.get_attribute("alt")))
    assert len(seen) == 3, "each setting shows its own picture"
    assert img.evaluate("i => i.naturalWidth") > 0
    assert not errors


def test_precomputed_shows_the_picture_of_the_readers_theme(blank_page):
    """Pictures drawn light and dark: the one of the theme shows, and follows a switch of
    theme with no redraw; the width they were drawn at is the width they are shown at."""
    from dotlab.score_explorer import PanelPainter, score_panel
    from dotlab.static_widgets import Choice, View, precomputed

    painters = {t: PanelPainter(dpi=40, figsize=(4.2, 5.0), theme=t, stacked=True) for t in ("light", "dark")}

    def render(d_k):
        panel = score_panel(d_k, scaled=False)
        return View(painters["light"].png(panel), dark=painters["dark"].png(panel), alt=f"d_k = {d_k}")

    widget = precomputed([Choice("d_k", (4, 64))], render, width=403)
    page, errors = _blank(blank_page, widget.to_html())
    shown = "() => [...document.querySelectorAll('.dotlab-widget img')].filter(i => i.offsetParent !== null)" \
            ".map(i => [i.className, i.alt, Math.round(i.getBoundingClientRect().width)])"
    assert page.evaluate(shown) == [["dotlab-light only-light", "d_k = 4", 403]]
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")  # the book's switch
    assert page.evaluate(shown) == [["dotlab-dark only-dark", "d_k = 4", 403]]
    page.locator("input[data-control=d_k]").fill("1")
    assert page.evaluate(shown) == [["dotlab-dark only-dark", "d_k = 64", 403]]
    page.evaluate("() => { delete document.documentElement.dataset.theme;"
                  " document.body.dataset.jpThemeLight = 'false'; }")  # JupyterLab's dark theme
    assert [c for c, _, _ in page.evaluate(shown)] == ["dotlab-dark only-dark"]
    assert not errors
