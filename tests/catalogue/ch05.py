"""Learners' versions of chapter 5's functions (tasks 5.1 to 5.5): wrong ones, then right ones.

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it (``math`` and ``np`` are
imported there). The right ones are written the unusual ways learners write them:
PyTorch, einsum, loops, lists, float32.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 5.1 causal_mask -----------------------------------------------------------------------


@WRONG.add("causal_mask", expect="aligned at the top left")
def causal_mask(n_queries, n_keys):
    return np.tril(np.ones((n_queries, n_keys), dtype=bool))


@WRONG.add("causal_mask", expect="may attend to itself")
def causal_mask(n_queries, n_keys):
    offset = n_keys - n_queries
    return np.arange(n_keys)[None, :] < np.arange(n_queries)[:, None] + offset


@WRONG.add("causal_mask", expect="never after")
def causal_mask(n_queries, n_keys):
    return np.triu(np.ones((n_queries, n_keys), dtype=bool), k=n_keys - n_queries)


@WRONG.add("causal_mask", expect="True and False are swapped")
def causal_mask(n_queries, n_keys):
    allowed = np.tril(np.ones((n_queries, n_keys), dtype=bool), k=n_keys - n_queries)
    return ~allowed  # True where the key is blocked, as torch.nn.MultiheadAttention wants


@WRONG.add("causal_mask", expect="the shift has the wrong sign")
def causal_mask(n_queries, n_keys):
    return np.tril(np.ones((n_queries, n_keys), dtype=bool), k=n_queries - n_keys)


@WRONG.add("causal_mask", expect="dotlab.causal_mask", kind="allowlist")
def causal_mask(n_queries, n_keys):
    from dotlab import causal_mask as the_course_s

    return the_course_s(n_queries, n_keys)


@WRONG.add("causal_mask", expect="rows are queries and columns are keys")
def causal_mask(n_queries, n_keys):
    return np.tril(np.ones((n_keys, n_queries), dtype=bool), k=n_queries - n_keys)


# -- 5.2 attention -------------------------------------------------------------------------


@WRONG.add("attention", expect="not divided by sqrt(d)")
def attention(q, k, v, mask=None):
    scores = np.asarray(q, float) @ np.asarray(k, float).T
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total) @ np.asarray(v, float)


@WRONG.add("attention", expect="all-zero output, as PyTorch does", mentioned=True)
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


@WRONG.add("attention", expect="makes it an average of ALL the values")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)  # "minus infinity, but safe"
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


@WRONG.add("attention", expect="ran down the columns")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=0, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    total = e.sum(axis=0, keepdims=True)
    return e / np.where(total == 0, 1.0, total) @ v


@WRONG.add("attention", expect="exp(0) still gives it weight")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores * mask  # masked scores become 0
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


@WRONG.add("attention", expect="returned the attention weights")
def attention(q, k, v, mask=None):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total)


@WRONG.add("attention", expect="torch.nn.functional", kind="allowlist")
def attention(q, k, v, mask=None):
    import torch
    import torch.nn.functional as F

    t = [torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v)]
    m = None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool))
    return F.scaled_dot_product_attention(*t, attn_mask=m).numpy()


@WRONG.add("attention", expect="__import__", kind="allowlist")
def attention(q, k, v, mask=None, reference=__import__("dotlab").scaled_dot_product_attention):
    return reference(q, k, v, mask=mask)  # bound before the check runs, out of the tripwire's reach


@WRONG.add("attention", expect="the largest score of the whole table", kind="edge", hidden_only=True)
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max()  # one maximum for the whole table: every row far below it underflows
    e = np.exp(scores - (top if np.isfinite(top) else 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total) @ v


# -- 5.3 split_heads -----------------------------------------------------------------------


@WRONG.add("split_heads", expect="mixes tokens into the wrong heads")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return x.reshape(n_heads, T, d_model // n_heads)


@WRONG.add("split_heads", expect="consecutive components")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return x.reshape(T, d_model // n_heads, n_heads).transpose(2, 0, 1)


@WRONG.add("split_heads", expect="heads must come first")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return x.reshape(T, n_heads, d_model // n_heads)


@WRONG.add("split_heads", expect="should raise ValueError")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    d_head = d_model // n_heads  # 10 // 4 = 2: two components quietly dropped
    return x[:, : n_heads * d_head].reshape(T, n_heads, d_head).transpose(1, 0, 2)


@WRONG.add("split_heads", expect="does not mention 10")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    return x.reshape(T, n_heads, -1).transpose(1, 0, 2)  # numpy's own error for a bad n_heads


# -- 5.4 merge_heads -----------------------------------------------------------------------


@WRONG.add("merge_heads", expect="a plain reshape to (T, n_heads * d_head) mixes tokens")
def merge_heads(x):
    x = np.asarray(x, dtype=float)
    n_heads, T, d_head = x.shape
    return x.reshape(T, n_heads * d_head)


@WRONG.add("merge_heads", expect="one head's components must stay together")
def merge_heads(x):
    x = np.asarray(x, dtype=float)
    n_heads, T, d_head = x.shape
    return x.transpose(1, 2, 0).reshape(T, n_heads * d_head)


@WRONG.add("merge_heads", expect="stacked the heads' rows")
def merge_heads(x):
    return np.concatenate([head for head in np.asarray(x, dtype=float)], axis=0)


@WRONG.add("merge_heads", expect="added the heads together")
def merge_heads(x):
    return np.asarray(x, dtype=float).sum(axis=0)


@WRONG.add("merge_heads", expect="reshape to (T, n_heads * d_head): one row per token")
def merge_heads(x):
    return np.asarray(x, dtype=float).transpose(1, 0, 2)


@WRONG.add("merge_heads", expect="dotlab.attention", kind="allowlist")
def merge_heads(x):
    import dotlab.attention

    return dotlab.attention.merge_heads(x)


# -- 5.5 tiled_attention -------------------------------------------------------------------


@WRONG.add("tiled_attention", expect="multiply both the running sum l and the accumulator")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    m = np.full((len(q), 1), -np.inf)
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m = np.maximum(m, s.max(axis=1, keepdims=True))
        p = np.exp(s - m)
        l = l + p.sum(axis=1, keepdims=True)
        acc = acc + p @ v[j:j + block_size]
    return acc / l


@WRONG.add("tiled_attention", expect="but not the accumulator")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    m = np.full((len(q), 1), -np.inf)
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p = np.exp(s - m_new)
        l = l * np.exp(m - m_new) + p.sum(axis=1, keepdims=True)
        acc = acc + p @ v[j:j + block_size]
        m = m_new
    return acc / l


@WRONG.add("tiled_attention", expect="separate softmax inside each block")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    outputs = []
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        w = np.exp(s - s.max(axis=1, keepdims=True))
        outputs.append(w / w.sum(axis=1, keepdims=True) @ v[j:j + block_size])
    return sum(outputs) / len(outputs)


@WRONG.add("tiled_attention", expect="the last, shorter block are missing")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    m = np.full((len(q), 1), -np.inf)
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for b in range(len(k) // block_size):
        keys, values = k[b * block_size:(b + 1) * block_size], v[b * block_size:(b + 1) * block_size]
        s = q @ keys.T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p, r = np.exp(s - m_new), np.exp(m - m_new)
        l = l * r + p.sum(axis=1, keepdims=True)
        acc = acc * r + p @ values
        m = m_new
    return acc / np.where(l == 0, 1.0, l)


@WRONG.add("tiled_attention", expect="not divided by sqrt(d)")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    m = np.full((len(q), 1), -np.inf)
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p, r = np.exp(s - m_new), np.exp(m - m_new)
        l = l * r + p.sum(axis=1, keepdims=True)
        acc = acc * r + p @ v[j:j + block_size]
        m = m_new
    return acc / l


@WRONG.add("tiled_attention", expect="dotlab.tiled.tiled_attention", kind="allowlist")
def tiled_attention(q, k, v, block_size=64):
    from dotlab.tiled import tiled_attention as reference

    return reference(q, k, v, block_size=block_size)


@WRONG.add("tiled_attention", expect="torch.nn.functional.scaled_dot_product_attention", kind="allowlist")
def tiled_attention(q, k, v, block_size=64):
    import torch

    out = torch.nn.functional.scaled_dot_product_attention(*(torch.as_tensor(np.asarray(a, float)) for a in (q, k, v)))
    return out.numpy()


@WRONG.add("tiled_attention", expect="must start at -inf, not 0", kind="edge", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    m = np.zeros((len(q), 1))  # "scores are around 0 anyway"
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p, r = np.exp(s - m_new), np.exp(m - m_new)
        l = l * r + p.sum(axis=1, keepdims=True)
        acc = acc * r + p @ v[j:j + block_size]
        m = m_new
    return acc / l


@WRONG.add("tiled_attention", expect="score table is 8 MiB", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])  # the whole table: right numbers, no tiling
    w = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v


@WRONG.add("tiled_attention", expect="score table is 8 MiB", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    out = []
    for i in range(0, len(q), block_size):  # blocks of queries, but each against every key at once
        s = q[i:i + block_size] @ k.T / math.sqrt(q.shape[-1])
        w = np.exp(s - s.max(axis=1, keepdims=True))
        out.append((w / w.sum(axis=1, keepdims=True)) @ v)
    return np.concatenate(out)


@WRONG.add("tiled_attention", expect="score table is 8 MiB", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    blocks = [q @ k[j:j + block_size].T for j in range(0, len(k), block_size)]  # every tile kept
    s = np.concatenate(blocks, axis=1)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v


# -- classes by design: contract, mutation, edges (5.1 to 5.5) --------------------------------


@WRONG.add("causal_mask", expect="the task asks for a NumPy array of booleans", kind="contract", mentioned=True)
def causal_mask(n_queries, n_keys):
    return np.tril(np.ones((n_queries, n_keys)), k=n_keys - n_queries)  # 1.0 and 0.0, not True and False


@WRONG.add("causal_mask", expect="the task asks for a NumPy array of booleans", kind="contract", mentioned=True)
def causal_mask(n_queries, n_keys):
    return [[j <= i + n_keys - n_queries for j in range(n_keys)] for i in range(n_queries)]  # a list


@WRONG.add("causal_mask", expect="should have shape (1, 6)", kind="edge")
def causal_mask(n_queries, n_keys):
    mask = np.tril(np.ones((n_queries, n_keys), dtype=bool), k=n_keys - n_queries)
    return mask.squeeze()  # one query: a 1-D row instead of a (1, n_keys) table


@WRONG.add("attention", expect="changed its input `q`", kind="mutation")
def attention(q, k, v, mask=None):
    q = np.asarray(q, dtype=float)  # the caller's own array, when it is one already
    q /= math.sqrt(q.shape[-1])  # so this scales the caller's queries in place
    k, v = np.asarray(k, dtype=float), np.asarray(v, dtype=float)
    scores = q @ k.T
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(top), 0.0, top))
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, 1.0, total)


@WRONG.add("attention", expect="the task asks for a NumPy array", kind="contract", mentioned=True)
def attention(q, k, v, mask=None):
    import torch

    q, k, v = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.as_tensor(np.asarray(mask)), float("-inf"))
    w = torch.exp(scores - torch.nan_to_num(scores.amax(-1, keepdim=True), neginf=0.0))
    total = w.sum(-1, keepdim=True)
    return w @ v / torch.where(total == 0, torch.ones_like(total), total)  # a tensor, not an array


@WRONG.add("attention", expect="should have shape (1, 1)", kind="edge")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = np.squeeze(q @ k.T) / math.sqrt(q.shape[-1])  # "(T_q, T_k) has no size-1 axes anyway"
    if mask is not None:
        scores = np.where(np.squeeze(mask), scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(top), 0.0, top))
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, 1.0, total)


@WRONG.add("attention", expect="scipy.special", kind="allowlist")
def attention(q, k, v, mask=None):
    import scipy.special

    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return np.nan_to_num(scipy.special.softmax(scores, axis=-1)) @ v


@WRONG.add("split_heads", expect="changed its input `x`", kind="mutation")
def split_heads(x, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    x.shape = (T, n_heads, d_model // n_heads)  # reshapes the caller's array itself
    return x.transpose(1, 0, 2)


@WRONG.add("split_heads", expect="the task asks for a NumPy array", kind="contract", mentioned=True)
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return np.split(x, n_heads, axis=1)  # a list of (T, d_head) blocks


@WRONG.add("merge_heads", expect="the task asks for a NumPy array", kind="contract", mentioned=True)
def merge_heads(x):
    return [np.concatenate([head[t] for head in x]) for t in range(np.shape(x)[1])]  # rows in a list


@WRONG.add("merge_heads", expect="imports dotlab.attention.split_heads", kind="allowlist")
def merge_heads(x):
    from dotlab.attention import split_heads  # noqa: F401 - to undo it

    x = np.asarray(x, dtype=float)
    return x.transpose(1, 0, 2).reshape(x.shape[1], -1)


@WRONG.add("tiled_attention", expect="changed its input `q`", kind="mutation")
def tiled_attention(q, k, v, block_size=64):
    q *= 1 / math.sqrt(q.shape[-1])  # in place
    m = np.full((len(q), 1), -np.inf)
    l = np.zeros((len(q), 1))
    acc = np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p, r = np.exp(s - m_new), np.exp(m - m_new)
        l = l * r + p.sum(axis=1, keepdims=True)
        acc = acc * r + p @ v[j:j + block_size]
        m = m_new
    return acc / l


@WRONG.add("tiled_attention", expect="torch.softmax", kind="allowlist")
def tiled_attention(q, k, v, block_size=64):
    import torch

    s = torch.as_tensor(np.asarray(q, float)) @ torch.as_tensor(np.asarray(k, float)).T / math.sqrt(np.shape(q)[1])
    return (torch.softmax(s, dim=-1) @ torch.as_tensor(np.asarray(v, float))).numpy()


@WRONG.add("attention", expect="dotlab.attention._masked_exp", kind="allowlist", mentioned=True)
def attention(q, k, v, mask=None):
    from dotlab.attention import _masked_exp  # private, still the course's own attention

    e, total = _masked_exp(np.asarray(q, float), np.asarray(k, float), mask, None)
    return (e @ np.asarray(v, float)) / np.where(total == 0, 1.0, total)


@WRONG.add("tiled_attention", expect="dotlab.tiled", kind="allowlist", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    import dotlab.tiled

    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    out = np.empty((len(q), v.shape[1]))
    dotlab.tiled._tiles(q / math.sqrt(q.shape[-1]), k.T, v, None, False, 0, block_size, out)
    return out


@WRONG.add("split_heads", expect="dotlab.checks.ch05", kind="allowlist")
def split_heads(x, n_heads):
    from dotlab.checks.ch05 import TASKS

    return TASKS["5.3"].reference(x, n_heads)


@WRONG.add("attention", expect="exp() of large scores overflows to inf", mentioned=True)
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    e = np.exp(q @ k.T / math.sqrt(q.shape[-1]))  # no maximum subtracted
    if mask is not None:
        e = np.where(mask, e, 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, 1.0, total)


# -- right answers, written unusually ----------------------------------------------------------


@RIGHT.add("causal_mask", how="an index comparison with broadcasting")
def causal_mask(n_queries, n_keys):
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    return np.arange(n_keys)[None, :] <= position


@RIGHT.add("causal_mask", how="loops into a bool array")
def causal_mask(n_queries, n_keys):
    mask = np.zeros((n_queries, n_keys), dtype=bool)
    for i in range(n_queries):
        for j in range(n_keys):
            mask[i, j] = j <= i + n_keys - n_queries
    return mask


@RIGHT.add("causal_mask", how="torch.tril, as a NumPy array")
def causal_mask(n_queries, n_keys):
    import torch

    return torch.ones(n_queries, n_keys, dtype=torch.bool).tril(diagonal=n_keys - n_queries).numpy()


@RIGHT.add("attention", how="NumPy, -inf and a guarded row")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, 1.0, total)


@RIGHT.add("attention", how="float32 throughout")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    scores = q @ k.T / np.float32(math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = np.where(mask, scores, np.float32(-np.inf))
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isneginf(top), np.float32(0), top))
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, np.float32(1), total)


@RIGHT.add("attention", how="torch tensors, returned as NumPy")
def attention(q, k, v, mask=None):
    import torch

    q, k, v = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.as_tensor(np.asarray(mask, dtype=bool)), float("-inf"))
    w = torch.exp(scores - torch.nan_to_num(scores.amax(-1, keepdim=True), neginf=0.0))
    total = w.sum(-1, keepdim=True)
    return (w @ v / torch.where(total == 0, torch.ones_like(total), total)).numpy()


@RIGHT.add("attention", how="einsum and a loop over queries")
def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = np.einsum("qd,kd->qk", q, k) / math.sqrt(q.shape[1])
    keep = np.ones(scores.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    out = np.zeros((len(q), v.shape[1]))
    for i in range(len(q)):
        if keep[i].any():
            row = scores[i][keep[i]]
            w = np.exp(row - row.max())
            out[i] = np.einsum("k,kd->d", w / w.sum(), v[keep[i]])
    return out


@RIGHT.add("split_heads", how="reshape and transpose")
def split_heads(x, n_heads):
    x = np.asarray(x)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return x.reshape(T, n_heads, d_model // n_heads).transpose(1, 0, 2)


@RIGHT.add("split_heads", how="slices stacked, in float32")
def split_heads(x, n_heads):
    x = np.asarray(x, dtype=np.float32)
    d_model = x.shape[1]
    if d_model % n_heads != 0:
        raise ValueError(f"d_model={d_model} cannot be cut into n_heads={n_heads} equal heads")
    d_head = d_model // n_heads
    return np.stack([x[:, h * d_head:(h + 1) * d_head] for h in range(n_heads)])


@RIGHT.add("split_heads", how="torch view and transpose")
def split_heads(x, n_heads):
    import torch

    t = torch.as_tensor(np.ascontiguousarray(x))
    T, d_model = t.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return t.view(T, n_heads, d_model // n_heads).transpose(0, 1).contiguous().numpy()


@RIGHT.add("merge_heads", how="transpose and reshape")
def merge_heads(x):
    x = np.asarray(x)
    n_heads, T, d_head = x.shape
    return x.transpose(1, 0, 2).reshape(T, n_heads * d_head)


@RIGHT.add("merge_heads", how="concatenate the heads side by side")
def merge_heads(x):
    return np.concatenate(list(np.asarray(x)), axis=1)


@RIGHT.add("merge_heads", how="einops-style loops")
def merge_heads(x):
    x = np.asarray(x)
    n_heads, T, d_head = x.shape
    out = np.zeros((T, n_heads * d_head), dtype=x.dtype)
    for h in range(n_heads):
        for t in range(T):
            out[t, h * d_head:(h + 1) * d_head] = x[h, t]
    return out


@RIGHT.add("tiled_attention", how="blocks of keys, every query at once")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / np.sqrt(q.shape[-1])
    m, l, acc = np.full((len(q), 1), -np.inf), np.zeros((len(q), 1)), np.zeros((len(q), v.shape[1]))
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = np.maximum(m, s.max(axis=1, keepdims=True))
        p, r = np.exp(s - m_new), np.exp(m - m_new)
        l, acc, m = l * r + p.sum(axis=1, keepdims=True), acc * r + p @ v[j:j + block_size], m_new
    return acc / l


@RIGHT.add("tiled_attention", how="blocks of queries and of keys, in float32")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    q = q / np.float32(math.sqrt(q.shape[-1]))
    out = np.empty((len(q), v.shape[1]), dtype=np.float32)
    for i in range(0, len(q), block_size):
        qb = q[i:i + block_size]
        m = np.full((len(qb), 1), -np.inf, dtype=np.float32)
        l = np.zeros((len(qb), 1), dtype=np.float32)
        acc = np.zeros((len(qb), v.shape[1]), dtype=np.float32)
        for j in range(0, len(k), block_size):
            s = qb @ k[j:j + block_size].T
            m_new = np.maximum(m, s.max(axis=1, keepdims=True))
            p, r = np.exp(s - m_new), np.exp(m - m_new)
            l = l * r + p.sum(axis=1, keepdims=True)
            acc = acc * r + p @ v[j:j + block_size]
            m = m_new
        out[i:i + block_size] = acc / l
    return out


# Right numbers, but in PyTorch, whose tensors the memory check cannot see: the task asks for NumPy.
@WRONG.add("tiled_attention", expect="write it with NumPy arrays", kind="allowlist", mentioned=True)
def tiled_attention(q, k, v, block_size=64):
    import torch

    q, k, v = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    m = torch.full((len(q), 1), -math.inf, dtype=q.dtype)
    l = torch.zeros((len(q), 1), dtype=q.dtype)
    acc = torch.zeros((len(q), v.shape[1]), dtype=q.dtype)
    for j in range(0, len(k), block_size):
        s = q @ k[j:j + block_size].T
        m_new = torch.maximum(m, s.amax(dim=1, keepdim=True))
        p, r = torch.exp(s - m_new), torch.exp(m - m_new)
        l = l * r + p.sum(dim=1, keepdim=True)
        acc = acc * r + p @ v[j:j + block_size]
        m = m_new
    return (acc / l).numpy()
