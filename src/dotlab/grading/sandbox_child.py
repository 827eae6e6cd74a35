"""The confined process that runs one learner's notebook for the grader.

Started by :mod:`dotlab.grading.sandbox` as ``python -m dotlab.grading.sandbox_child``,
never by hand. It confines itself (:mod:`dotlab.grading.confine`), then obeys the grader:

- ``cell``: run one of the learner's cells, as a kernel would (errors are the learner's);
- ``fork``: start a worker, a copy of this process as it stands, for one graded function;
  the worker answers ``call`` requests (run the function on the check's inputs, with the
  routines the exercise forbids turned into tripwires) until ``end``.

Nothing the learner's code does here can change a grade: the checks run in the grader,
which only reads plain JSON back from this process and judges it. Frames to the grader
are JSON; frames from it are pickles (the grader is trusted, this process is not).
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
import tracemalloc

_HEADER = struct.Struct(">I")
# Taken before any learner code runs, so that replacing os.write or sys.setprofile in a
# cell does not silence the channel or the tripwires (a determined learner can still reach
# this module: see the instructor's guide on what is best-effort).
_read, _write, _exit, _fork, _waitpid = os.read, os.write, os._exit, os.fork, os.waitpid
_dumps, _loads, _setprofile = json.dumps, pickle.loads, sys.setprofile
# The same for the allocation tracer a check may ask to measure a call with (see _measured).
_trace_start, _trace_stop, _tracing = tracemalloc.start, tracemalloc.stop, tracemalloc.is_tracing
_trace_reset_peak, _traced = tracemalloc.reset_peak, tracemalloc.get_traced_memory
MAX_ITEMS = 1_000_000  # numbers per answer sent back; larger answers are reported as too large
MAX_TEXT = 2000  # characters of a repr or an error message


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

    def send(self, message: dict) -> None:
        data = _dumps(message).encode()
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[_write(self.fd_out, view):]


# -- tripwires: the forbidden routines, wrapped before any learner code runs --------------

class Tripwires:
    """Wrap each forbidden routine wherever its package keeps a reference to it.

    Wrapping happens before the learner's cells run, so ``from numpy import dot as d``
    captures the wrapper. A wrapper passes calls through until armed (while the learner's
    function answers a check that forbids it); armed, it records the call and raises.
    Python-level routines are also recognised by their code (file, name, line), so a
    reloaded or re-imported copy of the reference implementation trips too. One routine
    known under several names (``dotlab.dot`` is ``dotlab.vectors.dot``) trips them all.
    """

    def __init__(self):
        self.armed: set[str] = set()
        self.tripped: set[str] = set()
        self.installed: set[str] = set()
        self.names: dict[int, set[str]] = {}  # id of an original or of its wrapper -> target names
        self.keep: list = []  # the originals and wrappers, so their ids stay theirs
        self.code_keys: dict[tuple, set[str]] = {}

    def install(self, targets) -> None:
        import importlib

        for target in targets:
            if target in self.installed or "." not in target:
                continue
            self.installed.add(target)
            module_name, attr = target.rsplit(".", 1)
            try:
                found = getattr(importlib.import_module(module_name), attr)
            except Exception:
                continue  # nothing to forbid on this machine
            if id(found) in self.names:  # already wrapped under another name
                self.names[id(found)].add(target)
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
            self._replace_everywhere(module_name.split(".")[0], originals, wrappers)

    @staticmethod
    def _replace_everywhere(package: str, originals: list, wrappers: dict) -> None:
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
            names = self.code_keys.get((code.co_filename, code.co_name, code.co_firstlineno))
            if names:
                self.tripped |= names & self.armed

    def arm(self, targets) -> None:
        self.install(targets)
        self.armed, self.tripped = set(targets), set()
        if any(names & self.armed for names in self.code_keys.values()):
            _setprofile(self._profile)

    def disarm(self) -> list[str]:
        _setprofile(None)
        self.armed = set()
        return sorted(self.tripped)


# -- what a learner's function gave back, as plain JSON ---------------------------------

def _text(obj, fn=repr) -> str:
    try:
        text = fn(obj)
        if not isinstance(text, str):
            raise TypeError
    except BaseException:
        return f"<{type(obj).__name__} object>"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _builtin_ancestor(cls) -> str:
    import builtins

    for klass in cls.__mro__:
        if klass.__module__ == "builtins" and getattr(builtins, klass.__name__, None) is klass:
            return klass.__name__
    return "BaseException"


def encode_error(exc: BaseException) -> dict:
    return {"k": "error", "type": _text(type(exc), lambda c: c.__name__)[:100], "builtin": _builtin_ancestor(type(exc)),
            "message": _text(exc, str)}


def _numbers(value, np) -> dict:
    try:
        arr = np.array(value, dtype=np.float64)
    except BaseException as exc:
        return {"error": encode_error(exc)}
    if arr.size > MAX_ITEMS:
        return {"error": {"k": "error", "type": "ValueError", "builtin": "ValueError",
                          "message": f"an answer of {arr.size} numbers is too large to check"}}
    return {"shape": list(arr.shape), "data": arr.ravel().tolist()}


def encode(value, np, budget: list[int], depth: int = 0) -> dict:
    """Describe ``value`` so the grader can rebuild an inert stand-in with the same numbers.

    Plain numbers, strings, NumPy arrays and scalars, lists, tuples and dicts of them
    come back as themselves; anything else as its type name, its repr and the floats NumPy reads from
    it here (an ``__eq__`` that always says True, or a float subclass, changes nothing).
    """
    kind = type(value)
    budget[0] -= 1
    if value is None:
        return {"k": "none"}
    if kind in (bool, float) or (kind is int and value.bit_length() <= 256):
        return {"k": kind.__name__, "v": value}
    if kind is np.ndarray and value.dtype.kind in "biuf" and value.size <= budget[0]:
        budget[0] -= value.size
        return {"k": "ndarray", "dtype": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in "biuf":
        return {"k": "npscalar", "dtype": value.dtype.str, "v": value.item()}
    if kind is str and len(value) <= MAX_TEXT:
        return {"k": "str", "v": value}
    if kind in (list, tuple) and len(value) <= budget[0] and depth < 32:
        return {"k": kind.__name__, "items": [encode(item, np, budget, depth + 1) for item in value]}
    if kind is dict and len(value) <= budget[0] and depth < 32:
        return {"k": "dict", "items": [[encode(key, np, budget, depth + 1), encode(item, np, budget, depth + 1)]
                                       for key, item in list(value.items())]}
    return {"k": "opaque", "type": _text(kind, lambda c: c.__name__)[:100], "repr": _text(value), "numbers": _numbers(value, np)}


def describe(namespace: dict, name: str) -> dict:
    if name not in namespace:
        return {"defined": False}
    obj = namespace[name]
    return {"defined": True, "callable": callable(obj), "value": encode(obj, __import__("numpy"), [1000]) if not callable(obj) else None}


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


def _call(channel: Channel, namespace: dict, wires: Tripwires, request: dict) -> None:
    import numpy as np

    fn = namespace.get(request["name"])
    measured = _Measured(request.get("measure"))
    wires.arm(request["forbidden"])
    try:
        try:
            with measured:
                value = fn(*request["args"], **request["kwargs"])
            # read the answer while the tripwires are still armed: its __array__ is learner code too
            outcome = {"k": "value", "value": encode(value, np, [MAX_ITEMS])}
        except BaseException as exc:  # every kind, SystemExit included: the grader judges it
            outcome = encode_error(exc)
    finally:
        tripped = wires.disarm()
    channel.send({"ev": "result", "outcome": outcome, "tripped": tripped, "measured": measured.report})


def _serve_worker(channel: Channel, namespace: dict, wires: Tripwires, names: list[str]) -> None:
    channel.send({"ev": "worker", "pid": os.getpid(), "names": {n: describe(namespace, n) for n in names}})
    while True:
        request = channel.receive()
        if request["op"] == "end":
            _exit(0)
        _call(channel, namespace, wires, request)


def _fork_worker(channel: Channel, namespace: dict, wires: Tripwires, names: list[str]) -> None:
    pid = _fork()
    if pid == 0:
        try:
            _serve_worker(channel, namespace, wires, names)
        finally:
            _exit(0)
    _, status = _waitpid(pid, 0)
    channel.send({"ev": "worker_exit", "status": status})


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
        try:
            exec(code, self.namespace)
        except BaseException:  # noqa: BLE001 - KeyboardInterrupt and SystemExit too, as IPython does
            pass


def main() -> None:
    channel = _silence_std_streams()
    setup = channel.receive()
    from dotlab.grading import confine

    layers = confine.apply(confine.Confinement.from_json(setup["confinement"]))
    os.chdir(setup["cwd"])
    import numpy  # noqa: F401  (imported once here, shared by every worker)

    cells = Cells()
    wires = Tripwires()
    wires.install(setup["forbidden"])
    channel.send({"ev": "ready", "layers": layers})
    while True:
        request = channel.receive()
        if request["op"] == "cell":
            cells.run(request["source"], request["index"])
            channel.send({"ev": "cell_done", "index": request["index"]})
        elif request["op"] == "fork":
            _fork_worker(channel, cells.namespace, wires, request["names"])
        elif request["op"] == "quit":
            _exit(0)


if __name__ == "__main__":
    try:
        main()
    except EOFError:
        os._exit(0)
