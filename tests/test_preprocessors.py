"""The confined kernel nbgrader grades in: its sandbox, its start (again, when a start fails), its end."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
import threading

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient
from nbformat.v4 import new_code_cell, new_notebook

from dotlab.grading.preprocessors import ConfinedExecute, ConfinedKernelClient, ConfinedKernelManager
from learner_processes import orphan_cell, processes_with


def test_a_kernel_that_never_answers_is_replaced_and_the_notebook_still_runs(monkeypatch, tmp_path, caplog):
    answered = AsyncKernelClient.wait_for_ready
    attempts = []

    async def first_start_fails(self, timeout=None):
        attempts.append(timeout)
        if len(attempts) == 1:  # as when another process took one of the kernel's ports
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        return await answered(self, timeout=timeout)

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", first_start_fails)
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    with caplog.at_level(logging.WARNING):
        nb, _ = ConfinedExecute(timeout=30).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})
    assert len(attempts) == 2
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert "starting a new one" in caplog.text


def test_a_kernel_that_never_answers_twice_is_reported(monkeypatch, tmp_path):
    async def never(self, timeout=None):
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", never)
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    with pytest.raises(RuntimeError, match="didn't respond"):  # nbgrader reports it; the batch goes on
        ConfinedExecute(timeout=30).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})


def test_starting_and_at_once_stopping_a_client_leaves_no_thread_or_socket_behind(tmp_path):
    """jupyter_client's heartbeat thread sets ``_running`` after making its socket, so a
    ``stop_channels()`` right after ``start_channels()`` (a kernel that died at start-up)
    could be forgotten, and the thread reopen sockets until "Too many open files". The
    grader's client runs no heartbeat (its manager watches the kernel's process): the
    sequence that failed 7 times in 20 leaves nothing behind in 50."""
    km = ConfinedKernelManager()
    km._dotlab_folders()
    try:
        km.write_connection_file()
        threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
        for _ in range(50):
            kc = km.client()
            assert isinstance(kc, ConfinedKernelClient)
            kc.start_channels()
            kc.stop_channels()
            assert kc._hb_channel is None or not kc._hb_channel.is_alive()
        assert threading.active_count() == threads
        assert len(os.listdir("/proc/self/fd")) <= fds + 2  # zmq's context may keep a descriptor or two
    finally:
        km.cleanup_connection_file()
        shutil.rmtree(km._dotlab_home, ignore_errors=True)


def test_a_kernel_that_dies_at_start_up_is_reported_and_leaves_no_thread_behind(monkeypatch, tmp_path):
    original = ConfinedKernelManager.format_kernel_cmd

    def dying(self, extra_arguments=None):  # the same sandbox and confinement, then a kernel that exits at once
        command = original(self, extra_arguments)
        return command[: len(command) - command[::-1].index("--")] + [sys.executable, "-c", "raise SystemExit(3)"]

    monkeypatch.setattr(ConfinedKernelManager, "format_kernel_cmd", dying)
    monkeypatch.chdir(tmp_path)
    threads = threading.active_count()
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    with pytest.raises(RuntimeError, match="died before replying"):
        ConfinedExecute(timeout=30).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})
    assert threading.active_count() == threads


def _run(tmp_path, *sources: str, **settings):
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    (tmp_path / "ch01.ipynb").write_text("the learner's graded notebook")
    nb, _ = ConfinedExecute(timeout=30, **settings).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})
    return ["".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs) for cell in nb.cells]


def test_nothing_a_learner_starts_in_the_kernel_outlives_grading(monkeypatch, tmp_path):
    marker = f"dotlab-orphan-kernel-{os.getpid()}"
    monkeypatch.chdir(tmp_path)
    (printed,) = _run(tmp_path, orphan_cell(marker))
    assert "orphan running" in printed  # it was started, setsid and all...
    assert processes_with(marker) == []  # ...and is gone when grading returns


def test_the_kernel_runs_unprivileged_in_its_own_namespaces_and_scratch_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    grader = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "ipc", "mnt", "user", "uts")}
    (printed,) = _run(tmp_path, f'''
import json, os
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
seen = {{"uid": os.getuid(), "cap": int(status["CapEff"], 16), "cwd": os.getcwd(),
        "ns": {{ns: os.readlink(f"/proc/self/ns/{{ns}}") for ns in {list(grader)!r}}}}}
try:
    os.symlink("/etc/passwd", "link")
    seen["symlink"] = "made"
except OSError as exc:
    seen["symlink"] = exc.errno
try:
    open({str(tmp_path / "ch01.ipynb")!r}, "w")
    seen["notebook"] = "writable"
except OSError as exc:
    seen["notebook"] = exc.errno
try:
    with open("big", "wb") as handle:
        for _ in range(32):
            handle.write(b"x" * 2**20)
            handle.flush()
    seen["disk"] = "32 MiB written"
except OSError as exc:
    seen["disk"] = exc.errno
print(json.dumps(seen))
''', disk_limit=8 * 2**20)
    seen = json.loads(printed)
    assert seen["uid"] == 65534 and seen["cap"] == 0 and seen["cwd"] == "/scratch"
    assert all(seen["ns"][ns] != grader[ns] for ns in grader), seen["ns"]
    assert seen["symlink"] == errno.EACCES
    assert seen["notebook"] in (errno.ENOENT, errno.EACCES)  # its autograded/ folder is not in its view
    assert seen["disk"] == errno.ENOSPC
    assert (tmp_path / "ch01.ipynb").read_text() == "the learner's graded notebook"


def test_without_bubblewrap_grading_still_works_and_says_what_is_not_enforced(monkeypatch, tmp_path):
    from dotlab.grading import bubblewrap, confine

    monkeypatch.setattr(bubblewrap, "available", lambda: "bwrap is not installed (as on macOS)")
    monkeypatch.chdir(tmp_path)
    (printed,) = _run(tmp_path, "import os\nprint(6 * 7, os.getcwd() != '/scratch')")
    assert printed == "42 True\n"  # graded, in a scratch folder on the host
    described = "\n".join(confine.describe())
    assert "no bubblewrap sandbox: bwrap is not installed" in described
    assert "NOT enforced: processes a learner starts may outlive grading" in described
