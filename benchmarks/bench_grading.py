"""Grading a class: plain ``nbgrader autograde`` one learner after another, against the
course's parallel command ``python -m dotlab.grading.grade_class``, on the same synthetic
class of chapter 1 submissions (the reference, untouched notebooks, and learners with
the catalogue's mistakes). Both use the course's configuration (confined kernel,
sandboxed checks), so the figures compare the scheduling, not the safety.

    .venv/bin/python benchmarks/bench_grading.py [--learners 60] [--jobs N] [--stock]

``--stock`` also times nbgrader with its stock configuration (no confinement, no
sandbox), to show what the course's protections cost per learner.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from catalogue.ch01 import WRONG  # noqa: E402
from grading import Submission  # noqa: E402

from dotlab.grading.grade_class import default_jobs, usable_cores  # noqa: E402
from dotlab.grading.release import nbgrader_env  # noqa: E402
from report import Figure, emit, machine  # noqa: E402

FUNCTIONS = ("dot_loop", "dot", "norm", "angle_between", "project")
STOCK_CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.Execute.timeout = 30
'''


def synthetic_class(n: int) -> list[Submission]:
    """n learners: one in six right, one in six untouched, the rest with the catalogue's mistakes."""
    source = nbformat.read(ROOT / "solutions" / "ch01" / "ch01.ipynb", as_version=4)
    right = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    rows = itertools.cycle(list(itertools.zip_longest(*(WRONG.for_target(f) for f in FUNCTIONS))))
    subs = []
    for i in range(n):
        if i % 6 == 0:
            subs.append(Submission(f"learner{i:03d}", dict(right)))
        elif i % 6 == 1:
            subs.append(Submission(f"learner{i:03d}"))
        else:
            subs.append(Submission(f"learner{i:03d}", {**right, **{w.target: w.source for w in next(rows) if w}}))
    return subs


def course(folder: Path, subs: list[Submission], config: str | None = None) -> Path:
    shutil.copytree(ROOT / "solutions" / "ch01", folder / "solutions" / "ch01")
    if config is None:
        shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    else:
        (folder / "nbgrader_config.py").write_text(config)
    run(["nbgrader", "generate_assignment", "ch01"], folder)
    release = nbformat.read(folder / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
    for sub in subs:
        target = folder / "submitted" / sub.student / "ch01"
        target.mkdir(parents=True)
        nbformat.write(sub.build(release), target / "ch01.ipynb")
    return folder


CPU = {}  # command -> CPU seconds of the command and everything it started


def run(command: list[str], cwd: Path) -> float:
    """Wall-clock seconds of ``command``; its CPU seconds go to CPU[cwd.name]."""
    exe = Path(sys.executable).parent / command[0] if command[0] == "nbgrader" else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(exe), *command[1:]] if exe else command, cwd=cwd, env=nbgrader_env(),
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    CPU[cwd.name] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed


def scores(folder: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        return {(s.student.id, g.name): g.score for s in gb.assignment_submissions("ch01") for nb in s.notebooks for g in nb.grades}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--stock", action="store_true", help="also time nbgrader's stock configuration")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}", flush=True)
    subs = synthetic_class(args.learners)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        sequential = run(["nbgrader", "autograde", "ch01"], course(tmp / "sequential", subs))
        parallel = run([sys.executable, "-m", "dotlab.grading.grade_class", "ch01", "--jobs", str(args.jobs), "--quiet"],
                       course(tmp / "parallel", subs))
        same = scores(tmp / "sequential") == scores(tmp / "parallel")
        n = len(subs)
        emit(Figure("grading", f"nbgrader autograde, one after another ({n} learners)", sequential / n, "s/learner"))
        speedup = sequential / parallel
        emit(Figure("grading", f"grade_class, {args.jobs} workers on {usable_cores()} cores", parallel / n, "s/learner",
                    peer="nbgrader autograde, one after another", peer_value=sequential / n,
                    target="≥ 2× faster on 2 cores", met=speedup >= 2.0))
        # Cores in use while grading (CPU seconds / wall seconds): the speed-up can only be the ratio of
        # these times the ratio of CPU per learner, so a machine shared with other work caps it.
        cores_seq, cores_par = CPU["sequential"] / sequential, CPU["parallel"] / parallel
        print(f"speed-up: {speedup:.2f}× with {args.jobs} workers; identical scores: {same}")
        print(f"CPU per learner: {CPU['sequential'] / n:.2f} s one after another, {CPU['parallel'] / n:.2f} s in parallel; "
              f"cores in use: {cores_seq:.2f} one after another, {cores_par:.2f} in parallel; "
              f"load average after: {os.getloadavg()[0]:.1f} (a load above {args.jobs} means other work shares the cores)")
        if args.stock:
            stock = run(["nbgrader", "autograde", "ch01"], course(tmp / "stock", subs, STOCK_CONFIG))
            emit(Figure("grading", "the course's protections (sandbox, confined kernel), one after another",
                        sequential / n, "s/learner", peer="stock nbgrader configuration", peer_value=stock / n))
            print(f"CPU per learner: {CPU['sequential'] / n:.2f} s with the protections, {CPU['stock'] / n:.2f} s stock")
        if not same:
            raise SystemExit("the parallel scores differ from the sequential ones")


if __name__ == "__main__":
    main()
