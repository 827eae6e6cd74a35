"""Learner code that tries to outlive grading, and a way to find it afterwards.

``orphan_cell(marker)`` is a notebook cell that double-forks, tries ``setsid`` (so as to be
in no process group the grader knows; the sandbox refuses it) and becomes a process whose command line holds
``marker``; it sets ``orphan_running`` and prints ``orphan running`` only once that
process exists, so a test knows the attempt was made. ``processes_with(marker)`` lists such processes still on the machine.
"""

from __future__ import annotations

import os
import textwrap


def orphan_cell(marker: str, then: str = "time.sleep(600)") -> str:
    """A cell that leaves a process behind, running ``then`` (with ``os``, ``sys``, ``time`` imported)."""
    program = f"import os, sys, time  # {marker}\nos.write(int(sys.argv[1]), b'x')\n{then}\n"
    return textwrap.dedent(f'''
        import os, sys
        _r, _w = os.pipe()
        if os.fork() == 0:
            try:
                os.setsid()
            except OSError:  # refused in the sandbox (seccomp); the orphan is still made
                pass
            if os.fork() == 0:
                os.close(_r)
                os.set_inheritable(_w, True)
                os.execv(sys.executable, [sys.executable, "-c", {program!r}, str(_w)])
            os._exit(0)
        os.close(_w)
        os.wait()
        orphan_running = os.read(_r, 1) == b"x"
        print("orphan running" if orphan_running else "no orphan")
    ''')


def processes_with(marker: str) -> list[int]:
    """Ids of the processes on this machine whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue  # gone meanwhile
    return found
