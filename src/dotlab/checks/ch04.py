"""Checks for chapter 4's assignment: softmax, scaled scores, entropy, the variance experiment.

Task ids match the chapter, the exercise notebook and the pytest markers:
4.1 ``softmax``, 4.2 ``scaled_scores``, 4.3 ``entropy``, 4.4 ``dot_product_variance``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake.
"""

from __future__ import annotations

import importlib
import math
import types
from typing import Callable

import numpy as np

from dotlab import scaling
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, run_checks

# Not `from dotlab import softmax`: once the package exports the function softmax, that
# name is the function, no longer this module.
from dotlab.softmax import entropy as _entropy
from dotlab.softmax import softmax as _softmax

# -- shared: forbidden routines, also when imported under another name ----------------


def present(forbidden: tuple[Forbidden, ...]) -> tuple[Forbidden, ...]:
    """The forbidden routines that exist here, as functions.

    ``dotlab.softmax`` names the module until the package exports the function of the
    same name; a tripwire only makes sense on something callable.
    """
    kept = []
    for item in forbidden:
        module_name, attr = item.target.rsplit(".", 1)
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            continue
        if callable(obj) and not isinstance(obj, types.ModuleType):
            kept.append(item)
    return tuple(kept)


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
            names |= _names_used(const)
    return names


def refuse_bound(fn: Callable, fn_name: str, forbidden: tuple[Forbidden, ...]) -> None:
    """Fail if ``fn`` reaches a forbidden routine through a name bound before the check.

    A tripwire replaces ``module.attr`` while the check runs, but a learner who wrote
    ``from torch.nn.functional import scaled_dot_product_attention`` in an earlier cell
    holds the original under a global name the tripwire never touches. Look up the
    function's global names, closure and default arguments, and compare them with the
    originals.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    originals = {}
    for item in present(forbidden):
        module_name, attr = item.target.rsplit(".", 1)
        # setdefault: one routine exported under two names is reported under the first
        originals.setdefault(id(getattr(importlib.import_module(module_name), attr)), item)
    scope = dict(getattr(fn, "__globals__", {}))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # an empty cell
            pass
    defaults = dict(zip(code.co_varnames[code.co_argcount - len(fn.__defaults__ or ()):code.co_argcount],
                        fn.__defaults__ or ()))
    defaults.update(getattr(fn, "__kwdefaults__", None) or {})
    bound = [(n, scope[n]) for n in sorted(_names_used(code) | set(code.co_freevars)) if n in scope]
    for name, value in bound + sorted(defaults.items()):
        item = originals.get(id(value))
        if item is not None:
            raise CheckFailure(
                f"{fn_name} uses `{name}`, which is {item.target}: this exercise asks you not to use it: {item.why}"
            )


def run(fn, *, fn_name: str, forbidden: tuple[Forbidden, ...] = (), **kwargs) -> None:
    """:func:`run_checks` after :func:`refuse_bound`, with only the forbidden routines present."""
    forbidden = present(forbidden)
    if callable(fn):
        refuse_bound(fn, fn_name, forbidden)
    run_checks(fn, fn_name=fn_name, forbidden=forbidden, **kwargs)


# -- 4.1: softmax ------------------------------------------------------------------------


def _naive(x, axis=-1):
    e = np.exp(np.asarray(x, float))
    return e / e.sum(axis=axis, keepdims=True)


def _stable(x, axis=-1):
    x = np.asarray(x, float)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_SOFTMAX_MISTAKES = (
    Mistake("naive", "exp() of large scores overflows to inf (and of very negative ones underflows to 0), giving "
            "inf/inf or 0/0 = nan: subtract the largest score along the axis before exp; the weights do not change",
            _naive),
    Mistake("whole array", "you normalised over the whole array; each slice along `axis` must sum to 1 "
            "(sum with axis=axis, keepdims=True)",
            lambda x, axis=-1: np.exp(np.asarray(x, float) - np.max(x)) / np.exp(np.asarray(x, float) - np.max(x)).sum()),
    Mistake("no keepdims", "the sums lost their axis, so NumPy divided each row by the wrong sum: use keepdims=True",
            lambda x, axis=-1: np.exp(np.asarray(x, float)) / np.exp(np.asarray(x, float)).sum(axis=axis)),
    Mistake("global max", "you subtracted one maximum for the whole array: rows whose scores are far below it "
            "underflow to 0/0. Subtract each slice's own maximum (max along the axis, keepdims=True)",
            lambda x, axis=-1: (lambda e: e / e.sum(axis=axis, keepdims=True))(np.exp(np.asarray(x, float) - np.max(x)))),
    Mistake("ignored axis", "you always normalised along the last axis; use the `axis` argument",
            lambda x, axis=-1: _stable(x, -1)),
    Mistake("min", "you subtracted the minimum; subtract the maximum, so every exp() is at most 1",
            lambda x, axis=-1: (lambda e: e / e.sum(axis=axis, keepdims=True))(np.exp(np.asarray(x, float) - np.min(x, axis=axis, keepdims=True)))),
    Mistake("unnormalised", "you returned exp(x - max) without dividing by its sum: the weights must add up to 1",
            lambda x, axis=-1: np.exp(np.asarray(x, float) - np.max(x, axis=axis, keepdims=True))),
    Mistake("log", "you returned log-probabilities (log-softmax); softmax returns the probabilities themselves",
            lambda x, axis=-1: np.log(_stable(x, axis))),
)


def _softmax_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("three scores", ([1.0, 2.0, 3.0],)),
        Case("scores as large as 1e4 (exp(1e4) overflows)", ([1e4, 1e4 - 1, 0.0],)),
        Case("a 2-D table, each row normalised (axis=-1)", ([[1.0, 2.0, 0.0], [3.0, 5.0, -1.0]],)),
        Case("axis=0: each column normalised", ([[1.0, 2.0, 0.0], [3.0, 5.0, -1.0]],), {"axis": 0}),
        Case("very negative scores (exp(-1e4) underflows to 0)", ([-1e4, -1e4 + 2, -1e4 + 1],)),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(401)
    return cases + [
        Case("equal scores: uniform weights", ([0.7, 0.7, 0.7, 0.7],)),
        Case("a single score", ([42.0],)),
        Case("rows on very different scales", ([[1e4, 1e4 - 1], [0.0, 1.0]],)),
        Case("a score of -inf gets weight 0", ([0.0, -np.inf, 1.0],)),
        Case("random 3-D scores along axis 1", (rng.normal(scale=5, size=(2, 6, 3)),), {"axis": 1}, show_inputs=False),
        Case("random 2-D scores, axis=-2", (rng.normal(scale=50, size=(4, 5)),), {"axis": -2}, show_inputs=False),
    ]


# The exercise works in NumPy; SciPy is the library a learner would reach for. (PyTorch's
# softmax is not forbidden here: tripwiring it means importing torch in every kernel.)
_NO_LIBRARY_SOFTMAX = (
    Forbidden("scipy.special.softmax", "write the exponentials and the normalisation yourself"),
)
_NO_REFERENCE_SOFTMAX = tuple(
    Forbidden(t, "the course's reference implementation is not your answer")
    for t in ("dotlab.softmax", "dotlab.softmax.softmax", "dotlab.softmax.log_softmax")
)


def check_softmax(fn, hidden: bool = False) -> None:
    """Task 4.1: a numerically stable softmax along an axis."""
    hints = (("could not be broadcast", "the sums lost their axis, so they no longer line up with the rows: "
              "sum with keepdims=True"),)
    run(fn, fn_name="softmax", reference=_softmax, cases=_softmax_cases(hidden),
        mistakes=_SOFTMAX_MISTAKES, forbidden=_NO_LIBRARY_SOFTMAX + _NO_REFERENCE_SOFTMAX, error_hints=hints)


# -- 4.2: scaled scores ----------------------------------------------------------------


def _raw(q, k):
    return np.asarray(q, float) @ np.asarray(k, float).T


_SCORES_MISTAKES = (
    Mistake("unscaled", "you returned Q Kᵀ without dividing by sqrt(d_k)", _raw),
    Mistake("by d", "you divided by d_k; divide by its square root, sqrt(d_k)",
            lambda q, k: _raw(q, k) / np.shape(q)[-1]),
    Mistake("times", "you multiplied by sqrt(d_k); divide by it",
            lambda q, k: _raw(q, k) * math.sqrt(np.shape(q)[-1])),
    Mistake("by T_k", "you divided by the square root of the number of keys; d_k is the length of each "
            "vector, q.shape[-1]", lambda q, k: _raw(q, k) / math.sqrt(np.shape(k)[0])),
    Mistake("by T_q", "you divided by the square root of the number of queries; d_k is the length of each "
            "vector, q.shape[-1]", lambda q, k: _raw(q, k) / math.sqrt(np.shape(q)[0])),
    Mistake("transposed", "rows and columns are swapped: row i should hold query i's scores against every key "
            "(Q Kᵀ, not K Qᵀ)", lambda q, k: _raw(k, q) / math.sqrt(np.shape(q)[-1])),
)

_D_MISMATCH_HINT = ("Compare q.shape[-1] with k.shape[-1] and raise ValueError naming both shapes, "
                    "for example f'q.shape={q.shape} and k.shape={k.shape} differ in d_k'.")


def _scores_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("one query, two keys, d_k = 4", ([[1.0, 2.0, 3.0, 4.0]], [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]])),
        Case("two queries, four keys, d_k = 3",
             ([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]], [[1.0, 1.0, 1.0], [2.0, 0.0, 0.0], [0.0, 0.0, -3.0], [1.0, -1.0, 0.5]])),
        Case("queries and keys of different lengths", ([[1.0, 2.0, 3.0]], [[1.0, 2.0]]), raises=ValueError,
             must_mention=("3", "2"), hint=_D_MISMATCH_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(402)
    return cases + [
        Case("d_k = 1", ([[2.0], [-1.0]], [[3.0], [0.5], [1.0]])),
        Case("random: 5 queries, 7 keys, d_k = 64", (rng.normal(size=(5, 64)), rng.normal(size=(7, 64))), show_inputs=False),
        Case("random: 9 queries, 3 keys, d_k = 16", (rng.normal(size=(9, 16)), rng.normal(size=(3, 16))), show_inputs=False),
        Case("self-scores: the same 6 vectors as queries and keys", (np.eye(6) * 3.0, np.eye(6) * 3.0), show_inputs=False),
        Case("d_k 64 against 32", (np.ones((2, 64)), np.ones((3, 32))), raises=ValueError, must_mention=("64", "32"),
             hint=_D_MISMATCH_HINT),
    ]


def check_scaled_scores(fn, hidden: bool = False) -> None:
    """Task 4.2: the score table ``Q Kᵀ / sqrt(d_k)``."""
    forbidden = tuple(Forbidden(t, "the course's reference implementation is not your answer")
                      for t in ("dotlab.scaling.scaled_scores", "dotlab.attention.attention_weights"))
    run(fn, fn_name="scaled_scores", reference=scaling.scaled_scores, cases=_scores_cases(hidden),
        mistakes=_SCORES_MISTAKES, forbidden=forbidden)


# -- 4.3: entropy -----------------------------------------------------------------------


def _plogp(p):
    p = np.asarray(p, float)
    logs = np.zeros_like(p)
    np.log(p, out=logs, where=p > 0)
    return p * logs


_ENTROPY_MISTAKES = (
    Mistake("nan", "0 · log 0 is nan in floating point (log 0 = -inf): the limit of p·log p as p → 0 is 0, "
            "so leave zero entries out (np.where(p > 0, ...))",
            lambda p, axis=-1: -np.sum(np.asarray(p, float) * np.log(np.asarray(p, float)), axis=axis)),
    Mistake("bits", "you used log base 2 (bits); this course measures entropy in nats, with the natural log np.log",
            lambda p, axis=-1: -np.sum(_plogp(p), axis=axis) / math.log(2)),
    Mistake("log10", "you used log base 10; use the natural log np.log",
            lambda p, axis=-1: -np.sum(_plogp(p), axis=axis) / math.log(10)),
    Mistake("sign", "the sign is wrong: log p ≤ 0, so H = -Σ p log p is never negative",
            lambda p, axis=-1: np.sum(_plogp(p), axis=axis)),
    Mistake("whole array", "you summed over the whole array; return one entropy per slice along `axis`",
            lambda p, axis=-1: -np.sum(_plogp(p))),
    Mistake("mean", "you averaged p·log p; entropy is the sum over entries",
            lambda p, axis=-1: -np.mean(_plogp(p), axis=axis)),
    Mistake("log only", "you summed -log p without weighting each term by p",
            lambda p, axis=-1: -np.sum(np.log(np.where(np.asarray(p, float) > 0, p, 1.0)), axis=axis)),
)


def _entropy_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("uniform over 4: log 4", ([0.25, 0.25, 0.25, 0.25],)),
        Case("one-hot: no uncertainty at all", ([0.0, 1.0, 0.0],)),
        Case("half, quarter, quarter", ([0.5, 0.25, 0.25],)),
        Case("two rows, one entropy each", ([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]],)),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(403)
    random_rows = rng.dirichlet(np.ones(50), size=3)
    return cases + [
        Case("axis=0: one entropy per column", ([[0.5, 1.0], [0.5, 0.0]],), {"axis": 0}),
        Case("nearly one-hot", ([1 - 1e-12, 1e-12],)),
        Case("a single certain outcome", ([1.0],)),
        Case("random distributions over 50 entries", (random_rows,), show_inputs=False),
    ]


def check_entropy(fn, hidden: bool = False) -> None:
    """Task 4.3: Shannon entropy in nats along an axis, with 0 log 0 = 0."""
    forbidden = (
        Forbidden("scipy.stats.entropy", "write -Σ p log p yourself"),
        Forbidden("scipy.special.entr", "write -Σ p log p yourself"),
        Forbidden("dotlab.softmax.entropy", "the course's reference implementation is not your answer"),
    )
    run(fn, fn_name="entropy", reference=_entropy, cases=_entropy_cases(hidden),
        mistakes=_ENTROPY_MISTAKES, forbidden=forbidden)


# -- 4.4: the variance experiment ----------------------------------------------------------

# The learner's answer is a random estimate. With 20,000 pairs its relative standard
# error is sqrt((2 + 6/d) / 20000) < 2% for d ≥ 4 (under 1.5% for unit vectors), so a
# 10% tolerance fails a right answer less than once in a million, and every mistake
# below is at least 25% away from the truth at the dimensions tested (d ≥ 4).
_VARIANCE_RTOL = 0.1
_N = 20_000


def _theory(d, n_samples, unit=False, seed=0):
    return 1.0 / d if unit else float(d)


_VARIANCE_MISTAKES = (
    Mistake("std", "you returned the standard deviation (np.std); the experiment asks for the variance (np.var)",
            lambda d, n, unit=False, seed=0: math.sqrt(_theory(d, n, unit))),
    Mistake("products", "the answer is d times too small: either you took the variance of the single products "
            "q_i·k_i (sum each pair's products into one dot product first, one number per pair), or you divided "
            "the dot products by sqrt(d), which is the fix this chapter arrives at, not the raw q·k it measures",
            lambda d, n, unit=False, seed=0: 1.0 / d**2 if unit else 1.0),
    Mistake("not normalised", "with unit=True divide each vector by its own length before the dot product",
            lambda d, n, unit=False, seed=0: float(d)),
    Mistake("one normalised", "with unit=True normalise both vectors of each pair, not only one of them",
            lambda d, n, unit=False, seed=0: 1.0 if unit else float(d)),
    # Unit vectors from [0, 1) components all point into one corner; their dot products
    # have variance about 0.1/d (measured: 0.097/d at d = 4, 0.100/d from d = 16 on).
    Mistake("uniform 0-1", "components must have mean 0 and variance 1: rng.random() draws from [0, 1), with mean 1/2. "
            "Use rng.standard_normal",
            lambda d, n, unit=False, seed=0: 0.1 / d if unit else d * 7 / 144),
    Mistake("uniform -1..1", "uniform components on [-1, 1] have variance 1/3, not 1: use rng.standard_normal",
            lambda d, n, unit=False, seed=0: 1.0 / d if unit else d / 9),
)


def _variance_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("d = 16, unit-variance components (theory: 16)", (16, _N), {"seed": 1}),
        Case("d = 64, random unit vectors (theory: 1/64)", (64, _N), {"unit": True, "seed": 2}),
    ]
    if not hidden:
        return cases
    return cases + [
        Case("d = 4 (theory: 4)", (4, _N), {"seed": 3}),
        Case("d = 256 (theory: 256)", (256, _N), {"seed": 4}),
        Case("d = 4, random unit vectors (theory: 1/4)", (4, _N), {"unit": True, "seed": 5}),
        Case("d = 256, random unit vectors (theory: 1/256)", (256, _N), {"unit": True, "seed": 6}),
        Case("d = 64, unit=False given explicitly (theory: 64)", (64, _N), {"unit": False, "seed": 7}),
    ]


def _same_seed_same_answer(fn) -> None:
    """The seed must fix the draws (np.random.default_rng(seed)), and change them.

    This compares three calls with each other, which ``run_checks`` cannot express. It
    runs wherever the learner's function lives: in the notebook's kernel and in pytest
    it is called directly, and in the grader each call crosses to the sandbox's worker
    (:class:`dotlab.grading.sandbox.RemoteFunction`), which keeps its state between
    calls, so a generator made once and reused is caught there too.
    """
    first, again, other = (float(np.asarray(fn(16, 2000, seed=s), dtype=float)) for s in (11, 11, 12))
    if first != again:
        raise CheckFailure(
            f"dot_product_variance(16, 2000, seed=11) returned {first} and then {again}: the same seed must give the "
            "same draws. Make a generator from it, rng = np.random.default_rng(seed), and draw everything from rng."
        )
    if first == other:
        raise CheckFailure(
            f"dot_product_variance(16, 2000, ...) returned {first} for seed=11 and for seed=12: the seed is ignored. "
            "Make a generator from it, rng = np.random.default_rng(seed), and draw everything from rng."
        )


def check_dot_product_variance(fn, hidden: bool = False) -> None:
    """Task 4.4: the variance of ``q·k`` measured by simulation, against theory (within 10%)."""
    forbidden = tuple(Forbidden(t, "the course's reference implementation is not your answer")
                      for t in ("dotlab.scaling.dot_product_variance", "dotlab.scaling.dot_product_samples"))
    cases = _variance_cases(hidden)
    hints = (("could not be broadcast", "divide each row by its own length: np.linalg.norm(q, axis=1, keepdims=True) "
              "keeps the lengths as a column that lines up with the rows"),)
    run(fn, fn_name="dot_product_variance", reference=_theory, cases=cases, mistakes=_VARIANCE_MISTAKES,
        forbidden=forbidden, rtol=_VARIANCE_RTOL, atol=0.0, quiet=True, error_hints=hints)
    if hidden:
        _same_seed_same_answer(fn)
    n_checks = len(cases) + (1 if hidden else 0)
    print(f"\u2714 dot_product_variance: all {n_checks} checks passed")


CHECKS = {
    "4.1": check_softmax,
    "4.2": check_scaled_scores,
    "4.3": check_entropy,
    "4.4": check_dot_product_variance,
}
