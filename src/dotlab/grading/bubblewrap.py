"""The outer wall around learner code: Debian's bubblewrap (``bwrap``), the sandbox Flatpak uses.

Every process that runs a learner's code (the Jupyter kernel nbgrader starts, and the
sandbox's replay of the notebook) is started by :func:`command` inside namespaces of its
own. What it gets:

- its own PID namespace, torn down with it: whatever it starts (a double fork, ``setsid``)
  dies when it does, before grading returns (:func:`tear_down` waits for that);
- its own network (only a loopback), IPC, UTS and cgroup namespaces, and its own user
  namespace, as uid 65534 with no capabilities. When the grader runs as root, bwrap drops
  to that uid on the host too (``setpriv``), so learner code is never root anywhere (bwrap's
  own reaper, the kernel's PID 1, stays root: learner code, another uid without
  capabilities, can neither signal nor trace it);
- its own mount namespace: a read-only view of Python, its packages and system files
  (never the course's solutions, submissions, gradebook or configuration), a private
  ``/proc`` and ``/dev``, and one writable folder, ``/scratch``, a size-limited tmpfs that
  disappears with it and that the grader never reads back.

Why bubblewrap: it is maintained (Flatpak and GNOME depend on it), packaged by Debian,
needs no daemon, configuration file or privileges, and each guarantee above is one of its
options. nsjail would also do (it adds seccomp policies and cgroup limits), but it is not
packaged by Debian 12, needs a protobuf configuration, and its cgroup limits need a
delegated cgroup tree we do not have in CI; the hand-written ``unshare --net`` it replaces
gave one namespace of five. Landlock (:mod:`dotlab.grading.confine`) stays inside as a
second layer: it forbids symlinks, hard links across folders and special files even in
``/scratch``, and works where bwrap cannot run.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["SANDBOX_UID", "SCRATCH", "Launched", "available", "command", "describe", "started", "tear_down"]

SANDBOX_UID = 65534  # "nobody": owns no file on the machine
SCRATCH = "/scratch"  # learner code's only writable folder, inside the sandbox
_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/localtime")  # merged /usr on Debian
_NOT_BOUND = ("/proc", "/dev")  # bwrap mounts its own


@lru_cache(maxsize=1)
def _bwrap() -> str | None:
    return shutil.which("bwrap")


@lru_cache(maxsize=1)
def available() -> str:
    """'' where bwrap can build a sandbox here, else why it cannot (for logs and ``--describe``)."""
    bwrap = _bwrap()
    if bwrap is None:
        return "bwrap is not installed (Debian: apt-get install bubblewrap; `make test` installs it)"
    probe = command(read=["/usr", "/bin", "/lib", "/lib64"], scratch_size=2**20)
    try:
        result = subprocess.run([*probe, "/bin/true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not run: {exc}"
    if result.returncode != 0:
        return f"bwrap cannot create namespaces here: {result.stderr.strip()[:300]}"
    return ""


def _as_root() -> bool:
    return os.geteuid() == 0


def _drop_privileges() -> list[str]:
    """Run as root, bwrap keeps root; become uid 65534 with no capabilities, then enter a user namespace."""
    uid = str(SANDBOX_UID)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--",
            "unshare", "--user", f"--map-user={uid}", f"--map-group={uid}", "--"]


def command(*, read: list[str], scratch_size: int, sockets: str | None = None, info_fd: int | None = None,
            as_pid_1: bool = False) -> list[str]:
    """The prefix that runs a command in a new sandbox.

    ``read`` are host paths shown read-only at the same place; ``scratch_size`` bytes of
    tmpfs at :data:`SCRATCH` is all learner code may write; ``sockets`` is a host folder
    shown writable at the same place (the kernel's ZeroMQ sockets, made by Landlock the
    only thing it may create there). bwrap writes the sandbox's first process id to
    ``info_fd`` (see :func:`started`). ``as_pid_1`` makes the command itself the
    namespace's PID 1, which nothing inside can kill (the kernel delivers no signal to it
    from its own namespace that it does not handle): a learner's function that kills its
    parent cannot end the notebook's process under the other functions. Its orphans are
    still killed with it.
    """
    args = [_bwrap() or "bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev"]
    if not _as_root():
        # unprivileged, bwrap makes the user namespace itself and maps uid 65534 to the grader's uid
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL"]
    args += _shown(read, [sockets] if sockets else [])
    for link in _LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    # world-writable (and sticky): bwrap makes the tmpfs as its own uid, learner code runs as 65534,
    # and no other user is inside
    args += ["--perms", "1777", "--size", str(int(scratch_size)), "--tmpfs", SCRATCH]
    args += ["--chdir", SCRATCH]
    if as_pid_1:
        args.append("--as-pid-1")
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    args.append("--")
    if _as_root():
        args += _drop_privileges()
    return args


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _shown(read: list[str], writable: list[str]) -> list[str]:
    """bwrap options showing ``read`` (read-only) and ``writable`` at their own places.

    The folders above them are made traversable (0711: no listing): bwrap would otherwise
    copy the host's modes, and Python under ``/root`` (0700) could not be run as uid 65534.
    """
    bound: list[str] = []
    for path in sorted({os.path.realpath(p) for p in read}, key=lambda p: (p.count("/"), p)):
        if (os.path.exists(path) and not any(_under(path, top) for top in _NOT_BOUND)
                and not any(_under(path, b) for b in bound)):
            bound.append(path)  # a folder inside one already shown needs no bind of its own
    writable = [os.path.realpath(p) for p in writable]
    above = sorted({str(a) for p in [*bound, *writable] for a in Path(p).parents if str(a) != "/"},
                   key=lambda p: (p.count("/"), p))
    args = []
    for folder in above:
        if folder not in ("", "/") and not any(_under(folder, b) for b in bound):
            args += ["--perms", "0711", "--dir", folder]
    for path in bound:
        args += ["--ro-bind", path, path]
    for path in writable:
        args += ["--bind", path, path]
    return args


@dataclass
class Launched:
    """A sandbox being started: the pipe bwrap writes its first process's id to."""

    read_fd: int
    write_fd: int
    pidfd: int | None = None  # of the sandbox's PID 1: when it is gone, everything the learner started is gone

    @classmethod
    def pipe(cls) -> "Launched":
        read_fd, write_fd = os.pipe()
        return cls(read_fd, write_fd)


def started(launch: Launched, timeout: float = 30.0) -> None:
    """Read the id of the sandbox's PID 1 from bwrap, and hold it as a pidfd (never reused)."""
    os.close(launch.write_fd)
    data, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([launch.read_fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(launch.read_fd, 4096)
            if not chunk:
                break
            data += chunk
            try:
                pid = int(json.loads(data)["child-pid"])
            except (ValueError, KeyError, TypeError):
                continue
            launch.pidfd = os.pidfd_open(pid)
            return
    except OSError as exc:  # the sandbox ended before we looked: nothing is left to tear down
        log.debug("sandbox ended before its PID 1 was read: %s", exc)
    finally:
        os.close(launch.read_fd)


def tear_down(launch: Launched | None, timeout: float = 10.0) -> bool:
    """Kill the sandbox's PID 1 (the kernel then kills every process in its namespace) and
    wait until it is gone; True if it is."""
    if launch is None or launch.pidfd is None:
        return True
    try:
        signal.pidfd_send_signal(launch.pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # a pidfd turns readable when its process has exited, which for a namespace's PID 1
    # is after the kernel has killed and reaped every other process in it
    gone = bool(select.select([launch.pidfd], [], [], timeout)[0])
    if not gone:
        log.warning("a learner's sandbox did not end within %s s", timeout)
    os.close(launch.pidfd)
    launch.pidfd = None
    return gone


def describe() -> list[str]:
    """What the outer wall gives on this machine, or exactly what is missing."""
    why_not = available()
    if why_not:
        return [f"no bubblewrap sandbox: {why_not}. NOT enforced: processes a learner starts may outlive "
                "grading (no PID namespace); learner code runs as the grader's user with the grader's "
                "capabilities; it shares the grader's IPC, hostname and mounts (only Landlock below limits "
                "files); the kernel shares the network (only Landlock TCP rules limit it, UDP is not limited); "
                "no cap on the disk it fills beyond the largest file (setrlimit)"]
    host = (f"uid {SANDBOX_UID} on the host too (grader is root: setpriv)" if _as_root()
            else f"the grader's uid {os.geteuid()} on the host (mapped to {SANDBOX_UID} inside)")
    return [f"bubblewrap sandbox: own PID namespace torn down after each notebook; own network (loopback only), "
            f"IPC, UTS, cgroup, mount and user namespaces; uid {SANDBOX_UID} with no capabilities, {host}; "
            f"read-only Python and system files, no course files; writable only {SCRATCH} (size-limited tmpfs)"]
