"""Learners' versions of chapter 9's functions (tasks 9.1 to 9.5), wrong and right.

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import heapq
import math

import numpy as np
import torch

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 9.1 rope ------------------------------------------------------------------------------


@WRONG.add("rope", expect="that is the interleaved layout", mentioned=True)
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    theta = base ** (-np.arange(0, d, 2) / d)
    angle = np.asarray(positions, dtype=float)[:, None] * theta
    a, b = x[:, 0::2], x[:, 1::2]  # neighbours turn together
    out = np.empty_like(x)
    out[:, 0::2] = a * np.cos(angle) - b * np.sin(angle)
    out[:, 1::2] = a * np.sin(angle) + b * np.cos(angle)
    return out


@WRONG.add("rope", expect="turns the wrong way")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    angle = np.asarray(positions, dtype=float)[:, None] * base ** (-np.arange(0, d, 2) / d)
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) + b * np.sin(angle), -a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="whatever its position")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    angle = np.tile(base ** (-np.arange(0, d, 2) / d), (len(x), 1))  # forgot the position
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="position TIMES theta_i, not position plus")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    angle = np.asarray(positions, dtype=float)[:, None] + base ** (-np.arange(0, d, 2) / d)
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="the exponent has a factor 2")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    theta = base ** (-np.arange(d // 2) / d)
    angle = np.asarray(positions, dtype=float)[:, None] * theta
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="starts at i = 0, not 1")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    theta = base ** (-2 * np.arange(1, d // 2 + 1) / d)
    angle = np.asarray(positions, dtype=float)[:, None] * theta
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="use the positions you are given")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    T, d = x.shape
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    angle = np.arange(T)[:, None] * base ** (-np.arange(0, d, 2) / d)
    a, b = x[:, : d // 2], x[:, d // 2:]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=1)


@WRONG.add("rope", expect="should raise ValueError", kind="contract", mentioned=True)
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    half = d // 2  # d = 3: the last component is silently left alone
    angle = np.asarray(positions, dtype=float)[:, None] * base ** (-2 * np.arange(half) / d)
    a, b = x[:, :half], x[:, half:2 * half]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle),
                           x[:, 2 * half:]], axis=1)


@WRONG.add("rope", expect="which this exercise asks you not to use", kind="allowlist")
def rope(x, positions, base=10000.0):
    import dotlab.rope

    return dotlab.rope.apply_rope(x, positions, base=base)


# -- 9.2 grouped_query_attention -----------------------------------------------------------


def softmax_rows(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@WRONG.add("grouped_query_attention", expect="You used h % G")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    out = []
    for h in range(H):
        g = h % G  # round-robin
        s = q[h] @ k[g].T / math.sqrt(q.shape[-1])
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        out.append(e / e.sum(axis=-1, keepdims=True) @ v[g])
    return np.stack(out)


@WRONG.add("grouped_query_attention", expect="you divided by G")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    out = []
    for h in range(H):
        g = min(h // G, G - 1)  # "the group of h", kept in range
        s = q[h] @ k[g].T / math.sqrt(q.shape[-1])
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        out.append(e / e.sum(axis=-1, keepdims=True) @ v[g])
    return np.stack(out)


@WRONG.add("grouped_query_attention", expect="it is the keys and values that are shared, not the queries", helpers=(softmax_rows,))
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    shared_q = q.reshape(G, H // G, *q.shape[1:]).mean(axis=1)  # one query head per group
    s = shared_q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    return softmax_rows(s) @ v


@WRONG.add("grouped_query_attention", expect="every query head used key/value head 0", helpers=(softmax_rows,))
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    s = q @ k[0].T / math.sqrt(q.shape[-1])  # (H, T_q, T_k)
    return softmax_rows(s) @ v[0]


@WRONG.add("grouped_query_attention", expect="not divided by sqrt(d)", helpers=(softmax_rows,))
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    which = np.arange(H) // (H // G)
    s = q @ k[which].transpose(0, 2, 1)
    return softmax_rows(s) @ v[which]


@WRONG.add("grouped_query_attention", expect="softmax ran down the columns")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    which = np.arange(H) // (H // G)
    s = q @ k[which].transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) @ v[which]


@WRONG.add("grouped_query_attention", expect="does not mention", kind="contract", helpers=(softmax_rows,))
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError("the heads do not divide")
    which = np.arange(H) // (H // G)
    s = q @ k[which].transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    return softmax_rows(s) @ v[which]


@WRONG.add("grouped_query_attention", expect="which this exercise asks you not to use", kind="allowlist")
def grouped_query_attention(q, k, v):
    import torch

    t = [torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v)]
    return torch.nn.functional.scaled_dot_product_attention(*t, enable_gqa=True).numpy()


# -- 9.3 sliding_window_mask ---------------------------------------------------------------


@WRONG.add("sliding_window_mask", expect="Yours lets it see window + 1")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return (j <= p) & (j >= p - window)


@WRONG.add("sliding_window_mask", expect="only window - 1")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return (j <= p) & (j > p - window + 1)


@WRONG.add("sliding_window_mask", expect="aligned at the bottom right")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    i = np.arange(n_queries)[:, None]
    j = np.arange(n_keys)[None, :]
    return (j <= i) & (j > i - window)


@WRONG.add("sliding_window_mask", expect="the window looks back only")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return np.abs(j - p) < window


@WRONG.add("sliding_window_mask", expect="that is the plain causal mask")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    return np.tril(np.ones((n_queries, n_keys), dtype=bool), k=n_keys - n_queries)


@WRONG.add("sliding_window_mask", expect="True and False are swapped")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return (j > p) | (j <= p - window)  # True where the key is blocked


@WRONG.add("sliding_window_mask", expect="should raise ValueError", kind="contract", hidden_only=True)
def sliding_window_mask(n_queries, n_keys, window):
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return (j <= p) & (j > p - window)


# -- 9.4 kv_cache_bytes --------------------------------------------------------------------


@WRONG.add("kv_cache_bytes", expect="you cached full-size keys and values", mentioned=True)
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return 2 * shape.n_layers * shape.n_heads * shape.d_head * kept * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="the cache is rolling")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * shape.n_layers * shape.n_kv_heads * shape.d_head * T * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="a rolling cache fills up first")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else shape.window
    return 2 * shape.n_layers * shape.n_kv_heads * shape.d_head * kept * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="a key AND a value")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return shape.n_layers * shape.n_kv_heads * shape.d_head * kept * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="multiply by n_layers")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return 2 * shape.n_kv_heads * shape.d_head * kept * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="n_kv_heads·d_head numbers, not d_model")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return 2 * shape.n_layers * shape.d_model * kept * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="which this exercise asks you not to use", kind="allowlist")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    from dotlab import cost

    return cost.kv_cache_bytes(shape, T, bytes_per_value)


# -- 9.5 ivf_search ------------------------------------------------------------------------


@WRONG.add("ivf_search", expect="you returned positions in your list of candidates")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = corpus[np.isin(cells, probed)]
    return np.argsort(-(candidates @ query))[:k]


@WRONG.add("ivf_search", expect="you probed the cells whose centroids score LOWEST")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(centroids @ query)[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    return candidates[np.argsort(-(corpus[candidates] @ query))[:k]]


@WRONG.add("ivf_search", expect="you probed one cell")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    best_cell = np.argmax(centroids @ query)
    candidates = np.flatnonzero(np.asarray(cells) == best_cell)
    return candidates[np.argsort(-(corpus[candidates] @ query))[:k]]


@WRONG.add("ivf_search", expect="you probed n_probe + 1 cells")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe + 1]
    candidates = np.flatnonzero(np.isin(cells, probed))
    return candidates[np.argsort(-(corpus[candidates] @ query))[:k]]


@WRONG.add("ivf_search", expect="that is exact search")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    scores = np.asarray(corpus, dtype=float) @ np.asarray(query, dtype=float)
    return np.argsort(-scores)[:k]


@WRONG.add("ivf_search", expect="the results must be best first")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    scores = corpus[candidates] @ query
    return candidates[np.argsort(scores)[-k:]]  # the k best, worst of them first


@WRONG.add("ivf_search", expect="np.argpartition finds the k best but leaves them in no set order",
           kind="edge", hidden_only=True)
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    scores = corpus[candidates] @ query
    return candidates[np.argpartition(-scores, k - 1)[:k]]  # the k best, never sorted


@WRONG.add("ivf_search", expect="which this exercise asks you not to use", kind="allowlist")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    import dotlab

    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    _, best = dotlab.top_k(corpus[candidates], query[None, :], k)
    return candidates[best[0]]


@WRONG.add("sliding_window_mask", expect="the task asks for a NumPy array of booleans", kind="contract")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return ((j <= p) & (j > p - window)).astype(int)  # 1 and 0, not True and False


# -- right answers, written unusually: every one must pass -------------------------------


@RIGHT.add("rope", how="vectorised, half-split")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d_head = x.shape[-1]
    if d_head % 2:
        raise ValueError(f"d_head={d_head} must be even")
    theta = base ** (-np.arange(0, d_head, 2) / d_head)
    angle = np.asarray(positions, dtype=float)[:, None] * theta
    a, b = x[:, : d_head // 2], x[:, d_head // 2:]
    cos, sin = np.cos(angle), np.sin(angle)
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=1)


@RIGHT.add("rope", how="a loop over rows and pairs")
def rope(x, positions, base=10000.0):
    x = np.array(x, dtype=float)
    T, d = x.shape
    if d % 2:
        raise ValueError(f"odd width {d}")
    out = x.copy()
    for t in range(T):
        for i in range(d // 2):
            phi = positions[t] * base ** (-2 * i / d)
            a, b = x[t, i], x[t, i + d // 2]
            out[t, i] = a * math.cos(phi) - b * math.sin(phi)
            out[t, i + d // 2] = a * math.sin(phi) + b * math.cos(phi)
    return out


@RIGHT.add("rope", how="rotate_half, as Llama writes it")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    freqs = np.outer(np.asarray(positions, dtype=float), 1.0 / base ** (np.arange(0, d, 2) / d))
    emb = np.concatenate([freqs, freqs], axis=-1)  # (T, d)
    rotated = np.concatenate([-x[:, d // 2:], x[:, : d // 2]], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


@RIGHT.add("grouped_query_attention", how="a loop over query heads")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    out = []
    for h in range(H):
        g = h // (H // G)
        s = q[h] @ k[g].T / np.sqrt(q.shape[-1])
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        out.append(e / e.sum(axis=-1, keepdims=True) @ v[g])
    return np.stack(out)


@RIGHT.add("grouped_query_attention", how="np.repeat the key/value heads")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"H={H} is not a multiple of G={G}")
    k, v = np.repeat(k, H // G, axis=0), np.repeat(v, H // G, axis=0)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True) @ v


@RIGHT.add("grouped_query_attention", how="einsum over groups, in float32")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"cannot split {H} query heads into {G} groups")
    grouped = q.reshape(G, H // G, *q.shape[1:])  # (G, H/G, T_q, d)
    s = np.einsum("gqtd,gsd->gqts", grouped, k) / np.sqrt(np.float32(q.shape[-1]))
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    w = w / w.sum(axis=-1, keepdims=True)
    return np.einsum("gqts,gsv->gqtv", w, v).reshape(H, q.shape[1], v.shape[-1]).astype(float)


@RIGHT.add("sliding_window_mask", how="broadcast comparisons")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    key = np.arange(n_keys)[None, :]
    return (key <= position) & (key > position - window)


@RIGHT.add("sliding_window_mask", how="two triangles")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"the window must hold at least one key, got {window}")
    shift = n_keys - n_queries
    ones = np.ones((n_queries, n_keys), dtype=bool)
    return np.tril(ones, k=shift) & np.triu(ones, k=shift - window + 1)


@RIGHT.add("sliding_window_mask", how="a loop over queries")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} < 1")
    mask = np.zeros((n_queries, n_keys), dtype=bool)
    for i in range(n_queries):
        p = i + n_keys - n_queries
        mask[i, max(0, p - window + 1):p + 1] = True
    return mask


@RIGHT.add("kv_cache_bytes", how="min of T and the window")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return 2 * shape.n_layers * shape.n_kv_heads * shape.d_head * kept * bytes_per_value


@RIGHT.add("kv_cache_bytes", how="per token, then times the tokens kept")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if not bytes_per_value > 0:
        raise ValueError(f"{bytes_per_value} bytes per value is not possible")
    per_token = shape.n_layers * 2 * shape.n_kv_heads * shape.d_head * bytes_per_value
    if shape.window is not None and T > shape.window:
        T = shape.window  # a rolling cache
    return per_token * T


@RIGHT.add("ivf_search", how="isin and argsort")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    best = np.argsort(-(corpus[candidates] @ query))[:k]
    return candidates[best]


@RIGHT.add("ivf_search", how="Python lists, sorted pairs")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    centroid_scores = [float(np.dot(c, query)) for c in centroids]
    probed = sorted(range(len(centroids)), key=lambda c: -centroid_scores[c])[:n_probe]
    found = [(float(np.dot(corpus[i], query)), i) for i in range(len(corpus)) if cells[i] in probed]
    return [i for _, i in sorted(found, reverse=True)[:k]]


@RIGHT.add("ivf_search", how="argpartition, then a sort of the k best")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query = np.asarray(query, dtype=float)
    corpus, centroids = np.asarray(corpus, dtype=float), np.asarray(centroids, dtype=float)
    probed = np.argpartition(-(centroids @ query), n_probe - 1)[:n_probe]
    rows = np.nonzero(np.isin(np.asarray(cells), probed))[0]
    scores = corpus[rows] @ query
    top = np.argpartition(-scores, k - 1)[:k]
    return rows[top[np.argsort(-scores[top])]]


# Right answers found by trying the checks as an outsider would (session 4): the
# assignment allows PyTorch's tensors (only its attention and softmax are ruled out), any
# standard library helper such as heapq, and float32 arithmetic, which rotates far
# positions less precisely (the check's tolerance grows with the angle).


@RIGHT.add("rope", how="torch tensors, cat of the two rotated halves", preamble="import torch")
def rope(x, positions, base=10000.0):
    X = torch.as_tensor(np.asarray(x, dtype=np.float64))
    d = X.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} must be even")
    inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = torch.as_tensor(np.asarray(positions, dtype=np.float64))[:, None] * inv
    a, b = X[:, : d // 2], X[:, d // 2:]
    return torch.cat([a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()], dim=-1).numpy()


@RIGHT.add("rope", how="complex numbers in float32")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=np.float32)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"d_head={d} is odd")
    half = d // 2
    z = x[:, :half] + 1j * x[:, half:]
    theta = (base ** (-2.0 * np.arange(half) / d)).astype(np.float32)
    z = z * np.exp(1j * np.outer(np.asarray(positions, dtype=np.float32), theta))
    return np.concatenate([z.real, z.imag], axis=1).astype(np.float32)


@RIGHT.add("grouped_query_attention", how="torch repeat_interleave", preamble="import torch")
def grouped_query_attention(q, k, v):
    Q, K, V = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (q, k, v))
    H, G = Q.shape[0], K.shape[0]
    if H % G:
        raise ValueError(f"G={G} must divide H={H}")
    K, V = K.repeat_interleave(H // G, dim=0), V.repeat_interleave(H // G, dim=0)
    s = Q @ K.transpose(1, 2) / math.sqrt(Q.shape[-1])
    w = (s - s.amax(-1, keepdim=True)).exp()
    return (w / w.sum(-1, keepdim=True) @ V).numpy()


@RIGHT.add("sliding_window_mask", how="torch triangles", preamble="import torch")
def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    offset = n_keys - n_queries
    ones = torch.ones(n_queries, n_keys, dtype=torch.bool)
    return (ones.tril(offset) & ones.triu(offset - window + 1)).numpy()


@RIGHT.add("ivf_search", how="heapq.nlargest over Python lists", preamble="import heapq")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query = np.asarray(query, dtype=float)
    probed = heapq.nlargest(n_probe, range(len(centroids)), key=lambda c: float(np.asarray(centroids[c]) @ query))
    rows = [r for r in range(len(cells)) if cells[r] in probed]
    return np.array(heapq.nlargest(k, rows, key=lambda r: float(np.asarray(corpus[r]) @ query)), dtype=int)
