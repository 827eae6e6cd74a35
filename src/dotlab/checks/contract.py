"""A graded function's contract, declared once: what it returns, refuses, may use, must survive.

How to declare a task
---------------------
A chapter's check module declares one :class:`Task` per graded function and derives its
``check_*`` functions and its ``CHECKS`` table from them::

    from dotlab.checks.contract import MATH, NUMPY, PYTHON, STDLIB, ArrayOf, Task, allow, tasks_table

    PROJECT = Task(
        "1.5", "project", reference=_project,            # an independent reference
        cases=_project_cases,                             # (hidden: bool) -> list[Case]
        mistakes=_PROJECT_MISTAKES,                       # catalogued wrong answers
        returns=ArrayOf("f"),                             # an ndarray of floats
        ranks={"a": (1,), "onto": (1,)},                  # 1-D only: other ranks raise ValueError
        allowed=allow(PYTHON, MATH, STDLIB, NUMPY, {"!numpy.linalg.*"}, matmul=True, methods=None,
                      says="NumPy, but not np.linalg or the course's dotlab.project"),
        forbidden=(Forbidden("dotlab.project", "..."),),  # runtime tripwires, the second layer
        edges=_project_edges,                             # (rng) -> list[Case], hidden only
        variants=("int", "float32", "strided"),           # the same cases in other dtypes/layouts
        rtol=1e-5, atol=1e-8,                             # written down: float32 passes
    )
    TASKS = {t.id: t for t in (DOT_LOOP, DOT, NORM, ANGLE, PROJECT)}
    CHECKS = tasks_table(*TASKS.values())                 # {"1.5": check_project, ...}
    check_project = CHECKS["1.5"]

Checklist for a task (tests/check_contract.py enforces most of it):

- ``returns`` and ``allowed`` are declared (``PythonFloat``, ``Number``, ``ArrayOf("b")``
  for a mask, ``TupleOf``, ``OneOf``); ``allow`` groups: ``PYTHON`` builtins, ``MATH``,
  ``STDLIB``, ``NUMPY_BASICS`` (containers and scalar types only) or ``NUMPY`` /
  ``TORCH`` (everything public), carve-outs as ``"!numpy.dot"``/``"!torch.nn.*"``,
  method carve-outs as ``"!.topk"``; ``matmul=`` for ``@``; ``tables=(1,)`` for a
  parameter that must not be indexed by a computed index.
- ``ranks`` only for what the task text says; a visible case with an *array* input
  when the page warns about changing inputs (lists are copied by ``np.asarray``).
- the reference is written apart from the package (exact sums, loops, log-sum-exp), and
  must raise ValueError for every input the contract refuses.
- a check that compares calls with each other (a seed) goes in ``after(fn, hidden) ->
  int``; an answer judged in parts in ``check_with(task, fn, hidden) -> int`` using
  :func:`judge_contract` and :func:`judge_allowlist`.
- the catalogue (tests/catalogue/chNN.py): ``WRONG.add(name, expect=..., kind=...,
  mentioned=..., hidden_only=...)`` and ``RIGHT.add(name, how=...)``; the test module is
  ``globals().update(contract_tests(chNN, WRONG, RIGHT))``.

What every check then does, for every task, without anyone writing it again:

- **the allowlist** (:mod:`dotlab.checks._allow`): before the function runs, its source
  (and its helpers', across the notebook's cells) is walked; anything not allowed is
  refused with its line. ``dotlab`` and ``dotlab.checks`` are never allowed.
- **the contract**: every call gets copies of the inputs, the reference runs on pristine
  ones, and a changed input is named; ``returns`` is checked on every answer; for each
  argument named in ``ranks``, inputs of one rank more and one rank fewer must raise
  ``ValueError`` (hidden cases, derived from the first value case).
- **edge classes**: ``edges(rng)`` gives the domain's boundaries with fresh numbers
  each class (parallel vectors, ties, exact thresholds...), and ``variants`` turns the
  value cases into int, float32 and strided (non-contiguous) inputs. Both are hidden.
- **hidden inputs nobody can precompute**: ``rng`` is seeded from the instructor's
  ``c.Checks.seed`` (``nbgrader_config.py``; see :func:`configure`), never from the
  package: the grading of a class is reproducible from that seed.
- **messages that locate a difference** (first and largest differing entry, with index)
  and tolerances per task (``rtol``/``atol``; a case may carry its own ``tol``).

The runtime tripwires (``forbidden``) stay as a second layer.
"""

from __future__ import annotations

import abc
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dotlab.checks._allow import MATH, METHODS, NUMPY_BASICS, PYTHON, STDLIB, Allow, allow  # noqa: F401 (re-exported)
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, _show, run_checks

__all__ = ["Allow", "AnyError", "ArrayOf", "Number", "OneOf", "PythonFloat", "Returns", "Task", "TupleOf", "judge_contract", "allow", "configure",
           "hidden_rng", "tasks_table", "MATH", "METHODS", "NUMPY_BASICS", "PYTHON", "STDLIB", "NUMPY", "TORCH"]

#: Every public NumPy routine (a task carves out what it forbids with "!numpy.dot").
NUMPY = frozenset({"numpy.*"})
#: PyTorch's tensor routines, for tasks that allow "any library but ...".
TORCH = frozenset({"torch.*"})


# -- the seed of the hidden cases ---------------------------------------------------------

_SEED: list[int | None] = [None]


def configure(*, seed: int | None) -> None:
    """Set the seed the hidden cases are drawn from (the grader does, from ``c.Checks.seed``)."""
    _SEED[0] = None if seed is None else int(seed)


def configure_from(config) -> int:
    """Set the seed from an nbgrader/traitlets config (``c.Checks.seed``); the seed in use.

    The grader calls this before it runs any check (:class:`dotlab.grading.preprocessors.SandboxGrades`).
    """
    from traitlets import Int
    from traitlets.config import Configurable

    class Checks(Configurable):
        seed = Int(None, allow_none=True, help="seed of the hidden cases; set it in nbgrader_config.py, "
                                               "never in the package").tag(config=True)

    configure(seed=Checks(config=config).seed)
    return hidden_seed()


def hidden_seed() -> int:
    """The instructor's seed: :func:`configure`, else ``DOTLAB_CHECKS_SEED``, else 0 (pytest)."""
    if _SEED[0] is not None:
        return _SEED[0]
    return int(os.environ.get("DOTLAB_CHECKS_SEED", "0") or 0)


def hidden_rng(task_id: str) -> np.random.Generator:
    """A generator for one task's hidden cases: the instructor's seed and the task id."""
    salt = int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:4], "big")
    return np.random.default_rng([hidden_seed() & 0xFFFFFFFF, salt])


# -- what a function returns ----------------------------------------------------------------

def _type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"a NumPy {type(value).__name__} scalar"
    return f"a {type(value).__name__}"


class Returns:
    """What a task's function must return: :meth:`problem` names a value that is not it."""

    def problem(self, value: Any) -> str | None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class PythonFloat(Returns):
    """A Python ``float`` (``np.float64`` is one: it subclasses float); not an int, not float32."""

    def problem(self, value):
        if isinstance(value, float):
            return None
        return _type_name(value)

    def describe(self):
        return "a Python float: return float(...)"


@dataclass(frozen=True)
class Number(Returns):
    """One real number: Python int or float, or a NumPy scalar; not an array or a list."""

    integer: bool = False

    def problem(self, value):
        if isinstance(value, bool) or isinstance(value, np.bool_):
            return _type_name(value)
        if self.integer:
            ok = isinstance(value, (int, np.integer))
        else:
            ok = isinstance(value, (int, float, np.integer, np.floating))
        return None if ok else _type_name(value)

    def describe(self):
        return "a whole number (int)" if self.integer else "one number"


@dataclass(frozen=True)
class ArrayOf(Returns):
    """A NumPy array whose dtype is of ``kind`` ("f" float, "b" bool, "i" integer) or exactly ``dtype``.

    ``lists``: a (nested) list of numbers is accepted too, where the text allows it.
    """

    kind: str = "f"
    dtype: str | None = None
    lists: bool = False

    def problem(self, value):
        if isinstance(value, np.ndarray):
            if self.dtype is not None and value.dtype != np.dtype(self.dtype):
                return _type_name(value)
            if self.dtype is None and value.dtype.kind not in self.kind:
                return _type_name(value)
            return None
        if self.lists and isinstance(value, list):
            return None
        return _type_name(value)

    def describe(self):
        what = {"f": "floats", "b": "booleans (dtype bool)", "i": "integers", "iu": "integers"}.get(self.kind, self.kind)
        if self.dtype is not None:
            what = f"dtype {self.dtype}"
        return f"a NumPy array of {what}" + (" (a list is fine too)" if self.lists else "")


@dataclass(frozen=True)
class OneOf(Returns):
    """Any of several forms, where the text allows them (a float for vectors, an array for tables)."""

    options: tuple[Returns, ...]

    def problem(self, value):
        problems = [option.problem(value) for option in self.options]
        return None if any(p is None for p in problems) else problems[0]

    def describe(self):
        return " or ".join(option.describe() for option in self.options)


@dataclass(frozen=True)
class TupleOf(Returns):
    """A tuple of the given parts, in order."""

    parts: tuple[Returns, ...]
    names: tuple[str, ...] = ()

    def problem(self, value):
        if not isinstance(value, tuple) or len(value) != len(self.parts):
            return _type_name(value) if not isinstance(value, tuple) else f"a tuple of {len(value)} things"
        for i, (part, item) in enumerate(zip(self.parts, value)):
            wrong = part.problem(item)
            if wrong:
                name = self.names[i] if i < len(self.names) else f"part {i}"
                return f"{wrong} as its {name}"
        return None

    def describe(self):
        names = self.names or tuple(f"part {i}" for i in range(len(self.parts)))
        return "a tuple (" + ", ".join(f"{n}: {p.describe()}" for n, p in zip(names, self.parts)) + ")"


# -- deriving hidden cases: wrong ranks, variants ---------------------------------------------

class AnyError(abc.ABC):
    """Any exception, named ValueError in messages: the refusal a rank case asks where the text
    states the rule only for the whole assignment ("a matrix where a vector belongs must raise
    ValueError") and not in the task itself. A TypeError from the learner's own arithmetic then
    refuses the matrix too; silently answering it is the mistake (``Task.rank_error``)."""

    @classmethod
    def __subclasshook__(cls, other):
        return issubclass(other, Exception)


AnyError.__name__ = "ValueError"


def _as_kind(template: Any, arr: np.ndarray) -> Any:
    return arr.tolist() if isinstance(template, list) else arr


def _rank_cases(task: "Task", cases: list[Case]) -> list[Case]:
    """Inputs of a rank the task refuses, from its first value case: each must raise ValueError.

    Only the rank changes (a trailing axis added by stacking an input with itself, or
    dropped by taking its first entry), so the values stay as valid as they were: all the
    declared inputs together (``dot`` of two 2-D arrays of one shape), and each alone.
    """
    if not task.ranks:
        return []
    base = next((c for c in cases if c.raises is None), None)
    if base is None:
        return []
    params = task.params
    declared = [n for n in task.ranks if n in params and params.index(n) < len(base.args)
                and base.args[params.index(n)] is not None]
    groups = [declared] + ([[n] for n in declared] if len(declared) > 1 else [])
    out = []
    for direction in ("more", "fewer"):
        for group in groups:
            args = list(base.args)
            changed = []
            for name in group:
                i = params.index(name)
                x = np.asarray(args[i])
                allowed = task.ranks[name]
                for _ in range(3):
                    if direction == "fewer" and x.ndim == 0:
                        x = None
                        break
                    x = np.stack([x, x], axis=-1) if direction == "more" else x[..., 0]
                    if x.ndim not in allowed:
                        break
                if x is None or x.ndim in allowed:
                    continue
                args[i] = _as_kind(args[i], x)
                changed.append(f"{name} of shape {x.shape}")
            if changed:
                label = f"the contract: {' and '.join(changed)} must be refused"
                if label not in (c.label for c in out):
                    out.append(Case(label, tuple(args), dict(base.kwargs), raises=task.rank_error,
                                    hint="Check the number of dimensions (x.ndim) yourself and raise ValueError "
                                         "naming the shape you got."))
    return out


def _strided(x: np.ndarray) -> np.ndarray:
    """The same numbers as a view with a step of 2 in its last axis (not contiguous)."""
    if x.ndim == 0:
        return x
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    view = big[..., ::2]
    view[...] = x
    return view


def _variant_cases(task: "Task", cases: list[Case]) -> list[Case]:
    """The value cases again with int, float32 or strided inputs (where the reference answers)."""
    if not task.variants:
        return []
    params, array_args = task.params, task.array_params
    out = []
    for case in [c for c in cases if c.raises is None][: task.variant_cases]:
        for variant in task.variants:
            args = list(case.args)
            for name in array_args:
                i = params.index(name) if name in params else -1
                if not 0 <= i < len(args) or args[i] is None:
                    continue
                x = np.asarray(args[i])
                if x.dtype.kind not in "fiu":
                    continue
                if variant == "int":
                    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
                        break
                    scale = 1.0 if x.dtype.kind in "iu" or np.all(x == np.round(x)) else 4.0
                    x = np.rint(x * scale).astype(np.int64)
                elif variant == "float32":
                    x = x.astype(np.float32)
                elif variant == "strided":
                    x = _strided(x)
                args[i] = x
            else:
                try:
                    with np.errstate(all="ignore"):
                        task.reference(*args, **case.kwargs)
                except Exception:
                    continue  # e.g. rounding made a vector zero: not this variant's point
                tol = case.tol  # a case's own tolerance (angles in degrees) holds in every variant
                if variant == "float32":
                    rtol, atol = case.tol or (task.rtol, task.atol)
                    tol = (max(rtol, task.float32_rtol), max(atol, task.float32_atol))
                out.append(Case(f"{case.label}, as {'a strided view' if variant == 'strided' else variant} input",
                                tuple(args), dict(case.kwargs), show_inputs=case.show_inputs, tol=tol))
    return out


def _unique_labels(cases: list[Case]) -> list[Case]:
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        n = seen.get(case.label, 0)
        seen[case.label] = n + 1
        if n:
            case = Case(f"{case.label} ({n + 1})", case.args, case.kwargs, case.raises, case.must_mention,
                        case.show_inputs, case.hint, case.tol)
        out.append(case)
    return out


# -- the task --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One graded function: its id, its name in the exercise, and everything its check knows.

    ``cases(hidden)`` gives the hand-written cases (visible ones first); ``edges(rng)``
    the boundary cases drawn fresh from the instructor's seed (hidden only).
    ``params``: the function's parameter names, in order (default: the reference's).
    ``array_params``: which take arrays (default: those in ``ranks``). ``after(fn,
    hidden)``: a task's own extra judgement (the same seed gives the same draws...),
    run after the cases; it returns how many checks it made. ``check_with(task, fn,
    hidden)``: for a function whose answer is judged in parts (``(codes, scale)``), a
    check of its own that replaces :func:`run_checks` and returns how many checks it
    made; it should still use the task's cases, contract and allowlist (see
    :func:`judge_contract`).
    """

    id: str
    name: str
    reference: Callable
    cases: Callable[[bool], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    returns: Returns | None = None
    ranks: dict[str, tuple[int, ...]] = field(default_factory=dict)
    allowed: Allow | None = None
    forbidden: tuple[Forbidden, ...] = ()
    edges: Callable[[np.random.Generator], list[Case]] | None = None
    variants: tuple[str, ...] = ()
    variant_cases: int = 2  # how many value cases each variant repeats
    rtol: float = 1e-5
    atol: float = 1e-8
    float32_rtol: float = 1e-4
    float32_atol: float = 1e-5
    rank_error: type = ValueError  # what an input of a refused rank must raise (AnyError: any error)
    error_hints: tuple[tuple[str, str], ...] = ()
    params_: tuple[str, ...] | None = None
    array_params_: tuple[str, ...] | None = None
    after: Callable[[Any, bool], int] | None = None
    check_with: Callable[["Task", Any, bool], int] | None = None
    equivalent: Callable[[Case, Any, Any], Any] | None = None  # see run_checks: ties ranked either way
    doc: str = ""

    @property
    def params(self) -> tuple[str, ...]:
        if self.params_ is not None:
            return self.params_
        from dotlab.checks._core import _parameter_names

        return _parameter_names(self.reference)

    @property
    def array_params(self) -> tuple[str, ...]:
        return self.array_params_ if self.array_params_ is not None else tuple(self.ranks)

    def all_cases(self, hidden: bool) -> list[Case]:
        """The cases a check runs: visible, or hidden (hand-written, contract, edges, variants)."""
        cases = list(self.cases(hidden))
        if hidden:
            rng = hidden_rng(self.id)
            edges = list(self.edges(rng)) if self.edges else []
            cases += _rank_cases(self, cases) + edges + _variant_cases(self, cases + edges)
        return _unique_labels(cases)

    def run(self, fn, hidden: bool = False) -> None:
        """Judge ``fn``; raise :class:`CheckFailure` naming what is wrong, or print the ✔ line."""
        __tracebackhide__ = True
        if self.check_with is not None:
            checked = self.check_with(self, fn, hidden)
        else:
            cases = self.all_cases(hidden)
            run_checks(fn, fn_name=self.name, reference=self.reference, cases=cases, mistakes=self.mistakes,
                       forbidden=self.forbidden, error_hints=self.error_hints, rtol=self.rtol, atol=self.atol,
                       quiet=True, returns=self.returns, params=self.params, allowed=self.allowed,
                       equivalent=self.equivalent)
            checked = len(cases)
        extra = self.after(fn, hidden) if self.after is not None else 0
        print(f"\u2714 {self.name}: all {checked + extra} checks passed")

    def make_check(self, module: str) -> Callable:
        task = self

        def check(fn, hidden: bool = False) -> None:
            __tracebackhide__ = True
            task.run(fn, hidden)

        check.__name__ = check.__qualname__ = f"check_{self.name}"
        check.__module__ = module
        check.__doc__ = f"Task {self.id}: {self.doc or self.name}" + (
            "\n\nVisible cases by default; ``hidden=True`` adds the grader's." )
        check.task = self
        return check


def tasks_table(*tasks: Task, module: str | None = None) -> dict[str, Callable]:
    """``{task id: check function}`` for a chapter, each check named ``check_<name>``.

    ``module`` defaults to the caller's module, so the grader recognises the checks as
    the course's (:mod:`dotlab.grading.plan`).
    """
    if module is None:
        import sys

        module = sys._getframe(1).f_globals.get("__name__", "dotlab.checks")
    return {task.id: task.make_check(module) for task in tasks}


def judge_contract(task: Task, fn, case: Case, outcome) -> None:
    """For a task's own ``check_with``: the return contract and the inputs' state, for one run."""
    __tracebackhide__ = True
    from dotlab.checks._core import _call_text, _label, _mutated

    if outcome.error is None and task.returns is not None:
        problem = task.returns.problem(outcome.value)
        if problem:
            raise CheckFailure(f"{_call_text(task.name, case)} returned {problem}{_label(case)}: the task asks for "
                               f"{task.returns.describe()}.")
    changed = _mutated(case, outcome, task.params)
    if changed is not None:
        raise CheckFailure(f"{_call_text(task.name, case)} changed its input `{changed}`{_label(case)}: a function "
                           "must leave the arrays it is given as they were. Work on a copy, or build a new array.")


def judge_allowlist(task: Task, fn) -> None:
    """For a task's own ``check_with``: what the function's source may use."""
    __tracebackhide__ = True
    from dotlab.checks._allow import learner_refusal

    refused = learner_refusal(fn, task.name, task.allowed)
    if refused:
        raise CheckFailure(refused)


__all__ += ["CheckFailure", "Case", "Mistake", "Forbidden"]
