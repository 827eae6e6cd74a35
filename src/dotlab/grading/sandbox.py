"""The grader's side of the sandbox: checks run here, learner code runs in a confined process.

For each notebook the grader starts one confined process
(:mod:`dotlab.grading.sandbox_child`) and replays the learner's cells in it, in notebook
order. At each graded cell it asks that process for a *worker*, a forked copy of the
notebook's state at that point, and runs the instructor's check in the grader with a
:class:`RemoteFunction` in place of the learner's function. Every call the check makes
crosses to the worker; what comes back is plain JSON (numbers, a repr, an exception's
name and message), rebuilt here into inert data (:mod:`dotlab.grading.protocol` defines
every message both ways). So:

- the checks, ``run_checks``, ``CheckFailure`` and NumPy that decide a grade are the
  grader's own, untouched by anything the learner's code patched in its process;
- a cell that loops forever, exits, or kills its process costs only itself: the grader
  stops the process, remembers the cell, and replays the notebook without it;
- a function that hangs, crashes or exhausts its limits fails its own check, with a
  message that says so, and the next function gets a fresh worker.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

from dotlab.checks._core import (Case, CheckFailure, Forbidden, LearnerProxy, _call_text, _Outcome, _Tripwire,
                                 armed_tripwires, copy_input)
from dotlab.grading import confine, protocol
from dotlab.grading.budget import BUDGET_ENAME, TimeBudget
from dotlab.grading.suspects import scan
from dotlab.grading.protocol import Opaque, decode_answer, rebuild_error

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 2**20  # bytes of one message from the sandbox; more is treated as tampering


class SandboxError(RuntimeError):
    """The sandbox itself could not run (not the learner's fault): grading must stop."""


class LearnerCrash(Exception):
    """The learner's code stopped the process running it, or never answered."""


class LearnerTimeout(LearnerCrash):
    """The learner's code did not answer within the timeout."""


class CellTimeoutError(CheckFailure):
    """A learner's function did not answer in time: a failed check, named as nbgrader names a timeout."""


class BudgetExhausted(LearnerTimeout):
    """The notebook's time budget ran out while the learner's code was running (see :mod:`dotlab.grading.budget`)."""


@dataclass
class Settings:
    """Limits for the learner's code in the sandbox. Times in seconds, sizes in bytes."""

    timeout: float = 30.0  # for each learner cell, and for each call of a learner's function
    memory: int = 4 * confine.GIB  # address space of the sandbox process
    startup_timeout: float = 120.0  # confining, importing NumPy and IPython (slow on a busy machine)
    # seconds of learner code for the whole notebook, shared with the kernel (dotlab.grading.budget)
    budget: TimeBudget = field(default_factory=TimeBudget.unlimited)
    secret: list[Path] = field(default_factory=list)  # folders and files learner code must not read
    network: bool = False  # True would skip the network namespace where bwrap cannot run (for debugging only)
    disk: int = 256 * 2**20  # bytes learner code may write in its scratch folder (a tmpfs in the bwrap sandbox)
    processes: int = 64  # tasks at once in the sandbox (the notebook's process, a worker, their threads)

    def confinement(self, workdir: str, sandboxed: bool = True) -> confine.Confinement:
        # CPU time is a backstop should the grader die; wall-clock timeouts do the real work.
        # The task cap counts a user namespace's tasks: only in bubblewrap's (``sandboxed``).
        return confine.Confinement(memory=self.memory, cpu=int(self.timeout * 20 + 60), read=confine.readable_paths(self.secret),
                                   write=[workdir], die_with_parent=True, processes=self.processes if sandboxed else None)


# -- the channel to the sandbox --------------------------------------------------------

class _LayoutPickler(pickle.Pickler):
    """Pickles a non-contiguous NumPy array as the strided view it is.

    NumPy's own pickling sends an array's values, and the sandbox would unpickle a
    contiguous copy: a check's strided variant (``x[..., ::2]``) would reach the learner's
    function contiguous in the grader, and strided only in a notebook or pytest. Here such
    an array travels as a contiguous base and the view's shape and strides, rebuilt in the
    sandbox with ``np.lib.stride_tricks.as_strided`` (as :func:`~dotlab.checks._core.copy_input`
    lays it out in this process), so every place runs the learner's code on the same layout.
    """

    def reducer_override(self, obj):
        if type(obj).__name__ == "ndarray" and type(obj).__module__ == "numpy":
            if obj.ndim and not (obj.flags.c_contiguous or obj.flags.f_contiguous):
                from numpy.lib.stride_tricks import as_strided

                view = copy_input(obj)  # a fresh strided view over a contiguous array of its own
                return as_strided, (view.base, view.shape, view.strides)
        return NotImplemented


def _pickled(message) -> bytes:
    buffer = BytesIO()
    _LayoutPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    return buffer.getvalue()


class _Channel:
    """Frames to the sandbox are pickles; frames from it are JSON, never unpickled, and
    parsed into :mod:`~dotlab.grading.protocol`'s typed replies."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.fd_out, self.fd_in = proc.stdin.fileno(), proc.stdout.fileno()
        os.set_blocking(self.fd_out, False)

    def send(self, message, deadline: float) -> None:
        data = _pickled(message)
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            if not select.select([], [self.fd_out], [], max(0.0, deadline - time.monotonic()))[1]:
                raise TimeoutError
            try:
                view = view[os.write(self.fd_out, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise EOFError from None

    def _read(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n:
            if not select.select([self.fd_in], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError
            chunk = os.read(self.fd_in, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self, deadline: float):
        """The next reply: a :mod:`~dotlab.grading.protocol` message, or LearnerCrash if it is not one."""
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > MAX_FRAME:
            raise LearnerCrash(f"sent the grader {size} bytes at once")
        data = self._read(size, deadline)
        try:
            return protocol.parse_reply(json.loads(data))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # ProtocolError is a ValueError
            log.warning("the sandbox sent a reply the protocol does not define: %s", exc)
            raise LearnerCrash("garbled the grader's channel") from None


def _status_text(status: int) -> str:
    """Words for how a process ended: a raw wait status, or a signal number (``-returncode``)."""
    if 0 < status < 128 or os.WIFSIGNALED(status):
        sig = status if 0 < status < 128 else os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "used up its CPU time"
        if sig == signal.SIGXFSZ:
            return "wrote a file larger than allowed"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"stopped the process running it (killed by {name})"
    if os.WIFEXITED(status):
        return f"ended the process running it (exit status {os.WEXITSTATUS(status)})"
    return "stopped the process running it"


# -- the confined process: one per notebook --------------------------------------------

def _start(settings: Settings, workdir: str) -> tuple[subprocess.Popen, confine.Wall]:
    """Start ``sandbox_child`` in its sandbox (see :func:`dotlab.grading.confine.wall`)."""
    # as PID 1 of its namespace: a worker that kills its parent cannot end the notebook's process
    wall = confine.wall(confine.readable_paths(settings.secret), workdir, settings.disk, network=settings.network,
                        as_pid_1=True)
    command = [*wall.prefix, sys.executable, "-m", "dotlab.grading.sandbox_child"]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                cwd=workdir, env=confine.scrubbed_env(dict(os.environ), wall.scratch),
                                start_new_session=True, pass_fds=wall.pass_fds)
    finally:
        wall.started()
    return proc, wall


class LearnerProcess:
    """A confined Python process replaying one learner's notebook, cell by cell."""

    def __init__(self, settings: Settings, forbidden: list[str]):
        self.settings = settings
        self.ran: list[int] = []  # indexes of the cells replayed so far
        self.workdir = tempfile.mkdtemp(prefix="dotlab-sandbox-")  # the scratch folder only where bwrap cannot run
        self.proc, self.wall = _start(settings, self.workdir)
        self.channel = _Channel(self.proc)
        deadline = time.monotonic() + settings.startup_timeout
        try:
            confinement = settings.confinement(self.wall.scratch, sandboxed=self.wall.launch is not None)
            self.channel.send(protocol.Setup(confinement.to_json(), self.wall.scratch,
                                             tuple(forbidden)), deadline)
            ready = self.channel.receive(deadline)
            if not isinstance(ready, protocol.Ready):
                raise LearnerCrash("did not say it was ready")
            for routine in ready.unwrapped:
                log.warning("the sandbox could not wrap the forbidden routine %s: calls of it go unnoticed", routine)
        except (EOFError, TimeoutError, LearnerCrash) as exc:
            self.close()
            raise SandboxError(f"the sandbox did not start ({type(exc).__name__}); `python -m dotlab.grading.confine --describe` "
                               "says what this machine supports") from None

    def run_cell(self, index: int, source: str) -> str | None:
        """Replay one cell; None if it finished, else what went wrong (the process is then gone)."""
        budget = self.settings.budget
        if budget.exhausted:
            self.close()
            return "was not run: the notebook's time budget had run out"
        by_budget = budget.limits(self.settings.timeout)
        deadline = time.monotonic() + budget.limit(self.settings.timeout)
        try:
            with budget.running():
                self.channel.send(protocol.RunCell(index, source), deadline)
                reply = self.channel.receive(deadline)
        except TimeoutError:
            self.close()
            return budget.ran_out() if by_budget else f"did not finish within {self.settings.timeout:g} s"
        except (EOFError, LearnerCrash) as exc:
            reason = self._death(exc)
            self.close()
            return reason
        if not isinstance(reply, protocol.CellDone) or reply.index != index:
            self.close()
            return "garbled the grader's channel"
        self.ran.append(index)
        self.suspects = reply.suspects  # constructs that can switch tripwires off, seen while it ran
        return None

    def _death(self, exc: BaseException) -> str:
        """Why the process stopped answering; call before :meth:`close`."""
        if isinstance(exc, LearnerCrash):
            return str(exc)
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "closed the grader's channel"
        if code < 0:
            return _status_text(-code)  # a signal number: see the encoding below
        return f"ended the process running it (exit status {code})"

    def worker(self, names: list[str]) -> "Worker":
        """Fork a worker: the notebook's state as it stands, to answer one graded cell's checks."""
        deadline = time.monotonic() + self.settings.startup_timeout
        try:
            self.channel.send(protocol.Fork(tuple(names)), deadline)
            reply = self.channel.receive(deadline)
        except (EOFError, TimeoutError, LearnerCrash):
            self.close()
            raise LearnerCrash("the notebook's process could not start a worker") from None
        if not isinstance(reply, protocol.WorkerReady):
            self.close()
            raise LearnerCrash("garbled the grader's channel")
        return Worker(self, reply.names)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the process and everything it started (its PID namespace, and its process group)."""
        if self.wall.launch is not None and self.wall.tear_down():
            try:  # bwrap ends once its sandbox has: let it, so the learner's CPU time is counted to the grader
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("sandbox process %s did not stop", self.proc.pid)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


class Worker:
    """A forked copy of the notebook's process, answering calls for one graded cell."""

    def __init__(self, process: LearnerProcess, names: dict[str, protocol.NameInfo]):
        self.process, self.names = process, names
        self.finished = False
        self.suspects: list[str] = []  # constructs seen during its calls (see protocol.suspect)
        self.held: set[str] = set()  # those that failed a call

    def call(self, name: str, args: tuple, kwargs: dict, forbidden: list[str],
             measure: str | None = None) -> protocol.Result:
        """One call of the learner's function; its plain-data result, or LearnerCrash.

        ``measure`` names a property for the worker to measure during the call
        (``"peak_memory"``); the reply's ``measured`` holds it.
        """
        if self.finished:
            raise LearnerCrash("was not running any more")
        timeout, budget = self.process.settings.timeout, self.process.settings.budget
        if budget.exhausted:
            raise BudgetExhausted(f"was not called: {budget.message()}")
        by_budget = budget.limits(timeout)
        deadline = time.monotonic() + budget.limit(timeout)
        channel = self.process.channel
        request = protocol.Call(name, tuple(args), dict(kwargs), tuple(forbidden), measure)
        try:
            with budget.running():
                channel.send(request, deadline)
                reply = channel.receive(deadline)
        except TimeoutError:
            self.finished = True
            self.process.close()
            if by_budget:
                raise BudgetExhausted(budget.ran_out()) from None
            raise LearnerTimeout(f"did not finish within {timeout:g} s: is there a loop that never ends?") from None
        except EOFError:
            self.finished = True
            self.process.close()
            raise LearnerCrash("stopped the process running it") from None
        except LearnerCrash:
            self.finished = True
            self.process.close()
            raise
        if isinstance(reply, protocol.WorkerExit):
            self.finished = True
            status = reply.status
            raise LearnerCrash(_status_text(status) if status is not None else "stopped the process running it")
        if not isinstance(reply, protocol.Result):
            self.finished = True
            self.process.close()
            raise LearnerCrash("garbled the grader's channel")
        return reply

    def end(self) -> None:
        """Let the worker go; the notebook's process carries on with the next cells."""
        if self.finished or not self.process.alive:
            return
        self.finished = True
        deadline = time.monotonic() + 10
        try:
            self.process.channel.send(protocol.End(), deadline)
            reply = self.process.channel.receive(deadline)
            if not isinstance(reply, protocol.WorkerExit):
                raise LearnerCrash("garbled")
        except (EOFError, TimeoutError, LearnerCrash):
            self.process.close()


# -- what came back: inert data, never the learner's objects (see dotlab.grading.protocol) --------

#: The value a learner's function returned, rebuilt from its plain-data description.
rebuild_value = decode_answer


def _input_after(encoded: Any, original: Any) -> Any:
    """One input as the call left it, for the checks' mutation test.

    An object the protocol carries only as an inert stand-in (a ``TransformerShape``,
    say) cannot be compared with the grader's own copy: it is taken as unchanged, as
    nothing of it could be read back. Arrays, numbers and containers of them are compared.

    Examples
    --------
    >>> shape = object()
    >>> _input_after({"k": "opaque", "type": "TransformerShape", "repr": "TransformerShape(...)",
    ...               "numbers": {"error": {"k": "error", "type": "TypeError", "builtin": "TypeError",
    ...                                     "message": ""}}}, shape) is shape
    True
    >>> _input_after({"k": "int", "v": 3}, 2)
    3
    """
    if isinstance(encoded, dict) and encoded.get("k") == "opaque":
        return original
    return decode_answer(encoded)


class RemoteFunction(LearnerProxy):
    """The learner's function as the checks see it in the grader: each call crosses to the sandbox."""

    def __init__(self, worker: Worker, name: str, sources: list[str] | None = None):
        self.worker, self.name = worker, name
        self.learner_sources = sources  # the learner's cells before the check: the checks' allowlist reads them

    def __repr__(self) -> str:
        return f"<learner's function {self.name}>"

    def __call__(self, *args, **kwargs):
        """A direct call from a check's own helper: the answer, or the learner's error, rebuilt."""
        wires = armed_tripwires()
        case = Case("a call from the check", args, kwargs)
        outcome, tripped = self.outcome(case, tuple(w.forbidden for w in wires))
        for wire in wires:
            if any(t.forbidden.target == wire.forbidden.target for t in tripped):
                wire()  # marks it tripped, as a call in this process would, and raises CheckFailure
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def outcome(self, case: Case, forbidden: tuple[Forbidden, ...]) -> tuple[_Outcome, list[_Tripwire]]:
        outcome, wires, _ = self._ask(case, forbidden)
        return outcome, wires

    def measured_outcome(self, case: Case, forbidden: tuple[Forbidden, ...],
                         measure: str) -> tuple[_Outcome, list[_Tripwire], int | None]:
        """:meth:`outcome`, and ``measure`` (``"peak_memory"``) taken in the worker during the call.

        The check that asked judges the number, as it judges one it measured itself in a
        notebook (:func:`dotlab.checks._measure.peak_memory`); None if the worker could
        not measure it (the learner's code stopped the tracer).
        """
        outcome, wires, reply = self._ask(case, forbidden, measure)
        value = reply.measured.get(measure)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            value = None
        return outcome, wires, value

    def _ask(self, case: Case, forbidden: tuple[Forbidden, ...],
             measure: str | None = None) -> tuple[_Outcome, list[_Tripwire], protocol.Result]:
        call = _call_text(self.name, case)
        try:
            reply = self.worker.call(self.name, tuple(case.args), dict(case.kwargs), [f.target for f in forbidden],
                                     measure)
        except LearnerCrash as crash:
            failure = CellTimeoutError if isinstance(crash, LearnerTimeout) else CheckFailure
            raise failure(f"{call} {crash} ({case.label}).") from None
        self.worker.suspects += [s for s in reply.suspects if s not in self.worker.suspects]
        tampering = [s for s in reply.suspects if protocol.is_tampering(s)]
        if tampering and forbidden and not reply.tripped and reply.outcome.get("k") == "value":
            # its tripwires cannot be trusted, and it answered as if nothing happened: held, not guessed
            self.worker.held.add(tampering[0])
            what = tampering[0] if tampering[0].startswith(protocol.TAMPERED) else f"used {tampering[0]}"
            raise CheckFailure(
                f"{call} {what} while it ran ({case.label}). That can switch off the grader's watch on the routines "
                f"this exercise forbids ({', '.join(f.target for f in forbidden)}), so the answer cannot be "
                "accepted: write the function without it.")
        tripped = set(reply.tripped)
        wires = []
        for item in forbidden:
            if item.target in tripped:
                wire = _Tripwire(item)
                wire.tripped = True
                wires.append(wire)
        outcome = reply.outcome
        try:
            args_after = kwargs_after = None
            if reply.after is not None:  # the inputs as the call left them: the checks' mutation test
                args_after = tuple(_input_after(a, o) for a, o in zip(reply.after["args"], case.args))
                kwargs_after = {str(k): _input_after(v, case.kwargs.get(str(k)))
                                for k, v in reply.after["kwargs"].items()}
            if outcome.get("k") == "value":
                return _Outcome(value=decode_answer(outcome["value"]), args_after=args_after,
                                kwargs_after=kwargs_after), wires, reply
            error = rebuild_error(outcome)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            raise CheckFailure(f"{call} gave an answer the grader could not read ({case.label}).") from None
        if protocol.stops_a_program(outcome) and not wires:
            # never raised here as what it was: SystemExit or KeyboardInterrupt would stop the grader
            raise CheckFailure(
                f"{call} raised {type(error).__name__}: {error} ({case.label}). That stops a whole program; "
                "a function should return its answer, or raise an Exception such as ValueError for bad input."
            )
        return _Outcome(error=error, args_after=args_after, kwargs_after=kwargs_after), wires, reply


def _stand_in_for(about: protocol.NameInfo) -> Any:
    """What a check sees when the learner's name is not a function (``dot = 5``): inert data."""
    try:
        return decode_answer(about.value or {"k": "none"})
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return Opaque("object", "<object>", None, "the sandbox described it in a way the grader could not read")


# -- probing: which routines a check forbids, before any learner code runs --------------

class _ProbeDone(BaseException):
    pass


class _Probe(LearnerProxy):
    def __init__(self):
        self.forbidden: list[str] = []

    def outcome(self, case, forbidden):
        self.forbidden = [f.target for f in forbidden]
        raise _ProbeDone

    def __call__(self, *args, **kwargs):
        # a check's own helper calling the function: the tripwires of the call in progress
        self.forbidden = [w.forbidden.target for w in armed_tripwires()]
        raise _ProbeDone


def forbidden_targets(check, args: tuple = (), kwargs: dict | None = None) -> list[str]:
    """The routines ``check`` turns into tripwires (asked of the check, not guessed).

    The check runs until its first call of the learner's function, which a probe
    answers by stopping it. Remembered per check and arguments: building a check's
    cases can be slow, and a class has many notebooks.

    Examples
    --------
    >>> from dotlab.checks import ch01
    >>> "numpy.dot" in forbidden_targets(ch01.check_dot_loop, (), {"hidden": True})
    True
    """
    return list(_probe(check, tuple(args), tuple(sorted((kwargs or {}).items()))))


@lru_cache(maxsize=256)
def _probe(check, args: tuple, kwargs: tuple) -> tuple[str, ...]:
    probe = _Probe()
    try:
        with redirect_stdout(StringIO()):
            check(probe, *args, **dict(kwargs))
    except _ProbeDone:
        pass
    except Exception:  # noqa: BLE001 - a check that fails before its first call: said, not hidden
        # Its tripwires are still armed at each call (the call names them), but not wrapped
        # before the learner's cells run, so an alias taken at import may escape them.
        log.warning("probing %s for its forbidden routines failed before its first call of the learner's "
                    "function; they will be wrapped only when it calls", getattr(check, "__qualname__", check),
                    exc_info=True)
    return tuple(probe.forbidden)


# -- outputs the grade cell gets -----------------------------------------------------------

def stream_output(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def error_output(ename: str, evalue: str) -> dict:
    # the traceback is the one line a learner should read: never the test cell's source
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


# -- a whole notebook ----------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """Something the instructor should see about one cell: it changes no score by itself.

    ``what`` is ``"suspect construct"`` (``detail`` names it, e.g. ``gc.get_objects``;
    ``held``: it failed a call whose check forbids routines) or ``"budget"``.
    """

    cell: int
    what: str
    detail: str
    held: bool = False


@dataclass
class Step:
    """A code cell of the notebook, in order: learner code to replay, or a graded cell's checks."""

    index: int
    source: str = ""
    calls: list | None = None  # the graded cell's CheckCalls (see dotlab.grading.plan); None: learner code


def _replayed(process: LearnerProcess | None, steps: list[Step], upto: int, bad: dict[int, str],
              settings: Settings, forbidden: list[str], events: list | None = None) -> LearnerProcess | None:
    """A process that has replayed every learner cell before ``upto`` except the bad ones.

    A cell that hangs or ends its process is remembered as bad, and the notebook is
    replayed without it in a new process: as if that cell had raised an error. None when
    the notebook's time budget runs out first.
    """
    while True:
        if process is not None and not process.alive:
            process.close()  # its own code ended it (a worker may kill its parent): start afresh
            process = None
        if settings.budget.exhausted:
            return process
        if process is None:
            process = LearnerProcess(settings, forbidden)
        for step in steps:
            if step.index >= upto:
                return process
            if step.calls is not None or step.index in bad or step.index in process.ran:
                continue
            problem = process.run_cell(step.index, step.source)
            if events is not None:
                events += [Event(step.index, "suspect construct", what) for what in getattr(process, "suspects", ())]
            if problem is not None:
                log.warning("cell %d %s; grading goes on without it", step.index, problem)
                bad[step.index] = problem
                process = None
                break
        else:
            return process


def _judge(process: LearnerProcess, calls: list, sources: list[str] | None = None, index: int = -1,
           events: list | None = None, diagnoses: dict | None = None) -> list[dict]:
    """Run a graded cell's checks in the grader against the learner's functions in a worker.

    What the worker saw that could switch tripwires off goes to ``events`` (for cell ``index``);
    what the checks diagnosed in a failure (:class:`Diagnosis`) to ``diagnoses[index]``.
    """
    names = list(dict.fromkeys(call.learner_name for call in calls))
    try:
        worker = process.worker(names)
    except LearnerCrash as crash:
        return [error_output("CheckFailure", f"your notebook's code {crash}, so this cell could not be checked.")]
    outputs = []
    try:
        for call in calls:
            about = worker.names.get(call.learner_name)
            if about is None or not about.defined:
                outputs.append(error_output("NameError", f"name '{call.learner_name}' is not defined"))
                break
            fn = RemoteFunction(worker, call.learner_name, sources) if about.callable else _stand_in_for(about)
            printed, failure = StringIO(), None
            try:
                with redirect_stdout(printed):
                    call.check(fn, *call.args, **call.kwargs)
            except CheckFailure as exc:
                failure = (type(exc).__name__, str(exc))
                if diagnoses is not None:
                    mistake = "(timed out)" if isinstance(exc, CellTimeoutError) else exc.mistake
                    diagnoses[index] = Diagnosis(mistake, exc.hint, exc.case)
            except Exception as exc:  # an error read back from the learner's answer, say
                failure = (type(exc).__name__, str(exc))
                if diagnoses is not None:
                    diagnoses[index] = Diagnosis(f"({type(exc).__name__} in its answer)", None, None)
            if printed.getvalue():
                if outputs and outputs[-1]["output_type"] == "stream":
                    outputs[-1]["text"] += printed.getvalue()
                else:
                    outputs.append(stream_output(printed.getvalue()))
            if failure:
                outputs.append(error_output(*failure))
                break
    finally:
        worker.end()
        if events is not None:
            events += [Event(index, "suspect construct", what, held=what in worker.held) for what in worker.suspects]
    return outputs


@dataclass(frozen=True)
class Diagnosis:
    """What the checks said about a failed graded cell, kept for the instructor's report."""

    mistake: str | None  # a catalogued Mistake's name, or a kind of failure in parentheses
    hint: str | None
    case: str | None


def grade_notebook(steps: list[Step], settings: Settings, events: list | None = None,
                   diagnoses: dict | None = None) -> tuple[dict[int, list[dict]], dict[int, str]]:
    """Judge every graded cell of a notebook in the sandbox.

    Returns the outputs each graded cell should show (what SaveAutoGrades then scores),
    and the learner cells that had to be skipped, with the reason. What the instructor
    should look at (:class:`Event`: suspect constructs, the budget running out) is added
    to ``events``; what the checks diagnosed in each failed cell to ``diagnoses``.
    """
    forbidden = sorted({target for step in steps if step.calls for call in step.calls for target in call.forbidden})
    verdicts: dict[int, list[dict]] = {}
    bad: dict[int, str] = {}
    process = None
    if events is not None:  # what the learner's cells say, read here: flagged even if nothing visible ran
        events += [Event(step.index, "suspect construct", f"{what} (in its source)")
                   for step in steps if step.calls is None for what in scan(step.source)]
    try:
        for step in steps:
            if step.calls is None:
                continue
            if not settings.budget.exhausted:
                process = _replayed(process, steps, step.index, bad, settings, forbidden, events)
            if settings.budget.exhausted or process is None:  # no more of this learner's code runs
                verdicts[step.index] = [error_output(BUDGET_ENAME, settings.budget.message())]
                if diagnoses is not None:
                    diagnoses[step.index] = Diagnosis("(time budget ran out)", None, None)
                if events is not None:
                    events.append(Event(step.index, "budget", settings.budget.message()))
                continue
            # the learner's cells before this one, as written: what the checks' allowlists read
            sources = [s.source for s in steps if s.calls is None and s.index < step.index]
            verdicts[step.index] = _judge(process, step.calls, sources, step.index, events, diagnoses)
    finally:
        if process is not None:
            process.close()
    return verdicts, bad
