"""dotlab.grouped: grouped-query attention agrees with PyTorch's ``enable_gqa``.

Grouped-query attention must equal ordinary multi-head attention on keys and values
repeated head by head (Ainslie et al. 2023), and PyTorch's own implementation; with one
key/value head it is multi-query attention (Shazeer 2019).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dotlab.attention import causal_mask, scaled_dot_product_attention
from dotlab.grouped import grouped_query_attention, kv_head_of

torch.set_num_threads(1)


@st.composite
def grouped_inputs(draw):
    G = draw(st.integers(1, 3))
    H = G * draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,)]))
    T_q, T_k, d, d_v = (draw(st.integers(1, n)) for n in (5, 6, 6, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q, k, v = rng.normal(size=(*batch, H, T_q, d)), rng.normal(size=(*batch, G, T_k, d)), rng.normal(size=(*batch, G, T_k, d_v))
    mask = draw(st.sampled_from([None, "causal", "random"]))
    if mask == "causal":
        mask = causal_mask(T_q, T_k) if T_q <= T_k else None
    elif mask == "random":
        mask = rng.random((T_q, T_k)) < 0.6
    return q, k, v, mask


@pytest.mark.task(id="9.2")
@settings(deadline=None, max_examples=60)
@given(grouped_inputs())
def test_matches_torch_enable_gqa(inputs):
    q, k, v, mask = inputs
    ours = grouped_query_attention(q, k, v, mask=mask)
    m = None if mask is None else torch.from_numpy(mask)
    theirs = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), attn_mask=m, enable_gqa=True)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10)


@settings(deadline=None, max_examples=30)
@given(grouped_inputs())
def test_equals_multi_head_attention_on_repeated_keys(inputs):
    q, k, v, mask = inputs
    H, G = q.shape[-3], k.shape[-3]
    which = kv_head_of(H, G)
    repeated = scaled_dot_product_attention(q, k[..., which, :, :], v[..., which, :, :], mask=mask)
    np.testing.assert_allclose(grouped_query_attention(q, k, v, mask=mask), repeated, atol=1e-12)


def test_consecutive_query_heads_share():
    """Head h reads key/value head h // (H/G), not h % G: the wrong sharing differs."""
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 3, 1))
    right = grouped_query_attention(q, k, v)
    strided = scaled_dot_product_attention(q, k[[0, 1, 0, 1]], v[[0, 1, 0, 1]])
    assert not np.allclose(right, strided)
    np.testing.assert_allclose(right[1], scaled_dot_product_attention(q[1], k[0], v[0]))


def test_kv_head_of():
    assert kv_head_of(6, 3).tolist() == [0, 0, 1, 1, 2, 2]
    assert kv_head_of(5, 5).tolist() == [0, 1, 2, 3, 4]  # ordinary multi-head attention


@pytest.mark.parametrize("call, message", [
    (lambda: kv_head_of(6, 4), "n_kv_heads=4 must divide n_heads=6"),
    (lambda: kv_head_of(0, 1), "n_heads=0 must be a whole number"),
    (lambda: grouped_query_attention(np.ones((6, 2, 3)), np.ones((4, 2, 3)), np.ones((4, 2, 3))),
     r"q has 6 heads and k has 4 \(q.shape=\(6, 2, 3\), k.shape=\(4, 2, 3\)\)"),
    (lambda: grouped_query_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3))), r"q.shape=\(2, 3\)"),
    (lambda: grouped_query_attention(np.ones((2, 2, 3)), np.ones((1, 2, 3)), np.ones((1, 4, 3))),
     r"k.shape=\(1, 2, 3\) and v.shape=\(1, 4, 3\)"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
