"""Wrong versions of chapter 5's functions (tasks 5.1 to 5.5).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

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


@WRONG.add("causal_mask", expect="called dotlab.causal_mask")
def causal_mask(n_queries, n_keys):
    import dotlab

    return dotlab.causal_mask(n_queries, n_keys)


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


@WRONG.add("attention", expect="all-zero output, as PyTorch does")
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


@WRONG.add("attention", expect="called torch.nn.functional.scaled_dot_product_attention")
def attention(q, k, v, mask=None):
    import torch
    import torch.nn.functional as F

    t = [torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v)]
    m = None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool))
    return F.scaled_dot_product_attention(*t, attn_mask=m).numpy()


@WRONG.add("attention", expect="dotlab.scaled_dot_product_attention")
def attention(q, k, v, mask=None, reference=__import__("dotlab").scaled_dot_product_attention):
    return reference(q, k, v, mask=mask)  # bound before the check runs, out of the tripwire's reach


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


@WRONG.add("merge_heads", expect="called dotlab.attention.merge_heads")
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


@WRONG.add("tiled_attention", expect="called dotlab.tiled.tiled_attention")
def tiled_attention(q, k, v, block_size=64):
    from dotlab.tiled import tiled_attention as reference

    return reference(q, k, v, block_size=block_size)


@WRONG.add("tiled_attention", expect="called torch.nn.functional.scaled_dot_product_attention")
def tiled_attention(q, k, v, block_size=64):
    import torch

    out = torch.nn.functional.scaled_dot_product_attention(*(torch.as_tensor(np.asarray(a, float)) for a in (q, k, v)))
    return out.numpy()


@WRONG.add("tiled_attention", expect="must start at -inf, not 0", hidden_only=True)
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


@WRONG.add("tiled_attention", expect="score table is 8 MiB")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / math.sqrt(q.shape[-1])  # the whole table: right numbers, no tiling
    w = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v


@WRONG.add("tiled_attention", expect="score table is 8 MiB")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    out = []
    for i in range(0, len(q), block_size):  # blocks of queries, but each against every key at once
        s = q[i:i + block_size] @ k.T / math.sqrt(q.shape[-1])
        w = np.exp(s - s.max(axis=1, keepdims=True))
        out.append((w / w.sum(axis=1, keepdims=True)) @ v)
    return np.concatenate(out)


@WRONG.add("tiled_attention", expect="score table is 8 MiB")
def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / math.sqrt(q.shape[-1])
    blocks = [q @ k[j:j + block_size].T for j in range(0, len(k), block_size)]  # every tile kept
    s = np.concatenate(blocks, axis=1)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v
