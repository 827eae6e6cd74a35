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
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dotlab import scaling
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, run_checks
from dotlab.checks.contract import (MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Number, PythonFloat, Returns, Task,
                                    allow, tasks_table)

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
        # an array, not a list: a softmax that works in place on its input changes it
        Case("a 2-D table, each row normalised (axis=-1)", (np.array([[1.0, 2.0, 0.0], [3.0, 5.0, -1.0]]),)),
        Case("axis=0: each column normalised", ([[1.0, 2.0, 0.0], [3.0, 5.0, -1.0]],), {"axis": 0}),
        Case("very negative scores (exp(-1e4) underflows to 0)", ([-1e4, -1e4 + 2, -1e4 + 1],)),
        Case("rows on very different scales", ([[1e4, 1e4 - 1], [0.0, 1.0]],)),
        Case("a score of -inf gets weight 0", ([0.0, -np.inf, 1.0],)),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(401)
    return cases + [
        Case("equal scores: uniform weights", ([0.7, 0.7, 0.7, 0.7],)),
        Case("a single score", ([42.0],)),
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


def _softmax_reference(x, axis=-1):
    """Independent of dotlab.softmax: exp(x - logsumexp(x)), the log-sum-exp by np.logaddexp."""
    x = np.asarray(x, dtype=np.float64)
    lse = np.logaddexp.reduce(x, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        return np.exp(x - lse)


def _exact32(x):
    """Scores on a grid of 1/64: exact in float32 below 8192, so a float32 softmax is judged
    on its arithmetic, not on rounding its input (written down: float32 passes)."""
    return np.round(np.asarray(x, dtype=np.float64) * 64) / 64


def _softmax_edges(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(3, 7))
    row = _exact32(rng.normal(scale=3, size=n))
    big = float(_exact32(rng.uniform(500, 5000)))
    return [
        Case("ties: every score equal", (np.full(n, float(rng.normal())),)),
        Case("a tie for the largest score", (np.r_[row, row.max()],)),
        Case("extreme logits: one far above the rest", (np.r_[big, _exact32(rng.normal(size=n))],)),
        Case("extreme logits: every score far below zero", (_exact32(rng.normal(size=n)) - big,)),
        Case("-inf beside finite scores", (np.r_[row, -np.inf],)),
        Case("one score", ([float(rng.normal())],)),
        Case("whole-number scores", (rng.integers(-5, 6, size=(2, n)),)),
        Case("a 3-D table along axis 0", (_exact32(rng.normal(scale=4, size=(3, 2, n))),), {"axis": 0},
             show_inputs=False),
    ]


_NO_LIBRARY = {"!scipy.*", "!torch.softmax", "!torch.log_softmax", "!torch.nn.*", "!torch.special.*",
               "!torch.distributions.*"}

SOFTMAX = Task(
    "4.1", "softmax", reference=_softmax_reference, cases=_softmax_cases, mistakes=_SOFTMAX_MISTAKES,
    returns=ArrayOf("f"), array_params_=("x",),
    # scipy.special.logsumexp is a building block, not a ready-made softmax: the text forbids only the latter
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LIBRARY, {".dot", ".matmul", "scipy.special.logsumexp"},
                  matmul=True, methods=None,
                  says="NumPy (or tensors) written out: no library softmax, nothing from dotlab"),
    forbidden=present(_NO_LIBRARY_SOFTMAX + _NO_REFERENCE_SOFTMAX), edges=_softmax_edges,
    variants=("int", "float32", "strided"),
    # written down: a float32 softmax (relative error about 1e-7) passes
    rtol=1e-5, atol=1e-9, float32_rtol=1e-4, float32_atol=1e-7,
    error_hints=(("could not be broadcast", "the sums lost their axis, so they no longer line up with the rows: "
                  "sum with keepdims=True"),),
    doc="a numerically stable softmax along an axis.",
)


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
        # arrays, not lists: the assignment says no function may change its inputs, and a list would
        # hide a q /= sqrt(d_k) done in place (np.asarray copies a list)
        Case("one query, two keys, d_k = 4", (np.array([[1.0, 2.0, 3.0, 4.0]]),
                                              np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]]))),
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


def _scores_reference(q, k):
    """Independent of dotlab.scaling: each entry as an exact sum, divided by sqrt(d_k)."""
    q, k = np.asarray(q, dtype=np.float64), np.asarray(k, dtype=np.float64)
    root = math.sqrt(q.shape[-1])
    return np.array([[math.fsum(qi * kj) / root for kj in k] for qi in q])


def _scores_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(2, 9))
    q = rng.normal(size=(3, d))
    return [
        Case("one query, one key", (rng.normal(size=(1, d)), rng.normal(size=(1, d)))),
        Case("keys equal to the queries", (q, q.copy())),
        Case("whole-number vectors", (rng.integers(-4, 5, size=(2, d)), rng.integers(-4, 5, size=(3, d)))),
        # a float32 product of d terms of size 1e6 is off by about 1e6 · d · 6e-8 where they cancel
        Case("large components (1e3)", (q * 1e3, rng.normal(size=(4, d)) * 1e3), show_inputs=False, tol=(1e-5, 1.0)),
    ]


SCALED_SCORES = Task(
    "4.2", "scaled_scores", reference=_scores_reference, cases=_scores_cases, mistakes=_SCORES_MISTAKES,
    returns=ArrayOf("f"), ranks={"q": (2,), "k": (2,)},
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LIBRARY, {".dot", ".matmul"}, matmul=True, methods=None,
                  says="NumPy or tensors, @ included; nothing from dotlab"),
    forbidden=present(tuple(Forbidden(t, "the course's reference implementation is not your answer")
                            for t in ("dotlab.scaling.scaled_scores", "dotlab.attention.attention_weights"))),
    # written down: entries within 1e-5 relative or 1e-5 absolute (a float32 product of
    # d_k terms loses about 6e-8 · d_k where they cancel)
    edges=_scores_edges, variants=("int", "float32", "strided"), rtol=1e-5, atol=1e-5,
    doc="the score table Q Kᵀ / sqrt(d_k).",
)


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


def _entropy_reference(p, axis=-1):
    """Independent of dotlab.softmax: -Σ p log p slice by slice, an exact sum, zeros left out."""
    p = np.moveaxis(np.asarray(p, dtype=np.float64), axis, -1)
    flat = p.reshape(-1, p.shape[-1]) if p.ndim else p.reshape(1, 1)
    # + 0.0: the entropy of a one-hot row is 0, not the -0.0 that -fsum([]) gives (a message said "expected -0.0")
    out = np.array([-math.fsum(x * math.log(x) for x in row if x > 0) + 0.0 for row in flat.tolist()])
    return float(out[0]) if p.ndim <= 1 else out.reshape(p.shape[:-1])


@dataclass(frozen=True)
class _NumberOrArray(Returns):
    """One number for a 1-D input, an array of floats for a table (as the task says)."""

    def problem(self, value):
        if isinstance(value, np.ndarray):
            return ArrayOf("f").problem(value)
        return Number().problem(value)

    def describe(self):
        return "a number for a 1-D p, a NumPy array of floats for a table"


def _entropy_edges(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(3, 9))
    one_hot = np.zeros(n)
    one_hot[rng.integers(n)] = 1.0
    p = rng.dirichlet(np.ones(n))
    tiny = np.r_[1 - 1e-300 * (n - 1), np.full(n - 1, 1e-300)]
    return [
        Case("one-hot", (one_hot,)),
        Case("uniform: log n", (np.full(n, 1.0 / n),)),
        Case("probabilities of 1e-300 beside one near 1", (tiny,), show_inputs=False),
        Case("rows with zeros, along axis 0", (np.stack([p, one_hot]).T,), {"axis": 0}),
        Case("a 3-D table of distributions", (rng.dirichlet(np.ones(n), size=(2, 3)),), show_inputs=False),
    ]


ENTROPY = Task(
    "4.3", "entropy", reference=_entropy_reference, cases=_entropy_cases, mistakes=_ENTROPY_MISTAKES,
    returns=_NumberOrArray(), array_params_=("p",),
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LIBRARY, {"scipy.special.xlogy", "!.entropy"},
                  matmul=True, methods=None, says="-Σ p log p written with NumPy or math: no library entropy"),
    forbidden=present((
        Forbidden("scipy.stats.entropy", "write -Σ p log p yourself"),
        Forbidden("scipy.special.entr", "write -Σ p log p yourself"),
        Forbidden("dotlab.softmax.entropy", "the course's reference implementation is not your answer"),
    )),
    edges=_entropy_edges, variants=("float32", "strided"), rtol=1e-5, atol=1e-7,
    doc="Shannon entropy in nats along an axis, with 0 log 0 = 0.",
)


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


# "Draw everything from rng = np.random.default_rng(seed)": NumPy's global generator (np.random.seed,
# np.random.randn...) and PyTorch's are other generators, whatever seed they are given
_ONE_GENERATOR = {"!numpy.random.*", "numpy.random.default_rng", "numpy.random.Generator", "numpy.random.PCG64",
                  "numpy.random.SeedSequence", "!torch.random.*", "!torch.distributions.*", "!torch.manual_seed",
                  "!torch.seed", "!torch.Generator", "!torch.rand", "!torch.randn", "!torch.randint", "!torch.randperm",
                  "!torch.rand_like", "!torch.randn_like", "!torch.randint_like", "!torch.normal", "!torch.bernoulli",
                  "!torch.multinomial", "!torch.poisson", "!.normal_", "!.uniform_", "!.random_"}

# In one dimension a unit vector is +1 or -1, so with unit=True every q·k is exactly ±1 and the
# variance is 1 - mean² (times n/(n-1) with ddof=1): within 1e-3 of 1 unless the mean of 20,000
# signs strays 4.5 standard errors. Dividing by sqrt(d) instead of each vector's own length
# gives 1/d on average too, but from products of normals: about ±2% here, so three seeds catch it.
_ONE_DIM_TOL = (2e-3, 0.0)


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
    ] + [Case(f"d = 1, random unit vectors: each vector divided by its own length is +1 or -1 (not by sqrt(d)), so "
              f"every q·k is ±1 (theory: 1, to 0.2%), seed {seed}",
              (1, _N), {"unit": True, "seed": seed}, tol=_ONE_DIM_TOL) for seed in (8, 9, 10)]


_SEED_HINT = "Make a generator from it, rng = np.random.default_rng(seed), and draw everything from rng."
#: The mistakes the seed check names (the instructor's report counts failures by mistake);
#: they are judged by comparing the learner's calls with each other, so they predict nothing.
SEED_NOT_FOLLOWED = Mistake("seed not followed", "the same seed must give the same draws. " + _SEED_HINT,
                            lambda *args, **kwargs: np.nan)
SEED_IGNORED = Mistake("seed ignored", "the seed is ignored: another seed gives the same draws. " + _SEED_HINT,
                       lambda *args, **kwargs: np.nan)


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
            "same draws. Make a generator from it, rng = np.random.default_rng(seed), and draw everything from rng.",
            mistake=SEED_NOT_FOLLOWED.name, hint=SEED_NOT_FOLLOWED.hint, case="seed=11 asked twice")
    if first == other:
        raise CheckFailure(
            f"dot_product_variance(16, 2000, ...) returned {first} for seed=11 and for seed=12: the seed is ignored. "
            "Make a generator from it, rng = np.random.default_rng(seed), and draw everything from rng.",
            mistake=SEED_IGNORED.name, hint=SEED_IGNORED.hint, case="seed=11 and seed=12")


def _seed_check(fn, hidden: bool) -> int:
    # visible too: the task text itself asks that the same seed give the same answer
    _same_seed_same_answer(fn)
    return 1


DOT_PRODUCT_VARIANCE = Task(
    "4.4", "dot_product_variance", reference=_theory, cases=_variance_cases, mistakes=_VARIANCE_MISTAKES,
    returns=PythonFloat(),
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LIBRARY, _ONE_GENERATOR, {".dot", ".matmul"}, matmul=True,
                  methods=None, says="draws from rng = np.random.default_rng(seed) only (no np.random.seed, "
                                     "np.random.randn or torch's generators), and arithmetic; nothing from dotlab"),
    forbidden=present(tuple(Forbidden(t, "the course's reference implementation is not your answer")
                            for t in ("dotlab.scaling.dot_product_variance", "dotlab.scaling.dot_product_samples"))),
    rtol=_VARIANCE_RTOL, atol=0.0, after=_seed_check,
    error_hints=(("could not be broadcast", "divide each row by its own length: np.linalg.norm(q, axis=1, "
                  "keepdims=True) keeps the lengths as a column that lines up with the rows"),),
    doc="the variance of q·k measured by simulation, against theory (within 10%).",
)

TASKS = {task.id: task for task in (SOFTMAX, SCALED_SCORES, ENTROPY, DOT_PRODUCT_VARIANCE)}
CHECKS = tasks_table(*TASKS.values())
check_softmax, check_scaled_scores, check_entropy, check_dot_product_variance = CHECKS.values()
