"""A class on a real JupyterHub (hub/): a term's loop through the hub, and what it refuses.

The hub is the one ``make hub`` starts (hub/course_hub.py, hub/jupyterhub_config.py),
with throw-away Unix accounts named ``dlhubt...`` that the fixture removes, an exchange
and hub state in a scratch folder, and ports it binds itself. Learners log in with their
password (PAM). One learner works in Chromium, in JupyterLab, as a learner would: the
Assignments panel to fetch, submit and fetch feedback, the notebook to type answers in,
Validate on its toolbar. The other two work through their own single-user server's HTTP
API: nbgrader's assignment_list handlers (what the Assignments panel calls) and Jupyter's
contents API. The instructor's side runs as the instructor's account, in their home, and
the instructor's formgrader is read in JupyterLab's Formgrader panel, in Chromium.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import requests

from dotlab.grading.release import COURSE_ROOT

sys.path.insert(0, str(COURSE_ROOT / "hub"))
import course_hub  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("class-hub")]
GUIDE = COURSE_ROOT / "chapters" / "instructor_guide.md"


def guide_steps() -> list[list[str]]:
    """The commands of each bash block of the guide's "On a shared JupyterHub", in order."""
    section = GUIDE.read_text().split("## On a shared JupyterHub", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks]
PREFIX = "dlhubt"
COURSE = course_hub.COURSE_ID

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: run as root")


def _free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now (JupyterHub and its proxy take no port 0: bind-and-retry)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _processes_of(uids: set[int], needles: tuple[str, ...]) -> list[str]:
    """Running processes owned by one of ``uids`` or whose command line holds a needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = (entry / "status").read_text().split("\nUid:")[1].split()[0]
        except (OSError, IndexError):
            continue
        if int(uid) in uids or any(n in cmdline for n in needles):
            found.append(f"{entry.name} uid={uid} {cmdline}")
    return found


OPENING = Path(tempfile.gettempdir()) / "dotlab-hub-python-opened.json"


@contextlib.contextmanager
def _python_opening():
    """The shared record of folders opened for the hubs' accounts, under an exclusive lock.

    ``holders`` are the processes whose hubs use the opening (dead ones are dropped, so a
    crashed run does not keep it open for ever); ``modes`` the modes to put back.
    """
    with open(OPENING.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(OPENING.read_text())
        except (FileNotFoundError, ValueError):
            state = {"holders": [], "modes": {}}
        state["holders"] = [pid for pid in state["holders"] if _alive(pid)]
        yield state
        OPENING.write_text(json.dumps(state))


def open_for_everyone(blocked) -> None:
    """Open, for every account, each folder ``blocked()`` names, until it names none.

    ``blocked()`` returns the next (folder, permission bits wanted) or None. This process
    becomes a holder of the opening; ``close_for_everyone`` lets go, and the last holder
    to let go puts the folders' modes back. Every test that opens root's folders to
    other accounts goes through here (the hub tests, test_hub_launch, test_sandbox's
    grader that is not root), so none closes them under another's running servers.
    """
    with _python_opening() as state:
        state["holders"].append(os.getpid())
        while (found := blocked()) is not None:
            path, want = found
            mode = stat.S_IMODE(path.stat().st_mode)
            state["modes"].setdefault(str(path), mode)
            os.chmod(path, mode | want)


def close_for_everyone() -> None:
    with _python_opening() as state:
        state["holders"].remove(os.getpid())
        if not state["holders"]:
            for path, mode in reversed(state["modes"].items()):
                os.chmod(path, mode)
            state["modes"] = {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class ClassHub:
    """A running course hub with one instructor and its learners, all throw-away accounts."""

    def __init__(self, learners: list[str]):
        tag = secrets.token_hex(2)
        self.instructor = f"{PREFIX}{tag}i"
        self.learners = [f"{PREFIX}{tag}{name}" for name in learners]
        self.passwords = {name: secrets.token_urlsafe(12) for name in [self.instructor, *self.learners]}
        self.scratch = Path(tempfile.mkdtemp(prefix="dotlab-hub-"))
        os.chmod(self.scratch, 0o755)
        self.exchange = self.scratch / "exchange"
        # The guide's first step, with the scratch folder for its exchange.
        (make_exchange, _) = guide_steps()[0]
        command = shlex.split(make_exchange.replace("/srv/nbgrader/exchange", str(self.exchange)))
        subprocess.run(command, check=True)
        self.state = self.scratch / "state"
        (self.scratch / "learners.txt").write_text("\n".join(self.learners) + "\n")
        self.holds_python_open = False
        self.process: subprocess.Popen | None = None
        self.uids: set[int] = set()

    def env(self, ports: list[int]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DOTLAB_HUB_PORT=str(ports[0]), DOTLAB_HUB_API_PORT=str(ports[1]),
                   DOTLAB_PROXY_API_PORT=str(ports[2]), DOTLAB_HUB_STATE=str(self.state),
                   DOTLAB_HUB_INSTRUCTOR=self.instructor, DOTLAB_HUB_LEARNERS=str(self.scratch / "learners.txt"),
                   DOTLAB_EXCHANGE_ROOT=str(self.exchange))
        return env

    def open_python(self) -> None:
        """Let the throw-away accounts reach the course's interpreter (put back in close()).

        The hub refuses to start while an account cannot run its Python (course_hub.py
        names the folder in the way); on this machine the interpreter may live in root's
        home, so each place the check finds is opened to everyone, for the tests only.
        Several hubs may run at once (this module's and test_hub_launch's on two xdist
        workers, or two runs): the modes are changed under a lock, and put back by the
        last hub to close, never under one still running.
        """
        def blocked() -> tuple[Path, int] | None:
            found = course_hub.blocked_python(self.instructor)
            return None if found is None else found[:2]

        open_for_everyone(blocked)
        self.holds_python_open = True

    def close_python(self) -> None:
        if self.holds_python_open:
            close_for_everyone()
            self.holds_python_open = False

    def start(self) -> None:
        self.open_python()
        for attempt in range(3):
            ports = _free_ports(3)
            self.url = f"http://127.0.0.1:{ports[0]}"
            self.needles = tuple(f"{p}" for p in (f"--port {ports[0]}", f"api-port {ports[2]}", str(self.state)))
            self.log = self.scratch / f"hub-{attempt}.log"
            with open(self.log, "w") as log:
                self.process = subprocess.Popen([sys.executable, str(COURSE_ROOT / "hub" / "course_hub.py"), "start"],
                                                env=self.env(ports), stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
            self.uids = {pwd.getpwnam(n).pw_uid for n in self.passwords if course_hub._exists(n)}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if requests.get(f"{self.url}/hub/api", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.3)
            else:
                text = self.log.read_text()
                self.stop()
                if "in use" in text.lower():  # another program took a port between bind and start
                    continue
                raise AssertionError(f"the hub did not start:\n{text[-3000:]}")
            self.uids = {pwd.getpwnam(n).pw_uid for n in self.passwords}
            passwords = "".join(f"{n}:{p}\n" for n, p in self.passwords.items())
            subprocess.run(["chpasswd"], input=passwords, text=True, check=True)
            return
        raise AssertionError("no free ports for the hub after 3 tries")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def leftovers(self) -> list[str]:
        running = [] if self.process is None or self.process.poll() is not None else [f"{self.process.pid} the hub"]
        return running + _processes_of(self.uids, self.needles)

    def close(self) -> None:
        self.stop()
        for line in self.leftovers():
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for name in self.passwords:
            if course_hub._exists(name):
                subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)
        self.close_python()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def as_instructor(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run a command as the instructor's account, as in a terminal of their hub server."""
        home = Path(pwd.getpwnam(self.instructor).pw_dir)
        env = {"HOME": str(home), "USER": self.instructor, "LOGNAME": self.instructor,
               "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
               "JUPYTER_CONFIG_PATH": str(self.state / "jupyter" / "instructor"),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}
        done = subprocess.run([shutil.which("runuser"), "-u", self.instructor, "--", *command],
                              cwd=cwd or home / "course", env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
        return done


class Learner:
    """One learner in their browser's place: logged in to the hub, talking to their own server."""

    def __init__(self, hub: ClassHub, name: str):
        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.base = f"{hub.url}/user/{name}"

    def log_in(self) -> None:
        self.http.get(f"{self.hub.url}/hub/login", timeout=30)
        xsrf = self.http.cookies.get("_xsrf", path="/hub/")
        done = self.http.post(f"{self.hub.url}/hub/login?next=/hub/spawn",
                              data={"username": self.name, "password": self.hub.passwords[self.name], "_xsrf": xsrf},
                              timeout=90)
        assert done.status_code == 200, done.text[-2000:]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Opening JupyterLab is the server's OAuth handshake with the hub (its API then
            # takes the cookie it sets); while the spawn is pending the hub answers instead.
            page = self.http.get(f"{self.base}/lab", timeout=30)
            if page.status_code == 200 and page.url.startswith(f"{self.base}/lab"):
                status = self.http.get(f"{self.base}/api/status", timeout=30)
                assert status.status_code == 200, status.text
                return
            time.sleep(0.5)
        raise AssertionError(f"{self.name}'s server did not start: {page.status_code} {page.text[-1000:]}")

    def _xsrf(self) -> dict[str, str]:
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and cookie.path.startswith(f"/user/{self.name}"):
                return {"X-XSRFToken": cookie.value}
        return {}

    def assignments(self) -> list[dict]:
        reply = self.http.get(f"{self.base}/assignments", params={"course_id": COURSE}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()["value"]

    def act(self, action: str, assignment: str = "ch01") -> dict:
        reply = self.http.post(f"{self.base}/assignments/{action}", headers=self._xsrf(), timeout=120,
                               params={"course_id": COURSE, "assignment_id": assignment})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def read(self, path: str) -> requests.Response:
        return self.http.get(f"{self.base}/api/contents/{path}", params={"content": 1}, timeout=60)

    def write_notebook(self, path: str, nb: nbformat.NotebookNode) -> None:
        reply = self.http.put(f"{self.base}/api/contents/{path}", headers=self._xsrf(), timeout=60,
                              json={"type": "notebook", "format": "json", "content": nb})
        assert reply.status_code in (200, 201), reply.text


def log_in_in_chromium(page, hub: ClassHub, name: str) -> None:
    """Log in with the hub's form and wait for JupyterLab (the server starts on the way)."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", hub.passwords[name])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)


def open_nbgrader(page, item: str) -> None:
    """JupyterLab's menu Nbgrader > ``item`` (Assignment List, Formgrader)."""
    page.get_by_role("menuitem", name="Nbgrader").click(timeout=90_000)
    page.get_by_role("menuitem", name=item).click()


class BrowserLearner:
    """One learner at their browser: JupyterLab on the hub, driven with Chromium's mouse and keys.

    Everything goes through what a learner sees: the Assignments panel (nbgrader's
    Assignment List) to fetch, submit and fetch feedback, the notebook to type answers
    in, its toolbar's Validate, and the feedback file opened from the panel's link.
    """

    def __init__(self, hub: ClassHub, name: str, page):
        self.hub, self.name, self.page = hub, name, page
        page.set_default_timeout(90_000)  # two cores shared by everyone: be patient

    def log_in(self) -> None:
        log_in_in_chromium(self.page, self.hub, self.name)

    def fetch(self, assignment: str = "ch01") -> None:
        open_nbgrader(self.page, "Assignment List")
        released = self.page.locator("#released_assignments_list")
        released.locator(".list_item", has_text=assignment).get_by_role("button", name="Fetch").click()
        self._fetched(assignment).wait_for()

    def _fetched(self, assignment: str):
        return self.page.locator("#fetched_assignments_list .list_item", has_text=assignment).first

    def open_notebook(self, assignment: str = "ch01"):
        """Unfold the fetched assignment in the panel and click its notebook."""
        fetched = self._fetched(assignment)
        fetched.locator("a.assignment-notebooks-link").click()
        fetched.locator(".nested_list_item a", has_text=assignment).click()
        panel = self.page.locator(".jp-NotebookPanel:visible")
        panel.locator(".jp-Cell").first.wait_for()
        return panel

    def type_answers(self, panel, answers: dict[str, str], code_cells: list[str | None]) -> None:
        """Replace each answered task's cell with the answer, then save.

        ``code_cells`` are the notebook's code cells' grade ids, in order: a cell is found
        by its place, then checked to be the task's (its ``def`` line) before typing.
        """
        from playwright.sync_api import expect

        cells = panel.locator(".jp-CodeCell")
        expect(cells).to_have_count(len(code_cells), timeout=90_000)
        for grade_id, code in answers.items():
            cell = cells.nth(code_cells.index(grade_id))
            cell.scroll_into_view_if_needed()
            expect(cell).to_contain_text(code.splitlines()[0], timeout=90_000)
            cell.locator(".cm-content").click()
            self.page.keyboard.press("Control+a")
            self.page.keyboard.insert_text(code)  # one input event: no typing delay, no auto-indent
            self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        saved = self.page.locator(".lm-TabBar-tab.jp-mod-current")
        expect(saved).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"), timeout=60_000)

    def validate(self, panel) -> str:
        """The notebook toolbar's Validate (nbgrader's button): the report it shows."""
        panel.locator("jp-button.validate-button").click()
        results = self.page.locator(".jp-Dialog", has_text="Validation Results")
        results.wait_for(timeout=240_000)
        report = results.inner_text()
        results.get_by_role("button", name="Ok").click()
        return report

    def submit(self, assignment: str = "ch01") -> None:
        open_nbgrader(self.page, "Assignment List")
        self._fetched(assignment).get_by_role("button", name="Submit").click()
        self._submitted(assignment).wait_for()

    def _submitted(self, assignment: str):
        return self.page.locator("#submitted_assignments_list .list_item", has_text=assignment).first

    def feedback_score(self, assignment: str = "ch01") -> tuple[float, float]:
        """Fetch Feedback in the panel, follow its link, open the feedback page: its score."""
        open_nbgrader(self.page, "Assignment List")
        submitted = self._submitted(assignment)
        submitted.get_by_role("button", name="Fetch Feedback").click()
        submitted.get_by_text("(view feedback)").click()  # the file browser goes to the feedback
        self.page.locator(".jp-DirListing-itemText", has_text=f"{assignment}.html").dblclick()
        shown = self.page.frame_locator(".jp-HTMLViewer:visible iframe")  # JupyterLab's HTML viewer
        title = shown.get_by_text(re.compile(r"Score:\s*[\d.]+\s*/")).first.inner_text()
        return tuple(map(float, re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", title).groups()))


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("the hub creates Unix accounts: run as root")
    running = ClassHub(["a", "b", "c"])
    try:
        running.start()
        yield running
    finally:
        running.close()


def _solution_cells() -> dict[str, nbformat.NotebookNode]:
    """The ch01 instructor notebook's graded cells, by grade id."""
    source = nbformat.read(COURSE_ROOT / "solutions" / "ch01" / "ch01.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in source.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")}


def _answers(right: bool) -> dict[str, str]:
    answers = {}
    for grade_id, cell in _solution_cells().items():
        if cell.metadata["nbgrader"].get("solution") and cell.cell_type == "code":
            answers[grade_id] = cell.source if right else "raise NotImplementedError()"
    return answers


def _answer_as_typed(grade_id: str) -> str:
    """The right answer to one task as a learner types it: the solution without nbgrader's markers."""
    source = _solution_cells()[grade_id].source
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


# The learner in Chromium answers four tasks right and task project wrong, with the
# classic slip of dividing by |onto| instead of |onto|^2 (the check names it).
# The first learner on the API also shows the instructor some HTML of their own, with a
# script and an event handler in it: the formgrader shows it with neither running.
SHOWN_HTML = ("<b id='shown'>learner's bold</b><script>document.body.dataset.ran = 'script'</script>"
              "<img src=x onerror=\"document.body.dataset.ran = 'onerror'\">")
SHOWS_HTML = f"from IPython.display import HTML, display\ndisplay(HTML({SHOWN_HTML!r}))\n"

PROJECT_DIVIDED_BY_LENGTH = (
    "def project(a, onto):\n"
    '    """Return the vector projection of a onto the direction of onto."""\n'
    "    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)\n"
    "    return float(a @ onto) / np.linalg.norm(onto) * onto\n")


def test_the_guides_hub_recipe_is_the_one_tested():
    """The guide's step 1 starts the hub as the fixture does; steps 2 and 3 are the term's loop."""
    start, release, after_deadline = guide_steps()
    assert start == ["install -d -m 1777 /srv/nbgrader/exchange", "make hub"]
    recipe = (COURSE_ROOT / "Makefile").read_text().split("\nhub:", 1)[1].split("\n\n", 1)[0]
    assert "hub/course_hub.py start" in recipe  # what ClassHub.start runs
    assert [shlex.split(c)[1] for c in release] == ["generate_assignment", "release_assignment"]
    assert [shlex.split(c)[-2] for c in after_deadline] == [
        "collect", "dotlab.grading.grade_class", "generate_feedback", "release_feedback"]


@dataclass
class Term:
    expected: dict[str, float]  # each learner's score, from the points of the tasks they got right
    scores: dict[str, tuple[float, float]]  # (score, out of) as each learner's feedback shows it
    validation: str  # the report the learner in Chromium saw on Validate


@pytest.fixture(scope="module")
def term(hub, tmp_path_factory):
    """The term's loop, once for the module: two learners on their server's API, one in Chromium."""
    from playwright.sync_api import sync_playwright

    from browser.site import launch

    home = Path(pwd.getpwnam(hub.instructor).pw_dir)
    course = home / "course"
    course.mkdir()
    shutil.copytree(COURSE_ROOT / "solutions" / "ch01", course / "solutions" / "ch01")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    subprocess.run(["chown", "-R", f"{hub.instructor}:", str(course)], check=True)
    _, release, after_deadline = guide_steps()
    for command in release:  # the guide's step 2
        hub.as_instructor(*shlex.split(command))

    points = {grade_id[len("test_"):]: float(cell.metadata["nbgrader"]["points"])
              for grade_id, cell in _solution_cells().items() if cell.metadata["nbgrader"].get("grade")}
    right = {hub.learners[0]: True, hub.learners[1]: False}
    expected = {name: sum(points.values()) if ok else 0.0 for name, ok in right.items()}
    in_browser = hub.learners[2]
    typed = {task: _answer_as_typed(task) for task in points if task != "project"}
    typed["project"] = PROJECT_DIVIDED_BY_LENGTH
    expected[in_browser] = sum(points[task] for task in typed if task != "project")

    scores = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            learner = BrowserLearner(hub, in_browser, page)
            learner.log_in()
            learner.fetch()
            notebook = learner.open_notebook()
            code_cells = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nbformat.read(
                COURSE_ROOT / "solutions" / "ch01" / "ch01.ipynb", as_version=4).cells if cell.cell_type == "code"]
            learner.type_answers(notebook, typed, code_cells)
            validation = learner.validate(notebook)
            learner.submit()

            api = {name: Learner(hub, name) for name in right}
            for name, other in api.items():
                other.log_in()
                listed = other.assignments()
                assert [(a["assignment_id"], a["status"]) for a in listed] == [("ch01", "released")]
                other.act("fetch")
                nb = nbformat.from_dict(other.read("ch01/ch01.ipynb").json()["content"])
                for cell in nb.cells:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    cell.source = _answers(right[name]).get(grade_id, cell.source)
                    if name == hub.learners[0] and grade_id == "dot_loop":
                        cell.source = SHOWS_HTML + cell.source
                other.write_notebook("ch01/ch01.ipynb", nb)
                statuses = {a["status"] for a in other.act("submit")["value"]}
                assert "submitted" in statuses, statuses

            for command in after_deadline:  # the guide's step 3
                hub.as_instructor(*shlex.split(command))

            for name, other in api.items():
                other.act("fetch_feedback")
                folder = other.read("ch01/feedback").json()["content"]
                (stamp,) = [item["name"] for item in folder]
                html = other.read(f"ch01/feedback/{stamp}/ch01.html").json()["content"]
                scores[name] = tuple(map(float, re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html).groups()))
            scores[in_browser] = learner.feedback_score()
        except Exception as error:  # what the browser showed, for whoever reads the failure
            shot = tmp_path_factory.mktemp("hub-browser") / "learner.png"
            page.screenshot(path=shot, full_page=True)
            raise AssertionError(f"the term failed; the learner's browser at that moment: {shot}") from error
        finally:
            browser.close()
    return Term(expected, scores, validation)


@needs_root
def test_a_term_through_the_hub(hub, term):
    """Release, fetch, submit, collect, grade_class, feedback: each learner sees their own score."""
    assert set(term.scores) == set(hub.learners)
    for name, (score, top) in term.scores.items():
        assert top == 10.0 and score == term.expected[name], (name, score, top, term.expected[name])


@needs_root
def test_the_learner_in_chromium_validated_in_jupyterlab(hub, term):
    """Validate, in the notebook they typed in, showed the one task they got wrong, and why."""
    report = term.validation
    assert report.count("The following cell failed") == 1, report
    assert "ch01.check_project(project)" in report and "CheckFailure" in report, report
    for right in ("dot_loop", "dot", "norm", "angle_between"):
        assert f"check_{right}(" not in report, report


def _as_learner(hub: ClassHub, name: str, *command: str, **env: str) -> subprocess.CompletedProcess:
    """A command in the learner's place, as in a terminal of their own hub server."""
    home = pwd.getpwnam(name).pw_dir
    base = {"HOME": home, "USER": name, "LOGNAME": name, "JUPYTERHUB_USER": name,
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(hub.state / "jupyter" / "learner")}
    return subprocess.run([shutil.which("runuser"), "-u", name, "--", *command], cwd=home,
                          env={**base, **env}, capture_output=True, text=True)


@needs_root
def test_the_formgrader_shows_the_class_inside_jupyterlab(hub, term):
    """JupyterHub 4.1+ forbids framing a user's server, which left JupyterLab's Formgrader
    panel blank (nbgrader #1870). The instructor's server lets its own origin frame the
    formgrader's pages only (hub/formgrader_frame.py): in the panel the instructor sees
    ch01, every learner's submission and score, and a submission's notebook, where a
    learner's HTML shows without its scripts; JupyterLab and the APIs stay unframeable."""
    from playwright.sync_api import sync_playwright

    from browser.site import launch

    server = f"{hub.url}/user/{hub.instructor}"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(90_000)
            log_in_in_chromium(page, hub, hub.instructor)
            framing = {}
            for path in ("formgrader/manage_assignments", "lab", "api/contents", "formgraderx"):
                policy = page.request.get(f"{server}/{path}").headers.get("content-security-policy", "")
                framing[path] = re.findall(r"frame-ancestors [^;]*", policy)
            assert framing == {"formgrader/manage_assignments": ["frame-ancestors 'self'"],
                               "lab": ["frame-ancestors 'none'"], "api/contents": ["frame-ancestors 'none'"],
                               "formgraderx": ["frame-ancestors 'none'"]}, framing

            open_nbgrader(page, "Formgrader")
            panel = page.frame_locator(".jp-MainAreaWidget:visible iframe[src*='/formgrader']")
            row = panel.locator("tr", has=panel.get_by_role("link", name="ch01", exact=True)).first
            assert row.locator("td.num-submissions").inner_text().strip() == str(len(hub.learners))
            row.locator("td.num-submissions a").click()
            for name in hub.learners:
                submission = panel.locator("tr", has_text=name).first
                score, top = term.scores[name]
                assert re.search(rf"\b{score:g} / {top:g}\b", submission.inner_text()), submission.inner_text()
            # one learner's submission itself: the answer they typed in Chromium, wrong task 1.5 and all
            panel.locator("tr", has_text=hub.learners[2]).first.locator("td.student-name a").click()
            panel.locator("td.name a", has_text="ch01").first.click()
            answer = panel.locator("pre", has_text="np.linalg.norm(onto)").first.inner_text()
            assert "def project(a, onto):" in answer, answer
            # another's, whose HTML output carries a script: shown, and nothing of it runs
            framed = page.frame(url=re.compile(r"/formgrader/"))
            framed.goto(f"{server}/formgrader/manage_students/{hub.learners[0]}/ch01")
            framed.locator("td.name a", has_text="ch01").first.click()
            framed.locator("b", has_text="learner's bold").first.wait_for()
            page.wait_for_timeout(1000)  # time for a script or an image's error to run, were they kept
            for document in (framed, page):
                assert document.evaluate("document.body.dataset.ran") is None

            # The guide's other route, which needs no framing: the same page in a tab of its own.
            page.goto(f"{server}/formgrader/manage_submissions/ch01")
            for name in hub.learners:
                page.locator("tr", has_text=name).first.wait_for()
        finally:
            browser.close()


@pytest.mark.parametrize("path, framed", [
    ("/user/ann/formgrader", True), ("/user/ann/formgrader/manage_submissions/ch01", True),
    ("/user/ann/formgraders", False), ("/user/ann/lab", False), ("/user/ann/api/contents/formgrader", False),
    ("/user/bob/formgrader", False),
])
def test_only_the_formgrader_pages_may_be_framed_and_only_by_their_origin(path, framed):
    """hub/formgrader_frame.py changes the frame-ancestors directive of ann's formgrader only, and keeps the rest."""
    from tornado.httputil import HTTPHeaders

    import formgrader_frame

    transform = formgrader_frame.formgrader_transform("/user/ann/")(SimpleNamespace(path=path))
    headers = HTTPHeaders({"Content-Security-Policy": "frame-ancestors 'none'; default-src 'none'"})
    _, headers, _ = transform.transform_first_chunk(200, headers, b"", True)
    expected = "frame-ancestors 'self'; default-src 'none'" if framed else "frame-ancestors 'none'; default-src 'none'"
    assert headers["Content-Security-Policy"] == expected


@needs_root
def test_a_learner_reads_nothing_of_the_others_nor_the_instructors(hub, term):
    """After the term: homes, the exchange's submissions and feedback, the instructor's course."""
    me, other = hub.learners[0], hub.learners[1]
    course = Path(pwd.getpwnam(hub.instructor).pw_dir) / "course"
    exchange = hub.exchange / COURSE
    assert (course / "gradebook.db").is_file() and any((exchange / "inbound").iterdir())
    private = [
        Path(pwd.getpwnam(other).pw_dir) / "ch01" / "ch01.ipynb",
        course / "solutions" / "ch01" / "ch01.ipynb", course / "gradebook.db", course / "nbgrader_config.py",
        hub.state / "private" / "jupyterhub.sqlite",
    ]
    for path in private:
        assert path.is_file(), path  # it is there: root reads it
        done = _as_learner(hub, me, "cat", str(path))
        assert done.returncode != 0 and "Permission denied" in done.stderr, path
    # nbgrader's exchange: inbound and feedback folders take files but cannot be listed,
    # so another learner's submission (named with 9 random bytes) and feedback (named by
    # its notebook's hash) cannot be found.
    for folder in (exchange / "inbound", exchange / "feedback", Path(pwd.getpwnam(other).pw_dir)):
        done = _as_learner(hub, me, "ls", str(folder))
        assert done.returncode != 0 and "Permission denied" in done.stderr, folder



@needs_root
def test_the_instructor_cannot_open_a_learners_server(hub, term):
    """The hub's instructor role sees the class but has no access:servers (hub/jupyterhub_config.py says why)."""
    instructor = Learner(hub, hub.instructor)
    instructor.log_in()  # their own server opens
    xsrf = instructor.http.cookies.get("_xsrf", path="/hub/")
    users = instructor.http.get(f"{hub.url}/hub/api/users", headers={"X-XSRFToken": xsrf}, timeout=60)
    assert users.status_code == 200 and set(hub.learners) <= {u["name"] for u in users.json()}, users.text
    page = instructor.http.get(f"{hub.url}/user/{hub.learners[0]}/lab", timeout=60)
    # the learner's server sends the browser to the hub, which refuses to sign them in there
    assert page.status_code == 403 and page.url.startswith(f"{hub.url}/hub/"), (page.status_code, page.url)


@needs_root
def test_a_submission_under_another_learners_name_is_not_collected(hub, term):
    """Learner 1 (who scored 0) submits as learner 0: the instructor still collects 0's own work."""
    forger, victim = hub.learners[1], hub.learners[0]
    course = Path(pwd.getpwnam(hub.instructor).pw_dir) / "course"
    genuine = (course / "submitted" / victim / "ch01" / "ch01.ipynb").read_text()
    # nbgrader submit takes the name to file under from its command line
    done = _as_learner(hub, forger, "nbgrader", "submit", "ch01", f"--CourseDirectory.student_id={victim}")
    assert done.returncode == 0, done.stderr
    forged = [p for p in (hub.exchange / COURSE / "inbound").iterdir() if p.stat().st_uid == pwd.getpwnam(forger).pw_uid
              and p.name.startswith(f"{victim}+")]
    assert len(forged) == 1  # nbgrader took the file under the victim's name
    collected = hub.as_instructor("nbgrader", "collect", "--update", "ch01")
    assert f"claims to be {victim}'s submission but is owned by {forger}" in collected.stdout + collected.stderr
    assert (course / "submitted" / victim / "ch01" / "ch01.ipynb").read_text() == genuine


@needs_root
def test_stopping_the_hub_leaves_nothing_running(hub, term):
    running = "\n".join(hub.leftovers())
    # what the check below looks for is found while the class is running
    assert "the hub" in running and "configurable-http-proxy" in running, running
    servers = [line for line in hub.leftovers() if "jupyterhub-singleuser" in line]
    for name in hub.learners:  # each learner's server runs as that learner's account
        assert any(f" uid={pwd.getpwnam(name).pw_uid} " in line for line in servers), running
    hub.stop()
    # a server's kernels (the Chromium learner left theirs running) end just after it:
    # give what is exiting a few seconds, then nothing may be left
    deadline = time.monotonic() + 15
    while hub.leftovers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert hub.leftovers() == []


# Bad input stops the setup with a message naming the problem, before anything is made.

def _settings(tmp_path, names: str, **changes) -> course_hub.Settings:
    (tmp_path / "learners.txt").write_text(names)
    exchange = tmp_path / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o1777)
    env = {"DOTLAB_HUB_LEARNERS": str(tmp_path / "learners.txt"), "DOTLAB_EXCHANGE_ROOT": str(exchange),
           "DOTLAB_HUB_STATE": str(tmp_path / "state"), "DOTLAB_HUB_INSTRUCTOR": f"{PREFIX}zi"}
    env.update(changes)
    return course_hub.Settings.from_environment(env)


@pytest.mark.parametrize("names, message", [
    ("ada\nalan\nada\n", "'ada' is listed twice (first on line 1)"),
    ("ada\nAlan Turing\n", "'Alan Turing' is not a valid account name"),
    ("ada\n../etc\n", "'../etc' is not a valid account name"),
    (f"ada\n{PREFIX}zi\n", "is the instructor's account, not a learner"),
    ("# nobody yet\n", "names no learner"),
])
def test_a_bad_learner_list_is_refused_by_line(tmp_path, names, message):
    with pytest.raises(course_hub.HubError, match=re.escape(message)) as error:
        _settings(tmp_path, names)
    assert "learners.txt:" in str(error.value) or "names no learner" in message


def test_a_missing_exchange_root_is_named_with_the_command_that_makes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    settings = _settings(tmp_path, "ada\n", DOTLAB_EXCHANGE_ROOT=str(tmp_path / "nowhere"))
    with pytest.raises(course_hub.HubError, match=re.escape(f"install -d -m 1777 {tmp_path / 'nowhere'}")):
        course_hub.check(settings)


def test_a_closed_exchange_root_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    settings = _settings(tmp_path, "ada\n")
    os.chmod(settings.exchange_root, 0o755)
    with pytest.raises(course_hub.HubError, match="has mode 755"):
        course_hub.check(settings)


def test_without_root_the_setup_says_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(course_hub.HubError, match=re.escape("run `sudo make hub`")):
        course_hub.check(_settings(tmp_path, "ada\n"))


def test_a_port_in_use_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(course_hub, "cannot_run_python", lambda name: None)  # this machine's Python aside
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = _settings(tmp_path, "ada\n", DOTLAB_HUB_API_PORT=str(port))
        with pytest.raises(course_hub.HubError, match=f"port {port} on 127.0.0.1 \\(DOTLAB_HUB_API_PORT\\) is in use"):
            course_hub.check(settings)


@pytest.fixture
def closed_python():
    """A stand-in interpreter at <scratch>/course/bin/python, with <scratch> open to all (as /tmp is)."""
    scratch = Path(tempfile.mkdtemp(prefix="dotlab-hub-python-"))
    os.chmod(scratch, 0o755)
    python = scratch / "course" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    os.chmod(python, 0o755)
    os.chmod(python.parent, 0o755)
    os.chmod(scratch / "course", 0o700)  # as root's home is
    yield python
    shutil.rmtree(scratch)


def test_an_account_that_cannot_run_the_python_is_told_which_folder_blocks_it(closed_python):
    needs = [(closed_python, 0o1)]
    course = closed_python.parent.parent
    message = course_hub.cannot_run_python(f"{PREFIX}new", needs)  # an account not made yet
    assert f"the account '{PREFIX}new' cannot pass through {course} (mode 700, owner root)" in message
    assert f"`chmod o+x {course}`" in message and "/opt or /srv" in message
    os.chmod(course, 0o711)  # passage, not listing, is what it needs
    assert course_hub.cannot_run_python(f"{PREFIX}new", needs) is None
    os.chmod(closed_python, 0o744)
    assert f"cannot run {closed_python} (mode 744" in course_hub.cannot_run_python(f"{PREFIX}new", needs)


def test_an_existing_account_may_pass_through_its_group(closed_python):
    """The kernel's rule: owner bits, else group bits for a member, else everyone's."""
    nobody = pwd.getpwnam("nobody")
    course = closed_python.parent.parent
    os.chown(course, 0, nobody.pw_gid)
    os.chmod(course, 0o710)
    needs = [(closed_python, 0o1)]
    assert course_hub.cannot_run_python("nobody", needs) is None
    assert f"cannot pass through {course}" in course_hub.cannot_run_python(f"{PREFIX}new", needs)


def test_the_tests_open_the_python_until_the_last_hub_closes(tmp_path, monkeypatch, closed_python):
    """ClassHub.open_python: two hubs at once (two workers), and the first to close leaves it open."""
    monkeypatch.setattr(sys.modules[__name__], "OPENING", tmp_path / "opening.json")
    monkeypatch.setattr(course_hub, "server_python", lambda: [(closed_python, 0o1)])
    course = closed_python.parent.parent
    hubs = [ClassHub.__new__(ClassHub) for _ in range(2)]  # their accounts and folders are not needed
    for hub in hubs:
        hub.instructor, hub.holds_python_open = f"{PREFIX}new", False
        hub.open_python()
    assert stat.S_IMODE(course.stat().st_mode) == 0o701
    hubs[0].close_python()
    assert stat.S_IMODE(course.stat().st_mode) == 0o701  # the other hub still runs
    hubs[1].close_python()
    assert stat.S_IMODE(course.stat().st_mode) == 0o700


def test_setup_stops_before_making_anything_when_learners_cannot_run_the_python(
        tmp_path, monkeypatch, capsys, closed_python):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(course_hub, "server_python", lambda: [(closed_python, 0o1)])
    settings = _settings(tmp_path, f"{PREFIX}zx\n")  # writes the list and the exchange
    for key, value in course_hub.environment(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DOTLAB_HUB_LEARNERS", str(tmp_path / "learners.txt"))
    assert course_hub.main(["setup"]) == 1
    error = capsys.readouterr().err
    assert f"cannot pass through {closed_python.parent.parent}" in error, error
    assert not course_hub._exists(f"{PREFIX}zx") and not course_hub._exists(f"{PREFIX}zi")
    assert not settings.state.exists()


@needs_root
def test_a_failed_setup_removes_the_accounts_it_made(tmp_path, monkeypatch):
    monkeypatch.setattr(course_hub, "check", lambda settings: None)
    settings = _settings(tmp_path, f"{PREFIX}zx\n{PREFIX}zy\n")

    def broken(settings):
        raise OSError("disk full")

    monkeypatch.setattr(course_hub, "_write_hub_files", broken)
    try:
        with pytest.raises(OSError, match="disk full"):
            course_hub.setup(settings)
        assert not any(course_hub._exists(n) for n in (f"{PREFIX}zi", f"{PREFIX}zx", f"{PREFIX}zy"))
        assert not any(Path("/home", n).exists() for n in (f"{PREFIX}zi", f"{PREFIX}zx", f"{PREFIX}zy"))
    finally:
        for name in (f"{PREFIX}zi", f"{PREFIX}zx", f"{PREFIX}zy"):
            subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)
