"""Checks for chapter 6's assignment: scoring the vocabulary, sampling, one cached decode step.

Task ids match the chapter, the exercise notebook and the pytest markers:
6.1 ``vocab_logits``, 6.2 ``softmax_temperature``, 6.3 ``top_k_sample``,
6.4 ``top_p_sample``, 6.5 ``decode_step``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake. The references are :mod:`dotlab.vocab`, :mod:`dotlab.softmax` and
:mod:`dotlab.kvcache`.

The samplers take a *seed* rather than a Generator, so that the learner's call and the
reference's each start from a fresh ``np.random.default_rng(seed)``, and they must draw
with ``rng.choice(V, p=probs)`` over the whole vocabulary in token order: that is what
makes "the same seed gives the same token" checkable, token for token.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import dataclasses
from dataclasses import dataclass
from typing import Callable

from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, _run_learner
from dotlab.checks.contract import (MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Number, Task, allow,
                                    tasks_table)
from dotlab.kvcache import head_decode_step as _head_decode_step
from dotlab.softmax import softmax as _softmax
from dotlab.vocab import sample_token as _sample_token
from dotlab.vocab import vocab_logits as _vocab_logits


def _no_reference(*targets: str) -> tuple[Forbidden, ...]:
    return tuple(Forbidden(t, "the course's reference implementation is not your answer") for t in targets)


# The precision each task promises. No task asks for float64, so a float32 implementation
# passes: its logits carry about 7 significant digits of numbers up to ~10 (hence the
# absolute 1e-5), and a float32 softmax of logits near 1e4 keeps only ~4 digits of their
# differences (hence 1e-4). Every catalogued mistake is off by far more.
_LOGIT_TOL = dict(rtol=1e-5, atol=1e-5)
_PROB_TOL = dict(rtol=1e-4, atol=1e-8)
_DECODE_TOL = dict(rtol=2e-5, atol=1e-6)


def _f64(*arrays):
    """Inputs as float64: the references answer in full precision whatever the learner got."""
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _stable(x):
    x = np.asarray(x, float)
    e = np.exp(x - x.max())
    return e / e.sum()


# -- 6.1: one dot product per vocabulary token ------------------------------------------------

_LOGIT_MISTAKES = (
    Mistake("probabilities", "you returned probabilities (a softmax); the logits are the raw dot products W_U h, "
                             "before any softmax", lambda h, W_U: _stable(np.asarray(W_U, float) @ np.asarray(h, float))),
    Mistake("log-probabilities", "you returned log-probabilities; the logits are the raw dot products W_U h",
            lambda h, W_U: np.log(_stable(np.asarray(W_U, float) @ np.asarray(h, float)))),
    Mistake("columns", "you paired h with the *columns* of W_U (W_U.T @ h); each token's output vector is a row of "
                       "W_U, shape (V, d_model): logits = W_U @ h",
            lambda h, W_U: np.asarray(W_U, float).T @ np.asarray(h, float)),
    Mistake("cosine", "you divided by the vectors' lengths (cosine similarity); a logit is the raw dot product, "
                      "and a longer output vector is meant to score higher",
            lambda h, W_U: (np.asarray(W_U, float) @ np.asarray(h, float))
            / (np.linalg.norm(W_U, axis=1) * np.linalg.norm(h))),
    Mistake("argmax", "you returned the best token's id; return all V logits (picking a token comes later)",
            lambda h, W_U: float(np.argmax(np.asarray(W_U, float) @ np.asarray(h, float)))),
    Mistake("sum", "you added the logits up into one number; return one logit per vocabulary token",
            lambda h, W_U: float(np.sum(np.asarray(W_U, float) @ np.asarray(h, float)))),
)

_LOGIT_SHAPE_HINT = ("W_U has one row per token, shape (V, d_model), and each logit is a row of W_U dotted with h. "
                     "For one h that is W_U @ h; for hidden states stacked as rows, h of shape (T, d_model), it is "
                     "h @ W_U.T, which works for both")


def _logit_edges(rng) -> list[Case]:
    V, d = (int(n) for n in rng.integers(2, 9, size=2))
    h, W = rng.normal(size=d), rng.normal(size=(V, d))
    return [
        Case("one token in the vocabulary (V = 1)", (h, W[:1]), show_inputs=False),
        Case("d_model = 1", (h[:1], W[:, :1]), show_inputs=False),
        Case("one position as a (1, d_model) row", (h[None, :], W), show_inputs=False),
        Case("a zero hidden state: every logit 0", (np.zeros(d), W), show_inputs=False),
        Case("W_U as a transposed view (not contiguous)", (h, np.ascontiguousarray(W.T).T), show_inputs=False),
        Case("int inputs", (rng.integers(-3, 4, size=d), rng.integers(-3, 4, size=(V, d))), show_inputs=False),
    ]


def _logit_cases(hidden: bool) -> list[Case]:
    W3 = [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [-1.0, -1.0, 0.5]]  # V = d_model = 3: rows and columns both fit
    cases = [
        Case("V = 3 tokens, d_model = 2", ([2.0, 0.5], [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])),
        Case("V = 3 tokens, d_model = 3", ([1.0, 2.0, -1.0], W3)),
        Case("h of length 3 against rows of length 4", ([1.0, 2.0, 3.0], np.ones((5, 4))), raises=ValueError,
             must_mention=("3", "4"), hint="Compare len(h) with W_U.shape[1] and raise a ValueError naming both."),
        Case("two positions stacked as rows: h is (2, 3)", ([[1.0, 2.0, -1.0], [0.5, 0.0, 1.0]], W3)),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(601)
    return cases + [
        Case("V = 4, d_model = 1", ([3.0], [[1.0], [-2.0], [0.5], [0.0]])),
        Case("a long output vector scores higher", ([1.0, 1.0], [[1.0, 1.0], [10.0, 10.0], [1.0, -1.0]])),
        Case("tinygpt's size: V = 125, d_model = 96", (rng.normal(size=96), rng.normal(size=(125, 96))), show_inputs=False),
        Case("several positions at once: h is (T, d_model) = (4, 3)", (rng.normal(size=(4, 3)), rng.normal(size=(6, 3))),
             show_inputs=False),
        Case("h of length 2 against rows of length 6", ([1.0, 2.0], np.ones((3, 6))), raises=ValueError,
             must_mention=("2", "6")),
    ]


# -- 6.2: softmax with a temperature ------------------------------------------------------------


def _temperature_reference(logits, temperature):
    return _softmax(*_f64(logits), temperature=temperature)


def _with_temperature(transform):
    def predict(logits, temperature):
        return transform(np.asarray(logits, float), temperature)

    return predict


_TEMPERATURE_MISTAKES = (
    Mistake("multiplied", "you multiplied the logits by the temperature; divide them by it (τ > 1 flattens the "
                          "distribution, τ < 1 sharpens it)", _with_temperature(lambda x, t: _stable(x * t))),
    Mistake("naive", "exp() of large logits overflows to inf, and inf/inf = nan: subtract the largest logit before "
                     "exp (it cancels between numerator and denominator)",
            _with_temperature(lambda x, t: np.exp(x / t) / np.exp(x / t).sum())),
    Mistake("after softmax", "you divided the probabilities by τ; divide the logits, before the exponential",
            _with_temperature(lambda x, t: _stable(x) / t)),
    Mistake("unnormalised", "you returned exp((x - max) / τ) without dividing by its sum: probabilities add up to 1",
            _with_temperature(lambda x, t: np.exp((x - x.max()) / t))),
    Mistake("ignored", "the temperature had no effect: divide the logits by it before the softmax",
            _with_temperature(lambda x, t: _stable(x))),
    Mistake("log", "you returned log-probabilities; return the probabilities themselves",
            _with_temperature(lambda x, t: np.log(_stable(x / t)))),
    Mistake("after the exponential", "you applied the temperature after the exponential (softmax(x) ** (1/τ), "
            "renormalised): the same in exact arithmetic, but exp() of a logit 1000 below the best is already 0, "
            "and no temperature brings it back. Divide the logits by τ first, then subtract the largest",
            _with_temperature(lambda x, t: _stable(x) ** (1 / t) / np.sum(_stable(x) ** (1 / t)))),
)

_TEMPERATURE_HINT = ("A temperature of 0 or below has no meaning here (τ → 0 is greedy decoding, a separate rule): "
                     "raise ValueError(f'temperature={temperature} must be positive').")


def _thousands_apart(rng, x):
    """Logits 1000 to 3000 below the best (and one exactly 1000 below): exp() of the raw gap
    is 0, while at τ of a few hundred those tokens keep a probability of 0.1% to 10%."""
    gaps = np.r_[0.0, 1000.0, rng.uniform(1000.0, 3000.0, size=len(x) - 2)]
    return float(x[0]) * 1000.0 - rng.permutation(gaps)


def _temperature_edges(rng) -> list[Case]:
    x = rng.normal(scale=3, size=int(rng.integers(3, 9)))
    t = float(rng.uniform(0.2, 5))
    return [
        Case("a single logit", ([float(x[0])], t)),
        Case("equal logits: uniform", (np.full(len(x), float(x[0])), t), show_inputs=False),
        Case("a -inf logit keeps probability 0", (np.r_[-np.inf, x], t), show_inputs=False),
        Case("every logit but one -inf: that one gets 1", (np.r_[-np.inf, x[:1], -np.inf], t), show_inputs=False),
        # float32 keeps about 7 digits of a logit near 1e4: the differences that decide the
        # probabilities keep only 3 or 4, so these cases promise 1% (every mistake is far off)
        Case("logits near 1e4 at a cold temperature", (1e4 + x, 0.3), show_inputs=False, tol=(1e-2, 1e-7)),
        Case("logits near -1e4 (exp underflows)", (-1e4 + x, t), show_inputs=False, tol=(1e-2, 1e-7)),
        Case("float32 logits near 1e3", ((1e3 + x).astype(np.float32), t), show_inputs=False, tol=(1e-2, 1e-7)),
        Case("an int temperature", (x, int(rng.integers(1, 5))), show_inputs=False),
        # logits thousands apart at a hot temperature: exp() of the raw differences underflows
        # to 0 for tokens whose probability is far from 0 (dividing by τ must come first)
        Case("logits thousands apart at a hot temperature", (_thousands_apart(rng, x), float(rng.uniform(200, 500))),
             show_inputs=False),
    ]


def _temperature_cases(hidden: bool) -> list[Case]:
    x = [1.0, 2.0, 3.0]
    cases = [
        Case("temperature 1: the plain softmax", (x, 1.0)),
        Case("temperature 0.5: sharper", (x, 0.5)),
        Case("temperature 10: flatter", (x, 10.0)),
        Case("large logits at temperature 0.5 (exp(2000) overflows)", ([1000.0, 1001.0, 1002.0], 0.5)),
        Case("a -inf logit (a banned token) keeps probability 0", ([-np.inf, 1.0, 2.0], 2.0)),
        Case("temperature 0", (x, 0.0), raises=ValueError, must_mention=("0",), hint=_TEMPERATURE_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(602)
    return cases + [
        Case("a cold temperature: nearly one-hot", ([0.0, 1.0, 2.5], 0.05)),
        Case("a single logit", ([5.0], 3.0)),
        Case("logits of 1e4 at temperature 3", ([1e4, 1e4 - 5.0, 0.0], 3.0), tol=(1e-2, 1e-7)),
        Case("125 random logits at temperature 0.7", (rng.normal(scale=3, size=125), 0.7), show_inputs=False),
        Case("an int temperature", ([0.5, -0.5, 2.0], 2)),
        Case("a negative temperature", (x, -1.0), raises=ValueError, must_mention=("-1",), hint=_TEMPERATURE_HINT),
    ]


# -- 6.3 and 6.4: seeded sampling ----------------------------------------------------------------


def _draw(probs, seed):
    """The draw every sampler here makes: rng.choice over the vocabulary, in token order."""
    probs = np.asarray(probs, float)
    return int(np.random.default_rng(seed).choice(probs.size, p=probs / probs.sum()))


def _keep(logits, ids):
    """Softmax over the tokens ``ids`` only, as a length-V vector with zeros elsewhere."""
    logits = np.asarray(logits, float)
    probs = np.zeros_like(logits)
    probs[ids] = _stable(logits[ids])
    return probs


def _best_first(logits):
    return np.argsort(-np.asarray(logits, float), kind="stable")


def _sorted_draw(logits, ids, seed):
    """Draw among ``ids`` in the order listed (best first), not in token order."""
    p = _stable(np.asarray(logits, float)[ids])
    return int(ids[np.random.default_rng(seed).choice(len(ids), p=p)])


def _legacy_draw(probs, seed):
    return int(np.random.RandomState(seed).choice(len(probs), p=probs))


_REPRODUCE_HINT = ("Make the generator inside your function, from the seed, on every call: rng = "
                   "np.random.default_rng(seed). A generator made once (in an earlier cell, a default argument or a "
                   "global kept from an earlier call), or made without the seed, draws differently each time")
# Fifty logits close together, so that every token has a real chance: a sampler whose draws
# do not follow its seed gives the same token on a repeated seed only by a rare accident.
_FLAT = np.random.default_rng(606).normal(scale=0.3, size=50)
#: The mistake the reproducibility check names (the instructor's report counts it by name);
#: it is judged by comparing the learner's calls with each other, so it predicts no token.
NOT_REPRODUCIBLE = Mistake("seed not followed", _REPRODUCE_HINT, lambda *args, **kwargs: np.nan)
_SEED_ORDER = (3, 4, 3, 5, 4, 3, 5)  # each seed asked again after other calls


def check_reproducible(fn, fn_name: str, args_for, forbidden: tuple[Forbidden, ...] = ()) -> int:
    """The same seed must give the same token, however many calls came in between.

    ``args_for(seed)`` gives the arguments of one call. This compares the function with
    itself, so it runs wherever the function lives: each call goes the way a case's does
    (:func:`~dotlab.checks._core._run_learner`: copies of the inputs, the forbidden
    routines armed), in this process in a notebook or pytest, and in the grader through
    the one sandbox worker that keeps the learner's state between calls, as their kernel
    would. An error, a forbidden call or an answer that is not a number is left to the
    cases, which name it. Returns the number of checks made.
    """
    tokens: dict[int, float] = {}
    for seed in _SEED_ORDER:
        args = args_for(seed)
        outcome, tripped = _run_learner(fn, Case(f"seed={seed}", args, show_inputs=False), forbidden)
        if tripped or outcome.error is not None:
            return 0
        try:
            token = float(np.asarray(outcome.value, dtype=float))
        except (TypeError, ValueError):
            return 0
        if seed in tokens and token != tokens[seed]:
            raise CheckFailure(
                f"{fn_name}(logits, {args[1]!r}, seed={seed}) on {len(args[0])} logits returned {tokens[seed]:g} and "
                f"later {token:g}: the same seed must give the same token. {_REPRODUCE_HINT}",
                mistake=NOT_REPRODUCIBLE.name, hint=NOT_REPRODUCIBLE.hint, case=f"seed={seed} asked again")
        tokens[seed] = token
    return 1


class AmbiguousCase(Exception):
    """A case whose right answer depends on how ties are broken, which the task text leaves open."""


def _tie_choices(logits, n: int) -> list[np.ndarray]:
    """Every set of ``n`` tokens a best-first order may keep when logits tie at the cut.

    The task texts say "the k largest logits" and "sort the probabilities from the largest
    down", and nothing about equal ones: np.argsort(-x), np.argsort(x)[::-1] and
    torch.topk each break a tie their own way, and each is right.
    """
    logits = np.asarray(logits, dtype=float)
    order = _best_first(logits)
    if n >= logits.size:
        return [order]
    cut = logits[order[n - 1]]
    above = np.flatnonzero(logits > cut)
    tied = np.flatnonzero(logits == cut)
    choices = itertools.islice(itertools.combinations(tied, n - above.size), 200)
    return [np.concatenate([above, np.asarray(c, dtype=int)]) for c in choices]


def _answers(logits, n: int, seed) -> set[int]:
    """The tokens the prescribed draw gives for every tie-break of a cut after ``n`` tokens."""
    return {_draw(_keep(logits, ids), seed) for ids in _tie_choices(logits, n)}


def _unambiguous(token: int, logits, n: int, seed) -> int:
    """``token``, unless another tie-break the text allows draws another token: then the case
    cannot judge anyone (the variants that round logits into ties skip it; see
    :func:`_sampler_edges` for the edges)."""
    if len(_answers(logits, n, seed)) > 1:
        raise AmbiguousCase(f"tokens tied at the cut give different draws for seed={seed}")
    return token


def _top_k_reference(logits, k, seed):
    if not 1 <= k <= np.size(logits):  # the reference module's message names k too; the check wants k named
        raise ValueError(f"k={k} must be between 1 and {np.size(logits)}")
    token = _sample_token(*_f64(logits), np.random.default_rng(seed), top_k=int(k))
    return _unambiguous(token, _f64(logits)[0], int(k), seed)


_ORDER_HINT = ("you drew among the kept tokens listed best first. Draw over the whole vocabulary in token order, "
               "rng.choice(len(logits), p=probs) with probs zero outside the kept tokens: only then does the same "
               "seed pick the same token as everyone else's sampler")
_POSITION_HINT = "you returned a position in your sorted list of candidates; return the token id itself (an index into logits)"
_LEGACY_HINT = ("you used NumPy's legacy global generator (np.random.seed / np.random.choice); use a Generator, "
                "rng = np.random.default_rng(seed), then rng.choice(...): the two draw different numbers from the same seed")
_GREEDY_HINT = "you returned the most probable token every time; sample it with rng.choice(len(logits), p=probs)"

_TOP_K_MISTAKES = (
    Mistake("ignored k", "every token could be drawn: keep only the k largest logits, and give the rest probability 0",
            lambda logits, k, seed: _draw(_stable(logits), seed)),
    Mistake("k smallest", "you kept the k *smallest* logits: np.argsort sorts in ascending order, so take the last k "
                          "(or sort -logits)", lambda logits, k, seed: _draw(_keep(logits, _best_first(logits)[::-1][:k]), seed)),
    Mistake("k + 1", "you kept k + 1 tokens; keep exactly k",
            lambda logits, k, seed: _draw(_keep(logits, _best_first(logits)[:k + 1]), seed)),
    Mistake("uniform", "you gave the k kept tokens equal chances; keep their softmax probabilities, renormalised",
            lambda logits, k, seed: _draw(np.isin(np.arange(len(logits)), _best_first(logits)[:k]).astype(float), seed)),
    Mistake("sorted order", _ORDER_HINT, lambda logits, k, seed: _sorted_draw(logits, _best_first(logits)[:k], seed)),
    Mistake("position", _POSITION_HINT, lambda logits, k, seed: float(
        np.random.default_rng(seed).choice(k, p=_stable(np.asarray(logits, float)[_best_first(logits)[:k]])))),
    Mistake("legacy", _LEGACY_HINT, lambda logits, k, seed: _legacy_draw(_keep(logits, _best_first(logits)[:k]), seed)),
    Mistake("greedy", _GREEDY_HINT, lambda logits, k, seed: int(np.argmax(logits))),
    Mistake("every tie kept", "you kept every token whose logit equals the k-th largest (logits >= threshold), so "
            "ties at the cut keep more than k tokens: keep exactly k (np.argsort(-logits)[:k])",
            lambda logits, k, seed: _draw(_keep(logits, _every_tie(logits, k)), seed)),
)

_RENORMALISE_HINT = ("the probabilities you passed to rng.choice do not add up to 1: after zeroing the tokens you "
                     "dropped, divide by the sum of what is left (or take the softmax of the kept logits only)")
_OVERFLOW_HINT = ("your probabilities hold nan: exp() of a large logit overflows to inf, and inf/inf = nan. "
                  "Subtract the largest logit before exp (it cancels in the softmax)")
_SAMPLE_HINTS = (("do not sum to 1", _RENORMALISE_HINT), ("contain NaN", _OVERFLOW_HINT))
_K_HINT = "k must be between 1 and len(logits): raise ValueError(f'k={k} must be between 1 and {len(logits)}')."

# Six distinct logits, close enough that every token has a real chance.
_SIX = [2.0, 1.0, 0.5, 2.5, -1.0, 0.0]


def _top_k_cases(hidden: bool) -> list[Case]:
    cases = [Case(f"k=3, seed={seed}", (_SIX, 3, seed)) for seed in (0, 1, 8, 10, 19)]
    cases += [
        Case("k=1 is greedy, seed=6", (_SIX, 1, 6)),
        Case("k=6 keeps everything, seed=8", (_SIX, 6, 8)),
        Case("k=0", (_SIX, 0, 0), raises=ValueError, must_mention=("0",), hint=_K_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(603)
    wide = rng.normal(scale=2, size=50)
    return cases + [Case(f"50 random logits, k=5, seed={seed}", (wide, 5, seed), show_inputs=False)
                    for seed in range(10, 22)] + [
        Case("k=2, seed=3", (_SIX, 2, 3)),
        Case("k=4, seed=30", (_SIX, 4, 30)),
        Case("k=6 of 6, seed=31", (_SIX, 6, 31)),
        Case("a NumPy integer k", (_SIX, np.int64(3), 9)),
        Case("ties inside the k kept: [2, 2, 1, -1] with k=2, seed=5", ([2.0, 2.0, 1.0, -1.0], 2, 5)),
        _tie_at_the_cut([1.0, 3.0, 1.0, 1.0, -2.0], 2, "three logits tied at the cut, k=2"),
        Case("k larger than the vocabulary", (_SIX, 7, 0), raises=ValueError, must_mention=("7",), hint=_K_HINT),
    ]


def _top_p_reference(logits, p, seed):
    token = _sample_token(*_f64(logits), np.random.default_rng(seed), top_p=p)
    return _unambiguous(token, _f64(logits)[0], len(_nucleus(logits, p)), seed)


def _every_tie(logits, n):
    """The mistake of keeping every token tied with the last one kept (more than n)."""
    logits = np.asarray(logits, dtype=float)
    cut = logits[_best_first(logits)[n - 1]]
    return np.flatnonzero(logits >= cut)


def _nucleus(logits, p, *, strict=False, ascending=False, past_a_tie=False):
    probs = _stable(logits)
    order = _best_first(logits)[::-1] if ascending else _best_first(logits)
    running = np.cumsum(probs[order])
    if strict:
        n = int(np.sum(running < p))
    elif past_a_tie:  # a running total equal to p does not stop it
        n = int(np.searchsorted(running, p, side="right")) + 1
    else:
        n = int(np.searchsorted(running, p * (1 - 1e-12))) + 1
    return order[:min(max(n, 1), len(order))]


def _own_probability_at_least(logits, p):
    probs = _stable(logits)
    keep = np.flatnonzero(probs >= p)
    return keep if keep.size else np.array([int(np.argmax(probs))])  # nothing that likely: the best alone


_TOP_P_MISTAKES = (
    Mistake("crossing token", "the token that carries the running total up to p belongs in the nucleus: keep tokens "
                              "up to and including the first where the cumulative probability reaches p",
            lambda logits, p, seed: _draw(_keep(logits, _nucleus(logits, p, strict=True)), seed)),
    Mistake("past a tie", "when the running total equals p exactly, that token has reached p and is the last one "
                          "kept: you kept one more. Stop at the first token where the total is >= p (cumsum >= p, "
                          "or np.searchsorted(cumsum, p) + 1 tokens), not > p",
            lambda logits, p, seed: _draw(_keep(logits, _nucleus(logits, p, past_a_tie=True)), seed)),
    Mistake("ascending", "you added up the probabilities from the *least* probable token; the nucleus is the most "
                         "probable tokens, so sort in descending order",
            lambda logits, p, seed: _draw(_keep(logits, _nucleus(logits, p, ascending=True)), seed)),
    Mistake("ignored p", "every token could be drawn: keep only the nucleus, the most probable tokens whose "
                         "probabilities together reach p", lambda logits, p, seed: _draw(_stable(logits), seed)),
    Mistake("own probability", "you kept the tokens whose *own* probability is at least p; top-p keeps the most "
                               "probable tokens until their *cumulative* probability reaches p",
            lambda logits, p, seed: _draw(_keep(logits, _own_probability_at_least(logits, p)), seed)),
    Mistake("sorted order", _ORDER_HINT, lambda logits, p, seed: _sorted_draw(logits, _nucleus(logits, p), seed)),
    Mistake("position", _POSITION_HINT, lambda logits, p, seed: float(
        np.random.default_rng(seed).choice(len(_nucleus(logits, p)), p=_stable(np.asarray(logits, float)[_nucleus(logits, p)])))),
    Mistake("legacy", _LEGACY_HINT, lambda logits, p, seed: _legacy_draw(_keep(logits, _nucleus(logits, p)), seed)),
    Mistake("greedy", _GREEDY_HINT, lambda logits, p, seed: int(np.argmax(logits))),
    Mistake("every tie kept", "you kept every token as probable as the last one the nucleus needs, so tokens tied "
            "at the cut went in together: stop at the first token where the running total reaches p, one token "
            "at a time", lambda logits, p, seed: _draw(_keep(logits, _every_tie(logits, len(_nucleus(logits, p)))),
                                                       seed)),
)

_P_HINT = "p must be a probability in (0, 1]: raise ValueError(f'p={p} must be in (0, 1]')."
# Probabilities 0.1, 0.25, 0.05, 0.4, 0.2: best first (tokens 3, 1, 4, 0, 2) the running
# totals are 0.4, 0.65, 0.85, 0.95, 1, and that order is not the tokens' own order.
_FIVE = np.log([0.1, 0.25, 0.05, 0.4, 0.2])


# Probabilities 0.125, 0.5, 0.125, 0.25: every running total (0.5, 0.75, 0.875, 1) is exact
# in floating point, however the softmax is computed, so p = 0.75 or 0.5 is reached exactly.
_TIE = np.log([0.125, 0.5, 0.125, 0.25])


def _top_p_cases(hidden: bool) -> list[Case]:
    cases = [Case(f"p=0.6 keeps two tokens, seed={seed}", (_FIVE, 0.6, seed)) for seed in (0, 2, 4)]
    cases += [Case(f"p=0.9 keeps four tokens, seed={seed}", (_FIVE, 0.9, seed)) for seed in (3, 5, 8)]
    cases += [
        Case("p=0.15 keeps only the most probable, seed=4", (_FIVE, 0.15, 4)),
        Case("p=1 keeps everything, seed=8", (_FIVE, 1.0, 8)),
        Case("p=0.75 is reached exactly by tokens 1 and 3 (0.5 + 0.25), seed=3", (_TIE, 0.75, 3)),
        Case("p=0", (_FIVE, 0.0, 0), raises=ValueError, must_mention=("0",), hint=_P_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(604)
    wide = rng.normal(scale=2, size=50)
    return cases + [Case(f"50 random logits, p=0.8, seed={seed}", (wide, 0.8, seed), show_inputs=False)
                    for seed in range(10, 22)] + [
        Case("p=0.7 keeps three tokens, seed=11", (_FIVE, 0.7, 11)),
        Case("p=0.5 keeps two tokens, seed=12", (_FIVE, 0.5, 12)),
        Case("a confident model: one token above p", ([5.0, 0.0, -1.0, 0.5], 0.9, 13)),
        Case("p=0.75 reached exactly, seed=11", (_TIE, 0.75, 11)),
        Case("p=0.5 reached exactly by the first token alone, seed=4", (_TIE, 0.5, 4)),
        Case("p=0.5 reached exactly by the first token alone, seed=9", (_TIE, 0.5, 9)),
        _tie_at_the_cut(np.log([0.4, 0.2, 0.2, 0.2]), 0.5, "three tokens tied at the cut of p=0.5"),
        Case("p=1.5", (_FIVE, 1.5, 0), raises=ValueError, must_mention=("1.5",), hint=_P_HINT),
    ]


def _kept(logits, limit) -> int:
    """How many tokens a sampler keeps: k for top-k (an int), the nucleus's size for top-p."""
    if isinstance(limit, (int, np.integer)):
        return min(int(limit), np.size(logits))
    return len(_nucleus(logits, limit))


def _judgeable(case: Case, rng) -> Case:
    """``case`` with a seed whose token every allowed tie-break agrees on (a tie at the cut is
    rare in random logits, common in rounded ones), else with the tie broken in its logits."""
    logits, limit, seed = case.args
    for _ in range(100):
        if len(_answers(logits, _kept(logits, limit), seed)) == 1:
            return dataclasses.replace(case, args=(logits, limit, seed))
        seed = int(rng.integers(0, 2**31))
    values = np.asarray(logits)
    if values.dtype.kind in "iu":  # whole numbers stay whole: distinct ones, drawn afresh
        distinct = rng.choice(np.arange(-8, 9), size=values.size, replace=False).astype(values.dtype)
    else:
        distinct = values + np.arange(values.size) * 1e-3  # the same order but for the ties
    return dataclasses.replace(case, args=(distinct.tolist() if isinstance(logits, list) else distinct, limit, seed))


def _tie_at_the_cut(logits, limit, label: str) -> Case:
    """A case with logits tied at the cut, and a seed for which every allowed tie-break draws
    the same token while keeping every tied token draws another: it catches
    ``logits >= threshold`` without failing any right tie-break."""
    n = _kept(logits, limit)
    for seed in range(10_000):
        answers = _answers(logits, n, seed)
        if len(answers) == 1 and _draw(_keep(logits, _every_tie(logits, n)), seed) not in answers:
            return Case(f"{label}, seed={seed}", (logits, limit, seed))
    raise AssertionError(f"no seed tells a tie-break from every tie kept for {logits}")


def _sampler_edges(rng, limit) -> list[Case]:
    """The boundaries of a sampler's domain, with ``limit`` as k or p; fresh numbers each class.

    Rounded (int) logits often tie where the sampler cuts; a case is kept only with a seed
    whose token does not depend on how the tie is broken (:func:`_judgeable`).
    """
    return [_judgeable(case, rng) for case in _sampler_edge_cases(rng, limit)]


def _sampler_edge_cases(rng, limit) -> list[Case]:
    six = rng.normal(scale=1.5, size=6)
    seeds = [int(x) for x in rng.integers(0, 2**31, size=8)]
    return [
        Case("one token in the vocabulary", ([float(six[0])], 1 if isinstance(limit, int) else limit, seeds[0])),
        Case("int logits", (np.rint(six * 2).astype(int).tolist(), limit, seeds[1])),
        Case("an int64 array of logits", (np.rint(six * 2).astype(np.int64), limit, seeds[2])),
        Case("float32 logits", (six.astype(np.float32), limit, seeds[3]), show_inputs=False),
        Case("logits of a thousand (exp overflows)", (1000.0 + six, limit, seeds[4]), show_inputs=False),
        Case("logits of minus a thousand (exp underflows)", (-1000.0 + six, limit, seeds[5]), show_inputs=False),
        Case("a banned token (-inf) among them", (np.r_[six[:2], -np.inf, six[2:]], limit, seeds[6]), show_inputs=False),
        Case("a strided view of the logits", (np.repeat(six, 2)[::2], limit, seeds[7]), show_inputs=False),
    ]


# -- 6.5: one decode step with a KV cache ---------------------------------------------------------


def _decode_reference(x, K_cache, V_cache, W_q, W_k, W_v):
    return _head_decode_step(*_f64(x, K_cache, V_cache, W_q, W_k, W_v))[0]


def _attend(q, K, V, scale=None, normalise=True):
    s = K @ q * (1 / math.sqrt(q.shape[0]) if scale is None else scale)
    w = _stable(s) if normalise else s
    return w @ V


def _decode_with(rule):
    def predict(x, K_cache, V_cache, W_q, W_k, W_v):
        x, K_cache, V_cache, W_q, W_k, W_v = (np.asarray(a, float) for a in (x, K_cache, V_cache, W_q, W_k, W_v))
        q, k, v = x @ W_q, x @ W_k, x @ W_v
        K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
        return rule(x=x, q=q, k=k, v=v, K=K, V=V, K_cache=K_cache, V_cache=V_cache, W_q=W_q, W_k=W_k)

    return predict


_DECODE_MISTAKES = (
    Mistake("no self", "the new token attends to itself too: append its key and value to the caches before scoring "
                       "(the context has T tokens, the new one included)",
            _decode_with(lambda q, K_cache, V_cache, **_: _attend(q, K_cache, V_cache))),
    Mistake("unscaled", "you left out the 1/sqrt(d_head) scale on the scores (chapter 4)",
            _decode_with(lambda q, K, V, **_: _attend(q, K, V, scale=1.0))),
    Mistake("by d_head", "you divided the scores by d_head; divide by its square root",
            _decode_with(lambda q, K, V, **_: _attend(q, K, V, scale=1 / q.shape[0]))),
    Mistake("by d_model", "you scaled by 1/sqrt(d_model); the scores are dot products of length d_head, so scale "
                          "by 1/sqrt(d_head)", _decode_with(lambda x, q, K, V, **_: _attend(q, K, V, scale=1 / math.sqrt(x.shape[0])))),
    Mistake("no softmax", "you mixed the values with the raw scores; turn them into weights with a softmax first",
            _decode_with(lambda q, K, V, **_: _attend(q, K, V, normalise=False))),
    Mistake("keys as values", "you mixed the keys; the weights average the *values*",
            _decode_with(lambda q, K, **_: _attend(q, K, K))),
    Mistake("only self", "the new token attended only to itself; its query meets every cached key too",
            _decode_with(lambda v, **_: v)),
    Mistake("q and k swapped", "you swapped W_q and W_k: the new token's query is x @ W_q and its key x @ W_k",
            _decode_with(lambda x, K_cache, V, W_q, W_k, **_: _attend(x @ W_k, np.vstack([K_cache, x @ W_q]), V))),
)

_CACHE_HINT = ("Check that the caches line up: raise ValueError(f'K_cache holds {len(K_cache)} tokens but V_cache "
               "holds {len(V_cache)}').")


def _decode_case(label, rng, T_cached, d_model, d_head, **kwargs):
    x = rng.normal(size=d_model)
    K, V = rng.normal(size=(T_cached, d_head)), rng.normal(size=(T_cached, d_head))
    W_q, W_k, W_v = rng.normal(size=(3, d_model, d_head))
    return Case(label, (x, K, V, W_q, W_k, W_v), **kwargs)


def _scores_reach(top: float, x, K, W_q):
    """``K`` scaled so that the new query's largest score against the cache is exactly ``top``.

    Scaling the draws by a constant made overflow depend on the seed (some draws stayed
    below exp's limit of ~709); this makes it certain.
    """
    q = np.asarray(x, float) @ W_q
    scores = K @ q / math.sqrt(q.shape[0])
    biggest = scores[np.argmax(np.abs(scores))]
    return K * (top / biggest) if abs(biggest) > 1e-9 else K


def _decode_edges(rng) -> list[Case]:
    T, d_model, d_head = (int(n) for n in rng.integers(1, 7, size=3))
    x, K, V = rng.normal(size=d_model), rng.normal(size=(T, d_head)), rng.normal(size=(T, d_head))
    W_q, W_k, W_v = rng.normal(size=(3, d_model, d_head))
    return [
        Case("the first token: empty caches", (x, K[:0], V[:0], W_q, W_k, W_v), show_inputs=False),
        Case("scores of a thousand (exp overflows)", (x, _scores_reach(1000.0, x, K, W_q), V, W_q, W_k, W_v),
             show_inputs=False),
        Case("every cached key equal to the new one: a tie", (x, np.tile(x @ W_k, (T, 1)), V, W_q, W_k, W_v),
             show_inputs=False),
        Case("int inputs", tuple(rng.integers(-2, 3, size=a.shape) for a in (x, K, V, W_q, W_k, W_v)),
             show_inputs=False),
    ]


def _decode_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(605)
    cases = [
        _decode_case("three cached tokens, d_model=4, d_head=3", rng, 3, 4, 3),
        _decode_case("the first token: empty caches of shape (0, 2)", rng, 0, 4, 2),
        _decode_case("five cached tokens, d_model=6, d_head=6", rng, 5, 6, 6),
        Case("K_cache with 3 tokens, V_cache with 2", (np.ones(4), np.ones((3, 2)), np.ones((2, 2)), np.ones((4, 2)),
                                                       np.ones((4, 2)), np.ones((4, 2))),
             raises=ValueError, must_mention=("3", "2"), hint=_CACHE_HINT),
    ]
    if not hidden:
        return cases
    return cases + [
        _decode_case("one cached token", rng, 1, 3, 2),
        _decode_case("tinygpt's head size: 20 cached tokens, d_model=96, d_head=24", rng, 20, 96, 24, show_inputs=False),
        _decode_case("d_head larger than d_model", rng, 4, 2, 5),
        Case("K_cache with 1 token, V_cache with 4", (np.ones(3), np.ones((1, 2)), np.ones((4, 2)), np.ones((3, 2)),
                                                      np.ones((3, 2)), np.ones((3, 2))),
             raises=ValueError, must_mention=("1", "4"), hint=_CACHE_HINT),
    ]


# -- the tasks ------------------------------------------------------------------------------

class _NumericArray(ArrayOf):
    """A NumPy array of numbers: int inputs may well give int logits."""

    def describe(self):
        return "a NumPy array (use np.asarray, and .numpy() on a tensor)"


@dataclass(frozen=True)
class _SeededTask(Task):
    """A sampler's task: its draws must follow its seed, checked before its cases.

    A sampler whose draws do not follow the seed gives tokens some catalogued mistake may
    match by chance, and would be told that mistake instead of its own.
    """

    repeat_args: Callable | None = None  # seed -> the arguments of one call

    def run(self, fn, hidden: bool = False) -> None:
        __tracebackhide__ = True
        if callable(fn):
            check_reproducible(fn, self.name, self.repeat_args, self.forbidden)
        super().run(fn, hidden)


_NO_DOTLAB = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {".dot", ".matmul", ".mm", ".mv"}, matmul=True, methods=None,
                   says="NumPy or PyTorch, but nothing from dotlab")
_NO_SOFTMAX = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!torch.softmax", "!torch.nn.*", "!torch.special.*",
                                                          "!torch.log_softmax"}, matmul=True, methods=None,
                    says="the exponentials and the normalisation written yourself: no library softmax, nothing "
                         "from dotlab")
_SAMPLER = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!torch.softmax", "!torch.nn.*", "!torch.special.*"},
                 matmul=True, methods=None,
                 says="NumPy, with the draw rng = np.random.default_rng(seed); rng.choice(len(logits), p=probs); "
                      "nothing from dotlab")
_ATTENTION = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!torch.nn.*", "!torch.softmax", "!torch.special.*",
                                                         ".dot", ".matmul", ".mm", ".mv"},
                   matmul=True, methods=None, says="attention written out with NumPy: no library attention, nothing "
                                                   "from dotlab")
_VARIANTS = ("int", "float32", "strided")

VOCAB_LOGITS = Task(
    "6.1", "vocab_logits", reference=lambda h, W_U: _vocab_logits(*_f64(h, W_U)), cases=_logit_cases,
    mistakes=_LOGIT_MISTAKES, returns=_NumericArray("fiu"), allowed=_NO_DOTLAB,
    forbidden=_no_reference("dotlab.vocab.vocab_logits"), edges=_logit_edges, variants=_VARIANTS,
    params_=("h", "W_U"), array_params_=("h", "W_U"), **_LOGIT_TOL, float32_rtol=1e-5, float32_atol=1e-5,
    error_hints=(("matmul", _LOGIT_SHAPE_HINT), ("shapes", _LOGIT_SHAPE_HINT)),
    doc="logits = W_U h, one dot product per vocabulary token.",
)
SOFTMAX_TEMPERATURE = Task(
    "6.2", "softmax_temperature", reference=_temperature_reference, cases=_temperature_cases,
    mistakes=_TEMPERATURE_MISTAKES, returns=ArrayOf("f"), allowed=_NO_SOFTMAX,
    forbidden=(Forbidden("scipy.special.softmax", "write the exponentials and the normalisation yourself"),)
    + _no_reference("dotlab.softmax", "dotlab.softmax.softmax", "dotlab.vocab.next_token_probs"),
    edges=_temperature_edges, variants=_VARIANTS, params_=("logits", "temperature"), array_params_=("logits",),
    **_PROB_TOL, float32_rtol=1e-3, float32_atol=1e-7,
    error_hints=(("division by zero", _TEMPERATURE_HINT), ("divide by zero", _TEMPERATURE_HINT)),
    doc="softmax(logits / τ), computed without overflow.",
)
TOP_K_SAMPLE = _SeededTask(
    "6.3", "top_k_sample", reference=_top_k_reference, cases=_top_k_cases, mistakes=_TOP_K_MISTAKES,
    returns=Number(integer=True), allowed=_SAMPLER,
    forbidden=_no_reference("dotlab.vocab.sample_token", "dotlab.vocab.top_k_filter", "dotlab.vocab.next_token_probs"),
    edges=lambda rng: _sampler_edges(rng, 4), variants=_VARIANTS, params_=("logits", "k", "seed"),
    array_params_=("logits",), rtol=0.0, atol=0.0, float32_rtol=0.0, float32_atol=0.0, error_hints=_SAMPLE_HINTS,
    repeat_args=lambda seed: (_FLAT.copy(), 40, seed),
    doc="keep the k largest logits, then draw with np.random.default_rng(seed).",
)
TOP_P_SAMPLE = _SeededTask(
    "6.4", "top_p_sample", reference=_top_p_reference, cases=_top_p_cases, mistakes=_TOP_P_MISTAKES,
    returns=Number(integer=True), allowed=_SAMPLER,
    forbidden=_no_reference("dotlab.vocab.sample_token", "dotlab.vocab.top_p_filter", "dotlab.vocab.next_token_probs"),
    edges=lambda rng: _sampler_edges(rng, 0.8), variants=_VARIANTS, params_=("logits", "p", "seed"),
    array_params_=("logits",), rtol=0.0, atol=0.0, float32_rtol=0.0, float32_atol=0.0, error_hints=_SAMPLE_HINTS,
    repeat_args=lambda seed: (_FLAT.copy(), 0.9, seed),
    doc="nucleus sampling, drawn with np.random.default_rng(seed).",
)
DECODE_STEP = Task(
    "6.5", "decode_step", reference=_decode_reference, cases=_decode_cases, mistakes=_DECODE_MISTAKES,
    returns=ArrayOf("f"), allowed=_ATTENTION,
    forbidden=_no_reference("dotlab.kvcache.head_decode_step", "dotlab.scaled_dot_product_attention",
                            "dotlab.attention.scaled_dot_product_attention"),
    edges=_decode_edges, variants=_VARIANTS, params_=("x", "K_cache", "V_cache", "W_q", "W_k", "W_v"),
    array_params_=("x", "K_cache", "V_cache", "W_q", "W_k", "W_v"), **_DECODE_TOL, float32_rtol=2e-4,
    float32_atol=2e-5, doc="one head's attention output for a new token, its keys and values cached.",
)

TASKS = {task.id: task for task in (VOCAB_LOGITS, SOFTMAX_TEMPERATURE, TOP_K_SAMPLE, TOP_P_SAMPLE, DECODE_STEP)}
CHECKS = tasks_table(*TASKS.values())
check_vocab_logits, check_softmax_temperature, check_top_k_sample, check_top_p_sample, check_decode_step = \
    CHECKS.values()
