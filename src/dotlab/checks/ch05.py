"""Checks for chapter 5's assignment: causal mask, attention, heads, tiled attention.

Task ids match the chapter, the exercise notebook and the pytest markers:
5.1 ``causal_mask``, 5.2 ``attention``, 5.3 ``split_heads``, 5.4 ``merge_heads``,
5.5 ``tiled_attention``. Each ``check_*`` function runs the visible cases, or with
``hidden=True`` the fuller set the grader uses, and raises
:class:`~dotlab.checks.CheckFailure` naming the likely mistake.

Every task forbids PyTorch's attention and softmax and the course's own attention
functions while the learner's function runs: the point is to write them.
"""

from __future__ import annotations

import math

import numpy as np

from dotlab.attention import causal_mask as _causal_mask
from dotlab.attention import merge_heads as _merge_heads
from dotlab.attention import scaled_dot_product_attention as _sdpa
from dotlab.attention import split_heads as _split_heads
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, as_numbers
from dotlab.checks._measure import TRACER_TOUCHED, peak_memory  # noqa: F401 (a mistake the report names)
from dotlab.checks.contract import MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Task, allow, tasks_table

_WHY_TORCH = "write attention yourself: scores, a masked row-wise softmax, a weighted sum of values"
_WHY_REFERENCE = "the course's reference implementation is not your answer"
NO_DELEGATION = (
    Forbidden("torch.nn.functional.scaled_dot_product_attention", _WHY_TORCH),
    Forbidden("torch.nn.functional.multi_head_attention_forward", _WHY_TORCH),
    Forbidden("torch.nn.functional.softmax", _WHY_TORCH),
    Forbidden("torch.softmax", _WHY_TORCH),
    Forbidden("scipy.special.softmax", _WHY_TORCH),
    *(Forbidden(target, _WHY_REFERENCE) for target in (
        "dotlab.scaled_dot_product_attention",
        "dotlab.causal_mask",
        "dotlab.softmax",
        "dotlab.attention.causal_mask",
        "dotlab.attention.attention_weights",
        "dotlab.attention.scaled_dot_product_attention",
        "dotlab.attention.split_heads",
        "dotlab.attention.merge_heads",
        "dotlab.attention.multi_head_attention",
        "dotlab.tiled.tiled_attention",
        "dotlab.softmax.softmax",
        "dotlab.scaling.scaled_scores",
    )),
)


# -- 5.1: the causal mask --------------------------------------------------------------


def _tril(n_q, n_k, k):
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=k)


_MASK_MISTAKES = (
    Mistake("top-left", "your mask is aligned at the top left (like torch's is_causal=True): with fewer queries than "
            "keys, the LAST query must see every key. Query i sits at position i + n_keys - n_queries",
            lambda n_q, n_k: _tril(n_q, n_k, 0)),
    Mistake("strict", "a token may attend to itself: the diagonal belongs to the mask (use <=, not <)",
            lambda n_q, n_k: _tril(n_q, n_k, n_k - n_q - 1)),
    Mistake("upper", "True is on the wrong side: a query may see keys at or BEFORE its own position, never after",
            lambda n_q, n_k: np.triu(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q)),
    Mistake("inverted", "your True and False are swapped: here True means 'this key takes part' "
            "(torch.nn.MultiheadAttention uses the opposite convention)",
            lambda n_q, n_k: ~_tril(n_q, n_k, n_k - n_q)),
    Mistake("offset sign", "the shift has the wrong sign: query i sits at position i + (n_keys - n_queries), "
            "so the diagonal moves right when there are more keys than queries",
            lambda n_q, n_k: _tril(n_q, n_k, n_q - n_k)),
    Mistake("all", "every entry is True: a decoder's query must not see later keys",
            lambda n_q, n_k: np.ones((n_q, n_k), dtype=bool)),
    Mistake("transposed", "rows are queries and columns are keys: the mask has shape (n_queries, n_keys)",
            lambda n_q, n_k: _tril(n_k, n_q, n_q - n_k)),
)


def _mask_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("4 tokens attending to themselves (square)", (4, 4)),
        Case("2 new tokens at the end of a 5-token context", (2, 5)),
        Case("1 new token, 6 keys in the cache: it sees them all", (1, 6)),
    ]
    if not hidden:
        return cases
    return cases + [
        Case("a single token", (1, 1)),
        Case("more queries than keys: the first rows see nothing", (5, 2)),
        Case("3 queries, 7 keys", (3, 7)),
        Case("a long square context", (32, 32), show_inputs=False),
        Case("9 queries, 40 keys", (9, 40)),
        Case("NumPy integers", (np.int64(3), np.int64(5))),
    ]


def _mask_edges(rng) -> list[Case]:
    n = int(rng.integers(2, 40))
    return [
        Case(f"one query against {n} keys", (1, n)),
        Case(f"{n} queries, one key", (n, 1)),
        Case(f"{n} queries, {n} keys", (n, n), show_inputs=False),
        Case(f"{n + 3} queries, {n} keys: the first 3 see nothing", (n + 3, n), show_inputs=False),
    ]


# -- 5.2: attention with a mask -----------------------------------------------------------


# The precision the tasks promise: float64 answers agree with the reference to ~1e-15,
# and a float32 implementation (about 7 significant digits, a few roundings per output)
# passes too, since no task asks for float64. Every catalogued mistake is off by far more.
_RTOL, _ATOL = 2e-5, 1e-6


def _f64(*arrays):
    """Inputs as float64: the reference answers in full precision whatever the learner got."""
    return tuple(None if a is None else np.asarray(a, dtype=np.float64) for a in arrays)


def _attention(q, k, v, mask=None):
    return _sdpa(*_f64(q, k, v), mask=mask)


def _weights(scores, mask=None, fill=-np.inf, nan_rows=False, axis=-1, stable=True, top_of=None):
    s = np.asarray(scores, float)
    if mask is not None:
        s = np.where(mask, s, fill)
    top = s.max(axis=axis, keepdims=True) if stable else np.zeros(s.shape[:-1] + (1,))
    if top_of == "table":  # one maximum for the whole table
        top = np.full_like(top, np.max(s[np.isfinite(s)], initial=0.0))
    elif top_of == "every key":  # each row's maximum taken before the mask
        top = np.asarray(scores, float).max(axis=axis, keepdims=True)
    if not nan_rows:
        top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(s - top)
    total = e.sum(axis=axis, keepdims=True)
    if not nan_rows:
        total = np.where(total == 0, 1.0, total)
    return e / total


def _scores(q, k, divide=None):
    q, k = np.asarray(q, float), np.asarray(k, float)
    return q @ k.T / (math.sqrt(q.shape[-1]) if divide is None else divide(q.shape[-1]))


_ATTENTION_MISTAKES = (
    Mistake("unscaled", "the scores were not divided by sqrt(d) (d = q.shape[-1])",
            lambda q, k, v, mask=None: _weights(_scores(q, k, lambda d: 1.0), mask) @ np.asarray(v, float)),
    Mistake("by d", "you divided the scores by d; divide by sqrt(d)",
            lambda q, k, v, mask=None: _weights(_scores(q, k, lambda d: d), mask) @ np.asarray(v, float)),
    Mistake("columns", "the softmax ran down the columns (axis=0): each query's row of scores must sum to 1 "
            "(axis=-1)", lambda q, k, v, mask=None: _weights(_scores(q, k), mask, axis=0) @ np.asarray(v, float)),
    Mistake("raw scores", "raw scores are not attention weights: take the softmax of each row before mixing the values",
            lambda q, k, v, mask=None: np.where(mask, _scores(q, k), 0.0) @ np.asarray(v, float) if mask is not None
            else _scores(q, k) @ np.asarray(v, float)),
    Mistake("nan rows", "a query whose keys are all masked gives softmax of all -inf = 0/0 = nan. Give such rows an "
            "all-zero output, as PyTorch does: where a row's maximum is -inf use 0 instead, and where a row's sum "
            "is 0 divide by 1", lambda q, k, v, mask=None: _weights(_scores(q, k), mask, nan_rows=True) @ np.asarray(v, float)),
    Mistake("finite fill", "a fully masked row must give zeros, but filling masked scores with a large negative number "
            "(-1e9) makes it an average of ALL the values. Use -inf and treat a row with no key as zero output",
            lambda q, k, v, mask=None: _weights(_scores(q, k), mask, fill=-1e9) @ np.asarray(v, float)),
    Mistake("inverted", "the mask is used the wrong way round: True means 'this key takes part' here",
            lambda q, k, v, mask=None: _weights(_scores(q, k), None if mask is None else ~np.asarray(mask, bool))
            @ np.asarray(v, float)),
    Mistake("zeroed scores", "setting a masked score to 0 does not remove it: exp(0) still gives it weight. Set masked "
            "scores to -inf (their weight becomes exactly 0)",
            lambda q, k, v, mask=None: _weights(_scores(q, k) * (1 if mask is None else np.asarray(mask, float)))
            @ np.asarray(v, float)),
    Mistake("masked after softmax", "you removed the masked weights after the softmax without renormalising: each row "
            "must still sum to 1 over the keys that take part",
            lambda q, k, v, mask=None: (_weights(_scores(q, k)) * (1 if mask is None else np.asarray(mask, float)))
            @ np.asarray(v, float)),
    Mistake("overflow", "exp() of large scores overflows to inf, and inf/inf = nan: subtract each row's largest "
                        "score before exp (the weights do not change), as in assignment 4",
            lambda q, k, v, mask=None: _weights(_scores(q, k), mask, stable=False) @ np.asarray(v, float)),
    Mistake("weights", "you returned the attention weights; multiply them by v to get each query's output",
            lambda q, k, v, mask=None: _weights(_scores(q, k), mask)),
    Mistake("table maximum", "you subtracted the largest score of the whole table: a query whose scores are all far "
            "below another query's (by more than about 745) gets exp() = 0 everywhere and a row of 0/0. Subtract "
            "each row's own maximum (axis=-1, keepdims=True)",
            lambda q, k, v, mask=None: _weights(_scores(q, k), mask, top_of="table") @ np.asarray(v, float)),
    Mistake("maximum before the mask", "you took each row's maximum over every key, masked ones included: when the "
            "keys a query may see score far below the masked ones, every exp() underflows to 0. Mask first (-inf), "
            "then subtract the maximum of what is left",
            lambda q, k, v, mask=None: _weights(_scores(q, k), mask, top_of="every key") @ np.asarray(v, float)),
)


def _attention_edges(rng) -> list[Case]:
    T_q, T_k, d, d_v = (int(n) for n in rng.integers(2, 9, size=4))
    q, k, v = rng.normal(size=(T_q, d)), rng.normal(size=(T_k, d)), rng.normal(size=(T_k, d_v))
    mask = rng.random((T_q, T_k)) < 0.5
    mask[int(rng.integers(T_q))] = False  # one row with no key at all
    return [
        Case("one query (T_q = 1) with a causal mask", (q[:1], k, v), {"mask": _causal_mask(1, T_k)}, show_inputs=False),
        Case("one key", (q, k[:1], v[:1]), show_inputs=False),
        # self-attention's shape without a mask: no key is hidden (mask=None is not causal)
        Case("as many queries as keys and no mask: every query sees every key", (q[:2], k[:2], v[:2]),
             show_inputs=False),
        Case("equal scores: a tie among every key", (np.zeros((T_q, d)), k, v), show_inputs=False),
        Case("a fully masked row among others", (q, k, v), {"mask": mask}, show_inputs=False),
        Case("scores of 1e5 beside a fully masked row", (q * 300, k * 300, v), {"mask": mask}, show_inputs=False),
        Case("float32 with a fully masked row", (q.astype(np.float32), k.astype(np.float32), v.astype(np.float32)),
             {"mask": mask}, show_inputs=False),
        Case("int arrays", (rng.integers(-3, 4, size=(T_q, d)), rng.integers(-3, 4, size=(T_k, d)),
                            rng.integers(-3, 4, size=(T_k, d_v))), show_inputs=False),
        *_far_apart(rng, T_q, T_k, d, v),
    ]


def _far_apart(rng, T_q, T_k, d, v) -> list[Case]:
    """Scores more than 745 apart by construction, where a maximum taken too widely underflows.

    One key lies far out along axis 0 (60 there, 0 elsewhere) and only it has a component
    there, so a query with 50 on axis 0 scores about 3000 / sqrt(d) >= 1000 against it and
    a few against the others. Two classes of softmax then fail whatever the seed: one
    maximum for the whole table (the other rows underflow), and each row's maximum taken
    before the mask (the far key masked out, the kept keys underflow).
    """
    far = int(rng.integers(T_k))
    k = rng.normal(size=(T_k, d))
    k[:, 0] = 0.0
    k[far] = 0.0
    k[far, 0] = 60.0
    q = rng.normal(size=(T_q, d))
    q[:, 0] = 0.0
    q[0, 0] = 50.0  # only the first query sees the far key's score
    hidden_far = np.ones((T_q, T_k), dtype=bool)
    hidden_far[:, far] = False  # every query may see every key but the far one
    q_all = q.copy()
    q_all[:, 0] = 50.0
    return [
        Case("one query's scores thousands above the others'", (q, k, v), show_inputs=False),
        Case("each query's largest score masked, the rest thousands below it", (q_all, k, v), {"mask": hidden_far},
             show_inputs=False),
    ]


def _attention_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(502)
    q3, k3, v3 = (np.round(rng.normal(size=(3, 2)), 2) for _ in range(3))
    none_for_second = np.array([[True, True, False], [False, False, False], [True, True, True]])
    cases = [
        Case("one query, two keys", ([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0], [20.0]])),
        Case("three tokens with a causal mask", (q3, k3, v3), {"mask": np.tril(np.ones((3, 3), dtype=bool))},
             show_inputs=False),
        Case("a query whose keys are all masked must get zeros", (q3, k3, v3), {"mask": none_for_second},
             show_inputs=False),
        Case("scores in the thousands (the softmax must not overflow)",
             ([[30.0, 40.0]], [[30.0, 40.0], [-40.0, 30.0]], [[1.0, 0.0], [0.0, 1.0]])),
    ]
    if not hidden:
        return cases
    q, k, v = rng.normal(size=(5, 8)), rng.normal(size=(7, 8)), rng.normal(size=(7, 3))
    random_mask = rng.random((5, 7)) < 0.5
    random_mask[[1, 3]] = False
    return cases + [
        Case("random: 5 queries, 7 keys, d = 8, d_v = 3", (q, k, v), show_inputs=False),
        Case("random, mask=None given explicitly", (q, k, v), {"mask": None}, show_inputs=False),
        Case("a causal mask for 3 new tokens at the end of 7", (q[:3], k, v), {"mask": _causal_mask(3, 7)},
             show_inputs=False),
        Case("a random mask with two fully masked rows", (q, k, v), {"mask": random_mask}, show_inputs=False),
        Case("a single key", (q, k[:1], v[:1]), show_inputs=False),
        Case("d = 1", (q[:, :1], k[:, :1], v), show_inputs=False),
        Case("every key masked for every query", (q, k, v), {"mask": np.zeros((5, 7), dtype=bool)},
             show_inputs=False),
    ]


# -- 5.3 and 5.4: split and merge heads ----------------------------------------------------


def _heads(x, n_heads):
    x = np.asarray(x, float)
    T, d_model = x.shape
    return x, T, d_model // n_heads


_SPLIT_MISTAKES = (
    Mistake("reshape only", "a plain reshape to (n_heads, T, d_head) mixes tokens into the wrong heads: reshape to "
            "(T, n_heads, d_head) first, then swap the first two axes (x.transpose(1, 0, 2))",
            lambda x, n_heads: (lambda x, T, dh: x.reshape(n_heads, T, dh))(*_heads(x, n_heads))),
    Mistake("strided", "each head must get consecutive components (head 0: the first d_head of them), not every "
            "n_heads-th one: reshape to (T, n_heads, d_head), not (T, d_head, n_heads)",
            lambda x, n_heads: (lambda x, T, dh: x.reshape(T, dh, n_heads).transpose(2, 0, 1))(*_heads(x, n_heads))),
    Mistake("not transposed", "heads must come first, shape (n_heads, T, d_head), so each head's (T, d_head) block "
            "is one matrix: swap the first two axes",
            lambda x, n_heads: (lambda x, T, dh: x.reshape(T, n_heads, dh))(*_heads(x, n_heads))),
)

_DIVIDE_HINT = ("Check d_model % n_heads == 0 first and raise ValueError naming both, for example "
                "f'n_heads={n_heads} does not divide d_model={d_model}'.")


def _split_edges(rng) -> list[Case]:
    T, d_head, H = (int(n) for n in rng.integers(1, 6, size=3))
    x = rng.normal(size=(T, H * d_head))
    return [
        Case("one token", (x[:1], H), show_inputs=False),
        Case("as many heads as components (d_head = 1)", (x, H * d_head), show_inputs=False),
        Case("one head", (x, 1), show_inputs=False),
        Case("a Fortran-ordered array", (np.asfortranarray(x), H), show_inputs=False),
    ]


def _split_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("3 tokens, d_model = 4, 2 heads", (np.arange(12.0).reshape(3, 4), 2)),
        Case("3 tokens, d_model = 6, 3 heads", (np.arange(18.0).reshape(3, 6), 3)),
        Case("4 heads cannot share d_model = 10", (np.ones((3, 10)), 4), raises=ValueError, must_mention=("10", "4"),
             hint=_DIVIDE_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(503)
    return cases + [
        Case("one head: the same numbers, one more axis", (np.arange(6.0).reshape(2, 3), 1)),
        Case("d_head = 1: one component per head", (np.arange(12.0).reshape(3, 4), 4)),
        Case("a single token", (np.arange(8.0).reshape(1, 8), 2)),
        Case("random: 5 tokens, d_model = 12, 4 heads", (rng.normal(size=(5, 12)), 4), show_inputs=False),
        Case("random: 7 tokens, d_model = 12, 6 heads", (rng.normal(size=(7, 12)), 6), show_inputs=False),
        Case("a transposed view (not contiguous)", (rng.normal(size=(8, 5)).T, 4), show_inputs=False),
        Case("a NumPy integer n_heads", (np.arange(8.0).reshape(2, 4), np.int64(2))),
        Case("4 heads cannot share d_model = 6", (np.ones((2, 6)), 4), raises=ValueError, must_mention=("6", "4"),
             hint=_DIVIDE_HINT),
    ]


_MERGE_MISTAKES = (
    Mistake("reshape only", "a plain reshape to (T, n_heads * d_head) mixes tokens: bring the tokens first "
            "(x.transpose(1, 0, 2), shape (T, n_heads, d_head)), then reshape",
            lambda x: np.asarray(x, float).reshape(np.shape(x)[1], -1)),
    Mistake("interleaved", "one head's components must stay together, head after head: transpose to "
            "(T, n_heads, d_head), not (T, d_head, n_heads)",
            lambda x: np.asarray(x, float).transpose(1, 2, 0).reshape(np.shape(x)[1], -1)),
    Mistake("stacked", "you stacked the heads' rows on top of each other (shape (n_heads*T, d_head)); each token's "
            "pieces go side by side in one row: shape (T, n_heads*d_head)",
            lambda x: np.concatenate(list(np.asarray(x, float)), axis=0)),
    Mistake("added", "you added the heads together; merging puts their outputs side by side (concatenates them)",
            lambda x: np.asarray(x, float).sum(axis=0)),
    Mistake("not reshaped", "after the transpose, reshape to (T, n_heads * d_head): one row per token",
            lambda x: np.asarray(x, float).transpose(1, 0, 2)),
)


def _merge_edges(rng) -> list[Case]:
    H, T, d_head = (int(n) for n in rng.integers(1, 6, size=3))
    x = rng.normal(size=(H, T, d_head))
    return [
        Case("one token", (x[:, :1],), show_inputs=False),
        Case("d_head = 1", (x[..., :1],), show_inputs=False),
        Case("one head", (x[:1],), show_inputs=False),
        Case("heads taken from a transposed array (not contiguous)", (x.transpose(0, 2, 1).copy().transpose(0, 2, 1),),
             show_inputs=False),
    ]


def _merge_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("2 heads, 3 tokens, d_head = 2", (_split_heads(np.arange(12.0).reshape(3, 4), 2),)),
        Case("3 heads, 3 tokens, d_head = 2", (_split_heads(np.arange(18.0).reshape(3, 6), 3),)),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(504)
    return cases + [
        Case("one head", (np.arange(6.0).reshape(1, 2, 3),)),
        Case("d_head = 1", (np.arange(12.0).reshape(4, 3, 1),)),
        Case("a single token", (np.arange(8.0).reshape(4, 1, 2),)),
        Case("random: 4 heads, 5 tokens, d_head = 3", (rng.normal(size=(4, 5, 3)),), show_inputs=False),
        Case("random: 2 heads, 6 tokens, d_head = 5", (rng.normal(size=(2, 6, 5)),), show_inputs=False),
        Case("a strided view (not contiguous)", (rng.normal(size=(3, 8, 4))[:, ::2],), show_inputs=False),
    ]


# -- 5.5: tiled attention with an online softmax ---------------------------------------------


def _online(q, k, v, block_size=64, *, rescale_l=True, rescale_acc=True, scale=True, per_block=False, full_blocks=False,
            m0=-np.inf):
    """Tiled attention as written, or with one of the classic mistakes switched on."""
    q, k, v = (np.asarray(a, float) for a in (q, k, v))
    if scale:
        q = q / math.sqrt(q.shape[-1])
    T_k = k.shape[0]
    stop = (T_k // block_size) * block_size if full_blocks else T_k
    m = np.full((q.shape[0], 1), m0)
    l = np.zeros((q.shape[0], 1))
    acc = np.zeros((q.shape[0], v.shape[1]))
    outs = []
    for j in range(0, stop, block_size):
        s = q @ k[j:j + block_size].T
        if per_block:
            w = np.exp(s - s.max(axis=1, keepdims=True))
            outs.append(w / w.sum(axis=1, keepdims=True) @ v[j:j + block_size])
            continue
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p = np.exp(s - m_new)
        r = np.exp(m - m_new)
        l = (l * r if rescale_l else l) + p.sum(axis=1, keepdims=True)
        acc = (acc * r if rescale_acc else acc) + p @ v[j:j + block_size]
        m = m_new
    if per_block:
        return np.mean(outs, axis=0)
    return acc / l


_TILED_MISTAKES = (
    Mistake("no rescale", "when a block raises a query's running maximum from m to m', the sums kept so far were "
            "computed relative to m: multiply both the running sum l and the accumulator by exp(m - m') before "
            "adding the new block",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, rescale_l=False, rescale_acc=False)),
    Mistake("rescale l only", "you rescaled the running sum l by exp(m - m') but not the accumulator of weighted "
            "values: both were computed relative to the old maximum",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, rescale_acc=False)),
    Mistake("rescale acc only", "you rescaled the accumulator by exp(m - m') but not the running sum l: both were "
            "computed relative to the old maximum",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, rescale_l=False)),
    Mistake("per block", "you took a separate softmax inside each block and averaged the blocks' outputs: the "
            "weights must be normalised over ALL keys, which is what the running max and sum are for",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, per_block=True)),
    Mistake("unscaled", "the scores were not divided by sqrt(d) (d = q.shape[-1])",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, scale=False)),
    Mistake("max from 0", "the running maximum must start at -inf, not 0: a query whose scores are all far below 0 "
                          "(below about -745) makes every exp(s - 0) underflow to 0, and its row ends as 0/0 = nan",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, m0=0.0)),
    Mistake("last block", "the keys of the last, shorter block are missing: when block_size does not divide the "
            "number of keys the last block is shorter, so loop with range(0, T_k, block_size)",
            lambda q, k, v, block_size=64: _online(q, k, v, block_size, full_blocks=True)),
)


def _tiled_edges(rng) -> list[Case]:
    T_q, T_k, d, d_v = (int(n) for n in rng.integers(2, 12, size=4))
    q, k, v = rng.normal(size=(T_q, d)), rng.normal(size=(T_k, d)), rng.normal(size=(T_k, d_v))
    b = int(rng.integers(1, T_k + 1))
    return [
        Case("one query (T_q = 1)", (q[:1], k, v), {"block_size": b}, show_inputs=False),
        Case("one key", (q, k[:1], v[:1]), {"block_size": b}, show_inputs=False),
        Case("block_size equal to the number of keys", (q, k, v), {"block_size": T_k}, show_inputs=False),
        Case("block_size larger than the number of keys", (q, k, v), {"block_size": T_k + 5}, show_inputs=False),
        Case("equal scores everywhere (ties)", (np.zeros((T_q, d)), k, v), {"block_size": b}, show_inputs=False),
        Case("scores of 1e5 rising block after block", (q * 300, np.sort(k, axis=0) * 300, v), {"block_size": b},
             show_inputs=False),
        Case("scores of 1e5 falling block after block", (q * 300, np.sort(k, axis=0)[::-1] * 300, v),
             {"block_size": b}, show_inputs=False),
        Case("every score far below 0 (below -1000)", (-np.abs(q) * 300 - 1, np.abs(k) * 300 + 1, v),
             {"block_size": b}, show_inputs=False),
        Case("int arrays", (rng.integers(-3, 4, size=(T_q, d)), rng.integers(-3, 4, size=(T_k, d)),
                            rng.integers(-3, 4, size=(T_k, d_v))), {"block_size": b}, show_inputs=False),
    ]


def _tiled_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(505)
    q, k, v = rng.normal(size=(10, 4)), rng.normal(size=(10, 4)), rng.normal(size=(10, 3))
    rising_k = np.arange(12.0)[:, None] * np.ones((1, 2))  # every block's scores beat the last one's
    cases = [
        Case("10 tokens in blocks of 4 (the last block is shorter)", (q, k, v), {"block_size": 4}, show_inputs=False),
        Case("one block bigger than everything", (q, k, v), {"block_size": 64}, show_inputs=False),
        Case("scores that rise block after block (the running max must move)",
             (np.full((2, 2), 2.0), rising_k, np.arange(12.0)[:, None]), {"block_size": 3}, show_inputs=False),
        Case("every score below -1000 (the running max must start at -inf)",
             (np.full((2, 2), -600.0), rising_k + 1, np.arange(12.0)[:, None]), {"block_size": 5}, show_inputs=False),
    ]
    if not hidden:
        return cases
    big_q, big_k, big_v = rng.normal(size=(40, 16)), rng.normal(size=(100, 16)), rng.normal(size=(100, 5))
    return cases + [
        Case("blocks of 1 key", (q, k, v), {"block_size": 1}, show_inputs=False),
        Case("7 queries, 13 keys, blocks of 5", (q[:7], rng.normal(size=(13, 4)), rng.normal(size=(13, 3))),
             {"block_size": 5}, show_inputs=False),
        Case("scores in the thousands", (q * 60, k * 60, v), {"block_size": 3}, show_inputs=False),
        Case("scores that fall block after block", (np.full((2, 2), 2.0), rising_k[::-1], np.arange(12.0)[:, None]),
             {"block_size": 5}, show_inputs=False),
        Case("random: 40 queries, 100 keys, d = 16, blocks of 32", (big_q, big_k, big_v), {"block_size": 32},
             show_inputs=False),
    ]


#: The mistake the memory check names (the instructor's report counts it by name); it is
#: judged by the memory measured, not by the answer, so it predicts nothing.
HOLDS_THE_TABLE = Mistake(
    "scores against every key held", "Never build a row of scores against all keys: keep a running max, sum and "
    "weighted sum per query, and update them one block of keys at a time", lambda *args, **kwargs: np.nan)

# The memory case: 256 queries and 4,096 keys, d = 8. The score table alone would be
# 256 x 4,096 float64 = 8 MiB; one 64 x 64 tile is 32 KiB. Allow an eighth of the table.
_MEMORY_SHAPE = (256, 4096, 8)
_MEMORY_BLOCK = 64


def _memory_case() -> tuple[tuple, dict]:
    T_q, T_k, d = _MEMORY_SHAPE
    rng = np.random.default_rng(506)
    q, k, v = rng.normal(size=(T_q, d)), rng.normal(size=(T_k, d)), rng.normal(size=(T_k, d))
    return (q, k, v), {"block_size": _MEMORY_BLOCK}


def _check_memory(fn) -> None:
    """Fail a tiled_attention that holds anything like the whole score table.

    The peak is measured where the learner's function runs (:mod:`dotlab.checks._measure`):
    in this process in a notebook or in pytest, in the sandbox's worker when graded, so
    the verdict is the same in all three. The answer to the memory case must be right too.

    A known limit: plain attention computed one query at a time (a row of T_k scores, then
    the next) holds far less than the table and passes, although the text asks never to
    hold a row against all keys. Peak memory cannot tell that row (T_k numbers) from a
    copy of the keys (T_k x d numbers, which a right answer may well make): catching it
    needs a look at the arrays the call builds, not at the peak.
    """
    T_q, T_k, _ = _MEMORY_SHAPE
    args, kwargs = _memory_case()
    label = f"{T_q} queries, {T_k} keys, blocks of {_MEMORY_BLOCK}"
    value, peak = peak_memory(fn, args, kwargs, fn_name="tiled_attention", label=label)
    table = T_q * T_k * 8
    if peak > table / 8:
        raise CheckFailure(
            f"tiled_attention(q, k, v, block_size={_MEMORY_BLOCK}) with {T_q} queries and {T_k} keys held "
            f"{peak / 2**20:.1f} MiB at its peak; the whole {T_q} x {T_k} score table is {table / 2**20:.0f} MiB, and "
            f"one {_MEMORY_BLOCK} x {_MEMORY_BLOCK} tile {_MEMORY_BLOCK**2 * 8 / 2**10:.0f} KiB. {HOLDS_THE_TABLE.hint}",
            mistake=HOLDS_THE_TABLE.name, hint=HOLDS_THE_TABLE.hint, case=label)
    want = _sdpa(*args)
    got = as_numbers(value, "tiled_attention")
    if got.shape != want.shape or not np.allclose(got, want, rtol=_RTOL, atol=_ATOL):
        raise CheckFailure(f"tiled_attention(...) on {label} returned a different answer from plain attention "
                           f"(shape {got.shape}, expected {want.shape}) while its memory was measured",
                           mistake="(a different answer while measured)", case=label)


def _tiled_reference(q, k, v, block_size=64):
    return _sdpa(*_f64(q, k, v))


# -- the tasks ------------------------------------------------------------------------------

class _NumericArray(ArrayOf):
    """A NumPy array of numbers: a reshape keeps the dtype it was given, ints included."""

    def describe(self):
        return "a NumPy array (use np.asarray, and .numpy() on a tensor)"


_BY_HAND = ("write it by hand with NumPy (or PyTorch tensors): no library attention or softmax, and nothing "
            "from dotlab")
# Attention written out: any NumPy or PyTorch routine but a whole attention or softmax;
# @ and .dot, .matmul are the dot products the task is made of.
_ATTENTION_ALLOWED = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!torch.nn.*", "!torch.softmax", "!torch.special.*",
                                                                 "!torch.log_softmax", ".dot", ".matmul", ".mm",
                                                                 ".bmm"},
                           matmul=True, methods=None, says=_BY_HAND)
_ANY_NUMPY = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, matmul=True, methods=None,
                   says="NumPy or PyTorch, but nothing from dotlab")
# Tiled attention is graded on the memory it holds, which the check measures for NumPy's
# arrays (tracemalloc sees them; PyTorch's CPU tensors it does not): NumPy only, so a full
# score table built as a tensor cannot slip past the measurement.
_TILED_ALLOWED = allow(PYTHON, MATH, STDLIB, NUMPY, {".dot", ".matmul"}, matmul=True, methods=None,
                       says="write it with NumPy arrays (the check measures the memory NumPy allocates; it cannot "
                            "see PyTorch's): no PyTorch, no library attention or softmax, nothing from dotlab")
_FLOATS = ArrayOf("f")
_VARIANTS = ("int", "float32", "strided")
# float32 gives about 7 significant digits, rounded through two products and a softmax
_F32 = dict(rtol=_RTOL, atol=_ATOL, float32_rtol=2e-4, float32_atol=2e-5)

# split and merge only move numbers: exact, but for the rounding of a float32 copy
_MOVED = dict(rtol=1e-7, atol=0.0, float32_rtol=1e-7, float32_atol=0.0)

CAUSAL_MASK = Task(
    "5.1", "causal_mask", reference=_causal_mask, cases=_mask_cases, mistakes=_MASK_MISTAKES,
    returns=ArrayOf("b"), allowed=_ANY_NUMPY, forbidden=NO_DELEGATION, edges=_mask_edges,
    doc="the boolean causal mask, aligned at the bottom right.",
)
ATTENTION = Task(
    "5.2", "attention", reference=_attention, cases=_attention_cases, mistakes=_ATTENTION_MISTAKES,
    returns=_FLOATS, allowed=_ATTENTION_ALLOWED, forbidden=NO_DELEGATION, edges=_attention_edges,
    variants=_VARIANTS, array_params_=("q", "k", "v"), **_F32,
    doc="scaled dot-product attention with a boolean mask (True = takes part).",
)
SPLIT_HEADS = Task(
    "5.3", "split_heads", reference=_split_heads, cases=_split_cases, mistakes=_SPLIT_MISTAKES,
    returns=_NumericArray("fiu"), allowed=_ANY_NUMPY, forbidden=NO_DELEGATION, edges=_split_edges,
    variants=_VARIANTS, array_params_=("x",), params_=("x", "n_heads"), **_MOVED,
    doc="(T, d_model) to (n_heads, T, d_head).",
)
MERGE_HEADS = Task(
    "5.4", "merge_heads", reference=_merge_heads, cases=_merge_cases, mistakes=_MERGE_MISTAKES,
    returns=_NumericArray("fiu"), allowed=_ANY_NUMPY, forbidden=NO_DELEGATION, edges=_merge_edges,
    variants=_VARIANTS, array_params_=("x",), params_=("x",), **_MOVED,
    doc="(n_heads, T, d_head) back to (T, n_heads * d_head).",
)


def _memory_after(fn, hidden: bool) -> int:
    _check_memory(fn)
    return 1


TILED_ATTENTION = Task(
    "5.5", "tiled_attention", reference=_tiled_reference, cases=_tiled_cases, mistakes=_TILED_MISTAKES,
    returns=_FLOATS, allowed=_TILED_ALLOWED, forbidden=NO_DELEGATION, edges=_tiled_edges,
    variants=_VARIANTS, array_params_=("q", "k", "v"), after=_memory_after, **_F32,
    doc="attention over blocks of keys with an online softmax, equal to plain attention, in little memory.",
)

TASKS = {task.id: task for task in (CAUSAL_MASK, ATTENTION, SPLIT_HEADS, MERGE_HEADS, TILED_ATTENTION)}
CHECKS = tasks_table(*TASKS.values())
check_causal_mask, check_attention, check_split_heads, check_merge_heads, check_tiled_attention = CHECKS.values()
