"""Chapter 6: scoring the vocabulary, and picking the next token.

Shape vocabulary: ``d_model`` the width of the final hidden state ``h``; ``V`` tokens in
the vocabulary; ``W_U`` the unembedding, shape ``(V, d_model)``, one row per token (with
weight tying, the token embedding matrix itself); ``T`` tokens of context.

One generated token, end to end::

    logits = W_U h             # (V, d_model) x (d_model,) -> (V,): one dot product per token
    probs  = softmax(logits / τ)   # temperature τ; top-k / top-p zero out the tail first
    token  = rng.choice(V, p=probs)    # or argmax(logits): greedy
    context.append(token)      # and again, from the new context

Every random choice goes through a NumPy ``Generator`` the caller seeds, so a run can be
repeated token for token.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from dotlab._validate import as_array, same_length
from dotlab.softmax import _temperature, log_softmax, softmax

__all__ = [
    "Step",
    "generate",
    "greedy",
    "next_token_probs",
    "sample_token",
    "sequence_log_probs",
    "top_k_filter",
    "top_p_filter",
    "vocab_logits",
]


def vocab_logits(h, W_U) -> np.ndarray:
    """Score every vocabulary token against a hidden state: ``logits = W_U h``.

    Logit ``v`` is the dot product of ``h`` with row ``v`` of ``W_U``: how well the
    model's final state lines up with token ``v``'s output vector. That is ``V`` dot
    products of length ``d_model``, ``V·d_model`` multiply-accumulates per position.

    Parameters
    ----------
    h : array_like, shape (d_model,) or (T, d_model)
        One final hidden state, or several stacked as rows.
    W_U : array_like, shape (V, d_model)
        The unembedding, one row per token. With weight tying it is the token
        embedding matrix ``wte``.

    Returns
    -------
    numpy.ndarray, shape (V,) or (T, V)

    Raises
    ------
    ValueError
        If ``h`` and the rows of ``W_U`` differ in length (the message names both shapes).

    Examples
    --------
    >>> W_U = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]   # V = 3 tokens, d_model = 2
    >>> vocab_logits([2.0, 0.5], W_U)
    array([ 2. ,  0.5, -2.5])
    """
    h = as_array(h, "h")
    W_U = as_array(W_U, "W_U", ndim=2)
    if h.ndim not in (1, 2):
        raise ValueError(f"h must be (d_model,) or (T, d_model), but h.shape={h.shape}")
    same_length(h, W_U, ("h", "W_U"))
    return h @ W_U.T  # (..., d_model) x (d_model, V) -> (..., V)


def _logits_1d(logits) -> np.ndarray:
    arr = np.asarray(logits)
    if arr.dtype.kind not in "biuf" or arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array of V scores, but got shape {arr.shape} and dtype {arr.dtype}")
    arr = arr.astype(np.float64) if arr.dtype.kind != "f" else arr
    if np.isnan(arr).any() or np.isposinf(arr).any():
        raise ValueError("logits contain NaN or +inf; only -inf has a meaning (a token that may never be picked)")
    return arr


def greedy(logits) -> int:
    """The most probable token: the index of the largest logit (the first, on a tie).

    Softmax never changes the order of the scores, so no probabilities are needed.

    Examples
    --------
    >>> greedy([0.1, 2.5, -1.0, 2.5])
    1
    """
    return int(np.argmax(_logits_1d(logits)))


def _k(k, V: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= V:
        raise ValueError(f"k={k!r} must be a whole number from 1 to the vocabulary size V={V}")
    return int(k)


def top_k_filter(logits, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits; set every other one to ``-inf`` (probability 0).

    Ties at the boundary are broken toward the lower token id, so exactly ``k`` survive.

    Parameters
    ----------
    logits : array_like, shape (V,)
    k : int
        From 1 (greedy) to ``V`` (nothing removed).

    Returns
    -------
    numpy.ndarray, shape (V,)

    Examples
    --------
    >>> top_k_filter([1.0, 3.0, 2.0, 0.5], k=2)
    array([-inf,   3.,   2., -inf])
    """
    arr = _logits_1d(logits)
    k = _k(k, arr.size)
    keep = np.argsort(-arr, kind="stable")[:k]  # token ids, best first
    out = np.full_like(arr, -np.inf)
    out[keep] = arr[keep]
    return out


def _p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
        raise ValueError(f"p={p!r} must be a probability in (0, 1]: the share of probability the nucleus keeps")
    return float(p)


def top_p_filter(logits, p: float) -> np.ndarray:
    """Nucleus filter: keep the fewest most probable tokens whose probabilities reach ``p``.

    Sort the tokens by probability, add them up from the top, and stop at the first
    token where the running total reaches ``p``; that token is kept, the rest get
    ``-inf`` (Holtzman et al. 2020). The number of survivors adapts to the model's
    confidence: one token when it is sure, many when it is not.

    Parameters
    ----------
    logits : array_like, shape (V,)
    p : float
        In ``(0, 1]``; ``1`` keeps every token with non-zero probability.

    Returns
    -------
    numpy.ndarray, shape (V,)

    Examples
    --------
    >>> logits = np.log([0.5, 0.1, 0.3, 0.1])
    >>> np.isfinite(top_p_filter(logits, p=0.7))   # 0.5 + 0.3 reaches 0.7
    array([ True, False,  True, False])
    """
    arr = _logits_1d(logits)
    p = _p(p)
    probs = softmax(arr)
    order = np.argsort(-probs, kind="stable")  # most probable first
    running = np.cumsum(probs[order])
    # Rounding can leave the total of all V a hair under p = 1: never keep fewer than all then.
    n_keep = min(int(np.searchsorted(running, p * (1 - 1e-12))) + 1, arr.size)
    out = np.full_like(arr, -np.inf)
    keep = order[:n_keep]
    out[keep] = arr[keep]
    return out


def next_token_probs(logits, *, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> np.ndarray:
    """The distribution a sampler draws from: temperature first, then top-k, then top-p.

    The order is the one Hugging Face's ``generate`` uses. Top-k does not depend on the
    temperature (dividing by τ keeps the order of the logits); top-p does (a hotter
    distribution needs more tokens to reach ``p``).

    Examples
    --------
    >>> next_token_probs([2.0, 1.0, 0.0], top_k=2).round(4)
    array([0.7311, 0.2689, 0.    ])
    """
    arr = _logits_1d(logits) / _temperature(temperature)
    if top_k is not None:
        arr = top_k_filter(arr, top_k)
    if top_p is not None:
        arr = top_p_filter(arr, top_p)
    return softmax(arr)


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"rng={rng!r:.60} must be a numpy Generator or an int seed, e.g. rng=np.random.default_rng(0); "
            "sampling without a seed could not be repeated"
        )
    return np.random.default_rng(int(rng))


def sample_token(logits, rng=None, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None) -> int:
    """Pick the next token: greedy at ``temperature=0``, otherwise a seeded random draw.

    The draw is ``rng.choice(V, p=probs)`` over the whole vocabulary in token order,
    with ``probs`` from :func:`next_token_probs`. With the same seed (or a Generator in
    the same state) it picks the same token, on any machine.

    Parameters
    ----------
    logits : array_like, shape (V,)
    rng : numpy.random.Generator or int, optional
        The source of randomness, or a seed for one. Required unless ``temperature=0``.
    temperature : float, default 1.0
        0 means greedy (the limit τ → 0); otherwise it must be positive.
    top_k, top_p : optional
        Filters applied before the draw (see :func:`top_k_filter`, :func:`top_p_filter`).

    Returns
    -------
    int
        A token id in ``0 .. V-1``.

    Raises
    ------
    TypeError
        If sampling is asked for without a Generator or seed.

    Examples
    --------
    >>> logits = [2.0, 1.0, 0.5, -1.0]
    >>> sample_token(logits, temperature=0)
    0
    >>> rng = np.random.default_rng(7)
    >>> [sample_token(logits, rng) for _ in range(6)]
    [1, 2, 1, 0, 0, 2]
    >>> [sample_token(logits, np.random.default_rng(7)) for _ in range(2)]   # same seed, same token
    [1, 1]
    """
    if temperature == 0:
        chosen = greedy(logits)
        if top_k is not None:
            _k(top_k, np.size(logits))
        if top_p is not None:
            _p(top_p)
        return chosen
    probs = next_token_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    return int(_generator(rng).choice(probs.size, p=probs))


def sequence_log_probs(logits, ids) -> np.ndarray:
    """Log-probability the model gave each next token of a text it has read.

    ``logits[t]`` scores what follows ``ids[:t+1]``, so the answer has ``T - 1`` entries:
    ``log p(ids[t+1] | ids[:t+1])``. Their sum is the text's log-probability (after the
    first token); their mean's negative is the cross-entropy a model is trained on.

    Parameters
    ----------
    logits : array_like, shape (T, V)
        Every position's logits, from one forward pass over ``ids``.
    ids : sequence of int, length T

    Returns
    -------
    numpy.ndarray, shape (T - 1,)

    Examples
    --------
    >>> logits = np.log([[0.1, 0.9], [0.5, 0.5], [0.2, 0.8]])
    >>> np.exp(sequence_log_probs(logits, [0, 1, 0])).round(3)
    array([0.9, 0.5])
    """
    logits = np.asarray(logits, dtype=float)
    ids = np.asarray(ids)
    if logits.ndim != 2 or ids.ndim != 1 or len(ids) != logits.shape[0]:
        raise ValueError(f"logits.shape={logits.shape} must be (T, V) with T = len(ids) = {ids.shape[0] if ids.ndim else ids}")
    if ids.dtype.kind not in "iu" or ids.min() < 0 or ids.max() >= logits.shape[1]:
        raise ValueError(f"ids must be token ids in 0..{logits.shape[1] - 1}")
    logp = log_softmax(logits[:-1], axis=-1)  # (T-1, V): position t predicts token t+1
    return logp[np.arange(len(ids) - 1), ids[1:]]


@dataclass(frozen=True)
class Step:
    """One turn of the generation loop: what the model believed, and what was picked.

    ``top_ids`` and ``top_probs`` are the model's most probable next tokens at
    temperature 1 (its own belief, before any filter); ``token`` is the one chosen and
    ``prob`` its probability in that same distribution.
    """

    context_length: int
    logits: np.ndarray
    token: int
    prob: float
    top_ids: np.ndarray
    top_probs: np.ndarray


def generate(next_logits: Callable[[list[int]], np.ndarray], prompt: Sequence[int], n_new: int, *,
             rng=None, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             show: int = 10) -> tuple[list[int], list[Step]]:
    """The generation loop: context → logits → token → append, ``n_new`` times.

    Parameters
    ----------
    next_logits : callable
        ``next_logits(ids) -> (V,)`` logits for the token after ``ids``. It may recompute
        the whole context each time, or remember it in a KV cache
        (:class:`dotlab.kvcache.CachedDecoder`): the loop cannot tell the difference.
    prompt : sequence of int
        At least one token id.
    n_new : int
        Tokens to generate.
    rng, temperature, top_k, top_p
        As in :func:`sample_token`.
    show : int, default 10
        How many of the most probable candidates each :class:`Step` records.

    Returns
    -------
    ids : list of int
        The prompt followed by the ``n_new`` generated tokens.
    steps : list of Step
        One per generated token.

    Examples
    --------
    A "model" that always prefers the token after the last one, modulo 5:

    >>> def next_logits(ids):
    ...     return 3.0 * np.eye(5)[(ids[-1] + 1) % 5]
    >>> ids, steps = generate(next_logits, [0], 4, temperature=0)
    >>> ids
    [0, 1, 2, 3, 4]
    >>> round(steps[0].prob, 3), steps[0].top_ids[:2].tolist()
    (0.834, [1, 0])
    """
    ids = [int(t) for t in prompt]
    if not ids:
        raise ValueError("prompt is empty: the model needs at least one token to condition on")
    if isinstance(n_new, bool) or not isinstance(n_new, numbers.Integral) or n_new < 0:
        raise ValueError(f"n_new={n_new!r} must be a whole number >= 0")
    if temperature != 0:
        rng = _generator(rng)
    steps = []
    for _ in range(int(n_new)):
        logits = np.asarray(next_logits(list(ids)))  # (V,) for the token after ids
        token = sample_token(logits, rng, temperature=temperature, top_k=top_k, top_p=top_p)
        probs = softmax(logits)  # the model's own belief, temperature 1
        top = np.argsort(-probs, kind="stable")[:show]
        steps.append(Step(len(ids), logits, token, float(probs[token]), top, probs[top]))
        ids.append(token)
    return ids, steps
