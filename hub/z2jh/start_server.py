"""Start a class member's server on Kubernetes: name the class's uids, then run it.

On the class hub (``make hub``) every learner is a Unix account, and the instructor's
collect (hub/owner_checked_collect.py) reads who owns each submission from the
account database. On Kubernetes every server runs as its own uid (hub/z2jh/values.yaml
gives each account one), but the image knows no names for those uids. The hub passes
them in ``DOTLAB_ACCOUNTS`` (``name:uid,name:uid``; all of them for the instructor, only
their own for a learner) and this adds them to the container's ``/etc/passwd``, which
the image lets the servers' shared group write, before it runs the server::

    python3 start_server.py jupyterhub-singleuser [ARGS...]

A learner can edit only their own container's copy, so the instructor's names stay
what the hub said.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# The class hub's rule for an account name (hub/course_hub.py).
NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def parse_accounts(spec: str) -> dict[str, int]:
    """``"ada:10001,alan:10002"`` as ``{"ada": 10001, "alan": 10002}``, checked.

    Examples
    --------
    >>> parse_accounts("ada:10001, alan:10002")
    {'ada': 10001, 'alan': 10002}
    >>> parse_accounts("ada:x")
    Traceback (most recent call last):
    ...
    ValueError: DOTLAB_ACCOUNTS entry 'ada:x' is not name:uid (a valid account name, a uid of 1000 or more)
    """
    accounts: dict[str, int] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, _, uid = entry.partition(":")
        if not NAME.fullmatch(name) or not uid.isdigit() or int(uid) < 1000:
            raise ValueError(f"DOTLAB_ACCOUNTS entry {entry!r} is not name:uid "
                             f"(a valid account name, a uid of 1000 or more)")
        if name in accounts:
            raise ValueError(f"DOTLAB_ACCOUNTS names {name!r} twice")
        accounts[name] = int(uid)
    return accounts


def add_accounts(passwd: Path, accounts: dict[str, int], home: str = "/home/jovyan") -> list[str]:
    """Append an entry for each account ``passwd`` does not name yet; returns them.

    An account whose name or uid is already taken by another entry stops with an error:
    two names on one uid would let one learner's files pass for another's.
    """
    entries = [line.split(":") for line in passwd.read_text().splitlines() if line.count(":") >= 6]
    names = {e[0]: int(e[2]) for e in entries}
    uids = {int(e[2]): e[0] for e in entries}
    new = []
    for name, uid in accounts.items():
        if names.get(name) == uid:
            continue
        if name in names or uid in uids:
            raise ValueError(f"{passwd} already has {name!r} or uid {uid} "
                             f"(as {uids.get(uid, name)!r}); cannot add {name}:{uid}")
        new.append(f"{name}:x:{uid}:{uid}::{home}:/bin/bash")
    if new:
        with passwd.open("a") as handle:
            handle.write("".join(line + "\n" for line in new))
    return new


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: start_server.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        add_accounts(Path("/etc/passwd"), parse_accounts(os.environ.get("DOTLAB_ACCOUNTS", "")))
    except (OSError, ValueError) as error:
        print(f"start_server: {error}", file=sys.stderr)
        return 1
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
