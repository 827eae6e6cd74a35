"""Feedback that teaches without giving the hidden tests away, and that an instructor can open safely.

Two kinds of step run in ``nbgrader generate_feedback`` (see ``nbgrader_config.py``):

- :class:`HideTracebacks`: a failed hidden check's traceback quotes the test cell's source
  line by line. nbgrader's ClearHiddenTests removes the hidden region from the cell's
  source, but not from the error output underneath it, so this keeps only the final line
  of every traceback: the exception type and the check's own message.
- :class:`SafeOutputs` and :func:`clean_html`: a feedback page shows the learner's own
  notebook, and its outputs are whatever the learner's code displayed. A learner who
  displays ``HTML("<script>…")`` must not run a script in the browser of the instructor
  who opens the page. Every output is reduced to kinds that cannot run anything (text,
  sanitised HTML, PNG and JPEG images checked to be images, no output metadata), and
  nbconvert's own ``sanitize_html`` switch is on with :func:`clean_html` as its filter, so
  markdown cells and HTML outputs keep only an allowlist of tags and attributes: no
  script, style, iframe, object, form or image; no event handler; no URL but http(s),
  mailto and in-page anchors. What is not allowed is shown as text, so the instructor
  still sees what the learner tried.

The sanitiser is bleach (already nbconvert's), given our own allowlist: an HTML parser
(html5lib, as browsers parse) with an allowlist is the maintained way to do this; a
regular expression over HTML is not.

Maths is rendered when the page is made, not in the browser: nbgrader's template loads
MathJax from a CDN, so a page opened offline (or where the CDN is blocked) showed raw TeX,
and every opening told a third party who looked at whose feedback. :func:`render_math`
turns ``$...$`` and ``$$...$$`` into MathML (latex2mathml, a maintained pure-Python
converter), which browsers draw natively; MathML's presentation elements are on the
allowlist, and :class:`OfflineHTMLExporter` (nbgrader's exporter for feedback, in
``nbgrader_config.py``) replaces the MathJax loader with an empty one, so the page
loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import binascii
import html as html_text
import re
from pathlib import Path

import bleach
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, default

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_PROTOCOLS", "ALLOWED_TAGS", "KEPT_OUTPUTS", "MATHML_TAGS", "MAX_FORMULAS",
           "MAX_MARKDOWN", "TEMPLATES", "HideTracebacks", "OfflineHTMLExporter", "SafeOutputs", "clean_html",
           "last_line", "render_math", "safe_markdown", "safe_output"]

#: The folder :class:`OfflineHTMLExporter` looks in first: its ``mathjax.html.j2`` loads nothing.
TEMPLATES = Path(__file__).with_name("templates")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: What the feedback page may show of learner HTML and markdown: text formatting, lists,
#: tables, code and headings. Nothing that loads, embeds or runs anything.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt",
    "em", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var", *_HEADINGS,
})
#: MathML's presentation elements that :func:`render_math` writes (MathML Core). Left out on
#: purpose: ``annotation-xml`` (it can hold HTML, the root of known sanitiser bypasses),
#: ``mglyph`` and ``malignmark`` (parsed as HTML inside MathML text), ``maction`` (interactive).
MATHML_TAGS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
})
#: No event handler (on*), no style, no src: ``class`` for code highlighting, ``href`` on
#: links (checked against :data:`ALLOWED_PROTOCOLS`), ``id`` on headings (markdown's anchors),
#: and MathML's layout attributes (no ``href``: MathML Core links nothing).
_MATHML_ATTRIBUTES = ["display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
                      "lspace", "rspace", "width", "height", "depth", "linethickness", "columnalign", "rowalign",
                      "columnspan", "rowspan", "notation", "displaystyle", "scriptlevel", "minsize", "maxsize",
                      "movablelimits", "largeop", "symmetric", "form"]
ALLOWED_ATTRIBUTES = {"*": ["class", "title"], "a": ["href"], "td": ["colspan", "rowspan"],
                      "th": ["colspan", "rowspan"], **{h: ["id"] for h in _HEADINGS},
                      **{tag: _MATHML_ATTRIBUTES for tag in MATHML_TAGS}}
#: Schemes a link may use (relative links and #anchors have none): never javascript: or data:.
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
#: The output kinds a feedback page shows; anything else (JavaScript, SVG, widgets, LaTeX
#: typeset by MathJax, custom types) is dropped, and ``text/plain`` stands in for it.
KEPT_OUTPUTS = ("text/plain", "text/html", "text/markdown", "image/png", "image/jpeg")
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def clean_html(html) -> str:
    """``html`` with only :data:`ALLOWED_TAGS` and :data:`ALLOWED_ATTRIBUTES` left as HTML; the rest shown as text.

    Used by the feedback page's template for markdown cells and HTML outputs (nbconvert's
    ``clean_html`` filter, replaced in ``nbgrader_config.py``).

    Examples
    --------
    >>> clean_html('<b onclick="steal()">bold</b><script>steal()</script>')
    '<b>bold</b>&lt;script&gt;steal()&lt;/script&gt;'
    >>> clean_html('<a href="javascript:steal()">x</a> <a href="https://numpy.org">numpy</a>')
    '<a>x</a> <a href="https://numpy.org">numpy</a>'
    """
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else str(html)
    # maths first, so that the MathML it writes goes through the same allowlist as everything else
    return bleach.clean(render_math(text), tags=ALLOWED_TAGS | MATHML_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        protocols=ALLOWED_PROTOCOLS, strip=False, strip_comments=True)


# Outside code, a TeX span within one run of text (no tag inside: "<" in text is "&lt;"). As
# pandoc reads ``$``: the opening one is followed by a non-space, the closing one preceded by
# a non-space and not followed by a digit (so "$5 and $6" is not maths).
_CODE = re.compile(r"(<(pre|code)\b.*?</\2\s*>)", re.S | re.I)
_DISPLAY_MATH = re.compile(r"\$\$([^$<>]{1,5000}?)\$\$")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$])([^$<>]{1,2000}?)(?<=[^\s\\])\$(?![$\d])")


def _mathml(match: re.Match, display: str) -> str:
    from latex2mathml.converter import convert

    tex = html_text.unescape(match.group(1)).strip()
    try:
        return convert(tex, display=display)
    except Exception:  # noqa: BLE001 - TeX the converter cannot read stays as it was written
        return match.group(0)


#: Formulas drawn per piece of HTML; the rest stay TeX. Each one costs the grader a conversion
#: and the sanitiser a MathML tree: "$a" two hundred thousand times took a minute per page.
MAX_FORMULAS = 256


def render_math(html: str) -> str:
    """``html`` with its ``$$...$$`` and ``$...$`` (outside code) drawn as MathML (the first
    :data:`MAX_FORMULAS` of them).

    Examples
    --------
    >>> render_math("<p>$a_i$ costs $5, not <code>$x$</code></p>")
    '<p><math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msub><mi>a</mi><mi>i</mi></msub></mrow></math> costs $5, not <code>$x$</code></p>'
    """
    parts = _CODE.split(html)
    out, left = [], [MAX_FORMULAS]

    def draw(match: re.Match, display: str) -> str:
        if left[0] <= 0:
            return match.group(0)
        left[0] -= 1
        return _mathml(match, display)

    for i, part in enumerate(parts):
        if i % 3 == 1 or i % 3 == 2:  # a code element (and the tag name the split also returns)
            out.append(part if i % 3 == 1 else "")
            continue
        part = _DISPLAY_MATH.sub(lambda m: draw(m, "block"), part)
        out.append(_INLINE_MATH.sub(lambda m: draw(m, "inline"), part))
    return "".join(out)


def last_line(traceback: list[str], ename: str, evalue: str) -> str:
    """The one line of a traceback a learner should see: ``Type: message``.

    Examples
    --------
    >>> last_line(["Traceback ...", "  check(x, hidden=True)", "CheckFailure: wrong"], "CheckFailure", "wrong")
    'CheckFailure: wrong'
    """
    if ename or evalue:
        return f"{ename}: {evalue}"
    cleaned = [_ANSI.sub("", line).strip() for line in traceback]
    return next((line for line in reversed(cleaned) if line), "")


class HideTracebacks(Preprocessor):
    """Replace each error output's traceback with its last line."""

    # nbconvert preprocessors are off unless enabled; nbgrader registers without enabling.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [last_line(output.get("traceback", []), output.get("ename", ""), output.get("evalue", ""))]
        return cell, resources


def _image(data, mime: str) -> str | None:
    """Base64 ``data`` if it really is a ``mime`` image, else None (it would go into an attribute)."""
    if not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode("ascii") if raw.startswith(_MAGIC[mime]) else None


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def safe_output(output: dict) -> dict:
    """One output rebuilt from the kinds a feedback page may show, with no metadata.

    Examples
    --------
    >>> safe_output({"output_type": "display_data", "metadata": {"image/png": {"width": "1 onerror=x()"}},
    ...              "data": {"application/javascript": "x()", "image/png": "not a png", "text/plain": "<Fig>"}})
    {'output_type': 'display_data', 'metadata': {}, 'data': {'text/plain': '<Fig>'}}
    """
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _text(output.get("text", ""))}
    if kind == "error":
        return {"output_type": "error", "ename": str(output.get("ename", "")), "evalue": str(output.get("evalue", "")),
                "traceback": [str(line) for line in output.get("traceback", [])]}
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept = {}
    for mime in KEPT_OUTPUTS:
        if mime not in data:
            continue
        value = _image(data[mime], mime) if mime.startswith("image/") else _text(data[mime])
        if value is not None:
            kept[mime] = value
    dropped = sorted(set(data) - set(kept))
    if not kept:
        kept["text/plain"] = f"(an output of type {', '.join(dropped) or 'none'}, not shown in feedback)"
    safe = {"output_type": "execute_result" if kind == "execute_result" else "display_data", "metadata": {}, "data": kept}
    if kind == "execute_result":
        count = output.get("execution_count")
        safe["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return safe


class SafeOutputs(Preprocessor):
    """Reduce every learner output to text, sanitisable HTML and checked images; drop what could run or load.

    The HTML in what is kept is cleaned by the template (``sanitize_html`` with
    :func:`clean_html`); this step removes what the template would still trust: output
    metadata (an image's width lands unquoted in an ``<img>`` tag, ``isolated`` HTML goes
    into an iframe), images that are not images, JavaScript, SVG and widget state.
    """

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # widget state: the page would load the widget manager's scripts
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        cell.pop("attachments", None)  # images in a markdown cell: shown only as the text around them
        if cell.get("cell_type") == "code":
            from nbformat import from_dict

            cell.outputs = [from_dict(safe_output(output)) for output in cell.get("outputs", [])]
        elif cell.get("cell_type") == "markdown":
            cell.source = safe_markdown(cell.source)
        return cell, resources


#: Characters of a markdown cell rendered as markdown; a longer cell is shown as text. The
#: course's own cells are under 2,000.
MAX_MARKDOWN = 64 * 1024


def safe_markdown(source: str) -> str:
    r"""A markdown cell rendered and cleaned now, as one HTML block the page's renderer passes through as is.

    nbgrader's feedback template renders markdown cells without nbconvert's sanitiser, so
    the cell is rendered here (nbconvert's own ``markdown2html``, maths as MathML),
    cleaned by :func:`clean_html`, and wrapped in a ``<div>`` with no blank line inside:
    a markdown renderer copies such a block verbatim (CommonMark's HTML block ends only at
    a blank line), so nothing in it is read as markdown a second time.

    Examples
    --------
    >>> safe_markdown("Hi *there*\n\n<script>steal()</script>")
    '<div class="dotlab-safe-markdown">\n<p>Hi <em>there</em></p>\n&lt;script&gt;steal()&lt;/script&gt;\n</div>'
    """
    from nbconvert.filters import markdown2html

    if len(source) > MAX_MARKDOWN:
        # the markdown parser is quadratic on some input ("[" 32,000 times: 0.5 s; a megabyte: minutes)
        html = f"<p>(a markdown cell of {len(source)} characters, shown as text)</p><pre>{html_text.escape(source)}</pre>"
    else:
        html = clean_html(markdown2html(source))
    # a blank line would end the HTML block; "&#32;" is a space to HTML and not blank to markdown
    html = re.sub(r"\n[ \t]*(?=\n)", "\n&#32;", html.strip("\n"))
    return f'<div class="dotlab-safe-markdown">\n{html}\n</div>'


class OfflineHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter, finding the course's ``mathjax.html.j2`` before nbconvert's.

    nbgrader's feedback template loads MathJax with ``{{ mathjax() }}``, a macro whose
    CDN address is written into nbconvert's ``base/mathjax.html.j2``; the address cannot be
    configured and ``extra_template_paths`` are searched last, so the course's empty macro
    (:data:`TEMPLATES`) is put first here. The maths is MathML already (:func:`clean_html`).
    """

    @default("template_paths")
    def _template_paths(self, prune=True, root_dirs=None):
        return [str(TEMPLATES), *super()._template_paths(prune=prune, root_dirs=root_dirs)]
