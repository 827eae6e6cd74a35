"""Write the learner versions of the assignments: ``python -m dotlab.grading.release``.

The instructor notebooks in ``solutions/chNN/`` are the source. nbgrader's
``generate_assignment`` strips their solutions and hidden tests into ``exercises/chNN/``,
which is committed, so learners can take it from the repository or the book. A test
checks that the committed release is exactly what this produces now.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[3]


def assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """The assignment names: one folder per chapter under ``solutions/``."""
    return sorted(p.name for p in (course_root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def nbgrader_env() -> dict[str, str]:
    """The environment nbgrader needs: this interpreter's bin first (it shells out to alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def nbgrader(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader`` command in ``cwd`` and return what it printed."""
    exe = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(exe), *args], cwd=cwd, env=nbgrader_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def release(course_root: Path = COURSE_ROOT, names: list[str] | None = None) -> list[Path]:
    """Regenerate ``exercises/<name>/`` for each assignment and return the folders written."""
    written = []
    for name in names or assignments(course_root):
        target = course_root / "exercises" / name
        if target.exists():  # nbgrader --force keeps stale files; start clean instead
            shutil.rmtree(target)
        nbgrader("generate_assignment", name, "--no-db", "--force", cwd=course_root)
        written.append(target)
    return written


if __name__ == "__main__":
    for folder in release(names=sys.argv[1:] or None):
        print(f"released {folder.relative_to(COURSE_ROOT)}")
