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

from nbgrader.preprocessors import NbGraderPreprocessor

COURSE_ROOT = Path(__file__).resolve().parents[3]

#: The tag that lets a failing cell's error be its output without stopping Run All
#: (JupyterLab and nbclient both honour it).
GOES_ON = "raises-exception"


class AsJupyterLabSaves(NbGraderPreprocessor):
    """The learner's notebook as JupyterLab would save it, and self-checks that let Run All go on.

    nbgrader's ``generate_assignment`` runs this last (``nbgrader_config.py``):

    - ``language_info`` is the kernel's whole announcement, the dict JupyterLab writes
      into a notebook the moment its kernel starts. A release without it is "modified"
      as soon as it opens, and closing it asks to save.
    - every test cell is tagged ``raises-exception``: when its self-check fails, Run All
      goes on to the next task, so a learner sees every task's status at once. The error
      is still the cell's output, so Validate and the grader count the cell as failed.
    """

    def preprocess(self, nb, resources):
        from ipykernel.ipkernel import IPythonKernel

        nb.metadata["language_info"] = dict(IPythonKernel.language_info)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                tags = cell.metadata.setdefault("tags", [])
                if GOES_ON not in tags:
                    tags.append(GOES_ON)
        return nb, resources


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
    known = assignments(course_root)
    unknown = [name for name in names or [] if name not in known]
    if unknown:
        raise ValueError(f"no assignment named {', '.join(map(repr, unknown))} under "
                         f"{course_root / 'solutions'}; the assignments are {', '.join(known)}")
    written = []
    for name in names or known:
        target = course_root / "exercises" / name
        if target.exists():  # nbgrader --force keeps stale files; start clean instead
            shutil.rmtree(target)
        nbgrader("generate_assignment", name, "--no-db", "--force", cwd=course_root)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dotlab.grading.release",
        description="Regenerate the learners' notebooks under exercises/ from solutions/.")
    parser.add_argument("names", nargs="*", metavar="chNN",
                        help="assignments to release (default: all of them)")
    args = parser.parse_args(argv)
    try:
        folders = release(names=args.names or None)
    except ValueError as error:
        parser.error(str(error))
    for folder in folders:
        print(f"released {folder.relative_to(COURSE_ROOT)}")


if __name__ == "__main__":
    main()
