"""A small Sphinx extension for the course book: every script tag once.

Sphinx 7.4 lists an inline script twice when an extension adds it after the HTML
builder has started (sphinx-thebe's ``const THEBE_JS_URL = ...`` and
sphinx-togglebutton's ``var togglebuttonSelector = ...`` both do): the builder stores
it with ``filename=None``, and ``prepare_writing`` adds the same script again from the
registry with ``filename=''``, which compares unequal. The second
``const THEBE_JS_URL`` is a SyntaxError in every page's console.

It also makes the book read on every screen:

- **Figures for the column** (:func:`figures_for_the_column`): every image a page
  shows from a file becomes a link that opens it full size, carries the size it was
  drawn at (so ``course.css`` never shows it below 60 % of that size: on a phone a wide
  figure scrolls in its own box instead), and a figure drawn in the house style
  (:mod:`dotlab.figures`) gets its dark rendering beside it, shown in dark mode.
- **No thebe that is not this course** (:func:`thebe_for_this_course`): with launch
  buttons' thebe off, pages carry none of sphinx-thebe's configuration (whose default
  names another project's Binder repository); with it on, thebe launches this course's
  repository.

Enabled in ``_config.yml`` with ``sphinx: extra_extensions: [dotlab.sphinxext]``.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

from docutils import nodes

from dotlab import figures


def _script_key(js) -> tuple:
    # _JavaScript objects: .filename (None or '' for an inline script), .priority, .attributes
    return (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: keep the first of scripts that are the same script.

    Examples
    --------
    >>> from types import SimpleNamespace as JS
    >>> scripts = [JS(filename=None, priority=500, attributes={"body": "const x = 1"}),
    ...            JS(filename="a.js", priority=500, attributes={}),
    ...            JS(filename="", priority=500, attributes={"body": "const x = 1"})]
    >>> context = {"script_files": scripts}
    >>> drop_duplicate_scripts(None, "index", "page.html", context, None)
    >>> [s.filename for s in context["script_files"]]
    [None, 'a.js']
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    # In place: the builder restores this same list from its copy after each page.
    scripts[:] = unique


# -- figures -----------------------------------------------------------------------------


def _drawn_width_px(path: Path) -> float | None:
    """The width an image file was drawn at, in CSS px (SVG only; None if unknown)."""
    if path.suffix.lower() != ".svg":
        return None
    return figures.svg_width_px(path.read_text(encoding="utf-8", errors="replace")[:4000])


def _figure_html(src: str, alt: str, drawn: float | None, classes: str) -> str:
    # The theme's classes on the image too: the theme dims and boxes every image in the
    # dark theme except one marked only-dark.
    style = f' style="--drawn: {drawn:g}px"' if drawn else ""
    return (f'<a class="reference internal image-reference dotlab-figure {classes}" href="{src}" '
            f'title="Open the figure full size">'
            f'<img src="{src}" alt="{html.escape(alt)}" class="{classes}"{style} /></a>')


def figures_for_the_column(app, doctree, docname) -> None:
    """``doctree-resolved`` handler: each local image as a full-size link, light and dark.

    Every image node whose file is on disk (a code cell's figure, an image in the text)
    is replaced by raw HTML: a link to the file holding the image, with the width it was
    drawn at as ``--drawn`` for ``course.css``. The file is copied to ``_images/`` here,
    because Sphinx copies only the images that are still image nodes when it writes.
    A house SVG (drawn after :func:`dotlab.figures.use`) also gets its dark rendering,
    ``<name>-dark.svg``; the two links carry the theme's ``only-light``/``only-dark``.
    Images already inside a link, remote images and data URIs are left as they are.
    """
    if app.builder.format != "html":
        return
    images = Path(app.outdir) / "_images"
    up = posixpath.relpath("_images", posixpath.dirname(docname) or ".")
    for node in list(doctree.findall(nodes.image)):
        uri = node["uri"]
        if uri.startswith("data:") or "://" in uri or isinstance(node.parent, nodes.reference):
            continue
        source = Path(app.srcdir, uri)
        if not source.is_file():
            continue
        images.mkdir(parents=True, exist_ok=True)
        target = images / source.name
        if not target.exists():
            target.write_bytes(source.read_bytes())
        alt = node.get("alt", "")
        drawn = _drawn_width_px(source)
        text = source.read_text(encoding="utf-8", errors="replace") if source.suffix == ".svg" else ""
        if text and figures.is_house_svg(text):
            dark = images / f"{source.stem}-dark.svg"
            dark.write_text(figures.dark_svg(text), encoding="utf-8")
            markup = (_figure_html(f"{up}/{target.name}", alt, drawn, "only-light")
                      + _figure_html(f"{up}/{dark.name}", alt, drawn, "only-dark"))
        else:
            markup = _figure_html(f"{up}/{target.name}", alt, drawn, "")
        node.replace_self(nodes.raw("", markup, format="html"))


# -- code names in tables ----------------------------------------------------------------

_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_PRE = re.compile(r'(<span class="pre">)([^<]*)(</span>)')
_JOINT = re.compile(r"([._])(?=\w)")


def break_code_names(html_text: str) -> str:
    """Let code names in table cells wrap only after a dot or an underscore.

    Examples
    --------
    >>> break_code_names('<table><td><code><span class="pre">torch.nn.d_model</span></code></td></table>')
    '<table><td><code><span class="pre">torch.<wbr>nn.<wbr>d_<wbr>model</span></code></td></table>'
    >>> break_code_names('<p><span class="pre">d_model</span></p>')
    '<p><span class="pre">d_model</span></p>'
    """
    def table(m):
        return _PRE.sub(lambda p: p[1] + _JOINT.sub(r"\1<wbr>", p[2]) + p[3], m[0])

    return _TABLE.sub(table, html_text)


def code_names_in_tables(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: :func:`break_code_names` on the page's body.

    A table cell is narrow on a phone; a long name (``scaled_dot_product_attention``)
    must wrap, and CSS alone can only wrap it anywhere ("d_mode/l"). A ``<wbr>`` after
    each dot and underscore gives it the places a reader would choose.
    """
    if context.get("body"):
        context["body"] = break_code_names(context["body"])


# -- the search page ---------------------------------------------------------------------


def search_page_math(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: search results quote formulas as plain text.

    Each result quotes the page it found, whose formulas are TeX until MathJax runs on
    that page; ``search-math.js`` writes them as text (``a·b``) before they are quoted.
    """
    if pagename == "search":
        app.add_js_file("search-math.js", priority=600)


# -- thebe -------------------------------------------------------------------------------


def _thebe_on(app) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    return bool(launch.get("thebe"))


def thebe_for_this_course(app) -> None:
    """``builder-inited`` handler: thebe only when asked for, and then on this course.

    sphinx-thebe (which Jupyter Book always loads) writes a thebe configuration into
    every page, naming its default Binder repository when none is given. With
    ``launch_buttons.thebe`` off its page handler is disconnected (and its scripts are
    dropped in :func:`drop_thebe_files`); with it on, it gets this course's repository.
    """
    if _thebe_on(app):
        options = app.config.html_theme_options
        app.config.thebe_config.setdefault("repository_url", options.get("repository_url", ""))
        app.config.thebe_config.setdefault("repository_branch", options.get("repository_branch", "main"))
        return
    for listener in list(app.events.listeners.get("doctree-resolved", [])):
        if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
            app.disconnect(listener.id)


def drop_thebe_files(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: no sphinx-thebe script or style when thebe is off."""
    if _thebe_on(app):
        return

    def thebe(asset) -> bool:
        name = getattr(asset, "filename", "") or ""
        body = (getattr(asset, "attributes", {}) or {}).get("body", "")
        return "thebe" in name or "THEBE_JS_URL" in body

    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key][:] = [a for a in context[key] if not thebe(a)]


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    app.connect("html-page-context", drop_thebe_files)
    app.connect("html-page-context", code_names_in_tables)
    app.connect("html-page-context", search_page_math)
    app.connect("builder-inited", thebe_for_this_course)
    # After myst-nb and the theme have made their images (priority 500 is the default).
    app.connect("doctree-resolved", figures_for_the_column, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
