"""The messages between the grader and the sandbox's confined process, in one place.

The grader (:mod:`dotlab.grading.sandbox`) and the confined process
(:mod:`dotlab.grading.sandbox_child`) both import this module, so each message is
defined once, as a small dataclass:

- the grader asks (pickled: the grader is trusted): :class:`Setup` once, then
  :class:`RunCell`, :class:`Fork`, and for a forked worker :class:`Call` and :class:`End`;
- the sandbox answers (JSON: the sandbox runs learner code and is never trusted):
  :class:`Ready`, :class:`CellDone`, :class:`WorkerReady`, :class:`Result`,
  :class:`WorkerExit`. :func:`parse_reply` checks every field of what arrives and
  raises :class:`ProtocolError` for anything else.

What a learner's function returned crosses as plain data only: numbers, strings, nested
lists, tuples and dicts, NumPy arrays (dtype, shape, numbers), and for any other object
its type name, its repr and the float64 numbers NumPy read from it in the sandbox
(:func:`encode_answer`). Nothing the learner wrote runs in the grader: an object whose
``__float__`` raises ``SystemExit`` was read in the sandbox, under the sandbox's own
``except BaseException``, and reaches the grader as "could not be read as numbers"
(:func:`decode_answer`). An exception the function raised crosses as its type name,
message and nearest builtin ancestor (:func:`encode_error`); only ``Exception`` families
are rebuilt (:func:`rebuild_error`), so ``SystemExit``, ``KeyboardInterrupt`` and their
kind are never raised in the grader: they fail the learner's check with a message.
"""

from __future__ import annotations

import builtins
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_ITEMS", "MAX_TEXT", "STOPS_A_PROGRAM", "Call", "CellDone", "End", "Fork", "NameInfo", "Opaque",
    "ProtocolError", "Ready", "Result", "RunCell", "Setup", "WorkerExit", "WorkerReady", "decode_answer",
    "encode_answer", "encode_error", "parse_reply", "rebuild_error", "stops_a_program", "suspect", "TAMPERED", "TAMPERING",
    "is_tampering",
]

MAX_ITEMS = 1_000_000  # numbers per answer sent back; larger answers are reported as too large
MAX_TEXT = 2000  # characters of a repr or an error message
MAX_NAME = 100  # characters of a type name
MAX_SUSPECTS = 20  # suspect constructs reported per cell or call
# The builtin exception families that end a program rather than report a problem: a
# function that raises one fails its check, and none of them is ever raised in the grader.
STOPS_A_PROGRAM = ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseExceptionGroup")


class ProtocolError(ValueError):
    """A message from the sandbox that is not one the protocol defines (tampering, or a bug)."""


# -- constructs that can switch the tripwires off ----------------------------------------------

# Audit events (PEP 578) that no graded function of this course needs: seen during a call of a
# function whose check forbids routines, each fails that call; seen anywhere, each is reported.
_ALWAYS = {"sys.setprofile": "sys.setprofile", "sys.settrace": "sys.settrace", "gc.get_objects": "gc.get_objects",
           "gc.get_referrers": "gc.get_referrers", "gc.get_referents": "gc.get_referents",
           "sys._current_frames": "sys._current_frames", "code.__new__": "making code objects (code.replace)",
           "function.__new__": "making functions from code objects (types.FunctionType)"}
# Frame walking: IPython's magics read frames too, so only inside a call; and only reported,
# never failing a call by itself (the standard library reads frames for honest reasons, such
# as logging or namedtuple): what it could do to the tripwires, the sandbox's check() finds.
_IN_CALL = {"sys._getframe": "sys._getframe"}
_FRAME_ATTRIBUTES = ("tb_frame", "gi_frame", "cr_frame", "ag_frame")
#: What fails a call whose check forbids routines, as the sandbox names it (see :func:`suspect`),
#: besides the sandbox's own finding that its tripwires were tampered with.
TAMPERING = frozenset({*_ALWAYS.values(), "ctypes"})


#: How the sandbox names its own finding that its tripwires were tampered with.
TAMPERED = "tampered with the tripwires: "


def is_tampering(construct: str) -> bool:
    """Whether a suspect construct fails a call whose check forbids routines."""
    return construct in TAMPERING or construct.startswith(TAMPERED)


def suspect(event: str, args: tuple, in_call: bool) -> str | None:
    """The construct an audit event reveals, if it is one that can switch tripwires off; else None.

    Examples
    --------
    >>> suspect("gc.get_objects", (None,), in_call=False)
    'gc.get_objects'
    >>> suspect("sys._getframe", (None,), in_call=False) is None  # IPython's magics read frames
    True
    >>> suspect("open", ("data.csv", "r", 0), in_call=True) is None
    True
    """
    if event in _ALWAYS:
        return _ALWAYS[event]
    if in_call and event in _IN_CALL:
        return _IN_CALL[event]
    if event.startswith("ctypes."):
        return "ctypes"
    if in_call and event == "object.__getattr__" and len(args) > 1 and args[1] in _FRAME_ATTRIBUTES:
        return "reading frames (tb_frame, gi_frame)"
    return None


# -- the grader asks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Setup:
    """First message: how to confine itself, where to work, which routines to wrap before any cell runs."""

    confinement: dict
    cwd: str
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunCell:
    """Run one learner cell as a kernel would; answered by :class:`CellDone`."""

    index: int
    source: str


@dataclass(frozen=True)
class Fork:
    """Start a worker, a copy of the notebook's process, for one graded cell; answered by :class:`WorkerReady`."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """Call the learner's function ``name`` once in the worker; answered by :class:`Result`.

    ``forbidden`` are the routines armed as tripwires during the call; ``measure`` names a
    property the worker measures during the call (``"peak_memory"``, see
    :mod:`dotlab.checks._measure`).
    """

    name: str
    args: tuple
    kwargs: dict
    forbidden: tuple[str, ...] = ()
    measure: str | None = None


@dataclass(frozen=True)
class End:
    """Let the worker go; answered by :class:`WorkerExit` from the notebook's process."""


# -- the sandbox answers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    """The process is confined and has wrapped the forbidden routines.

    ``unwrapped`` names each forbidden routine it could not find to wrap, with why (the
    grader logs it: a check would then forbid nothing there).
    """

    unwrapped: tuple[str, ...] = ()
    EV = "ready"


@dataclass(frozen=True)
class CellDone:
    """A learner cell finished (its own errors are the learner's, as in a notebook).

    ``suspects`` names constructs seen while it ran that can switch tripwires off
    (``gc.get_objects``, ``sys.setprofile``...): reported to the instructor.
    """

    index: int
    suspects: tuple[str, ...] = ()
    EV = "cell_done"


@dataclass(frozen=True)
class NameInfo:
    """What one of the learner's names is in the worker: undefined, a function, or a value."""

    defined: bool
    callable: bool = False
    value: dict | None = None  # encode_answer's description, for a name that is not callable


@dataclass(frozen=True)
class WorkerReady:
    """A worker is ready; what each name the graded cell needs is."""

    names: dict[str, NameInfo]
    EV = "worker"


@dataclass(frozen=True)
class Result:
    """One call's outcome, as plain data.

    ``outcome`` is ``{"k": "value", "value": <encode_answer>}`` or ``encode_error``'s
    dict; ``tripped`` the forbidden routines the call reached; ``measured`` what the call
    asked to measure; ``suspects`` the constructs seen during the call that can switch
    tripwires off.
    """

    outcome: dict
    tripped: tuple[str, ...] = ()
    measured: dict = field(default_factory=dict)
    suspects: tuple[str, ...] = ()
    # the call's inputs as it left them, {"args": [...], "kwargs": {...}} of encode_answer's
    # descriptions, for the checks' mutation test (dotlab.checks._core); None if unreadable
    after: dict | None = None
    EV = "result"


@dataclass(frozen=True)
class WorkerExit:
    """The worker ended; ``status`` is its raw wait status (None if unknown)."""

    status: int | None = None
    EV = "worker_exit"


def to_wire(message) -> dict:
    """The JSON-ready dict the sandbox sends for one of its replies."""
    if isinstance(message, Ready):
        return {"ev": Ready.EV, "unwrapped": list(message.unwrapped)}
    if isinstance(message, CellDone):
        return {"ev": CellDone.EV, "index": message.index, "suspects": list(message.suspects)}
    if isinstance(message, WorkerReady):
        return {"ev": WorkerReady.EV, "names": {name: {"defined": info.defined, "callable": info.callable,
                                                       "value": info.value} for name, info in message.names.items()}}
    if isinstance(message, Result):
        return {"ev": Result.EV, "outcome": message.outcome, "tripped": list(message.tripped),
                "measured": message.measured, "suspects": list(message.suspects), "after": message.after}
    if isinstance(message, WorkerExit):
        return {"ev": WorkerExit.EV, "status": message.status}
    raise TypeError(f"not a reply of the sandbox: {type(message).__name__}")


def _strings(value, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ProtocolError(f"{what} should be a list of strings")
    return tuple(s[:MAX_TEXT] for s in value[:MAX_SUSPECTS * 5])


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what} should be an integer, not {type(value).__name__}")
    return value


def _name_info(value) -> NameInfo:
    if not isinstance(value, dict) or not isinstance(value.get("defined"), bool):
        raise ProtocolError("a name's description should say whether it is defined")
    described = value.get("value")
    if described is not None and not isinstance(described, dict):
        raise ProtocolError("a name's value should be described by a dict")
    return NameInfo(value["defined"], value.get("callable") is True, described)


def parse_reply(wire) -> Ready | CellDone | WorkerReady | Result | WorkerExit:
    """The typed reply in a dict received from the sandbox; :class:`ProtocolError` if it is not one.

    Examples
    --------
    >>> parse_reply({"ev": "cell_done", "index": 3, "suspects": []})
    CellDone(index=3, suspects=())
    >>> parse_reply({"ev": "quit"})
    Traceback (most recent call last):
    ...
    dotlab.grading.protocol.ProtocolError: unknown reply 'quit'
    """
    if not isinstance(wire, dict):
        raise ProtocolError(f"a reply should be a JSON object, not {type(wire).__name__}")
    ev = wire.get("ev")
    if ev == Ready.EV:
        return Ready(_strings(wire.get("unwrapped"), "unwrapped"))
    if ev == CellDone.EV:
        return CellDone(_int(wire.get("index"), "index"), _strings(wire.get("suspects"), "suspects"))
    if ev == WorkerReady.EV:
        names = wire.get("names")
        if not isinstance(names, dict):
            raise ProtocolError("a worker should describe the names it was asked for")
        return WorkerReady({str(name): _name_info(info) for name, info in names.items()})
    if ev == Result.EV:
        outcome, measured = wire.get("outcome"), wire.get("measured") or {}
        if not isinstance(outcome, dict) or not isinstance(measured, dict):
            raise ProtocolError("a result should hold an outcome and measurements as objects")
        after = wire.get("after")
        if after is not None and not (isinstance(after, dict) and isinstance(after.get("args"), list)
                                      and isinstance(after.get("kwargs"), dict)):
            raise ProtocolError("a result's inputs after the call should be an object of args and kwargs")
        return Result(outcome, _strings(wire.get("tripped"), "tripped"), measured, _strings(wire.get("suspects"), "suspects"),
                      after)
    if ev == WorkerExit.EV:
        status = wire.get("status")
        return WorkerExit(None if status is None else _int(status, "status"))
    raise ProtocolError(f"unknown reply {str(ev)[:40]!r}")


# -- answers, in the sandbox: plain data, whatever the learner returned -------------------------

def _text(obj, fn=repr) -> str:
    """``fn(obj)`` cut to MAX_TEXT, or a placeholder if the learner's ``__repr__``/``__str__`` misbehaves."""
    try:
        text = fn(obj)
        if type(text) is not str:
            raise TypeError
    except BaseException:  # noqa: BLE001 - SystemExit from a __repr__ is the learner's too
        return f"<{_type_name(type(obj))} object>"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _type_name(cls) -> str:
    try:
        name = type.__dict__["__name__"].__get__(cls)  # not a metaclass's own __name__
    except BaseException:  # noqa: BLE001
        return "object"
    return name[:MAX_NAME] if type(name) is str else "object"


def _builtin_ancestor(cls) -> str:
    try:
        for klass in type.__dict__["__mro__"].__get__(cls):
            name = _type_name(klass)
            if getattr(builtins, name, None) is klass:
                return name
    except BaseException:  # noqa: BLE001
        pass
    return "BaseException"


def encode_error(exc: BaseException) -> dict:
    """An exception as plain data: its type name, nearest builtin ancestor and message.

    Examples
    --------
    >>> class ShapeError(ValueError):
    ...     pass
    >>> encode_error(ShapeError("a has 3, b has 2"))
    {'k': 'error', 'type': 'ShapeError', 'builtin': 'ValueError', 'message': 'a has 3, b has 2'}
    """
    cls = type(exc)
    return {"k": "error", "type": _type_name(cls), "builtin": _builtin_ancestor(cls), "message": _text(exc, str)}


def _numbers(value, np) -> dict:
    """The float64 numbers NumPy reads from ``value`` (learner code may run: __array__, __float__...)."""
    try:
        arr = np.array(value, dtype=np.float64)
        if type(arr) is not np.ndarray:
            raise TypeError("not read as an array")
        size = arr.size
    except BaseException as exc:  # noqa: BLE001 - SystemExit from __float__ costs this answer only
        return {"error": encode_error(exc)}
    if size > MAX_ITEMS:
        return {"error": {"k": "error", "type": "ValueError", "builtin": "ValueError",
                          "message": f"an answer of {size} numbers is too large to check"}}
    return {"shape": list(arr.shape), "data": arr.ravel().tolist()}


_SCALARS = {bool: "bool", float: "float", int: "int"}


def _encode(value, np, budget: list[int], depth: int) -> dict:
    kind = type(value)  # type(), never isinstance(): a learner's __class__ cannot lie to it
    budget[0] -= 1
    if value is None:
        return {"k": "none"}
    if kind in _SCALARS and (kind is not int or value.bit_length() <= 256):
        return {"k": _SCALARS[kind], "v": value}
    if kind is np.ndarray and value.dtype.kind in "biuf" and value.size <= budget[0]:
        budget[0] -= value.size
        return {"k": "ndarray", "dtype": value.dtype.str, "shape": list(value.shape), "data": value.ravel().tolist()}
    if kind in _numpy_scalars(np):
        return {"k": "npscalar", "dtype": np.dtype(kind).str, "v": value.item()}
    if kind is str and len(value) <= MAX_TEXT:
        return {"k": "str", "v": value}
    if kind in (list, tuple) and len(value) <= budget[0] and depth < 32:
        return {"k": kind.__name__, "items": [_encode(item, np, budget, depth + 1) for item in value]}
    if kind is dict and len(value) <= budget[0] and depth < 32:
        return {"k": "dict", "items": [[_encode(key, np, budget, depth + 1), _encode(item, np, budget, depth + 1)]
                                       for key, item in list(value.items())]}
    return {"k": "opaque", "type": _type_name(kind), "repr": _text(value), "numbers": _numbers(value, np)}


@lru_cache(maxsize=1)
def _numpy_scalars(np) -> frozenset:
    # the real-number scalar types whose .item() is a Python bool, int or float (not longdouble)
    return frozenset(np.dtype(code).type for code in "?bBhHiIlLqQefd")


def encode_answer(value, np, budget: int = MAX_ITEMS) -> dict:
    """Describe ``value`` as plain data, so the grader can judge it without running any of it.

    Plain numbers, strings, NumPy arrays and scalars, lists, tuples and dicts of them come
    back as themselves; anything else as its type name, its repr and the float64 numbers
    NumPy reads from it here (an ``__eq__`` that always says True, or a float subclass,
    changes nothing). Whatever the learner's object raises while it is read, even
    ``SystemExit``, is caught here and sent as part of the description.

    Examples
    --------
    >>> import numpy as np
    >>> encode_answer((1, np.float32(0.5)), np)
    {'k': 'tuple', 'items': [{'k': 'int', 'v': 1}, {'k': 'npscalar', 'dtype': '<f4', 'v': 0.5}]}
    >>> class Exits:
    ...     def __float__(self):
    ...         raise SystemExit("bye")
    ...     def __repr__(self):
    ...         return "Exits()"
    >>> encode_answer(Exits(), np)["numbers"]["error"]["type"]
    'SystemExit'
    """
    try:
        return _encode(value, np, [budget], 0)
    except BaseException as exc:  # noqa: BLE001 - whatever reading the answer ran, it was the learner's
        return {"k": "opaque", "type": _type_name(type(value)), "repr": f"<{_type_name(type(value))} object>",
                "numbers": {"error": encode_error(exc)}}


# -- answers, in the grader: inert data ----------------------------------------------------------

class Opaque:
    """What the grader holds for a learner's object that is not plain data: inert text and numbers.

    ``repr`` is the learner's repr as text; ``numbers`` the float64 array NumPy read from
    the object in the sandbox, or None with ``unreadable`` saying why. ``np.array(it)``
    gives those numbers, or raises TypeError (the grader's own) naming what went wrong,
    which the checks report as "not a number or array of numbers".
    """

    __slots__ = ("type_name", "text", "numbers", "unreadable")

    def __init__(self, type_name: str, text: str, numbers=None, unreadable: str = ""):
        self.type_name, self.text, self.numbers, self.unreadable = type_name, text, numbers, unreadable

    def __repr__(self) -> str:
        return self.text

    def __array__(self, dtype=None, copy=None):
        if self.numbers is None:
            raise TypeError(f"{self.type_name} could not be read as numbers ({self.unreadable})")
        return self.numbers if dtype is None else self.numbers.astype(dtype)


def _opaque(type_name, text, numbers: dict, np) -> Opaque:
    name = "".join(ch for ch in str(type_name)[:MAX_NAME] if ch.isidentifier() or ch.isdigit()) or "object"
    # a class of the learner's type name, so a message reads "of type Liar"; its behaviour is the grader's
    cls = type(name if name.isidentifier() else "object", (Opaque,), {"__slots__": ()})
    if not isinstance(numbers, dict):
        raise ProtocolError("an object's numbers should be described by a dict")
    if "error" in numbers:
        error = numbers["error"] if isinstance(numbers["error"], dict) else {}
        why = f"reading it raised {str(error.get('type', 'an error'))[:MAX_NAME]}: {str(error.get('message', ''))[:MAX_TEXT]}"
        return cls(name, _clean(text), None, _clean(why))
    shape = [int(n) for n in numbers["shape"]]
    return cls(name, _clean(text), np.array(numbers["data"], dtype=np.float64).reshape(shape))


def _dtype(text, np):
    dtype = np.dtype(str(text))
    if dtype.kind not in "biuf":
        raise ProtocolError(f"unexpected dtype {dtype}")
    return dtype


def decode_answer(d: dict) -> Any:
    """The value a learner's function returned, rebuilt from :func:`encode_answer`'s description.

    Plain data comes back as itself; anything else as an :class:`Opaque`. Raises
    ProtocolError (or TypeError, ValueError, KeyError) for a description that is not one.

    Examples
    --------
    >>> decode_answer({"k": "tuple", "items": [{"k": "int", "v": 1}, {"k": "none"}]})
    (1, None)
    >>> liar = decode_answer({"k": "opaque", "type": "Liar", "repr": "Liar()", "numbers": {"shape": [], "data": [3.0]}})
    >>> type(liar).__name__, repr(liar), float(liar.numbers)
    ('Liar', 'Liar()', 3.0)
    """
    import numpy as np

    kind = d["k"]
    if kind == "none":
        return None
    if kind in ("bool", "int", "float"):
        value = d["v"]
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind == "bool" and isinstance(value, bool):
            return value
        raise ProtocolError(f"a {kind} should not be {type(value).__name__}")
    if kind == "ndarray":
        return np.array(d["data"], dtype=_dtype(d["dtype"], np)).reshape([int(n) for n in d["shape"]])
    if kind == "npscalar":
        return _dtype(d["dtype"], np).type(d["v"])
    if kind == "str":
        return _clean(d["v"])
    if kind in ("list", "tuple"):
        items = [decode_answer(item) for item in d["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {decode_answer(key): decode_answer(value) for key, value in d["items"]}
    if kind == "opaque":
        return _opaque(d["type"], d["repr"], d["numbers"], np)
    raise ProtocolError(f"unknown kind {str(kind)[:40]!r}")


# -- errors, in the grader -------------------------------------------------------------------------

def stops_a_program(d: dict) -> bool:
    """Whether an error description names an exception that ends a program (not an ``Exception``).

    Examples
    --------
    >>> stops_a_program({"type": "Escape", "builtin": "KeyboardInterrupt", "message": ""})
    True
    >>> stops_a_program({"type": "ShapeError", "builtin": "ValueError", "message": "3 vs 2"})
    False
    """
    base = getattr(builtins, str(d.get("builtin", "")), None)
    return not (isinstance(base, type) and issubclass(base, Exception))


def rebuild_error(d: dict) -> Exception:
    """An exception with the learner's type name, message and builtin ancestor, always an ``Exception``.

    An error that stops a program (see :func:`stops_a_program`) is never rebuilt as one:
    it becomes a plain ``Exception`` with the learner's type name, which no ``except``
    clause in the grader mistakes for an exit or an interrupt.

    Examples
    --------
    >>> e = rebuild_error({"type": "ShapeError", "builtin": "ValueError", "message": "a has 3, b has 2"})
    >>> isinstance(e, ValueError), type(e).__name__, str(e)
    (True, 'ShapeError', 'a has 3, b has 2')
    >>> e = rebuild_error({"type": "Escape", "builtin": "SystemExit", "message": "bye"})
    >>> isinstance(e, Exception), type(e).__name__
    (True, 'Escape')
    """
    base = getattr(builtins, str(d.get("builtin", "")), None)
    if stops_a_program(d) or not isinstance(base, type):
        base = Exception
    message = _clean(d.get("message", ""))
    name = "".join(ch for ch in str(d.get("type", ""))[:MAX_NAME] if ch.isidentifier() or ch.isdigit())
    if not name.isidentifier():
        name = base.__name__
    for klass in base.__mro__:
        if not issubclass(klass, Exception):
            break
        try:
            cls = type(name, (klass,), {"__str__": lambda self: message, "__module__": "learner"})
            return cls(message)
        except TypeError:  # a family that needs more than a message (UnicodeError's, ExceptionGroup)
            continue
    return Exception(message)


def _clean(text) -> str:
    """Text from the sandbox that any file can hold (no lone surrogates), at most MAX_TEXT characters."""
    return str(text)[:MAX_TEXT].encode("utf-8", "replace").decode("utf-8")
