"""From the book to the learner's own copy on the class hub (issue 17 item 5).

The instructor's guide ("From the book to each learner's copy on the hub") publishes a
repository for the learners and sets two entries of ``_config.yml``; each notebook page's
launch button then opens the page's notebook in the learner's hub server through
nbgitpuller. Here the guide's commands publish into a bare repository in the hub's
scratch folder (a local path, which the book's theme alone cannot link), the book is
built with the guide's settings pointed at that repository and at a running class hub
(two assignment pages, not executed), and a learner follows the link in Chromium: the
hub asks them to log in, starts their server, nbgitpuller clones the repository into
their home, and JupyterLab shows the assignment. Then the instructor publishes a new
release as the guide says, and the learner's next sync brings it in, keeping their edits.

The hub is test_hub's (``ClassHub``: throw-away ``dlhubt...`` accounts, removed at the
end), with one learner.
"""

from __future__ import annotations

import html
import json
import os
import pwd
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml
from sphinx.errors import ConfigError

from dotlab.grading.release import COURSE_ROOT
from dotlab.sphinxext import HubLaunch, hub_launch_settings
from test_hub import ClassHub, Learner, course_hub

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub-launch")]
GUIDE = COURSE_ROOT / "chapters" / "instructor_guide.md"
SECTION = "## From the book to each learner's copy on the hub"
# The guide's example addresses, which the tests replace with the local ones.
EXAMPLE_REPO = "https://gitlab.example.edu/ai/dot-products.git"
EXAMPLE_PATH = "/srv/git/dot-products.git"  # the same repository, made on the hub's machine
EXAMPLE_HUB = "https://hub.example.edu"
FOLDER = "dot-products"  # the learner's copy, as the guide names it
PAGES = ["exercises/ch01/ch01", "exercises/ch02/ch02"]


def _section() -> str:
    return GUIDE.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]


def guide_steps() -> tuple[list[str], list[str]]:
    """The guide's commands: making the repository on the hub's machine, then publishing."""
    make, publish = re.findall(r"```bash\n(.*?)```", _section(), flags=re.S)
    return tuple([line.strip() for line in block.splitlines() if line.strip()] for block in (make, publish))


def guide_settings() -> dict:
    """The ``_config.yml`` entries the guide tells the instructor to fill in."""
    (block,) = re.findall(r"```yaml\n(.*?)```", _section(), flags=re.S)
    return yaml.safe_load(block)


def _theme_options(settings: dict) -> dict:
    """The theme options Jupyter Book makes of ``_config.yml``'s entries (jupyter_book/config.py)."""
    repository, buttons = settings.get("repository", {}), settings.get("launch_buttons", {})
    return {"repository_url": repository.get("url", ""), "repository_branch": repository.get("branch", ""),
            "path_to_docs": repository.get("path_to_book", ""),
            "launch_buttons": {"notebook_interface": "jupyterlab", **buttons}}


def test_the_guide_fills_in_the_settings_the_link_is_built_from():
    settings = guide_settings()
    assert settings == {"repository": {"url": EXAMPLE_REPO, "branch": "main"},
                        "launch_buttons": {"jupyterhub_url": EXAMPLE_HUB}}
    launch = hub_launch_settings(_theme_options(settings))
    assert launch.folder == FOLDER and f"`~/{FOLDER}`" in _section()
    url = urlsplit(launch.url("exercises/ch01/ch01.ipynb"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{EXAMPLE_HUB}/hub/user-redirect/git-pull"
    assert parse_qs(url.query) == {"repo": [EXAMPLE_REPO], "branch": ["main"], "targetpath": [FOLDER],
                                   "urlpath": [f"lab/tree/{FOLDER}/exercises/ch01/ch01.ipynb"]}
    # the book's copy is the released notebook: exercises/ is nbgrader's release folder
    assert re.search(r'^c\.CourseDirectory\.release_directory = "exercises"$',
                     (COURSE_ROOT / "nbgrader_config.py").read_text(), flags=re.M)
    # the guide's commands publish to the address its settings name
    make, publish = guide_steps()
    assert publish[0].startswith(f"git clone {EXAMPLE_REPO} ") and all(EXAMPLE_PATH in line for line in make)
    assert hub_launch_settings(_theme_options({"repository": {"url": EXAMPLE_PATH},
                                               "launch_buttons": {"jupyterhub_url": EXAMPLE_HUB}})).folder == FOLDER


def test_a_github_link_is_the_one_the_theme_builds():
    """For a GitHub repository the theme's own link works; the extension keeps it as it is."""
    launch = HubLaunch("https://hub.example.edu", "https://github.com/school/course", "main")
    assert launch.url("exercises/ch01/ch01.ipynb") == (
        "https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A//github.com/school/course"
        "&urlpath=lab/tree/course/exercises/ch01/ch01.ipynb&branch=main")


def test_the_book_can_sit_in_a_folder_of_the_repository():
    options = _theme_options({"repository": {"url": "https://git.school.edu/ai/course.git", "path_to_book": "book/"},
                              "launch_buttons": {"jupyterhub_url": "https://hub.school.edu/"}})
    query = parse_qs(urlsplit(hub_launch_settings(options).url("chapters/ch01_dot_product.md")).query)
    assert query["urlpath"] == ["lab/tree/course/book/chapters/ch01_dot_product.md"] and "branch" not in query


# Bad input: a setting the link cannot use stops the build, naming it and what to set.

@pytest.mark.parametrize("repository, hub, message", [
    ("", EXAMPLE_HUB, "but repository.url is empty: the launch button clones the course"),
    ("git@gitlab.example.edu:ai/dot-product-course.git", EXAMPLE_HUB, "SSH address"),
    ("ssh://git@gitlab.example.edu/ai/dot-product-course.git", EXAMPLE_HUB, "SSH address"),
    ("https://github.com/school/course/tree/main", EXAMPLE_HUB, "not a page in it"),
    ("https://gitlab.example.edu/ai/course/-/tree/main", EXAMPLE_HUB, "a page in a GitLab repository"),
    ("https://oauth2:glpat-secret@gitlab.example.edu/ai/course.git", EXAMPLE_HUB, "carries a user name or token"),
    ("dot-product-course", EXAMPLE_HUB, "neither an https:// address nor an absolute path"),
    ("github.com/school/course", EXAMPLE_HUB, "neither an https:// address nor an absolute path"),
    ("https://gitlab.example.edu", EXAMPLE_HUB, "names a host but no repository"),
    (EXAMPLE_REPO, "hub.example.edu", "launch_buttons.jupyterhub_url = 'hub.example.edu': it is not an https://"),
    (EXAMPLE_REPO, "https://hub.example.edu/hub/login", "goes past the hub's address"),
])
def test_a_setting_the_link_cannot_use_is_named(repository, hub, message):
    settings = {"repository": {"url": repository, "branch": "main"}, "launch_buttons": {"jupyterhub_url": hub}}
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        hub_launch_settings(_theme_options(settings))
    text = str(error.value)
    named = "launch_buttons.jupyterhub_url" if repository == EXAMPLE_REPO else "repository.url"
    assert named in text and "set " in text and "_config.yml" in text, text


def test_every_learners_server_has_the_git_pull_endpoint():
    """nbgitpuller enables itself in the course's environment, which every hub server runs,
    and the hub's learner settings switch off only the instructor's extensions."""
    enabled = Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "nbgitpuller.json")
    assert json.loads(enabled.read_text())["ServerApp"]["jpserver_extensions"] == {"nbgitpuller": True}
    assert not any("nbgitpuller" in name for name in course_hub.INSTRUCTOR_ONLY)


def test_without_a_hub_there_is_no_link_and_no_check():
    assert hub_launch_settings(_theme_options({"repository": {"url": "git@host:x.git"}})) is None


def _reduced_book(folder: Path, settings: dict) -> list[str]:
    """The command that builds two assignment pages with ``settings`` into ``folder``."""
    config = yaml.safe_load((COURSE_ROOT / "_config.yml").read_text(encoding="utf-8"))
    for section, values in settings.items():
        config.setdefault(section, {}).update(values)
    config["execute"]["execute_notebooks"] = "off"  # the assignments are never executed anyway
    (folder / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    toc = {"format": "jb-book", "root": PAGES[0], "chapters": [{"file": page} for page in PAGES[1:]]}
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    return [str(Path(sys.executable).with_name("jupyter-book")), "build", str(COURSE_ROOT), "--builder", "html",
            "--config", str(folder / "_config.yml"), "--toc", str(folder / "_toc.yml"),
            "--path-output", str(folder)]


def test_a_hub_without_a_repository_stops_the_build_by_name(tmp_path):
    settings = guide_settings()
    settings["repository"]["url"] = ""
    done = subprocess.run(_reduced_book(tmp_path, settings), capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "Configuration error" in output and "but repository.url is empty" in output, output[-3000:]
    assert not (tmp_path / "_build" / "html" / "index.html").exists()


# The whole way: the guide's repository, the built book, a learner's click.

@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("the hub creates Unix accounts: run as root")
    running = ClassHub(["a"])
    try:
        running.start()
        yield running
    finally:
        running.close()


@dataclass
class Published:
    """The learners' repository (bare) and the instructor's clone of it that publishes."""

    bare: Path
    work: Path
    env: dict


def _publish(line: str, published: Published, course: Path) -> None:
    """One of the guide's lines, run in ``course`` with the local repository for its addresses."""
    command = (line.replace(EXAMPLE_PATH, shlex.quote(str(published.bare)))
               .replace(EXAMPLE_REPO, shlex.quote(str(published.bare)))
               .replace("../learners", shlex.quote(str(published.work))))
    assert "example.edu" not in command and "/srv/" not in command and "../" not in command, command
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=course, env=published.env,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def learners_repo(hub, tmp_path_factory):
    """The guide's step 1 on the hub's machine: a repository in the hub's scratch folder.

    Marking it safe writes the system's git configuration, as the guide does; the entry
    is removed again at the end.
    """
    bare = hub.scratch / f"{FOLDER}.git"
    work = tmp_path_factory.mktemp("publish") / "learners"
    env = {**os.environ, "GIT_AUTHOR_NAME": "Instructor", "GIT_AUTHOR_EMAIL": "instructor@example.edu",
           "GIT_COMMITTER_NAME": "Instructor", "GIT_COMMITTER_EMAIL": "instructor@example.edu"}
    make, publish = guide_steps()
    published = Published(bare, work, env)
    try:
        for line in [*make, *publish]:
            _publish(line, published, COURSE_ROOT)
        yield published
    finally:
        subprocess.run(["git", "config", "--system", "--fixed-value", "--unset-all", "safe.directory", str(bare)],
                       capture_output=True)


@pytest.fixture(scope="module")
def book(hub, learners_repo, tmp_path_factory):
    """The guide's step 2: two assignment pages built with its settings, pointed here."""
    settings = guide_settings()
    settings["repository"]["url"] = str(learners_repo.bare)
    settings["launch_buttons"]["jupyterhub_url"] = hub.url
    folder = tmp_path_factory.mktemp("book")
    done = subprocess.run(_reduced_book(folder, settings), capture_output=True, text=True, timeout=600)
    html_dir = folder / "_build" / "html"
    assert done.returncode == 0 and (html_dir / f"{PAGES[0]}.html").is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return html_dir


def _launch_links(page: Path) -> list[str]:
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8"))]
    return [h for h in hrefs if "git-pull" in h]


@pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: run as root")
def test_each_assignment_page_links_to_its_notebook_in_the_learners_server(hub, learners_repo, book):
    for page in PAGES:
        (link,) = _launch_links(book / f"{page}.html")
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{hub.url}/hub/user-redirect/git-pull", link
        assert parse_qs(url.query) == {"repo": [str(learners_repo.bare)], "branch": ["main"], "targetpath": [FOLDER],
                                       "urlpath": [f"lab/tree/{FOLDER}/{page}.ipynb"]}, link


def _first_line(notebook: dict) -> str:
    """The first cell's first line, as JupyterLab shows it (a heading without its #)."""
    return "".join(notebook["cells"][0]["source"]).splitlines()[0].lstrip("#").strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: run as root")
def test_a_learner_follows_the_link_and_finds_the_assignment_open(hub, learners_repo, book):
    """Not logged in, the learner clicks the launch button of assignment 1's page: the hub
    asks them to log in, starts their server, nbgitpuller clones the learners' repository
    into their home, and JupyterLab opens ``exercises/ch01/ch01.ipynb`` from it."""
    from playwright.sync_api import sync_playwright

    from browser.site import Server, launch

    name = hub.learners[0]
    published = subprocess.run(["git", "-C", str(learners_repo.bare), "show", "main:exercises/ch01/ch01.ipynb"],
                               capture_output=True, text=True, check=True).stdout
    heading = _first_line(json.loads(published))
    server = Server(book)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{server.base}{PAGES[0]}.html")
            page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
            with context.expect_page() as opened:  # the theme opens launch links in a new tab
                page.locator(".dropdown-launch-buttons a", has_text="JupyterHub").click()
            lab = opened.value
            lab.wait_for_url("**/hub/login**", timeout=60_000)
            lab.fill("#username_input", name)
            lab.fill("#password_input", hub.passwords[name])
            lab.click("#login_submit")
            target = f"/user/{name}/lab/tree/{FOLDER}/exercises/ch01/ch01.ipynb"
            deadline = time.monotonic() + 120  # the server's start, the clone, JupyterLab's load
            while urlsplit(lab.url).path != target:
                # nbgitpuller's page shows what went wrong (git's own message under it)
                if time.monotonic() > deadline or lab.locator("#container-error:not(.hidden)").count():
                    raise AssertionError(f"{lab.url}:\n{lab.inner_text('body')[-3000:]}")
                lab.wait_for_timeout(500)
            panel = lab.locator(".jp-NotebookPanel", has=lab.locator(".jp-Cell"))
            panel.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)  # rendered, shown
            assert lab.locator(".lm-TabBar-tab.lm-mod-current", has_text="ch01.ipynb").count() >= 1
            # JupyterLab starts the notebook's kernel: it comes up ready to run (and a
            # server stopped while its kernel starts outlasts ClassHub.stop's wait)
            deadline = time.monotonic() + 60
            kernels = f"{hub.url}/user/{name}/api/kernels"
            while not [k for k in lab.request.get(kernels).json() if k["execution_state"] == "idle"]:
                assert time.monotonic() < deadline, lab.request.get(kernels).text
                lab.wait_for_timeout(500)
        finally:
            browser.close()
            server.close()
    # the copy is the learner's own, in their home, as published (and without what is kept back)
    home = Path(pwd.getpwnam(name).pw_dir)
    copy = home / FOLDER / "exercises" / "ch01" / "ch01.ipynb"
    assert copy.stat().st_uid == pwd.getpwnam(name).pw_uid
    assert json.loads(copy.read_text())["cells"][0] == json.loads(published)["cells"][0]
    assert not any((home / FOLDER / kept).exists() for kept in ("solutions", "tests", "nbgrader_config.py"))


def _git_pull(learner: Learner, repo: Path) -> None:
    """What the link's page does once the server runs: nbgitpuller's sync, to its end."""
    reply = learner.http.get(f"{learner.base}/git-pull/api", stream=True, timeout=120,
                             params={"repo": str(repo), "branch": "main", "targetpath": FOLDER})
    assert reply.status_code == 200, reply.text
    events = [json.loads(line[len("data: "):]) for line in reply.iter_lines(decode_unicode=True)
              if line.startswith("data: ")]
    assert events and events[-1]["phase"] == "finished", events[-3:]


@pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: run as root")
def test_a_new_release_reaches_the_learner_at_the_next_click_and_keeps_their_edits(
        hub, learners_repo, book, tmp_path):
    """The guide: run the publishing lines after ``git clone`` again and learners get the
    change at their next click. nbgitpuller merges it, keeping what the learner wrote."""
    learner = Learner(hub, hub.learners[0])
    learner.log_in()
    _git_pull(learner, learners_repo.bare)  # the first click (or the previous test's) cloned it
    path = f"{FOLDER}/exercises/ch01/ch01.ipynb"
    notebook = learner.read(path).json()["content"]
    notebook["cells"][-1]["source"] = "# my own notes, kept by every update"
    learner.write_notebook(path, nbformat.from_dict(notebook))
    # a new release: the instructor's course gains a page, committed, and is published again
    course = tmp_path / "course"
    subprocess.run(["git", "clone", "--quiet", str(COURSE_ROOT), str(course)], check=True)
    (course / "exercises" / "ch01" / "hints.md").write_text("# Hints for assignment 1\n")
    subprocess.run(["git", "-C", str(course), "add", "exercises/ch01/hints.md"], check=True)
    subprocess.run(["git", "-C", str(course), "commit", "--quiet", "-m", "hints"], env=learners_repo.env, check=True)
    _, publish = guide_steps()
    assert publish[0].startswith("git clone ")
    for line in publish[1:]:
        _publish(line, learners_repo, course)
    _git_pull(learner, learners_repo.bare)  # the next click
    home = Path(pwd.getpwnam(learner.name).pw_dir)
    assert (home / FOLDER / "exercises" / "ch01" / "hints.md").read_text() == "# Hints for assignment 1\n"
    kept = learner.read(path).json()["content"]["cells"][-1]["source"]
    assert kept == "# my own notes, kept by every update"
