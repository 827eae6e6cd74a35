"""Chapter 9's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch09 import WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch09
from dotlab.cost import TransformerShape

# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# The solutions, self-contained as in the notebook: dotlab's own versions are forbidden
# while a learner's function runs.
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


def sliding_window_mask(n_queries, n_keys, window):
    if window < 1:
        raise ValueError(f"window={window} must be at least 1")
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    key = np.arange(n_keys)[None, :]
    return (key <= position) & (key > position - window)


def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    kept = T if shape.window is None else min(T, shape.window)
    return 2 * shape.n_layers * shape.n_kv_heads * shape.d_head * kept * bytes_per_value


def ivf_search(query, corpus, centroids, cells, k, n_probe):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    probed = np.argsort(-(centroids @ query))[:n_probe]
    candidates = np.flatnonzero(np.isin(cells, probed))
    best = np.argsort(-(corpus[candidates] @ query))[:k]
    return candidates[best]


REFERENCES = {f.__name__: f for f in (rope, grouped_query_attention, sliding_window_mask, kv_cache_bytes,
                                      ivf_search)}

globals().update(contract_tests(ch09, WRONG, REFERENCES, min_visible=3))


def test_other_correct_versions_pass():
    """However it is written: a vectorised grouped attention, a loop over IVF cells."""
    def grouped_query_attention(q, k, v):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        H, G = q.shape[0], k.shape[0]
        if H % G:
            raise ValueError(f"H={H} is not a multiple of G={G}")
        k, v = np.repeat(k, H // G, axis=0), np.repeat(v, H // G, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        w = np.exp(s - s.max(axis=-1, keepdims=True))
        return w / w.sum(axis=-1, keepdims=True) @ v

    def ivf_search(query, corpus, centroids, cells, k, n_probe):
        centroid_scores = [float(np.dot(c, query)) for c in centroids]
        probed = sorted(range(len(centroids)), key=lambda c: -centroid_scores[c])[:n_probe]
        found = [(float(np.dot(corpus[i], query)), i) for i in range(len(corpus)) if cells[i] in probed]
        return np.array([i for _, i in sorted(found, reverse=True)[:k]])

    def rope(x, positions, base=10000.0):
        x = np.asarray(x, dtype=float)
        T, d = x.shape
        if d % 2:
            raise ValueError(f"odd width {d}")
        out = x.copy()
        for t in range(T):
            for i in range(d // 2):
                phi = positions[t] * base ** (-2 * i / d)
                a, b = x[t, i], x[t, i + d // 2]
                out[t, i], out[t, i + d // 2] = a * np.cos(phi) - b * np.sin(phi), a * np.sin(phi) + b * np.cos(phi)
        return out

    ch09.check_grouped_query_attention(grouped_query_attention, hidden=True)
    ch09.check_ivf_search(ivf_search, hidden=True)
    ch09.check_rope(rope, hidden=True)


def test_the_ivf_cases_need_the_cells():
    """Each visible IVF case has a true neighbour outside the probed cells, or exact
    search would pass for IVF; probing every cell is exact."""
    for case in ch09._ivf_cases(hidden=False)[1:]:
        query, corpus, centroids, cells, k, n_probe = case.args
        exact = np.argsort(-(np.asarray(corpus) @ query))[:k]
        assert not np.array_equal(ivf_search(*case.args), exact), case.label
    query, corpus, centroids, cells, k, _ = ch09._ivf_cases(hidden=False)[1].args
    np.testing.assert_array_equal(ivf_search(query, corpus, centroids, cells, k, len(centroids)),
                                  np.argsort(-(corpus @ query))[:k])


def test_shapes_reach_the_learner_as_transformer_shapes():
    for case in ch09._kv_cases(hidden=True):
        assert isinstance(case.args[0], TransformerShape)


def test_a_rope_that_is_right_only_at_position_zero_fails():
    def identity(x, positions, base=10000.0):
        x = np.asarray(x, dtype=float)
        if x.shape[-1] % 2:
            raise ValueError(f"d_head={x.shape[-1]} must be even")
        return x

    with pytest.raises(CheckFailure, match="rope"):
        ch09.check_rope(identity)
