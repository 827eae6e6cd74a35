"""A small Sphinx extension for the course book: every script tag once.

Sphinx 7.4 lists an inline script twice when an extension adds it after the HTML
builder has started (sphinx-thebe's ``const THEBE_JS_URL = ...`` and
sphinx-togglebutton's ``var togglebuttonSelector = ...`` both do): the builder stores
it with ``filename=None``, and ``prepare_writing`` adds the same script again from the
registry with ``filename=''``, which compares unequal. The second
``const THEBE_JS_URL`` is a SyntaxError in every page's console.

Enabled in ``_config.yml`` with ``sphinx: extra_extensions: [dotlab.sphinxext]``.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
