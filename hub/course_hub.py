"""The course's class hub: check the settings, create the accounts, start JupyterHub.

``make hub`` runs ``python hub/course_hub.py start``. Every input is checked before
anything is created (learner names, the exchange root, the ports, root privileges, and
that every account can run the course's Python), so a bad input stops with a message
naming it and leaves nothing half-made; accounts made by a run that then fails are
removed again. The settings are environment variables,
listed in hub/jupyterhub_config.py, which reads them through ``Settings``.

Commands::

    python hub/course_hub.py check    # only check the settings
    python hub/course_hub.py setup    # check, then create accounts and the hub's files
    python hub/course_hub.py start    # setup, then run JupyterHub in the foreground

We write this small layer ourselves because JupyterHub creates no accounts from a list
(LocalAuthenticator.create_system_users adds one at login, with no checks of the list
as a whole) and nbgrader's exchange has no setup command.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import socket
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHP = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID = "dot-product-course"  # as in the course's nbgrader_config.py
# useradd's default rule for a portable name (a lower-case letter or _, then up to 31 of
# letters, digits, _ and -), which is also a valid nbgrader student id and hub name.
NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# The extensions an instructor needs and a learner must not have (nbgrader's docs).
INSTRUCTOR_ONLY = ["nbgrader.server_extensions.formgrader"]
# The instructor's server lets its own origin frame the formgrader's pages, so that
# JupyterLab's Formgrader panel shows them (hub/formgrader_frame.py says why).
FORMGRADER_FRAME = "formgrader_frame"


# The instructor's course folder, and a collect that takes only the submissions their
# named learner owns (hub/owner_checked_collect.py): nbgrader's own only warns.
INSTRUCTOR_SETTINGS = (
    "import os\n"
    "import sys\n"
    "# the instructor's copy of the course (the guide's convention), where the formgrader looks\n"
    'c.CourseDirectory.root = os.path.expanduser("~/course")\n'
    f"sys.path.insert(0, {str(REPO / 'hub')!r})\n"
    'c.ExchangeFactory.collect = "owner_checked_collect.OwnerCheckedCollect"\n')


class HubError(Exception):
    """A setting that stops the hub, with what to do about it."""


@dataclass(frozen=True)
class Settings:
    ip: str
    port: int
    api_port: int
    proxy_api_port: int
    state: Path
    instructor: str
    learners: tuple[str, ...]
    exchange_root: Path

    @classmethod
    def from_environment(cls, env=os.environ) -> "Settings":
        ports = {}
        for key, default in (("DOTLAB_HUB_PORT", 8000), ("DOTLAB_HUB_API_PORT", 8081), ("DOTLAB_PROXY_API_PORT", 8001)):
            raw = env.get(key, str(default))
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise HubError(f"{key}={raw!r} is not a port number (1-65535)")
            ports[key] = int(raw)
        instructor = env.get("DOTLAB_HUB_INSTRUCTOR", "instructor")
        learner_file = Path(env.get("DOTLAB_HUB_LEARNERS", REPO / "hub" / "learners.txt"))
        return cls(
            ip=env.get("DOTLAB_HUB_IP", "127.0.0.1"),
            port=ports["DOTLAB_HUB_PORT"],
            api_port=ports["DOTLAB_HUB_API_PORT"],
            proxy_api_port=ports["DOTLAB_PROXY_API_PORT"],
            state=Path(env.get("DOTLAB_HUB_STATE", "/srv/dotlab-hub")),
            instructor=instructor,
            learners=read_learners(learner_file, instructor),
            exchange_root=Path(env.get("DOTLAB_EXCHANGE_ROOT", "/srv/nbgrader/exchange")),
        )


def read_learners(path: Path, instructor: str) -> tuple[str, ...]:
    """The learner names in ``path``, one a line (``#`` starts a comment), checked."""
    if not path.is_file():
        raise HubError(f"the learner list {path} does not exist: write one name a line, or set DOTLAB_HUB_LEARNERS")
    if not NAME.fullmatch(instructor):
        raise HubError(f"the instructor name {instructor!r} is not a valid account name ({NAME.pattern})")
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if not NAME.fullmatch(name):
            raise HubError(f"{path}:{number}: {name!r} is not a valid account name: "
                           f"a lower-case letter or _, then up to 31 of a-z, 0-9, _ and -")
        if name in seen:
            raise HubError(f"{path}:{number}: learner {name!r} is listed twice (first on line {seen[name]})")
        if name == instructor:
            raise HubError(f"{path}:{number}: {name!r} is the instructor's account, not a learner")
        seen[name] = number
    if not seen:
        raise HubError(f"the learner list {path} names no learner")
    return tuple(seen)


def check(settings: Settings) -> None:
    """Every check that does not change the machine; raises HubError on the first failure."""
    if os.geteuid() != 0:
        raise HubError("the hub must run as root: it creates each learner's Unix account and starts each "
                       "learner's server as that account (run `sudo make hub`)")
    root = settings.exchange_root
    if not root.is_dir():
        raise HubError(f"the exchange root {root} does not exist: create it, world-writable as nbgrader "
                       f"expects, with `install -d -m 1777 {root}` (or mount the class's shared volume there)")
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & 0o777 != 0o777:
        raise HubError(f"the exchange root {root} has mode {mode:o}; nbgrader needs every user to write there: "
                       f"`chmod 1777 {root}`")
    if not CHP.exists():
        raise HubError(f"configurable-http-proxy is not installed at {CHP}: run `npm ci` in {REPO}")
    for name in (settings.instructor, *settings.learners):
        problem = cannot_run_python(name)
        if problem:
            raise HubError(problem)
    for key, port in (("DOTLAB_HUB_PORT", settings.port), ("DOTLAB_HUB_API_PORT", settings.api_port),
                      ("DOTLAB_PROXY_API_PORT", settings.proxy_api_port)):
        host = settings.ip if key == "DOTLAB_HUB_PORT" else "127.0.0.1"
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError as error:
                raise HubError(f"port {port} on {host} ({key}) is in use ({error.strerror}): "
                               f"stop what holds it or set {key} to a free port") from None


def server_python() -> list[tuple[Path, int]]:
    """What every account's server must reach, with the access it needs (read 4, execute 1).

    The spawner's command (a script in the course's environment), the interpreter its
    first line names and the one that resolves to (a venv's python is a link to it), the
    standard library and the environment's packages (folders Python lists as it imports).
    """
    bin_dir = Path(sys.executable).parent
    paths = sysconfig.get_paths()
    return [(bin_dir / "jupyterhub-singleuser", 0o5), (Path(sys.executable), 0o1),
            (Path(sys.executable).resolve(), 0o1), (Path(paths["stdlib"]), 0o5), (Path(paths["purelib"]), 0o5)]


def blocked_python(name: str, needs: list[tuple[Path, int]] | None = None) -> tuple[Path, int, Path] | None:
    """The first place the account ``name`` cannot get past on the way to its server's Python.

    Returns ``(path, access it lacks there, target it was on the way to)``, or None if the
    account reaches everything in ``needs`` (by default ``server_python()``). Reads the
    permission bits as the kernel applies them: the owner's if the account owns the path,
    the group's if it is in the path's group, else everyone's. An account not created yet
    is everyone else to every path (useradd gives it a group of its own). ACLs and mount
    options are not read.
    """
    try:
        entry = pwd.getpwnam(name)
        uid, groups = entry.pw_uid, set(os.getgrouplist(name, entry.pw_gid))
    except KeyError:
        uid, groups = None, set()
    for target, access in needs if needs is not None else server_python():
        # every folder from / down must let the account through (x); the target itself
        # must give what it is used for
        for path, want in [*((folder, 0o1) for folder in reversed(target.parents)), (target, access)]:
            info = path.stat()
            shift = 6 if info.st_uid == uid else 3 if info.st_gid in groups else 0
            if (stat.S_IMODE(info.st_mode) >> shift) & want != want:
                return path, want, target
    return None


def cannot_run_python(name: str, needs: list[tuple[Path, int]] | None = None) -> str | None:
    """Why the account ``name`` cannot run the course's Python, naming what is in the way, or None."""
    for target, _ in needs if needs is not None else server_python():
        if not target.exists():
            return f"{target} does not exist, and every account's JupyterLab server needs it: run `make setup`"
    blocked = blocked_python(name, needs)
    if blocked is None:
        return None
    path, want, target = blocked
    info = path.stat()
    what = "pass through" if path != target else "read and run" if want == 0o5 else "run"
    return (f"the account {name!r} cannot {what} {path} (mode {stat.S_IMODE(info.st_mode):o}, owner "
            f"{_owner_name(info.st_uid)}), on the way to {target}, which its JupyterLab server needs: install the "
            f"course and its Python where every account can run them (a clone in /opt or /srv, with a Python "
            f"from outside any home, then `make setup` there), or let everyone {what} it: "
            f"`chmod {'o+x' if want == 0o1 else 'o+rx'} {path}`")


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def setup(settings: Settings) -> list[str]:
    """Check, then create what is missing; returns the accounts this run created."""
    check(settings)
    created: list[str] = []
    try:
        for name in (settings.instructor, *settings.learners):
            if not _exists(name):
                # A home of its own, closed to the other learners (mode 700).
                subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                               capture_output=True, text=True)
                created.append(name)
            os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
        _write_hub_files(settings)
    except BaseException:
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        raise
    return created


def _write_hub_files(settings: Settings) -> None:
    settings.state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state, 0o755)
    (settings.state / "private").mkdir(exist_ok=True)
    os.chmod(settings.state / "private", 0o700)
    for who in ("instructor", "learner"):
        folder = settings.state / "jupyter" / who
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821 - written by hub/course_hub.py\n"
            f"c.Exchange.root = {str(settings.exchange_root)!r}\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            + (INSTRUCTOR_SETTINGS if who == "instructor" else ""))
        extensions = {name: who == "instructor" for name in INSTRUCTOR_ONLY}
        if who == "instructor":
            extensions[FORMGRADER_FRAME] = True
            # read before the JSON file, so the extension above can be imported
            (folder / "jupyter_server_config.py").write_text(
                "import sys\n"
                f"sys.path.insert(0, {str(REPO / 'hub')!r})  # hub/formgrader_frame.py\n")
        (folder / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": extensions}}, indent=2) + "\n")
        for path in (folder, folder.parent):
            os.chmod(path, 0o755)
        for path in folder.iterdir():
            os.chmod(path, 0o644)


def environment(settings: Settings) -> dict[str, str]:
    """The variables hub/jupyterhub_config.py reads, for these settings."""
    return {
        "DOTLAB_HUB_IP": settings.ip, "DOTLAB_HUB_PORT": str(settings.port),
        "DOTLAB_HUB_API_PORT": str(settings.api_port), "DOTLAB_PROXY_API_PORT": str(settings.proxy_api_port),
        "DOTLAB_HUB_STATE": str(settings.state), "DOTLAB_HUB_INSTRUCTOR": settings.instructor,
        "DOTLAB_EXCHANGE_ROOT": str(settings.exchange_root),
    }


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    if command not in ("check", "setup", "start"):
        print(f"unknown command {command!r}: use check, setup or start", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_environment()
        if command == "check":
            check(settings)
        else:
            for name in setup(settings):
                print(f"created the account {name}; set its password with `passwd {name}`")
    except HubError as error:
        print(f"course hub: {error}", file=sys.stderr)
        return 1
    if command == "start":
        hub = Path(sys.executable).parent / "jupyterhub"
        os.execv(str(hub), [str(hub), "-f", str(REPO / "hub" / "jupyterhub_config.py")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
