"""dotlab.tiled: the online softmax gives plain attention's output without its T×T table."""

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.attention import attention_weights, causal_mask, scaled_dot_product_attention
from dotlab.tiled import tiled_attention

torch.set_num_threads(1)
# Every property sets deadline=None: Hypothesis' 200 ms default fails correct code on a busy machine.


@st.composite
def tiled_inputs(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=2))
    t_q, t_k, d, d_v = (draw(st.integers(1, n)) for n in (12, 12, 6, 4))
    arrays = (draw(hnp.arrays(np.float64, (*batch, t, n), elements=st.floats(-4, 4)))
              for t, n in ((t_q, d), (t_k, d), (t_k, d_v)))
    q, k, v = arrays
    mask = draw(st.none() | hnp.arrays(np.bool_, (t_q, t_k)))
    return q, k, v, mask, draw(st.integers(1, 13)), draw(st.booleans())


@given(tiled_inputs())
@settings(max_examples=150, deadline=None)
def test_same_output_as_plain_attention(inputs):
    q, k, v, mask, block, causal = inputs
    full_mask = mask
    if causal:
        c = causal_mask(q.shape[-2], k.shape[-2])
        full_mask = c if mask is None else (mask & c)
    want = scaled_dot_product_attention(q, k, v, mask=full_mask)
    got = tiled_attention(q, k, v, mask=mask, causal=causal, block_size=block)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_float32_and_torch():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 300, 16)).astype(np.float32) for _ in range(3))
    got = tiled_attention(q, k, v, causal=True, block_size=64)
    assert got.dtype == np.float32
    theirs = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True).numpy()
    np.testing.assert_allclose(got, theirs, rtol=1e-4, atol=2e-5)


def test_an_online_max_that_keeps_rising():
    """Scores that grow block after block force a rescale at every step."""
    T = 40
    k = np.arange(T, dtype=float)[:, None] * np.ones((1, 2))
    q = np.full((3, 2), 10.0)
    v = np.arange(T, dtype=float)[:, None]
    np.testing.assert_allclose(tiled_attention(q, k, v, block_size=4), scaled_dot_product_attention(q, k, v))


def test_fully_masked_rows_and_more_queries_than_keys():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(6, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    got = tiled_attention(q, k, v, causal=True, block_size=2)  # the first 2 queries see no key
    np.testing.assert_array_equal(got[:2], 0.0)
    np.testing.assert_allclose(got, scaled_dot_product_attention(q, k, v, mask=causal_mask(6, 4)))


def _peak_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_never_holds_the_score_table():
    rng = np.random.default_rng(2)
    T, d = 2048, 32
    q, k, v = (rng.normal(size=(T, d)) for _ in range(3))
    table = T * T * 8  # one float64 score table: 32 MiB
    plain = _peak_bytes(lambda: attention_weights(q, k) @ v)  # the textbook: the whole table
    tiled = _peak_bytes(lambda: tiled_attention(q, k, v, block_size=128))
    assert plain >= table
    assert tiled < table / 16


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_block_size_must_be_a_count(bad):
    with pytest.raises(ValueError, match="block_size"):
        tiled_attention(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), block_size=bad)
