"""The machinery shared by every chapter's checks.

A check runs a learner's function on a list of :class:`Case` objects and compares each
answer with the reference implementation. When an answer is wrong, it asks a catalogue
of :class:`Mistake` objects which plausible error would have produced exactly that
answer, and says so. The same checks serve three audiences: the visible self-checks in
an exercise, the hidden nbgrader tests, and the course's own pytest suite.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import importlib
import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class CheckFailure(AssertionError):
    """A learner's function gave a wrong answer; the message says which and why.

    It subclasses AssertionError so nbgrader and pytest both count it as a failed test.
    In a notebook, IPython shows only the message (``_render_traceback_``): the frames
    of the checks' own code teach a learner nothing.
    """

    def __init__(self, message: str = "", *, mistake: str | None = None, hint: str | None = None,
                 case: str | None = None):
        super().__init__(message)
        #: What the grader records for the instructor's report (dotlab.grading.gradelog):
        #: the catalogued Mistake's name, or a kind of failure in parentheses such as
        #: "(changed its input)"; the hint the learner was shown; the failing case's label.
        self.mistake, self.hint, self.case = mistake, hint, case

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Case:
    """One input to try, and what the course expects it to do.

    ``raises`` marks bad input that must be refused; ``must_mention`` lists values the
    error message has to name (so "ValueError()" with no words does not pass).
    """

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    raises: type[BaseException] | None = None
    must_mention: tuple[str, ...] = ()
    show_inputs: bool = True
    hint: str = ""
    tol: tuple[float, float] | None = None  # (rtol, atol) for this case, if not the task's


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong implementation, described by what it would return."""

    name: str
    hint: str
    predict: Callable[..., Any]


#: Arrays up to this many numbers are printed whole in a message; larger ones by shape.
SHOW_WHOLE = 12


def _show(value: Any) -> str:
    """How a value reads in a check's message: small arrays in full, on one line.

    Examples
    --------
    >>> _show(np.array([[1.0, 2.0], [3.0, 4.5]]))
    '[[1. , 2. ], [3. , 4.5]]'
    >>> _show(np.zeros((4, 8)))
    'array of shape (4, 8)'
    >>> _show((np.array([0.5, 1.0]), np.array([2, 0])))
    '([0.5 1. ], [2 0])'
    """
    if isinstance(value, tuple) and any(isinstance(part, np.ndarray) for part in value):
        return "(" + ", ".join(_show(part) for part in value) + ")"
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            value = value + 0.0  # -0.0 reads as 0.0: a sign on zero is noise in a message ("expected [0., -0.]")
        if value.ndim <= 1:
            return np.array2string(value, precision=4, threshold=8)
        if value.size <= SHOW_WHOLE:
            text = np.array2string(value, precision=4, separator=", ")
            return " ".join(line.strip() for line in text.splitlines())
        return f"array of shape {value.shape}"
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # 0.5, not np.float64(0.5)
    if isinstance(value, float):
        value = value + 0.0
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


def _call_text(fn_name: str, case: Case) -> str:
    if not case.show_inputs:
        return f"{fn_name}(...) on {case.label}"
    parts = [_show(a) for a in case.args] + [f"{k}={_show(v)}" for k, v in case.kwargs.items()]
    return f"{fn_name}({', '.join(parts)})"


def _label(case: Case) -> str:
    """`` (label)`` after a call shown with its inputs; nothing where the call already says "on label"."""
    return f" ({case.label})" if case.show_inputs else ""


def as_numbers(result: Any, fn_name: str) -> np.ndarray:
    """Read a learner's answer as plain floats, refusing anything that is not numbers.

    Converting before comparing means an object whose ``__eq__`` always says True
    cannot pass for a right answer.
    """
    __tracebackhide__ = True
    if result is None:
        raise CheckFailure(f"{fn_name} returned None: did you forget the `return` statement?",
                           mistake="(returned None)")
    try:
        arr = np.array(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"{fn_name} returned {_show(result)} of type {type(result).__name__}, which is not a number or array of numbers",
            mistake="(returned something that is not numbers)") from None
    return arr


def _answers_right(value: Any, want: np.ndarray, rtol: float, atol: float) -> bool:
    """Whether an answer, read as numbers, is the reference's (False when it is not numbers)."""
    try:
        got = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return _matches(got, want, rtol, atol)


def _matches(got: np.ndarray, want: np.ndarray, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _predicts(mistake: Mistake, case: Case, got: np.ndarray, rtol: float, atol: float) -> bool | None:
    """Whether ``mistake`` explains the answer ``got`` to ``case`` (None: it cannot run there)."""
    try:
        # A mistake may well divide by zero or leave arccos's domain: that is its answer.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = np.array(mistake.predict(*case.args, **case.kwargs), dtype=np.float64)
    except Exception:
        return None
    return _matches(got, predicted, rtol, atol, equal_nan=True)


def _diagnose(answers: list[tuple[Case, np.ndarray]], failed: Case, got: np.ndarray,
              mistakes: tuple[Mistake, ...], rtol: float, atol: float, right: frozenset = frozenset()) -> Mistake | None:
    """Name the mistake behind a wrong answer.

    Several mistakes can give the same wrong number on one input (reversing b and
    starting the sum at 1 both turn 10 into 11), so prefer the mistake that explains
    every answer the learner's function gave, then one that none of its right answers
    (the labels in ``right``) contradicts; otherwise name none.
    """
    candidates = [m for m in mistakes if _predicts(m, failed, got, rtol, atol)]
    for mistake in candidates:
        verdicts = [_predicts(mistake, case, answer, rtol, atol) for case, answer in answers]
        if all(v is not False for v in verdicts):
            return mistake
    # Else one that no right answer contradicts: where the learner was right and the mistake
    # would not have been, the learner did not make it (it only coincides on this input),
    # and the message says where the answer differs instead of naming the wrong mistake.
    for mistake in candidates:
        if all(_predicts(mistake, case, answer, rtol, atol) is not False
               for case, answer in answers if case.label in right):
            return mistake
    return None


@dataclass
class _Outcome:
    """What the learner's function did on one case: returned a value or raised.

    ``args_after`` and ``kwargs_after`` are the learner's copies of the inputs as the
    call left them (None where they could not be read back), to tell a mutation.
    """

    value: Any = None
    error: BaseException | None = None
    args_after: tuple | None = None
    kwargs_after: dict | None = None


def _not_implemented(fn_name: str) -> CheckFailure:
    return CheckFailure(f"{fn_name} is not implemented yet (it still raises NotImplementedError)",
                        mistake="(not implemented)")


def _judge_refusal(outcome: _Outcome, fn_name: str, case: Case) -> None:
    __tracebackhide__ = True
    call = _call_text(fn_name, case)
    wanted = case.raises.__name__
    advice = f" {case.hint}" if case.hint else ""
    if outcome.error is None:
        raise CheckFailure(
            f"{call} should raise {wanted} ({case.label}), but it returned {_show(outcome.value)}.{advice or ' Silently returning something for bad input hides bugs: check the input and raise.'}",
            mistake="(accepted bad input)", hint=case.hint or None, case=case.label)
    if isinstance(outcome.error, NotImplementedError):
        raise _not_implemented(fn_name)
    if not isinstance(outcome.error, case.raises):
        raise CheckFailure(
            f"{call} should raise {wanted} ({case.label}), but it raised {type(outcome.error).__name__}: "
            f"{outcome.error}. Check the input yourself first and raise {wanted} with a message that names the problem.{advice}",
            mistake="(raised the wrong error)", hint=case.hint or None, case=case.label)
    message = str(outcome.error)
    missing = [m for m in case.must_mention if m not in message]
    if missing:
        raise CheckFailure(
            f"{call} raised {wanted} as it should, but its message {message!r} does not mention "
            f"{' and '.join(missing)}. A good error names the values that were wrong"
            # the case's own advice where it has some (a size, an id, shapes), else the lengths example
            + (f": {case.hint}" if case.hint else
               f", for example: raise {wanted}(f'a has length {{len(a)}} but b has length {{len(b)}}')"),
            mistake="(error message names no values)", case=case.label)


def _index_text(index: tuple, parts: int) -> str:
    """``[1, 2]``, or for a tuple answer ``part 0 [1, 2]`` (part = position in the tuple)."""
    if parts:
        rest = f" [{', '.join(map(str, index[1:]))}]" if len(index) > 1 else ""
        return f"element {index[0]} of the tuple{rest}"
    return f"[{', '.join(map(str, index))}]"


def locate(got: np.ndarray, want: np.ndarray, rtol: float, atol: float, parts: int = 0) -> str:
    """Where two arrays of the same shape differ: the first and the largest difference.

    Examples
    --------
    >>> locate(np.array([1.0, 2.0, 3.0, 9.0]), np.array([1.0, 2.5, 3.0, 4.0]), 1e-9, 1e-12)
    '2 of 4 entries differ; the first at [1]: yours 2, expected 2.5; the largest at [3]: yours 9, expected 4'
    """
    if got.shape != want.shape or got.ndim == 0:
        return ""
    with np.errstate(all="ignore"):
        close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        wrong = np.argwhere(~close)
        if not len(wrong):
            return ""
        gap = np.where(close, -1.0, np.abs(got - want))
        gap = np.where(np.isnan(gap) | np.isinf(gap), np.inf, gap)
    first = tuple(int(i) for i in wrong[0])
    largest = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))

    def at(index):
        yours, expected = got[index], want[index]
        digits = 6  # more where six would print the same number twice ("yours 0.136461, expected 0.136461")
        while digits < 17 and f"{yours:.{digits}g}" == f"{expected:.{digits}g}" and yours != expected:
            digits += 1
        return f"{_index_text(index, parts)}: yours {yours:.{digits}g}, expected {expected:.{digits}g}"

    text = f"{len(wrong)} of {got.size} entries differ; the first at {at(first)}"
    return text + (f"; the largest at {at(largest)}" if largest != first else "")


def _shown(raw: Any, arr: np.ndarray) -> str:
    """A value as the learner would recognise it: tuples as tuples, numbers as numbers."""
    if isinstance(raw, tuple):
        return _show(tuple(np.asarray(part) if isinstance(part, (list, np.ndarray)) else part for part in raw))
    return _show(arr if arr.ndim else float(arr))


def _judge_value(outcome, want, fn_name, case, mistakes, error_hints, rtol, atol, answers=(), want_raw=None,
                 right: frozenset = frozenset()) -> None:
    __tracebackhide__ = True
    call = _call_text(fn_name, case)
    if outcome.error is not None:
        if isinstance(outcome.error, NotImplementedError):
            raise _not_implemented(fn_name)
        text = f"{type(outcome.error).__name__}: {outcome.error}"
        hint = next((h for pattern, h in error_hints if pattern in text), None)
        raise CheckFailure(
            f"{call} raised {text}{_label(case)}; it should return {_shown(want_raw, want)}."
            + (f" Likely mistake: {hint}" if hint else ""),
            mistake=f"(raised {type(outcome.error).__name__})", hint=hint, case=case.label)
    got = as_numbers(outcome.value, fn_name)
    if _matches(got, want, rtol, atol):
        return
    mistake = _diagnose(list(answers), case, got, mistakes, rtol, atol, right)
    hint = mistake.hint if mistake else None
    where = ""
    if hint is None and got.shape != want.shape:
        hint = f"the answer has shape {got.shape} but should have shape {want.shape}"
    elif hint is None:
        where = locate(got, want, rtol, atol, parts=len(want_raw) if isinstance(want_raw, tuple) else 0)
    raise CheckFailure(
        f"{call} returned {_shown(outcome.value, got)}, expected {_shown(want_raw, want)}{_label(case)}."
        + (f" {where[0].upper()}{where[1:]}." if where else "")
        + (f" Likely mistake: {hint}" if hint else ""),
        mistake=mistake.name if mistake else ("(wrong shape)" if got.shape != want.shape else None),
        hint=hint, case=case.label)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds; tuples and lists entry by entry."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _judge_exact(value: Any, want_raw: Any, fn_name: str, case: Case) -> None:
    """Whole numbers compared exactly, where a task promises counts to the unit.

    The comparison above reads both answers as float64, which holds every whole number only
    up to 2**53: past it, a count made with floats rounds to the same float as the true one
    and would pass. Python compares an int and a float exactly, so ``6.0000...e16 == 60006...1``
    is False when the float lost the last digits.
    """
    __tracebackhide__ = True
    want, got = _plain(want_raw), _plain(value)
    pairs = list(zip(got, want)) if isinstance(want, list) and isinstance(got, list) else [(got, want)]
    for i, (g, w) in enumerate(pairs):
        if isinstance(w, int) and not isinstance(w, bool) and isinstance(g, (int, float)) and g != w:
            where = f"entry {i} of the answer" if len(pairs) > 1 else "the answer"
            raise CheckFailure(
                f"{_call_text(fn_name, case)}: {where} is {g!r}, expected exactly {w}{_label(case)}. Past 2**53 "
                "(about 9e15) a float cannot hold every whole number: count with Python ints (no float(), 2.0 * or "
                "np.prod(..., dtype=float)), which never round.",
                mistake="(counted with floats)", case=case.label)


# -- inputs: copies in, the same values out ---------------------------------------------

def copy_input(value: Any) -> Any:
    """A copy of one input that keeps its type and memory layout (a strided view stays one).

    ``copy.deepcopy`` would make a non-contiguous array contiguous, and the case that
    tests a learner's code on a strided view would no longer test it.
    """
    if isinstance(value, np.ndarray):
        if value.flags.c_contiguous or value.ndim == 0:
            return value.copy()
        if value.flags.f_contiguous:
            return np.asfortranarray(value.copy())
        big = np.empty(value.shape[:-1] + (2 * value.shape[-1],), dtype=value.dtype)
        view = big[..., ::2]
        view[...] = value
        return view
    if isinstance(value, list):
        return [copy_input(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_input(v) for v in value)
    if isinstance(value, dict):
        return {k: copy_input(v) for k, v in value.items()}
    return copy.deepcopy(value)


def same_input(before: Any, after: Any) -> bool:
    """Whether an input is unchanged: same type, shape, dtype and values (NaN equals NaN)."""
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and after.shape == before.shape and after.dtype == before.dtype
                and bool(np.array_equal(after, before, equal_nan=before.dtype.kind in "fc")))
    if isinstance(before, (list, tuple)):
        return (type(after) is type(before) and len(after) == len(before)
                and all(same_input(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):  # a dict of weights (task 8.2): compared entry by entry
        return (type(after) is type(before) and after.keys() == before.keys()
                and all(same_input(before[key], after[key]) for key in before))
    if isinstance(before, float) and before != before:
        return isinstance(after, float) and after != after
    try:
        return type(after) is type(before) and bool(after == before)
    except Exception:
        return False


def _mutated(case: Case, outcome: _Outcome, params: tuple[str, ...]) -> str | None:
    """The name of the first input the learner's call changed, or None."""
    if outcome.args_after is not None:
        for i, (before, after) in enumerate(zip(case.args, outcome.args_after)):
            if not same_input(before, after):
                return params[i] if i < len(params) else f"argument {i + 1}"
    for key, after in (outcome.kwargs_after or {}).items():
        if key in case.kwargs and not same_input(case.kwargs[key], after):
            return key
    return None


@dataclass(frozen=True)
class Forbidden:
    """A routine the learner must not call while their function runs (``module.attr``)."""

    target: str
    why: str


class _Tripwire:
    def __init__(self, forbidden: Forbidden):
        self.forbidden = forbidden
        self.tripped = False

    def __call__(self, *args, **kwargs):
        self.tripped = True
        raise CheckFailure(f"this exercise asks you to write it yourself, but your code called {self.forbidden.target}: {self.forbidden.why}")


# The tripwires armed right now: a learner's function that runs elsewhere (see
# LearnerProxy) and is called from inside a check's own helper reports to these.
_ARMED: contextvars.ContextVar[tuple] = contextvars.ContextVar("dotlab_armed_tripwires", default=())


def armed_tripwires() -> tuple:
    """The tripwires of the learner call in progress (empty outside one)."""
    return _ARMED.get()


@contextlib.contextmanager
def _forbid(forbidden: tuple[Forbidden, ...]):
    """Replace each forbidden routine by a tripwire for the duration of the check."""
    saved, wires = [], []
    token = None
    try:
        for item in forbidden:
            module_name, attr = item.target.rsplit(".", 1)
            module = importlib.import_module(module_name)
            saved.append((module, attr, getattr(module, attr)))
            wire = _Tripwire(item)
            wires.append(wire)
            setattr(module, attr, wire)
        token = _ARMED.set(tuple(wires))
        yield wires
    finally:
        if token is not None:
            _ARMED.reset(token)
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


class LearnerProxy:
    """A learner's function that runs somewhere else: the grader's sandbox.

    ``run_checks`` does not call a proxy; it asks it for the outcome of each case, which
    the proxy obtains from the process where the learner's code lives, together with
    the forbidden routines that code tripped. Everything else (the reference, the
    comparison, the diagnosis) stays in the process that runs the check. A check's own
    helper may still call the proxy directly; it then reports to :func:`armed_tripwires`.

    ``learner_sources``: the learner's notebook cells that ran before the check, in
    order, for the allowlist (None: not known, and the source is not checked). The
    outcome's ``args_after``/``kwargs_after`` carry the inputs as the call left them.
    """

    learner_sources: list[str] | None = None

    def __call__(self, *args, **kwargs):
        raise NotImplementedError

    def outcome(self, case: Case, forbidden: tuple[Forbidden, ...]) -> tuple[_Outcome, list[_Tripwire]]:
        raise NotImplementedError


def _run_learner(fn: Callable, case: Case, forbidden: tuple[Forbidden, ...]) -> tuple[_Outcome, list[_Tripwire]]:
    """Call the learner's function with the forbidden routines disarmed, and nothing else.

    Only the learner's call happens under the tripwires: the reference and the mistake
    catalogue run outside, since they are allowed to use anything. The learner gets
    copies of the inputs; what the call left in those copies comes back in the outcome.
    """
    __tracebackhide__ = True
    if isinstance(fn, LearnerProxy):
        return fn.outcome(case, forbidden)
    args, kwargs = copy_input(tuple(case.args)), copy_input(dict(case.kwargs))
    with _forbid(forbidden) as wires:
        try:
            outcome = _Outcome(value=fn(*args, **kwargs))
        except Exception as exc:  # judged below; KeyboardInterrupt and exits pass through
            outcome = _Outcome(error=exc)
    outcome.args_after, outcome.kwargs_after = args, kwargs
    return outcome, [w for w in wires if w.tripped]


def _parameter_names(reference: Callable) -> tuple[str, ...]:
    try:
        return tuple(p.name for p in inspect.signature(reference).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    except (TypeError, ValueError):
        return ()


def run_checks(
    fn: Callable,
    *,
    fn_name: str,
    reference: Callable,
    cases: list[Case],
    mistakes: tuple[Mistake, ...] = (),
    forbidden: tuple[Forbidden, ...] = (),
    error_hints: tuple[tuple[str, str], ...] = (),
    rtol: float = 1e-7,
    atol: float = 1e-9,
    quiet: bool = False,
    returns: Any = None,
    params: tuple[str, ...] | None = None,
    allowed: Any = None,
    equivalent: Callable[[Case, Any, Any], Any] | None = None,
) -> None:
    """Run every case against ``fn``; raise :class:`CheckFailure` at the first wrong one.

    Prints a one-line summary unless ``quiet``. It returns nothing on purpose: nbgrader
    reads a number left as a test cell's value as partial credit.
    ``error_hints`` pairs a fragment of an exception's text with the likely mistake.

    The task's contract, checked on every case: the learner's inputs are copies and must
    come back unchanged (named from ``params``, by default the reference's parameter
    names); ``returns`` (see :mod:`dotlab.checks.contract`) says what type the answer
    must have; ``allowed`` (an :class:`~dotlab.checks._allow.Allow`) what the function's
    source may use, checked once its answers are right. A case's ``tol`` overrides ``rtol, atol``.
    ``equivalent(case, answer, expected)``: the task's own notion of an equally right answer
    (another order among tied scores): it returns the expected answer to compare with,
    the learner's own where it is as right as the reference's.
    """
    __tracebackhide__ = True
    if not callable(fn):
        raise CheckFailure(f"{fn_name} should be a function, but it is {_show(fn)} of type {type(fn).__name__}")
    params = _parameter_names(reference) if params is None else params
    # Run every case first, so a wrong answer can be diagnosed from all the answers.
    runs = []
    for case in cases:
        outcome, tripped = _run_learner(fn, case, forbidden)
        if tripped:  # even if the learner's code caught the tripwire's exception
            raise CheckFailure(
                f"{fn_name} called {tripped[0].forbidden.target}, which this exercise asks you not to use: "
                f"{tripped[0].forbidden.why}",
                mistake="(called a forbidden routine)", hint=tripped[0].forbidden.why, case=case.label)
        runs.append((case, outcome))
    answers = []
    for case, outcome in runs:
        if case.raises is None and outcome.error is None:
            try:
                answers.append((case, np.array(outcome.value, dtype=np.float64)))
            except (TypeError, ValueError):
                pass
    wants = {}  # the reference's answer to every value case, on pristine inputs
    for i, (case, outcome) in enumerate(runs):
        if case.raises is None:
            with np.errstate(all="ignore"):
                want_raw = reference(*copy_input(tuple(case.args)), **copy_input(dict(case.kwargs)))
                if equivalent is not None and outcome.error is None:
                    want_raw = equivalent(case, outcome.value, want_raw)
            wants[i] = (want_raw, np.array(want_raw, dtype=np.float64))
    # the cases the learner got right: a mistake they contradict is not named (see _diagnose)
    right = frozenset(case.label for i, (case, outcome) in enumerate(runs) if i in wants and outcome.error is None
                      and _answers_right(outcome.value, wants[i][1], *(case.tol or (rtol, atol))))
    for i, (case, outcome) in enumerate(runs):
        if case.raises is not None:
            _judge_refusal(outcome, fn_name, case)
        else:
            want_raw, want = wants[i]
            case_rtol, case_atol = case.tol if case.tol is not None else (rtol, atol)
            _judge_value(outcome, want, fn_name, case, mistakes, error_hints, case_rtol, case_atol, answers, want_raw,
                         right)
            if case_rtol == 0 and case_atol == 0:
                _judge_exact(outcome.value, want_raw, fn_name, case)
            if returns is not None and outcome.error is None:
                problem = returns.problem(outcome.value)
                if problem:
                    raise CheckFailure(f"{_call_text(fn_name, case)} returned {problem}{_label(case)}: "
                                       f"the task asks for {returns.describe()}.",
                                       mistake="(returned the wrong type)", case=case.label)
        changed = _mutated(case, outcome, params)
        if changed is not None:
            raise CheckFailure(
                f"{_call_text(fn_name, case)} changed its input `{changed}`{_label(case)}: a function must leave "
                f"the arrays it is given as they were (the caller still needs them). Work on a copy, or build a new "
                f"array (x = x / n makes one; x /= n and x[...] = ... change the caller's array).",
                mistake="(changed its input)", case=case.label)
    if allowed is not None:  # after the answers: a wrong answer's own message comes first
        from dotlab.checks._allow import learner_refusal

        refused = learner_refusal(fn, fn_name, allowed)
        if refused:
            raise CheckFailure(refused, mistake="(used what the task does not allow)")
    if not quiet:
        print(f"\u2714 {fn_name}: all {len(cases)} checks passed")
