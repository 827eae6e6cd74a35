"""dotlab.window: the sliding-window mask, its pair count and its reach.

The mask is checked against its definition written as a loop; the count against the
mask; the reach against what L layers of the mask really connect (boolean matrix
powers), so the formula L·(w - 1) + 1 is measured, not assumed.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dotlab.attention import causal_mask, scaled_dot_product_attention
from dotlab.window import sliding_window_mask, window_pairs, window_reach


def _by_definition(n_queries, n_keys, window):
    mask = np.zeros((n_queries, n_keys), dtype=bool)
    for i in range(n_queries):
        p = i + n_keys - n_queries
        for j in range(n_keys):
            mask[i, j] = p - window < j <= p
    return mask


@pytest.mark.task(id="9.3")
@settings(deadline=None)
@given(st.integers(1, 12).flatmap(lambda n_keys: st.tuples(st.integers(1, n_keys), st.just(n_keys))),
       st.integers(1, 14))
def test_mask_is_its_definition(sizes, window):
    n_queries, n_keys = sizes
    mask = sliding_window_mask(n_queries, n_keys, window)
    np.testing.assert_array_equal(mask, _by_definition(n_queries, n_keys, window))
    assert mask.sum(axis=1).max() <= window and mask[:, -1][-1]  # the last query sees itself
    if window >= n_keys:
        np.testing.assert_array_equal(mask, causal_mask(n_queries, n_keys))


@given(st.integers(1, 60), st.integers(1, 70))
def test_pairs_count_the_mask(T, window):
    assert window_pairs(T, window) == int(sliding_window_mask(T, T, window).sum())
    assert window_pairs(T, None) == int(causal_mask(T, T).sum())
    assert window_pairs(T, window) <= T * min(T, window)  # the cost model's dense count bounds it


def test_windowed_attention_equals_attention_on_the_recent_keys_only():
    """Masking is the same as throwing the old keys away: what a rolling cache does."""
    rng = np.random.default_rng(0)
    T, w = 10, 3
    q, k, v = rng.normal(size=(3, T, 4))
    out = scaled_dot_product_attention(q, k, v, mask=sliding_window_mask(T, T, w))
    for i in range(T):
        lo = max(0, i - w + 1)
        np.testing.assert_allclose(out[i], scaled_dot_product_attention(q[i:i + 1], k[lo:i + 1], v[lo:i + 1])[0])
    theirs = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                            attn_mask=torch.from_numpy(sliding_window_mask(T, T, w)))
    np.testing.assert_allclose(out, theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("window, n_layers", [(1, 3), (2, 1), (2, 5), (3, 4), (5, 2)])
def test_reach_is_what_the_layers_connect(window, n_layers):
    T = window_reach(window, n_layers) + 6  # long enough that the start does not cut it
    step = sliding_window_mask(T, T, window).astype(int)
    reach = np.eye(T, dtype=int)
    for _ in range(n_layers):
        reach = (step @ reach > 0).astype(int)  # position i depends on j through one more layer
    assert reach[-1].sum() == window_reach(window, n_layers)


@pytest.mark.parametrize("call, error, message", [
    (lambda: sliding_window_mask(3, 3, 0), ValueError, "window=0 must be at least 1"),
    (lambda: sliding_window_mask(4, 3, 2), ValueError, "n_queries=4 > n_keys=3"),
    (lambda: sliding_window_mask(3, 3.0, 2), TypeError, r"n_keys=3.0 must be a whole number"),
    (lambda: window_pairs(0, 2), ValueError, "T=0 must be at least 1"),
    (lambda: window_reach(4, 0), ValueError, "n_layers=0"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
