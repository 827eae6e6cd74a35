"""The feedback preprocessors: learners read the checks' words, never a hidden test's source."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_output

from dotlab.grading.feedback import HideTracebacks


def test_hide_tracebacks_keeps_only_the_checks_words():
    cell = new_code_cell("check(f, hidden=True)")
    cell.outputs = [new_output("error", ename="CheckFailure", evalue="f(2) returned 5",
                               traceback=["Traceback", "  check(f, hidden=True)", "CheckFailure: f(2) returned 5"])]
    cell, _ = HideTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == ["CheckFailure: f(2) returned 5"]


def test_hide_tracebacks_is_enabled_when_registered():
    # nbgrader registers preprocessors without enabling them: ours must be on by default.
    assert HideTracebacks().enabled


def test_hide_tracebacks_leaves_other_outputs_alone():
    cell = new_code_cell("print(1)")
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    cell, _ = HideTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["text"] == "1\n"


# -- feedback an instructor can open safely -------------------------------------------------

import base64  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from nbformat.v4 import new_markdown_cell, new_notebook, new_raw_cell  # noqa: E402

from dotlab.grading.feedback import SafeOutputs, clean_html, safe_output  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
# Each tries to change the page's title (or leave a mark on window) or to fetch a URL:
# what a learner's script in the instructor's browser would do first.
ATTACKS_HTML = [
    "<script>document.title='pwned-script'; fetch('http://127.0.0.1:9/steal-script')</script>",
    "<img src='http://127.0.0.1:9/steal-img' onerror=\"document.title='pwned-img'\">",
    "<svg onload=\"document.title='pwned-svg-onload'\"></svg>",
    "<iframe srcdoc=\"<script>parent.document.title='pwned-iframe'</script>\"></iframe>",
    "<object data='http://127.0.0.1:9/steal-object'></object>",
    "<a id=link href=\"javascript:document.title='pwned-link'\">click me</a>",
    "<style>@import url('http://127.0.0.1:9/steal-style');</style>",
    "<b onmouseover=\"document.title='pwned-hover'\">bold text stays</b>",
    "<form action='http://127.0.0.1:9/steal-form'><button id=submit>go</button></form>",
    "<details open ontoggle=\"document.title='pwned-details'\">x</details>",
]


def _hostile_notebook():
    outputs = [
        new_output("display_data", data={"text/html": "\n".join(ATTACKS_HTML), "text/plain": "<HTML>"}),
        new_output("display_data", data={"application/javascript": "document.title='pwned-js'", "text/plain": "<JS>"}),
        new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'>"
                                                           "<script>document.title='pwned-svg'</script></svg>"}),
        new_output("display_data", data={"text/markdown": "<script>document.title='pwned-md'</script>[x](javascript:alert(1))"}),
        new_output("display_data", data={"image/png": PNG, "text/plain": "a png"},
                   metadata={"image/png": {"width": "1 onerror=document.title='pwned-width'"}}),
        new_output("display_data", data={"image/png": "x\" onerror=\"document.title='pwned-png'", "text/plain": "not a png"}),
        new_output("display_data", data={"text/html": "<b>isolated</b><script>document.title='pwned-isolated'</script>"},
                   metadata={"text/html": {"isolated": True}}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"}),
        new_output("stream", name="stdout", text="<script>document.title='pwned-stream'</script>printed"),
    ]
    cell = new_code_cell("show_everything()", outputs=outputs)
    markdown = new_markdown_cell("# My answer\n\n<script>document.title='pwned-markdown'</script>\n\n"
                                 "<img src=x onerror=\"document.title='pwned-md-img'\">\n\n[y](javascript:alert(1))")
    raw = new_raw_cell("<script>document.title='pwned-raw'</script>", metadata={"raw_mimetype": "text/html"})
    nb = new_notebook(cells=[markdown, cell, raw], metadata={
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}}})
    return nb


def _feedback_page(nb) -> str:
    """The page ``nbgrader generate_feedback`` writes for ``nb``, with the course's own feedback config."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    course = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    formgrader = Path(__import__("nbgrader").__file__).parent / "server_extensions" / "formgrader"
    config = Config(HTMLExporter=dict(course.HTMLExporter, template_name="feedback",  # as GenerateFeedback sets it
                                      extra_template_basedirs=[str(formgrader / "templates")],
                                      extra_template_paths=[str(formgrader / "static/node_modules/bootstrap/dist/css")]))
    exporter = course.GenerateFeedback.get("exporter_class", HTMLExporter)(config=config)  # as nbgrader makes it
    for step in course.GenerateFeedback.preprocessors:  # GetGrades reads the gradebook: here the scores are given
        if step.__module__.startswith("dotlab"):
            exporter.register_preprocessor(step(), enabled=True)
    resources = {"nbgrader": {"notebook": "ch01", "score": 7, "max_score": 10, "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def test_clean_html_shows_what_is_not_allowed_as_text():
    cleaned = clean_html("\n".join(ATTACKS_HTML))
    for needle in ("<script", "<img", "<svg", "<iframe", "<object", "<style", "<form", "<details", "onerror", "onload",
                   "onmouseover", "javascript:", "srcdoc"):
        assert needle not in _tags(cleaned), needle
    assert "<b>bold text stays</b>" in cleaned and "&lt;script&gt;" in cleaned


def _tags(html: str) -> str:
    """Only the markup of ``html`` (its tags with their attributes), without the text between them."""
    import re

    return " ".join(re.findall(r"<[^>]*>", html))


def test_safe_outputs_drop_what_could_run_or_load():
    nb = _hostile_notebook()
    nb, _ = SafeOutputs().preprocess(nb, {})
    outputs = nb.cells[1].outputs
    assert all(o.get("metadata", {}) == {} for o in outputs if o.output_type != "stream")
    kinds = {mime for o in outputs for mime in o.get("data", {})}
    assert kinds <= {"text/plain", "text/html", "text/markdown", "image/png", "image/jpeg"}
    assert outputs[4].data["image/png"] == PNG and "image/png" not in outputs[5].data
    assert "widgets" not in nb.metadata
    assert safe_output({"output_type": "display_data", "data": {"image/svg+xml": "<svg/>"}})["data"] == {
        "text/plain": "(an output of type image/svg+xml, not shown in feedback)"}


def test_the_feedback_page_holds_no_learner_markup():
    page = _feedback_page(_hostile_notebook())
    assert "pwned" in page  # the attacks are there, as text...
    markup = _tags(page)
    assert "pwned" not in markup  # ...and none of them in a tag or an attribute
    assert "bold text stays" in page and "printed" in page


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_no_learner_script_runs_when_an_instructor_opens_the_feedback(tmp_path):
    from browser.site import CHROMIUM, launch

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (`make test` does); never `playwright install`")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "ch01.html"
    page_file.write_text(_feedback_page(_hostile_notebook()))
    requests, dialogs = [], []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: (requests.append(route.request.url), route.abort())
                       if not route.request.url.startswith("file://") else route.continue_())
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri(), wait_until="load")
            for element in page.locator("#notebook a:visible, #notebook b:visible, #notebook button:visible").all():
                try:  # what an instructor might hover or click (an element may have gone: the page changed)
                    element.hover(timeout=1000)
                    element.click(timeout=1000, no_wait_after=True)
                except PlaywrightError:
                    pass
            page.wait_for_timeout(500)  # an onerror or onload would have fired by now
            title, body = page.title(), page.inner_text("body")
        finally:
            browser.close()
    assert title == "ch01", title
    assert requests == []  # neither the learner's URLs nor any other: no CDN either
    assert not dialogs
    assert "bold text stays" in body and "<script>document.title='pwned-script'" in body  # shown, as text


# -- maths drawn when the page is made: nothing loaded from a CDN ------------------------------

from dotlab.grading.feedback import render_math, safe_markdown  # noqa: E402


def test_every_formula_of_the_release_is_drawn_as_mathml():
    import re

    import nbformat

    for chapter in ("ch01", "ch06"):  # inline maths; display maths
        nb = nbformat.read(ROOT / "exercises" / chapter / f"{chapter}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown" or "$" not in cell.source:
                continue
            html = safe_markdown(cell.source)
            outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
            assert "<math" in html and "$" not in outside_code, (chapter, cell.source[:200])


def test_what_is_not_maths_stays_text():
    assert render_math("<p>$5 and $6</p>") == "<p>$5 and $6</p>"  # prices, not a formula
    assert render_math("<pre>$x$</pre><code>$y$</code>") == "<pre>$x$</pre><code>$y$</code>"
    assert render_math("<p>$\\frac{1}{$</p>") == "<p>$\\frac{1}{$</p>"  # TeX the converter cannot read
    assert 'display="block"' in render_math("<p>$$\\sqrt{d_k}$$</p>")
    assert "<mo>&#x0003C;</mo>" in render_math("<p>$a &lt; b$</p>")  # read as the TeX the learner wrote


MATH_ATTACKS = [
    "$\\href{javascript:document.title='pwned-href'}{x}$",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"document.title='pwned-mglyph'\">",
    "<math><annotation-xml encoding='text/html'><img src=x onerror=\"document.title='pwned-annotation'\">"
    "</annotation-xml></math>",
    "<math href=\"javascript:document.title='pwned-math-href'\"><mi xlink:href='javascript:x'>x</mi></math>",
    "$\\text{<img src=x onerror=alert(1)>}$",
]


@pytest.mark.parametrize("attack", MATH_ATTACKS)
def test_mathml_is_drawn_but_carries_no_markup_of_the_learners(attack):
    markup = _tags(clean_html(attack))
    for needle in ("onerror", "javascript:", "href", "<img", "<style", "mglyph", "annotation"):
        assert needle not in markup, (needle, markup)


def test_the_feedback_page_loads_nothing_from_anywhere():
    import re

    page = _feedback_page(_hostile_notebook())
    markup = _tags(page)  # the learner's URLs are in the page too, as text
    assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", markup), re.findall(r"(?:src|href)=\S+", markup)
    assert "mathjax" not in " ".join(re.findall(r"<script[^>]*>", page.lower()))


def test_a_learner_cannot_make_a_feedback_page_cost_minutes():
    """Formulas past MAX_FORMULAS stay TeX, and a markdown cell past MAX_MARKDOWN is shown as text
    (the markdown parser is quadratic on some input: a megabyte of "[" took minutes)."""
    from dotlab.grading.feedback import MAX_FORMULAS, MAX_MARKDOWN

    drawn = render_math("<p>" + "$a$ " * (MAX_FORMULAS + 10) + "</p>")
    assert drawn.count("<math") == MAX_FORMULAS and drawn.count("$a$") == 10
    page = safe_markdown("[" * (MAX_MARKDOWN + 1) + "\n\n<script>x()</script>")
    assert "shown as text" in page and "<pre>" in page and "&lt;script&gt;" in page and "<script" not in page
    assert "\n\n" not in page  # still one HTML block the page's renderer copies as it is
