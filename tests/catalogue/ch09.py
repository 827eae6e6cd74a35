"""Wrong versions of chapter 9's functions (tasks 9.1 to 9.5).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

# -- 9.1 rope ------------------------------------------------------------------------------


@WRONG.add("rope", expect="that is the interleaved layout")
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


@WRONG.add("rope", expect="should raise ValueError")
def rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    half = d // 2  # d = 3: the last component is silently left alone
    angle = np.asarray(positions, dtype=float)[:, None] * base ** (-2 * np.arange(half) / d)
    a, b = x[:, :half], x[:, half:2 * half]
    return np.concatenate([a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle),
                           x[:, 2 * half:]], axis=1)


@WRONG.add("rope", expect="called dotlab.rope.apply_rope")
def rope(x, positions, base=10000.0):
    import dotlab.rope

    return dotlab.rope.apply_rope(x, positions, base=base)


# -- 9.2 grouped_query_attention -----------------------------------------------------------


def _softmax_rows(s):
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


@WRONG.add("grouped_query_attention", expect="it is the keys and values that are shared, not the queries")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    shared_q = q.reshape(G, H // G, *q.shape[1:]).mean(axis=1)  # one query head per group
    s = shared_q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    return _softmax_rows(s) @ v


@WRONG.add("grouped_query_attention", expect="every query head used key/value head 0")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    s = q @ k[0].T / math.sqrt(q.shape[-1])  # (H, T_q, T_k)
    return _softmax_rows(s) @ v[0]


@WRONG.add("grouped_query_attention", expect="not divided by sqrt(d)")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError(f"{G} key/value heads cannot be shared by {H} query heads")
    which = np.arange(H) // (H // G)
    s = q @ k[which].transpose(0, 2, 1)
    return _softmax_rows(s) @ v[which]


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


@WRONG.add("grouped_query_attention", expect="does not mention")
def grouped_query_attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    if H % G:
        raise ValueError("the heads do not divide")
    which = np.arange(H) // (H // G)
    s = q @ k[which].transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    return _softmax_rows(s) @ v[which]


@WRONG.add("grouped_query_attention", expect="called torch.nn.functional.scaled_dot_product_attention")
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


@WRONG.add("sliding_window_mask", expect="should raise ValueError", hidden_only=True)
def sliding_window_mask(n_queries, n_keys, window):
    p = np.arange(n_queries)[:, None] + n_keys - n_queries
    j = np.arange(n_keys)[None, :]
    return (j <= p) & (j > p - window)


# -- 9.4 kv_cache_bytes --------------------------------------------------------------------


@WRONG.add("kv_cache_bytes", expect="you cached full-size keys and values")
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


@WRONG.add("kv_cache_bytes", expect="called dotlab.cost.kv_cache_bytes")
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


@WRONG.add("ivf_search", expect="called dotlab.top_k")
def ivf_search(query, corpus, centroids, cells, k, n_probe):
    import dotlab

    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    _, best = dotlab.top_k(corpus[candidates], query[None, :], k)
    return candidates[best[0]]
