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
"""

from __future__ import annotations

import base64
import binascii
import re

import bleach
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_PROTOCOLS", "ALLOWED_TAGS", "KEPT_OUTPUTS", "HideTracebacks",
           "SafeOutputs", "clean_html", "last_line", "safe_markdown", "safe_output"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: What the feedback page may show of learner HTML and markdown: text formatting, lists,
#: tables, code and headings. Nothing that loads, embeds or runs anything.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt",
    "em", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var", *_HEADINGS,
})
#: No event handler (on*), no style, no src: ``class`` for code highlighting, ``href`` on
#: links (checked against :data:`ALLOWED_PROTOCOLS`), ``id`` on headings (markdown's anchors).
ALLOWED_ATTRIBUTES = {"*": ["class", "title"], "a": ["href"], "td": ["colspan", "rowspan"],
                      "th": ["colspan", "rowspan"], **{h: ["id"] for h in _HEADINGS}}
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
    return bleach.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                        strip=False, strip_comments=True)


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


def safe_markdown(source: str) -> str:
    r"""A markdown cell rendered and cleaned now, as one HTML block the page's renderer passes through as is.

    nbgrader's feedback template renders markdown cells without nbconvert's sanitiser, so
    the cell is rendered here (nbconvert's own ``markdown2html``, math left for MathJax),
    cleaned by :func:`clean_html`, and wrapped in a ``<div>`` with no blank line inside:
    a markdown renderer copies such a block verbatim (CommonMark's HTML block ends only at
    a blank line), so nothing in it is read as markdown a second time.

    Examples
    --------
    >>> safe_markdown("Hi *there*\n\n<script>steal()</script>")
    '<div class="dotlab-safe-markdown">\n<p>Hi <em>there</em></p>\n&lt;script&gt;steal()&lt;/script&gt;\n</div>'
    """
    from nbconvert.filters import markdown2html

    html = clean_html(markdown2html(source))
    # a blank line would end the HTML block; "&#32;" is a space to HTML and not blank to markdown
    html = re.sub(r"\n[ \t]*(?=\n)", "\n&#32;", html.strip("\n"))
    return f'<div class="dotlab-safe-markdown">\n{html}\n</div>'
