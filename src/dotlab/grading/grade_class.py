"""Grade a whole class for one assignment on every core: ``python -m dotlab.grading.grade_class ch01``.

This is ``nbgrader autograde ch01``, one learner at a time, spread over worker
processes. Each worker loads the course's nbgrader configuration once, exactly as the
``nbgrader autograde`` command does (same options, same ``nbgrader_config.py``), and
then runs nbgrader's own ``Autograde`` converter for each learner it is handed; a
progress bar counts the learners done. Scores are those of grading one learner at a
time: each learner's grading is independent, and the gradebook is shared.

The gradebook takes the workers' writes one at a time: with SQLite (the default) the
workers wait for each other's short write transactions (a busy timeout is added to the
database URL), with PostgreSQL the server serialises them.

Usage::

    python -m dotlab.grading.grade_class ch01                 # every submitted learner, all cores
    python -m dotlab.grading.grade_class ch01 --jobs 4 --force
    python -m dotlab.grading.grade_class ch01 --Execute.timeout=60   # any nbgrader option
"""

from __future__ import annotations

import argparse
import fnmatch
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SQLITE_BUSY_TIMEOUT = 600  # seconds a worker waits for another's write to the SQLite gradebook


@dataclass
class Result:
    """How one learner's grading went."""

    student: str
    success: bool
    seconds: float
    log: str = ""
    error: str = ""


def _app(root: str, argv: list[str]):
    """nbgrader's autograde application, configured as ``nbgrader autograde ARGV`` would be in ``root``."""
    from nbgrader.apps.autogradeapp import AutogradeApp

    os.chdir(root)
    app = AutogradeApp()
    app.initialize(argv)
    app.coursedir.assignment_id = app.extra_args[0]
    db_url = app.coursedir.db_url
    if db_url.startswith("sqlite:") and "?" not in db_url:
        app.coursedir.db_url = f"{db_url}?timeout={SQLITE_BUSY_TIMEOUT}"
    return app


_WORKER_APP = None


_MARKS: str | None = None


def _start_worker(root: str, argv: list[str], marks: str | None = None) -> None:
    """A worker keeps its logs for the parent (which prints a failed learner's), and prints nothing."""
    global _WORKER_APP, _MARKS
    _WORKER_APP, _MARKS = _app(root, argv), marks
    for handler in list(_WORKER_APP.log.handlers):
        _WORKER_APP.log.removeHandler(handler)
    _WORKER_APP.log.propagate = False
    logging.getLogger().addHandler(logging.NullHandler())


def _grade(student: str) -> Result:
    """One learner, graded by nbgrader's Autograde converter in this worker."""
    from nbgrader.converters import Autograde
    from nbgrader.utils import capture_log, temp_attrs

    app = _WORKER_APP
    mark = Path(_MARKS) / student if _MARKS else None
    if mark:
        mark.touch()  # if this process dies now, the parent knows whose grading killed it
    start = time.perf_counter()
    with temp_attrs(app.coursedir, student_id=student):
        outcome = capture_log(Autograde(coursedir=app.coursedir, parent=app))
    if mark:
        mark.unlink(missing_ok=True)
    return Result(student, bool(outcome.get("success")), time.perf_counter() - start,
                  outcome.get("log", ""), outcome.get("error", ""))


def submitted_students(app, patterns: list[str] | None = None) -> list[str]:
    """The learners with a submission for the app's assignment, optionally filtered by globs."""
    pattern = app.coursedir.format_path(app.coursedir.submitted_directory, "*", app.coursedir.assignment_id)
    root = Path(pattern).parent.parent
    students = sorted(p.parent.name for p in root.glob(f"*/{app.coursedir.assignment_id}") if p.is_dir())
    if patterns:
        students = [s for s in students if any(fnmatch.fnmatch(s, p) for p in patterns)]
    return students


def _context():
    """Fork workers from this process when it is safe (no threads yet): they start with
    nbgrader already imported, which costs seconds of CPU per worker otherwise."""
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_jobs() -> int:
    """One worker more than there are cores.

    A worker spends part of every learner waiting: for its kernel to start, and for each
    cell to come back. One worker per core leaves a core idle then (measured: 1.6 of 2
    cores busy, a 1.8x speed-up); one spare worker fills those gaps (1.8 cores busy,
    2.2x). See benchmarks/bench_grading.py.
    """
    return usable_cores() + 1


def grade_class(assignment: str, *, root: Path | str = ".", jobs: int | None = None, options: list[str] = (),
                students: list[str] | None = None, progress: bool = True) -> list[Result]:
    """Autograde every submitted learner of ``assignment`` with ``jobs`` worker processes."""
    from nbgrader.api import Gradebook
    from tqdm import tqdm

    root = str(Path(root).resolve())
    argv = [assignment, *options]
    here = os.getcwd()
    try:
        app = _app(root, argv)
        with Gradebook(app.coursedir.db_url, app.coursedir.course_id):
            pass  # create the gradebook's tables now, not in several workers at once
        todo = submitted_students(app, students)
    finally:
        os.chdir(here)
    jobs = max(1, min(jobs or default_jobs(), len(todo) or 1))
    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread: workers are forked from this process (see _context)

    bar = Bar(total=len(todo), desc=f"grading {assignment}", unit="learner", disable=not progress, file=sys.stderr)
    results = _grade_all(todo, jobs, root, argv, bar)
    bar.close()
    return sorted(results, key=lambda r: r.student)


def _grade_all(todo: list[str], jobs: int, root: str, argv: list[str], bar, grade=None, start=None) -> list[Result]:
    """Grade ``todo`` on ``jobs`` workers, surviving a worker that dies under a learner's code.

    A worker cannot normally be killed from learner code (Landlock scopes signals), but on
    a machine without that protection it can. Each worker marks the learner it is grading;
    when a worker dies, the learners it and its fellow workers held become suspects and are
    graded again alone, each in a pool of its own: one that kills that pool too is reported
    as not gradable, and everyone else is graded as usual.
    """
    results, suspects, pending = [], set(), list(todo)
    with tempfile.TemporaryDirectory(prefix="dotlab-grading-") as marks:
        while pending:
            batch = [s for s in pending if s not in suspects] or pending[:1]
            pending = [s for s in pending if s not in batch]
            done, held, waiting = _round(batch, min(jobs, len(batch)), root, argv, Path(marks), grade or _grade,
                                         start or _start_worker)
            for result in done:
                results.append(result)
                bar.update()
                if not result.success:
                    bar.write(f"could not grade {result.student}: see the log below")
            for student in held:
                if student in suspects:  # it was alone: its grading killed the worker
                    results.append(Result(student, False, 0.0, error="grading this learner killed the grading process"))
                    bar.update()
                    bar.write(f"could not grade {student}: its notebook killed the grading process")
                else:
                    suspects.add(student)
                    pending.append(student)
            pending += waiting
    return results


def _round(batch: list[str], workers: int, root: str, argv: list[str], marks: Path, grade, start):
    """One pool over ``batch``: the results, the learners held by workers when the pool
    broke (if it did), and the learners still waiting then."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    done, held, waiting = [], [], []
    with ProcessPoolExecutor(workers, mp_context=_context(), initializer=start, initargs=(root, argv, str(marks))) as pool:
        futures = {pool.submit(grade, student): student for student in batch}
        for future in as_completed(futures):
            student = futures[future]
            try:
                done.append(future.result())
            except BrokenProcessPool:
                mark = marks / student
                (held if mark.exists() else waiting).append(student)
                mark.unlink(missing_ok=True)
            except BaseException as exc:  # noqa: BLE001 - raised in the worker: that learner's failure, not the batch's
                # A SystemExit or KeyboardInterrupt that came back from a worker was raised while grading this
                # learner (an instructor's Ctrl-C interrupts this process itself, outside this call).
                done.append(Result(student, False, 0.0, error=f"grading stopped with {type(exc).__name__}: {exc}"))
                (marks / student).unlink(missing_ok=True)
    return done, held, waiting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dotlab.grading.grade_class", description=__doc__.split("\n\n")[0],
        epilog="Any other option is passed to nbgrader, as with `nbgrader autograde` (e.g. --Execute.timeout=60).")
    parser.add_argument("assignment", help="the assignment to grade, e.g. ch01")
    parser.add_argument("--jobs", "-j", type=int, default=None, help=f"worker processes (default: one more than the cores, here {default_jobs()})")
    parser.add_argument("--student", action="append", help="grade only learners whose id matches this glob (repeatable)")
    parser.add_argument("--force", "-f", action="store_true", help="grade again learners already graded")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args, options = parser.parse_known_args(argv)
    if args.force:
        options.append("--force")
    start = time.perf_counter()
    results = grade_class(args.assignment, jobs=args.jobs, options=options, students=args.student, progress=not args.quiet)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.success]
    for result in failed:
        print(f"\n--- {result.student} could not be graded ---\n{result.log}{result.error}", file=sys.stderr)
    graded = len(results) - len(failed)
    per = f" ({elapsed / len(results):.1f} s per learner)" if results else ""
    print(f"graded {graded} of {len(results)} learners of {args.assignment} in {elapsed:.0f} s{per}"
          + (f"; could not grade: {', '.join(r.student for r in failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
