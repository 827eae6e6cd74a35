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
- **The JupyterHub launch button for any git host** (:func:`hub_launch_settings`,
  :func:`hub_launch_button`): the theme builds it only for a repository on GitHub,
  GitLab or Bitbucket, and stops the build on any other; here it opens the page's
  notebook in the learner's hub server through nbgitpuller from any URL git can clone
  without a password (a school's own GitLab, an absolute path on the hub), and bad
  settings stop the build with a message naming them.

Enabled in ``_config.yml`` with ``sphinx: extra_extensions: [dotlab.sphinxext]``.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from docutils import nodes
from sphinx.errors import ConfigError

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


# -- the JupyterHub launch button ------------------------------------------------------
#
# sphinx-book-theme 1.3.0 builds its JupyterHub link (header_buttons/launch.py) from the
# repository's "org" and "repo" as it splits them out of repository_url, for a host it
# can name: a URL without github, gitlab or bitbucket in it (a school's own git server,
# a path on the hub) stops the build ("Provider not recognized"); a path loses its
# leading "/"; no repository_url at all is a TypeError. nbgitpuller itself clones any
# URL git does, so the link is built here from the URL as written, in the theme's form.

#: Where each setting lives in _config.yml (Jupyter Book passes them to the theme).
HUB_SETTING = "launch_buttons.jupyterhub_url"
REPO_SETTING = "repository.url"
#: The theme's features that need it to name the repository's host.
_THEME_REPO_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")
_THEME_REPO_LAUNCHES = ("binderhub_url", "colab_url", "deepnote_url", "thebe")
_HOSTS_THE_THEME_NAMES = ("github", "gitlab", "bitbucket")
#: The notebook interfaces the theme knows, with the URL prefix that opens a file in each.
_INTERFACES = {"jupyterlab": "lab/tree", "classic": "tree"}


@dataclass(frozen=True)
class HubLaunch:
    """A JupyterHub launch: the hub, and the repository its learners' servers clone.

    Attributes
    ----------
    hub : str
        The address learners open the hub at, without a trailing slash.
    repo : str
        The repository as ``git clone`` takes it (``repository.url`` as written).
    branch : str
        The branch to check out; empty for the repository's default branch.
    book : str
        The book's folder inside the repository (``repository.path_to_book``), or ''.
    interface : str
        The URL prefix that opens a file in the notebook interface (``lab/tree``).
    """

    hub: str
    repo: str
    branch: str = ""
    book: str = ""
    interface: str = "lab/tree"

    @property
    def folder(self) -> str:
        """The folder of the learner's home that nbgitpuller clones into.

        The URL's last part without a ``.git`` ending (nbgitpuller's own default keeps
        the ending: the link then names the folder, as ``targetpath``).

        Examples
        --------
        >>> HubLaunch("https://hub.school.edu", "/srv/git/course.git/").folder
        'course'
        """
        return self.repo.rstrip("/").split("/")[-1].removesuffix(".git")

    def url(self, path: str) -> str:
        """The link that clones (or updates) the repository and opens ``path`` from it.

        ``path`` is the page's source relative to the book's folder. nbgitpuller's
        git-pull, reached through the hub's user-redirect (the learner's own server,
        started if need be), merges new commits without overwriting the learner's edits.

        Examples
        --------
        >>> launch = HubLaunch("https://hub.school.edu",
        ...                    "https://git.school.edu/ai/course.git", "main")
        >>> print(launch.url("exercises/ch01/ch01.ipynb").replace("&", "\\n&"))
        https://hub.school.edu/hub/user-redirect/git-pull?repo=https%3A//git.school.edu/ai/course.git
        &urlpath=lab/tree/course/exercises/ch01/ch01.ipynb
        &branch=main
        &targetpath=course
        """
        in_repo = f"{self.book}/{path}" if self.book else path
        query = {"repo": self.repo, "urlpath": f"{self.interface}/{self.folder}/{in_repo}"}
        if self.branch:
            query["branch"] = self.branch
        if self.folder != self.repo.rstrip("/").split("/")[-1]:  # not nbgitpuller's default
            query["targetpath"] = self.folder
        # The theme's encoding (slashes kept), so a GitHub link is the one it would build.
        return f"{self.hub}/hub/user-redirect/git-pull?{urlencode(query, safe='/')}"


def _hub_problem(url: str) -> str | None:
    """Why ``url`` is not a hub's address (None: it is one)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return "it is not an https:// address"
    if parts.query or parts.fragment:
        return "it has a query (?) or a fragment (#)"
    if "hub" in parts.path.split("/"):
        return "it goes past the hub's address into its pages (/hub/...), and the link adds /hub/ itself"
    return None


def _repository_problem(url: str) -> str | None:
    """Why a learner's server could not ``git clone`` ``url`` for the link (None: it can).

    Examples
    --------
    >>> _repository_problem("https://gitlab.school.edu/ai/dots/course.git") is None
    True
    >>> print(_repository_problem("git@github.com:school/course.git"))
    it is an SSH address, and learners' servers hold no SSH key: give its https:// address
    >>> print(_repository_problem("https://github.com/school/course/tree/main"))
    a github.com repository is https://github.com/<owner>/<repo>, not a page in it
    """
    if any(character.isspace() for character in url):
        return "it contains a space"
    if url.startswith("/"):
        return None  # a folder on the hub's machine
    parts = urlsplit(url)
    if parts.scheme in ("ssh", "git+ssh") or re.fullmatch(r"[\w.-]+@[\w.-]+:.+", url):
        return "it is an SSH address, and learners' servers hold no SSH key: give its https:// address"
    if parts.scheme == "file":
        return None if parts.path.startswith("/") and not parts.netloc else "a file URL is file:///<absolute path>"
    if parts.scheme not in ("https", "http", "git") or not parts.netloc:
        return "it is neither an https:// address nor an absolute path on the hub"
    if parts.username or parts.password:
        return "it carries a user name or token, which every page of the book would publish"
    if parts.query or parts.fragment:
        return "it has a query (?) or a fragment (#): a web page's address, not the repository's"
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.hostname in ("github.com", "bitbucket.org") and len(segments) != 2:
        return f"a {parts.hostname} repository is https://{parts.hostname}/<owner>/<repo>, not a page in it"
    if "-" in segments:
        return "it is the address of a page in a GitLab repository (.../-/...), not of the repository"
    if not segments:
        return "it names a host but no repository"
    return None


def hub_launch_settings(options: dict) -> HubLaunch | None:
    """The JupyterHub launch the theme's options ask for, checked; None without a hub.

    Parameters
    ----------
    options : dict
        ``html_theme_options``, as Jupyter Book fills it from ``_config.yml``
        (``repository.url`` is ``repository_url``, ``repository.branch`` is
        ``repository_branch``, ``repository.path_to_book`` is ``path_to_docs``).

    Raises
    ------
    sphinx.errors.ConfigError
        A hub without a repository, or a hub address or repository URL the link cannot
        use; the message names the setting in ``_config.yml`` and what to set.

    Examples
    --------
    >>> hub_launch_settings({"launch_buttons": {"jupyterhub_url": ""}}) is None
    True
    >>> hub_launch_settings({"launch_buttons": {"jupyterhub_url": "https://hub.school.edu/",
    ...                                         "notebook_interface": "jupyterlab"},
    ...                      "repository_url": "/srv/git/course.git",
    ...                      "repository_branch": "main"})  # doctest: +NORMALIZE_WHITESPACE
    HubLaunch(hub='https://hub.school.edu', repo='/srv/git/course.git', branch='main',
              book='', interface='lab/tree')
    >>> hub_launch_settings({"launch_buttons": {"jupyterhub_url": "https://hub.school.edu"}})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sphinx.errors.ConfigError: launch_buttons.jupyterhub_url is set ('https://hub.school.edu') but repository.url is empty: ...
    """
    buttons = options.get("launch_buttons") or {}
    hub = (buttons.get("jupyterhub_url") or "").strip()
    if not hub:
        return None
    repo = (options.get("repository_url") or "").strip()
    if not repo:
        raise ConfigError(
            f"{HUB_SETTING} is set ({hub!r}) but {REPO_SETTING} is empty: the launch button clones the "
            f"course into each learner's hub server, so set {REPO_SETTING} in _config.yml to the course's "
            f"git repository (https://<your git host>/<group>/<repo>.git, or an absolute path on the hub), "
            f"or empty {HUB_SETTING}")
    problem = _hub_problem(hub)
    if problem:
        raise ConfigError(f"{HUB_SETTING} = {hub!r}: {problem}; set it in _config.yml to the address learners "
                          f"open the hub at, e.g. https://hub.<your-school>")
    problem = _repository_problem(repo)
    if problem:
        raise ConfigError(
            f"{REPO_SETTING} = {repo!r} cannot be cloned by the learners' hub servers for {HUB_SETTING}: "
            f"{problem}; set {REPO_SETTING} in _config.yml to an https:// address git clones without a "
            f"password, or an absolute path on the hub every learner can read")
    interface = buttons.get("notebook_interface") or "classic"
    if interface not in _INTERFACES:
        raise ConfigError(f"launch_buttons.notebook_interface = {interface!r}: use one of {sorted(_INTERFACES)}")
    return HubLaunch(hub=hub.rstrip("/"), repo=repo, branch=(options.get("repository_branch") or "").strip(),
                     book=(options.get("path_to_docs") or "").strip("/"), interface=_INTERFACES[interface])


def _theme_names_the_host(options: dict) -> bool:
    """Whether the theme infers a provider from repository_url (its own rule)."""
    if options.get("repository_provider"):
        return True
    host_part = options.get("repository_url", "").strip("/").rsplit("/", 2)[0].lower()
    return any(name in host_part for name in _HOSTS_THE_THEME_NAMES)


def check_hub_launch(app, config) -> None:
    """``config-inited`` handler: check the launch settings (:func:`hub_launch_settings`).

    For a repository host the theme cannot name, the repository and the hub are taken
    out of its options when nothing else of the theme's needs them, so it neither stops
    the build nor fails on a missing repository; :func:`hub_launch_button` adds the
    button. (A repository button, or a Binder, Colab or thebe launch, still needs a host
    the theme names, and the theme says so itself.)
    """
    options = config.html_theme_options
    config.dotlab_hub_launch = launch = hub_launch_settings(options)
    if launch is None or _theme_names_the_host(options):
        return
    buttons = options["launch_buttons"]
    if any(options.get(key) for key in _THEME_REPO_BUTTONS) or any(buttons.get(k) for k in _THEME_REPO_LAUNCHES):
        return
    options["repository_url"] = ""
    buttons["jupyterhub_url"] = ""


def _is_notebook(app, pagename: str, context) -> bool:
    # The theme's rule for a page with launch buttons: it has a kernel, or is an .ipynb.
    return "kernelspec" in app.env.metadata.get(pagename, {}) or "ipynb" in context.get("page_source_suffix", "")


def hub_launch_button(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler (after the theme's): the page's JupyterHub button.

    On a notebook page, the launch menu's JupyterHub link is :meth:`HubLaunch.url` of
    the page's source (the theme's own link, if it made one, is replaced in its place);
    the menu is added when the theme made none.
    """
    launch = app.config.dotlab_hub_launch
    if launch is None or "header_buttons" not in context or not _is_notebook(app, pagename, context):
        return
    source = Path(app.env.doc2path(pagename)).relative_to(app.srcdir).as_posix()
    button = {"type": "link", "text": "JupyterHub", "tooltip": "Launch on JupyterHub",
              "icon": "_static/images/logo_jupyterhub.svg", "url": launch.url(source)}
    header = context["header_buttons"]
    group = next((b for b in header if b.get("label") == "launch-buttons"), None)
    if group is None:
        group = {"type": "group", "tooltip": "Launch interactive content", "icon": "fas fa-rocket",
                 "buttons": [], "label": "launch-buttons"}
        header.insert(0, group)  # where the theme puts its launch menu: first
    theirs = f"{launch.hub}/hub/user-redirect/git-pull?"
    for index, other in enumerate(group["buttons"]):
        if str(other.get("url", "")).startswith(theirs):
            group["buttons"][index] = button
            return
    group["buttons"].append(button)


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    app.connect("html-page-context", drop_thebe_files)
    app.connect("html-page-context", code_names_in_tables)
    app.connect("html-page-context", search_page_math)
    app.connect("builder-inited", thebe_for_this_course)
    app.add_config_value("dotlab_hub_launch", None, "html")
    app.connect("config-inited", check_hub_launch)
    # After the theme's launch buttons (priority 501), before the page is rendered.
    app.connect("html-page-context", hub_launch_button, priority=502)
    # After myst-nb and the theme have made their images (priority 500 is the default).
    app.connect("doctree-resolved", figures_for_the_column, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
