"""The confined process that runs one learner's notebook for the grader.

Started by :mod:`dotlab.grading.sandbox` as ``python -m dotlab.grading.sandbox_child``,
never by hand. It confines itself (:mod:`dotlab.grading.confine`), then obeys the grader:

- :class:`~protocol.RunCell`: run one of the learner's cells, as a kernel would (errors
  are the learner's);
- :class:`~protocol.Fork`: start a worker, a copy of this process as it stands, for one
  graded cell; the worker answers :class:`~protocol.Call` requests (run the function on
  the check's inputs, with the routines the exercise forbids turned into tripwires) until
  :class:`~protocol.End`.

Nothing the learner's code does here can change a grade: the checks run in the grader,
which only reads plain JSON back from this process and judges it. Frames to the grader
are JSON; frames from it are pickles (the grader is trusted, this process is not). The
messages are :mod:`dotlab.grading.protocol`'s, shared with the grader.
"""

from __future__ import annotations

import _thread
import json
import os
import pickle
import struct
import sys
import sysconfig
import threading
import tracemalloc
import types

from dotlab.grading import protocol

# Where the standard library and installed packages live: code there is not the learner's.
_LIBRARY_PATHS = tuple(sorted({sysconfig.get_paths()[key] + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib")}))

_HEADER = struct.Struct(">I")
# Taken before any learner code runs, so that replacing os.write or sys.setprofile in a
# cell does not silence the channel or the tripwires (a determined learner can still reach
# this module: see the instructor's guide on what is best-effort).
_read, _write, _exit, _fork, _waitpid = os.read, os.write, os._exit, os.fork, os.waitpid
_dumps, _loads, _setprofile, _getprofile = json.dumps, pickle.loads, sys.setprofile, sys.getprofile
_start_thread = _thread.start_new_thread
_to_wire, _encode_answer, _encode_error = protocol.to_wire, protocol.encode_answer, protocol.encode_error
# The same for the allocation tracer a check may ask to measure a call with (see _measured).
_trace_start, _trace_stop, _tracing = tracemalloc.start, tracemalloc.stop, tracemalloc.is_tracing
_trace_reset_peak, _traced = tracemalloc.reset_peak, tracemalloc.get_traced_memory


class Channel:
    """Length-prefixed frames over two file descriptors."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out

    def _read_exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = _read(self.fd_in, left)
            if not chunk:
                raise EOFError("the grader closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size))
        return _loads(self._read_exactly(size))

    def send(self, message) -> None:
        """Send one of :mod:`~dotlab.grading.protocol`'s replies."""
        data = _dumps(_to_wire(message)).encode()
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[_write(self.fd_out, view):]


# -- tripwires: the forbidden routines, wrapped before any learner code runs --------------

class Tripwires:
    """Wrap each forbidden routine wherever its package keeps a reference to it.

    Wrapping happens before the learner's cells run, so ``from numpy import dot as d``
    captures the wrapper. A wrapper passes calls through until armed (while the learner's
    function answers a check that forbids it); armed, it records the call and raises.
    Python-level routines are also recognised by their code (file, name, line, and what
    the code does: :func:`fingerprint`), so a reloaded copy of the reference, or its source
    compiled again elsewhere, trips too, also from a thread the call starts. One routine
    known under several names (``dotlab.dot`` is ``dotlab.vectors.dot``) trips them all.
    :meth:`check` finds the tripwires themselves tampered with (emptied, unwrapped, the
    profile switched off), which fails the call.
    """

    def __init__(self):
        self.armed: set[str] = set()
        self.tripped: set[str] = set()
        self.installed: set[str] = set()
        self.names: dict[int, set[str]] = {}  # id of an original or of its wrapper -> target names
        self.keep: list = []  # the originals and wrappers, so their ids stay theirs
        self.code_keys: dict[tuple, set[str]] = {}
        # what each Python-level routine's code does, wherever and under whatever name it was
        # compiled: the reference's source executed again under another file name matches
        self.prints: dict[tuple, set[str]] = {}
        self._seen: dict[int, tuple] = {}  # id(code) -> its fingerprint, with the code kept in _codes
        self._codes: list = []
        self.placed: list[tuple] = []  # (module, attribute, wrapper): where each wrapper was put
        self.frozen: dict[int, frozenset] = {}  # id of each names set -> what it held when made
        self.problems: list[str] = []  # tampering found by check(): each one fails an armed call
        self._hook = self._profile  # one bound method, so that sys.getprofile() can be compared with it
        self.unwrapped: list[str] = []  # forbidden routines that could not be found to wrap, and why

    def install(self, targets) -> None:
        import importlib

        for target in targets:
            if target in self.installed or "." not in target:
                continue
            self.installed.add(target)
            module_name, attr = target.rsplit(".", 1)
            try:
                found = getattr(importlib.import_module(module_name), attr)
            except Exception as exc:  # noqa: BLE001 - not on this machine: the grader logs it (Ready.unwrapped)
                self.unwrapped.append(f"{target} ({type(exc).__name__}: {exc})"[:300])
                continue
            if id(found) in self.names:  # already wrapped under another name
                self.names[id(found)].add(target)
                self.frozen[id(self.names[id(found)])] = frozenset(self.names[id(found)])
                continue
            originals = [found]
            inner = getattr(found, "_implementation", None)  # numpy's C routine behind its dispatcher
            if inner is not None and id(inner) not in self.names:
                originals.append(inner)
            names = {target}
            wrappers = {}
            for original in originals:
                wrapper = self._wrap(names, original)
                wrappers[id(original)] = wrapper
                self.names[id(original)] = self.names[id(wrapper)] = names
                self.keep += [original, wrapper]
                code = getattr(original, "__code__", None)
                if code is not None:
                    self.code_keys[(code.co_filename, code.co_name, code.co_firstlineno)] = names
                    if len(code.co_code) >= MIN_PRINTED:
                        self.prints[fingerprint(code)] = names
            self.frozen[id(names)] = frozenset(names)
            self.keep.append(names)
            self._replace_everywhere(module_name.split(".")[0], originals, wrappers, self.placed)

    @staticmethod
    def _replace_everywhere(package: str, originals: list, wrappers: dict, placed: list) -> None:
        for name, module in list(sys.modules.items()):
            if module is None or not (name == package or name.startswith(package + ".")):
                continue
            try:
                namespace = vars(module)
            except TypeError:
                continue
            for key, value in list(namespace.items()):
                if id(value) in wrappers and any(value is o for o in originals):
                    try:
                        setattr(module, key, wrappers[id(value)])
                        placed.append((module, key, wrappers[id(value)]))
                    except (AttributeError, TypeError):
                        pass

    def _wrap(self, names: set[str], original):
        wires = self

        def tripwire(*args, **kwargs):
            hit = names & wires.armed
            if hit:
                wires.tripped |= hit
                raise AssertionError(f"this exercise asks you to write it yourself, but your code called {min(hit)}")
            return original(*args, **kwargs)

        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            try:
                setattr(tripwire, attr, getattr(original, attr))
            except (AttributeError, TypeError):
                pass
        return tripwire

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            names = self.code_keys.get((code.co_filename, code.co_name, code.co_firstlineno)) or self._printed(code)
            if names:
                self.tripped |= names & self.armed

    def _printed(self, code) -> set[str] | None:
        key = self._seen.get(id(code))
        if key is None:
            key = self._seen[id(code)] = fingerprint(code)
            self._codes.append(code)  # so that its id is not reused by another code object
        return self.prints.get(key)

    def start_thread(self, function, args=(), kwargs=None):
        """``_thread.start_new_thread`` for learner code: a thread started during an armed call is profiled too."""
        profile = _getprofile()

        def run(*a, **k):
            if profile is not None:
                WATCH.own.setting = True  # the grader's own setprofile: not the learner's
                _setprofile(profile)
                WATCH.own.setting = False
            return function(*a, **k)

        return _start_thread(run, tuple(args), dict(kwargs or {}))

    def arm(self, targets) -> None:
        self.install(targets)
        self.armed, self.tripped, self.problems = set(targets), set(), []
        self._armed_set, self._armed_copy = self.armed, frozenset(targets)
        self.profiled = any(names & self.armed for names in (*self.code_keys.values(), *self.prints.values()))
        if self.profiled:
            _setprofile(self._hook)  # threads started during the call get it too: see start_thread
        self.check()

    def check(self) -> None:
        """Tampering with the tripwires themselves (emptied, unwrapped, profile switched off) is a problem."""
        if self.armed is not self._armed_set or type(self.armed) is not set or self.armed != self._armed_copy:
            self.problems.append(protocol.TAMPERED + "the list of forbidden routines was replaced")
        for names in self.keep:
            if type(names) is set and id(names) in self.frozen and names != self.frozen[id(names)]:
                self.problems.append(protocol.TAMPERED + "they were emptied")
                break
        for module, key, wrapper in self.placed:
            if self.armed & self.names.get(id(wrapper), set()) and getattr(module, key, None) is not wrapper:
                self.problems.append(protocol.TAMPERED + f"{module.__name__}.{key} was unwrapped")
        if self.profiled and _getprofile() is not self._hook:
            self.problems.append(protocol.TAMPERED + "the call profile was switched off (sys.setprofile)")

    def disarm(self) -> tuple[list[str], list[str]]:
        """The forbidden routines the call reached, and any tampering found."""
        self.check()
        _setprofile(None)
        self.armed = set()
        return sorted(self.tripped), list(dict.fromkeys(self.problems))


# Bytes of bytecode below which a routine is not recognised by its code alone: an honest
# learner's function could match a one-line reference by coincidence.
MIN_PRINTED = 40


def fingerprint(code) -> tuple:
    """What a function's code does, without its file, line numbers or name: its bytecode,
    the names and variables it uses, and its constants (the docstring aside).

    The reference's source compiled again under another file name, or pasted into a cell
    under another name or without its docstring, has the same fingerprint; an honest
    function would need the reference's variables, messages and every step to match.
    """
    consts = list(code.co_consts)
    if consts and isinstance(consts[0], str):
        consts[0] = None  # the docstring (Python keeps it first), which a copy may drop
    parts = tuple(fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c)) for c in consts)
    return (code.co_code, code.co_names, code.co_varnames, code.co_argcount, code.co_kwonlyargcount, parts)


# -- what learner code does that could switch the tripwires off ----------------------------------

class Watch:
    """Constructs seen while learner code runs that can switch the tripwires off: an audit hook (PEP 578).

    An audit hook cannot be removed from Python code, and CPython raises its events for
    exactly the tools such tampering needs: ``sys.setprofile``/``settrace``, walking objects
    with ``gc``, reading frames, making code or functions at run time, loading C code with
    ``ctypes``. What it saw is reported with the cell or the call (see
    :data:`dotlab.grading.protocol.TAMPERING` for those that fail a call). It is best-effort
    by nature: a learner who rewrites this module itself is not seen here, which is why the
    grader also refuses these constructs in the learner's source before running it.
    """

    def __init__(self):
        self.active, self.in_call, self.seen = False, False, []
        self.own = threading.local()  # set while the grader's own code raises an event in a learner's thread

    def hook(self, event, args):
        if not self.active or getattr(self.own, "setting", False):
            return
        what = protocol.suspect(event, args, self.in_call)
        if what is not None and self._library_import():
            return
        if what is not None and what not in self.seen and len(self.seen) < protocol.MAX_SUSPECTS:
            self.seen.append(what)

    def _library_import(self) -> bool:
        """Whether the event comes from an installed library's own import.

        A right answer may import torch inside the function; torch's first import loads
        its shared libraries through ctypes and makes code objects. Walking out from the
        event, only frames of
        the standard library and installed packages may stand between it and the import
        machinery: code a learner wrote (in a cell, or in a file of their scratch folder)
        anywhere on that path makes it theirs.
        """
        self.own.setting = True  # sys._getframe raises an audit event of its own
        try:
            frame = sys._getframe(2)
            while frame is not None:
                name = frame.f_code.co_filename
                if name.startswith("<frozen importlib"):
                    return True
                if not name.startswith(_LIBRARY_PATHS):
                    return False
                frame = frame.f_back
            return False
        finally:
            self.own.setting = False

    def start(self, in_call: bool) -> None:
        self.seen, self.in_call, self.active = [], in_call, True

    def stop(self) -> tuple[str, ...]:
        self.active = False
        return tuple(self.seen)


WATCH = Watch()


# -- what the graded cell's names are -----------------------------------------------------

def describe(namespace: dict, name: str) -> protocol.NameInfo:
    """Whether ``name`` is defined, a function, or a value (described as plain data)."""
    if name not in namespace:
        return protocol.NameInfo(defined=False)
    obj = namespace[name]
    if callable(obj):
        return protocol.NameInfo(defined=True, callable=True)
    return protocol.NameInfo(defined=True, value=_encode_answer(obj, sys.modules["numpy"], 1000))


# -- the two roles: the notebook's replay (zygote) and a worker per graded function ------

class _Measured:
    """What a check asked to measure about one call, measured here, where the learner's code runs.

    ``peak_memory``: the most bytes allocated at once during the call, above what was
    allocated when it started, as :mod:`tracemalloc` sees them (NumPy reports its arrays
    to it). The grader's check judges the number; the same check in a notebook or in
    pytest measures the same way in its own process (:mod:`dotlab.checks._measure`).
    """

    def __init__(self, what):
        self.what, self.report = what, {}

    def __enter__(self):
        if self.what == "peak_memory":
            _trace_start()
            _trace_reset_peak()
            self.base = _traced()[0]
        return self

    def __exit__(self, *exc_info):
        if self.what == "peak_memory":
            # a function that stops the tracer itself leaves nothing to judge: None, refused by the check
            self.report["peak_memory"] = _traced()[1] - self.base if _tracing() else None
            _trace_stop()
        return False


def _inputs_after(request: protocol.Call) -> dict | None:
    """The call's inputs as the learner's function left them (the checks tell a mutation)."""
    try:
        np = sys.modules["numpy"]
        return {"args": [_encode_answer(a, np) for a in request.args],
                "kwargs": {str(k): _encode_answer(v, np) for k, v in request.kwargs.items()}}
    except BaseException:  # noqa: BLE001 - unreadable inputs: the grader skips the mutation test
        return None


def _call(channel: Channel, namespace: dict, wires: Tripwires, request: protocol.Call) -> None:
    fn = namespace.get(request.name)
    measured = _Measured(request.measure)
    wires.arm(request.forbidden)
    WATCH.start(in_call=True)
    recursed = False
    try:
        try:
            with measured:
                value = fn(*request.args, **request.kwargs)
        except BaseException as exc:  # noqa: BLE001 - every kind, SystemExit included: the grader judges it
            outcome = _encode_error(exc)
            recursed = isinstance(exc, RecursionError)
        else:
            # read the answer while the tripwires are still armed: its __array__ is learner code too.
            # encode_answer catches whatever reading it raises (SystemExit from __float__...): the
            # grader gets plain data either way, never an object of the learner's.
            outcome = {"k": "value", "value": _encode_answer(value, sys.modules["numpy"])}
            del value  # its __del__ runs here, under the tripwires, not after the reply
        after = _inputs_after(request)
    finally:
        suspects = WATCH.stop()
        tripped, problems = wires.disarm()
    if recursed:  # CPython unsets a profile that hits the recursion limit itself: not the learner's doing
        suspects = tuple(s for s in suspects if s != "sys.setprofile")
        problems = [p for p in problems if "sys.setprofile" not in p]
    channel.send(protocol.Result(outcome, tuple(tripped), measured.report, suspects=(*problems, *suspects), after=after))


def _serve_worker(channel: Channel, namespace: dict, wires: Tripwires, names: tuple[str, ...]) -> None:
    channel.send(protocol.WorkerReady({n: describe(namespace, n) for n in names}))
    while True:
        request = channel.receive()
        if isinstance(request, protocol.End):
            _exit(0)
        _call(channel, namespace, wires, request)


def _fork_worker(channel: Channel, namespace: dict, wires: Tripwires, names: tuple[str, ...]) -> None:
    pid = _fork()
    if pid == 0:
        try:
            _serve_worker(channel, namespace, wires, names)
        finally:
            _exit(0)
    _, status = _waitpid(pid, 0)
    channel.send(protocol.WorkerExit(status))


def _silence_std_streams() -> Channel:
    """Keep the grader's channel on private descriptors; stdin/stdout/stderr go nowhere."""
    channel = Channel(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    return channel


class Cells:
    """Runs the learner's cells in one namespace, as a notebook's kernel would.

    Plain Python is compiled and run directly; a cell that is not plain Python (IPython's
    ``%magics`` and ``!commands``) goes to an IPython shell, started the first time one is
    needed, on the same namespace. Errors of every kind are the learner's: the cell stops
    there and the next one runs, as in a notebook.
    """

    def __init__(self):
        import builtins

        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": self.ipython}
        self.shell = None

    def ipython(self):
        if self.shell is None:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            config = Config()
            config.HistoryManager.enabled = False  # no history thread: this process forks
            self.shell = InteractiveShell.instance(config=config, user_ns=self.namespace)
        return self.shell

    def run(self, source: str, index: int) -> None:
        try:
            code = compile(source, f"<cell {index}>", "exec")
        except (SyntaxError, ValueError):
            self.ipython().run_cell(source, silent=True)
            return
        except (RecursionError, MemoryError):  # nested too deep for the compiler: the cell's error, as in a kernel
            return
        try:
            exec(code, self.namespace)
        except BaseException:  # noqa: BLE001 - KeyboardInterrupt and SystemExit too, as IPython does
            pass


def main() -> None:
    channel = _silence_std_streams()
    setup: protocol.Setup = channel.receive()
    from dotlab.grading import confine

    confine.apply(confine.Confinement.from_json(setup.confinement))
    os.chdir(setup.cwd)
    import numpy  # noqa: F401  (imported once here, shared by every worker)

    cells = Cells()
    wires = Tripwires()
    wires.install(setup.forbidden)
    sys.addaudithook(WATCH.hook)  # before any learner code: it cannot be removed
    _thread.start_new_thread = threading._start_new_thread = wires.start_thread
    channel.send(protocol.Ready(tuple(wires.unwrapped)))
    while True:
        request = channel.receive()
        if isinstance(request, protocol.RunCell):
            WATCH.start(in_call=False)
            try:
                cells.run(request.source, request.index)
            finally:
                suspects = WATCH.stop()
            channel.send(protocol.CellDone(request.index, suspects))
        elif isinstance(request, protocol.Fork):
            _fork_worker(channel, cells.namespace, wires, request.names)


if __name__ == "__main__":
    try:
        main()
    except EOFError:
        os._exit(0)
