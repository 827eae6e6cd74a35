"""Hostile and broken submissions, graded for real: each earns only what it honestly earned.

The notebooks in tests/hostile/ (see tests/hostile/__init__.py for what each one does
and what stops it) are submitted with a few honest learners and graded in one batch by
the real ``nbgrader autograde``. Every test cell must score what the catalogue says, the
batch must finish, and the honest learners must score exactly what they score in a
batch of their own.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import socket
import threading

import nbformat
import pytest

from catalogue.ch01 import WRONG
from dotlab.grading import gradelog
from dotlab.grading import bubblewrap, confine
from grading import Course, Submission
from hostile import CATALOGUE, FUNCTIONS, PORT, build, path
from learner_processes import processes_with

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-hostile")]

# Short timeouts keep the batch quick; the course's own settings are 30 s per cell or call and
# 300 s per notebook. Every other hostile notebook runs its code for well under BUDGET seconds;
# slow_but_right's right answers would need about 270.
BUDGET = 45
# Submissions over 2 MB are refused here (the course reads up to 16 MiB): too_big is padded past it.
TIMEOUTS = ("--Execute.timeout=6", "--SandboxGrades.timeout=4", f"--GradingLimits.notebook_budget={BUDGET}",
            "--CappedNotebookExporter.max_bytes=2000000")
SIGNALS_SCOPED = confine.landlock_abi() >= 6
# `make test` installs bubblewrap: without it these tests fail (in the fixture), they never skip
SANDBOXED = bubblewrap.available() == ""


def _honest(course: Course) -> list[Submission]:
    right = course.solution_sources()
    first_wrong = {f: WRONG.for_target(f)[0].source for f in FUNCTIONS}
    return [
        Submission("honest_reference", dict(right)),
        Submission("honest_untouched"),
        Submission("honest_mistakes", {**right, "dot": first_wrong["dot"], "angle_between": first_wrong["angle_between"]}),
    ]


class _Listener:
    """A TCP server on 127.0.0.1, on a port the system picks, that counts who reaches it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.5)
        self.connections, self.open = 0, True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.open:
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.open = False
        self.thread.join()
        self.server.close()


def _entries():
    # the grader is outside the learner's PID namespace, or Landlock scopes signals: either keeps it alive
    return [e for e in CATALOGUE if SANDBOXED or SIGNALS_SCOPED or not e.needs_signal_scoping]


def _graded_entries():
    """The hostile learners who are graded (the others' notebooks are refused unread)."""
    return [e for e in _entries() if not e.refused]


def _submitted_text(entry, port: int) -> str:
    """The notebook as the learner hands it in: the committed one, broken here when the entry says so."""
    text = path(entry).read_text().replace(PORT, str(port)).replace(LATE_SWAP, _late_swap())
    nb = json.loads(text)
    if entry.oversize:  # the bulk is added here, not kept in git
        nb["cells"].append({"cell_type": "markdown", "id": "bulk", "metadata": {}, "source": "x" * entry.oversize})
    if entry.corrupt == "nbformat_5":
        nb["nbformat"] = 5
    if entry.corrupt == "source_not_text":
        answer = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "dot")
        answer["source"] = 12
    text = json.dumps(nb)
    return text[: len(text) // 2] if entry.corrupt == "not_json" else text


def _files(root) -> dict[str, tuple]:
    """Every file below ``root``: whether it is a link, its link count, mode and contents' hash."""
    found = {}
    for file in sorted(root.rglob("*")):
        info = file.lstat()
        if file.is_symlink() or file.is_file():
            found[str(file.relative_to(root))] = (file.is_symlink(), info.st_nlink, info.st_mode,
                                                  None if file.is_symlink() else hashlib.sha256(file.read_bytes()).hexdigest())
    return found


def _instructor_files(course: Course) -> dict:
    """What learner code must leave as it was: submissions, solutions, the configuration and the gradebook."""
    gradebook = (course.root / "gradebook.db").lstat()
    return {"submitted": _files(course.root / "submitted"), "solutions": _files(course.root / "solutions"),
            "config": _files(course.root)["nbgrader_config.py"],
            "gradebook": (gradebook.st_mode, gradebook.st_nlink, (course.root / "gradebook.db").is_symlink())}


LATE_SWAP = "dotlab-hostile-late-swap"  # in the command line of the late_swap learner's orphan


def _late_swap() -> str:
    """The orphan's marker in this run (another run's orphans on the same machine are not ours)."""
    return f"{LATE_SWAP}-{os.getpid()}"


_BEFORE: dict = {}  # the instructor's files before the hostile batch was graded
_SURVIVORS: list = []  # processes of the late_swap learner alive when grading returned


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    assert SANDBOXED, f"learner code must be graded in bubblewrap here ({bubblewrap.available()}): run make test"
    listener = _Listener()  # binds a port the system picks: nothing to be taken by another test
    try:
        course = Course(tmp_path_factory.mktemp("hostile"), "ch01")
        for sub in _honest(course):
            course.submit(sub)
        for entry in _entries():
            folder = course.root / "submitted" / entry.name / "ch01"
            folder.mkdir(parents=True)
            (folder / "ch01.ipynb").write_text(_submitted_text(entry, listener.port))
        _BEFORE.update(_instructor_files(course))
        # nbgrader exits with 1 when it could not grade a learner (too_big): the log says who and why
        log = course.autograde(*TIMEOUTS, check=False)
        _SURVIVORS[:] = processes_with(_late_swap())  # right when grading returns
    finally:
        listener.close()
    alone = Course(tmp_path_factory.mktemp("honest"), "ch01")
    for sub in _honest(alone):
        alone.submit(sub)
    alone.autograde(*TIMEOUTS)
    return course, alone, log, listener


@pytest.mark.parametrize("entry", _graded_entries(), ids=lambda e: e.name)
def test_each_hostile_notebook_earns_exactly_what_it_honestly_earned(graded, entry):
    course, _, log, _ = graded
    points = course.points()
    expected = {cell: entry.expected.get(cell, full) for cell, full in points.items()}
    assert course.cell_scores(entry.name) == expected, f"{entry.name}: {entry.attack}\n{log[-3000:]}"


def test_the_batch_finished_for_everyone(graded):
    course, _, log, _ = graded
    students = {sub.student for sub in _honest(course)} | {e.name for e in _graded_entries()}
    for student in students:
        assert (course.root / "autograded" / student / "ch01" / "ch01.ipynb").is_file(), student
    refused = {e.name for e in _entries() if e.refused}
    failures = re.findall(r"There was an error processing assignment '\w+' for student '(\w+)'", log)
    assert set(failures) == refused, failures  # only the notebooks nbgrader cannot read
    assert students | refused <= set(course.export())
    assert all(course.export()[name] == 0 and not (course.root / "autograded" / name).exists() for name in refused)


def test_honest_learners_score_the_same_with_or_without_hostile_classmates(graded):
    course, alone, _, _ = graded
    for sub in _honest(course):
        assert course.cell_scores(sub.student) == alone.cell_scores(sub.student), sub.student
    assert sum(course.cell_scores("honest_reference").values()) == 10


def test_no_learner_code_reached_the_network(graded):
    course, _, _, listener = graded
    assert listener.connections == 0
    autograded = (course.root / "autograded" / "network" / "ch01" / "ch01.ipynb").read_text()
    assert "network reachable: False" in autograded  # the kernel ran the cell and was refused


def test_no_learner_code_read_instructor_files_or_other_learners_work(graded):
    course, _, _, _ = graded
    nb = nbformat.read(course.root / "autograded" / "snoop_files" / "ch01" / "ch01.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "stole" in printed  # the kernel ran the attack...
    stolen = json.loads(printed.split("files:", 1)[1].split("\n", 1)[0].replace("'", '"'))
    own = str(course.root / "autograded" / "snoop_files")
    assert all(p.startswith(own) for p in stolen), stolen  # ...and found nothing but its own notebook
    from dotlab.checks import ch01

    assert "# tampered" not in open(ch01.__file__).read()


def test_huge_output_is_cut_before_it_reaches_the_gradebook_or_the_disk(graded):
    course, _, _, _ = graded
    size = (course.root / "autograded" / "huge_output" / "ch01" / "ch01.ipynb").stat().st_size
    assert size < 5 * 2**20


def test_a_process_that_ends_or_hangs_is_reported_not_fatal(graded):
    course, _, _, _ = graded
    exits = (course.root / "autograded" / "exits" / "ch01" / "ch01.ipynb").read_text()
    assert "the kernel died while running this cell" in exits
    assert "killed by SIGKILL" in exits and "exit status 0" in exits and "raised SystemExit" in exits
    loops = (course.root / "autograded" / "loops" / "ch01" / "ch01.ipynb").read_text()
    assert "did not finish within 4 s" in loops


def test_feedback_shows_the_checks_words_and_never_a_hidden_test_or_a_solution(feedback_pages):
    _, generated = feedback_pages
    pages = {student: html.unescape(page) for student, page in generated.items()}
    for student, page in pages.items():
        assert "HIDDEN TESTS" not in page and "hidden=True" not in page, student
        assert "most recent call last" not in page, student
        if student in {e.name for e in CATALOGUE}:
            assert "BEGIN SOLUTION" not in page, student  # only the instructor's notebook has these
    assert "which this exercise asks you not to use" in pages["forbidden"]
    assert "returned 0.0, expected 10.0" in pages["tamper"]


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_committed_notebooks_are_what_the_catalogue_builds(entry):
    committed = json.loads(path(entry).read_text())
    assert committed == json.loads(nbformat.writes(build(entry))), "run: .venv/bin/python tests/hostile/__init__.py"


def test_the_grader_cannot_be_signalled_from_learner_code():
    """Said out loud: the kill_grader notebook is graded (bubblewrap's PID namespace, or Landlock's signal scoping)."""
    assert SANDBOXED or SIGNALS_SCOPED, "learner code could signal the grader here: install bubblewrap (make test)"
    assert any(e.needs_signal_scoping for e in _entries())


def test_nothing_a_learner_started_outlived_grading(graded):
    course, _, _, _ = graded
    autograded = course.root / "autograded" / "late_swap" / "ch01" / "ch01.ipynb"
    assert "orphan running" in autograded.read_text()  # the kernel started it, setsid and all...
    assert _SURVIVORS == [] and processes_with(_late_swap()) == []  # ...and it died with its notebook
    assert not autograded.is_symlink() and "BEGIN SOLUTION" not in autograded.read_text()


def test_no_link_a_learner_made_reached_the_graders_files(graded):
    course, _, _, _ = graded
    for student in ("symlinks", "hardlinks"):
        printed = (course.root / "autograded" / student / "ch01" / "ch01.ipynb").read_text()
        assert "links made: []" in printed, student  # the kernel ran the attack, and made no link
    for name, (is_link, links, _, _) in _files(course.root / "autograded").items():
        assert not is_link and links == 1, name  # no symlink, no hard link in what nbgrader wrote and chmods
    after = _instructor_files(course)
    for what in ("submitted", "solutions", "config"):
        assert after[what] == _BEFORE[what], what  # not overwritten, relinked or chmodded through a link
    assert after["gradebook"] == _BEFORE["gradebook"]  # still writable, one link, not a symlink


# -- every exception costs one cell; feedback is safe to open; a budget per notebook; tripwires ----

@pytest.fixture(scope="module")
def feedback_pages(graded):
    course, _, _, _ = graded
    return course.root, course.feedback()


def test_answers_that_raise_exits_cost_their_own_cells_only(graded):
    course, _, log, _ = graded
    assert course.cell_scores("exit_answers")["test_project"] == course.points()["test_project"]
    text = (course.root / "autograded" / "exit_answers" / "ch01" / "ch01.ipynb").read_text()
    assert "which is not a number or array of numbers" in text  # what the checks said of the objects
    assert "SystemExit" not in log and "KeyboardInterrupt" not in log  # nothing of theirs reached the grader


def test_no_learner_script_runs_when_an_instructor_opens_a_feedback_page(feedback_pages):
    from browser.site import CHROMIUM, launch
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    root, pages = feedback_pages
    assert "pwned-html" in html.unescape(pages["feedback_scripts"])  # the attacks are in the page, as text
    page_file = root / "feedback" / "feedback_scripts" / "ch01" / "ch01.html"
    assert (root / "feedback").is_dir() and page_file.is_file() and __import__("os").path.exists(CHROMIUM)
    requests = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                       else (requests.append(route.request.url), route.abort()))
            page.goto(page_file.as_uri(), wait_until="load")
            for element in page.locator("#notebook a:visible, #notebook b:visible, #notebook button:visible").all():
                try:  # hover and click what an instructor might
                    element.hover(timeout=1000)
                    element.click(timeout=1000, no_wait_after=True)
                except PlaywrightError:
                    pass
            page.wait_for_timeout(500)
            title = page.title()
        finally:
            browser.close()
    assert title == "ch01", title  # every attack sets the title to pwned-...
    assert not [url for url in requests if "127.0.0.1:9" in url], requests  # and none fetched anything


def test_a_notebook_that_runs_out_of_time_scores_zero_for_the_rest_and_says_why(graded):
    course, _, _, _ = graded
    nb = nbformat.read(course.root / "autograded" / "slow_but_right" / "ch01" / "ch01.ipynb", as_version=4)
    errors = {c.metadata.get("nbgrader", {}).get("grade_id"): [o.get("ename") for o in c.outputs if o.output_type == "error"]
              for c in nb.cells if c.cell_type == "code"}
    assert errors["test_dot_loop"] == []  # graded before the budget ran out
    assert errors["test_dot"] == ["CellTimeoutError"]  # stopped when it ran out
    assert all(errors[f"test_{f}"] == ["TimeBudgetExceeded"] for f in ("norm", "angle_between", "project"))
    assert f"time budget ({BUDGET} s" in nbformat.writes(nb)
    record = gradelog.read_all(course.root, "ch01")["slow_but_right"]
    assert any(flag.what == "budget" for flag in record.flags)


def test_suspect_constructs_are_in_the_grading_record_with_their_cell(graded):
    course, _, _, _ = graded
    records = gradelog.read_all(course.root, "ch01")
    flags = [(f.what, f.detail, f.cell) for f in records["tripwires"].flags]
    assert any(what == "suspect construct" and detail.startswith("gc.get_objects") for what, detail, _ in flags), flags
    assert any(detail.startswith("sys.setprofile") for _, detail, _ in flags), flags
    assert all(cell for _, _, cell in flags)  # each names its cell
    for sub in ("honest_reference", "honest_untouched", "honest_mistakes"):
        assert records[sub].flags == [], sub  # honest learners are never flagged


# -- resources no timeout should have to stop; the kernel's protocol; nbgrader's metadata ----------

def _printed(course, student: str) -> str:
    nb = nbformat.read(course.root / "autograded" / student / "ch01" / "ch01.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _count(printed: str, label: str) -> int:
    return int(printed.split(label, 1)[1].split()[0])


def test_fork_thread_and_descriptor_bombs_stop_at_their_caps(graded):
    course, _, _, _ = graded
    printed = _printed(course, "bombs")
    # the kernel has threads of its own under the same cap of 64 tasks, so the bomb gets fewer; without the
    # cap each would have stopped itself at 300
    assert 0 < _count(printed, "processes started:") < 64 and 0 < _count(printed, "threads started:") < 64
    assert 0 < _count(printed, "descriptors opened:") < 1024


def test_memory_outside_the_address_space_is_refused(graded):
    course, _, _, _ = graded
    printed = _printed(course, "hidden_memory")
    for what in ("System V shared memory MiB: 0", "memfd MiB: 0", "/dev/shm MiB: 0"):
        assert what in printed, printed[-500:]


def test_forged_kernel_messages_are_dropped_and_the_instructor_told(graded):
    course, _, log, _ = graded
    assert "forged: ['execute_result'" in _printed(course, "forged_messages")  # the attack ran
    flags = gradelog.read_all(course.root, "ch01")["forged_messages"].flags
    protocol = [f.detail for f in flags if f.what == "kernel protocol"]
    assert protocol and "6 malformed message(s)" in protocol[0], flags
    assert 'stream: content["text"] is a int' in protocol[0]


def test_tampered_nbgrader_metadata_neither_fails_the_submission_nor_adds_points(graded):
    course, _, log, _ = graded
    assert set(course.cell_scores("metadata_tricks")) == set(course.points())  # no cell it made up is graded
    assert course.export()["metadata_tricks"] <= sum(course.points().values())
    nb = nbformat.read(course.root / "autograded" / "metadata_tricks" / "ch01" / "ch01.ipynb", as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert cells["test_dot"].cell_type == "code" and nb.metadata.kernelspec.name == "python3"
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells].count("test_norm") == 1


def test_a_notebook_too_large_to_read_is_refused_unread_and_the_instructor_told_why(graded):
    course, _, log, _ = graded
    assert re.search(r"too_big/ch01/ch01\.ipynb is \d+\.\d MiB, more than the 1\.9 MiB the grader reads", log), log[-3000:]
    assert not (course.root / "autograded" / "too_big").exists()
    assert course.export()["too_big"] == 0


def test_notebooks_nbgrader_cannot_read_are_reported_with_the_reason(graded):
    _, _, log, _ = graded
    for reason in ("NotJSONError", "Unsupported nbformat version 5", "12 is not valid under any of the given schemas"):
        assert reason in log, reason


def test_a_cell_too_deep_for_pythons_parser_fails_alone(graded):
    course, _, _, _ = graded
    text = (course.root / "autograded" / "deep_source" / "ch01" / "ch01.ipynb").read_text()
    assert "nested too deeply for Python to read" in text  # that cell's error, as a compile error...
    assert "KernelStopped" not in text and "CellTimeoutError" not in text  # ...and the kernel ran the rest
