"""dotlab.attention: agrees with PyTorch's attention on random inputs, masks and shapes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.attention import (
    attention_weights,
    causal_mask,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    split_heads,
)

torch.set_num_threads(1)
# Every property sets deadline=None: Hypothesis' 200 ms default fails correct code on a busy machine.

elements = st.floats(-3, 3, allow_nan=False, width=32)


@st.composite
def attention_inputs(draw, dtype=np.float64):
    """q, k, v with 0-2 leading axes, and a boolean mask (or None) with some rows all False."""
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    t_q, t_k, d, d_v = (draw(st.integers(1, n)) for n in (6, 6, 8, 5))
    q = draw(hnp.arrays(dtype, (*batch, t_q, d), elements=elements))
    k = draw(hnp.arrays(dtype, (*batch, t_k, d), elements=elements))
    v = draw(hnp.arrays(dtype, (*batch, t_k, d_v), elements=elements))
    mask = draw(st.none() | hnp.arrays(np.bool_, draw(st.sampled_from([(t_q, t_k), (*batch, t_q, t_k)]))))
    return q, k, v, mask


def torch_sdpa(q, k, v, mask=None, scale=None):
    t = [torch.from_numpy(np.ascontiguousarray(a)) for a in (q, k, v)]
    m = None if mask is None else torch.from_numpy(np.ascontiguousarray(mask))
    return F.scaled_dot_product_attention(*t, attn_mask=m, scale=scale).numpy()


@pytest.mark.task(id="5.2")
@given(attention_inputs(), st.none() | st.floats(0.01, 3))
@settings(max_examples=150, deadline=None)
def test_agrees_with_torch_sdpa_float64(inputs, scale):
    q, k, v, mask = inputs
    ours = scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)
    np.testing.assert_allclose(ours, torch_sdpa(q, k, v, mask, scale), rtol=1e-10, atol=1e-10)


@given(attention_inputs(np.float32))
@settings(deadline=None)
def test_agrees_with_torch_sdpa_float32(inputs):
    q, k, v, mask = inputs
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, torch_sdpa(q, k, v, mask), rtol=1e-4, atol=1e-5)


@pytest.mark.task(id="5.2")
def test_fully_masked_rows_give_zeros_like_torch():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    mask = np.ones((4, 5), dtype=bool)
    mask[2] = False
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_array_equal(ours[2], [0.0, 0.0])
    np.testing.assert_allclose(ours, torch_sdpa(q, k, v, mask), atol=1e-12)
    np.testing.assert_array_equal(attention_weights(q, k, mask=mask)[2], np.zeros(5))
    # ...where the textbook recipe, softmax of all -inf, divides 0 by 0
    scores = np.where(mask, q @ k.T, -np.inf)
    with np.errstate(invalid="ignore"):
        naive = np.exp(scores - scores.max(-1, keepdims=True))
    assert np.isnan(naive[2]).all()


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
def test_large_inputs_take_the_parallel_row_blocks_and_still_agree(dtype, tol):
    """Big enough for the threaded path: several row blocks per head, a broadcast mask."""
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 3, 600, 16)).astype(dtype) for _ in range(3))
    mask = rng.random((600, 600)) < 0.7
    mask[17] = False  # one query with nothing to attend to
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_array_equal(ours[..., 17, :], 0.0)
    np.testing.assert_allclose(ours, torch_sdpa(q, k, v, mask), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours, attention_weights(q, k, mask=mask) @ v, rtol=tol, atol=tol)


def test_row_blocks_never_hold_the_whole_table():
    import tracemalloc

    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((3000, 8)) for _ in range(3))
    tracemalloc.start()
    scaled_dot_product_attention(q, k, v)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3000 * 3000 * 8 / 4  # a quarter of the float64 table, at most


def test_huge_scores_stay_finite():
    q = np.array([[1e3, 0.0]])
    k = np.array([[1e3, 0.0], [-1e3, 0.0]])
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, [[1.0], [2.0]], scale=1.0), [[1.0]])


@given(st.integers(1, 9), st.integers(1, 9))
@settings(deadline=None)
def test_causal_mask_is_aligned_bottom_right(n_q, n_k):
    mask = causal_mask(n_q, n_k)
    assert mask.dtype == np.bool_ and mask.shape == (n_q, n_k)
    np.testing.assert_array_equal(mask, np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q))
    if n_q <= n_k:
        assert mask[-1].all()  # the newest token sees the whole context
        assert mask.sum() == n_q * (n_k - n_q) + n_q * (n_q + 1) // 2
    if n_q == n_k:  # only here does torch's top-left is_causal agree
        t = [torch.ones(n_q, 2, dtype=torch.float64)] * 2 + [torch.arange(n_k, dtype=torch.float64)[:, None]]
        np.testing.assert_allclose(F.scaled_dot_product_attention(*t, is_causal=True).numpy(),
                                   scaled_dot_product_attention(*(x.numpy() for x in t), mask=mask))


def test_causal_mask_serves_the_kv_cache():
    """The last n queries attending to all T keys give the last n rows of full causal attention."""
    rng = np.random.default_rng(1)
    T, n = 7, 3
    q, k, v = rng.normal(size=(3, T, 4))
    full = scaled_dot_product_attention(q, k, v, mask=causal_mask(T, T))
    np.testing.assert_allclose(scaled_dot_product_attention(q[-n:], k, v, mask=causal_mask(n, T)), full[-n:])


def test_causal_mask_refuses_bad_counts():
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="positive whole number"):
            causal_mask(bad, 3)


@given(attention_inputs())
@settings(deadline=None)
def test_weights_are_row_distributions(inputs):
    q, k, _, mask = inputs
    w = attention_weights(q, k, mask=mask)
    sums = w.sum(-1)
    empty = ~np.broadcast_to(mask, w.shape).any(-1) if mask is not None else np.zeros(sums.shape, bool)
    np.testing.assert_allclose(sums[~empty], 1.0)
    np.testing.assert_array_equal(sums[empty], 0.0)
    if mask is not None:
        assert not w[~np.broadcast_to(mask, w.shape)].any()


@pytest.mark.parametrize("call, error, message", [
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 5)), np.ones((4, 1))), ValueError,
     r"q.shape=\(2, 3\) and k.shape=\(4, 5\) must match on the last axis"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 1))), ValueError,
     r"k.shape=\(4, 3\) and v.shape=\(5, 1\) must match on the second-to-last axis"),
    (lambda: scaled_dot_product_attention(np.ones(3), np.ones((4, 3)), np.ones((4, 1))), ValueError,
     r"q must have shape \(\.\.\., T_q, d\), but q.shape=\(3,\)"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), mask=np.zeros((2, 4))),
     TypeError, "mask must be boolean.*float64.*mask == 0"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), mask=np.ones((4, 2), bool)),
     ValueError, r"mask.shape=\(4, 2\) does not broadcast to the scores' shape \(2, 4\)"),
    (lambda: split_heads(np.ones((3, 10)), 4), ValueError, "n_heads=4 must divide d_model=10"),
    (lambda: merge_heads(np.ones((3, 10))), ValueError, r"x must have shape \(\.\.\., H, T, d_head\)"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- multi-head ----------------------------------------------------------------------------


@given(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), st.integers(1, 5), st.sampled_from([1, 2, 3, 6]), st.data())
@settings(deadline=None)
def test_split_then_merge_is_the_identity(batch, T, H, data):
    x = data.draw(hnp.arrays(np.float64, (*batch, T, 6), elements=elements))
    heads = split_heads(x, H)
    assert heads.shape == (*batch, H, T, 6 // H)
    np.testing.assert_array_equal(heads[..., 0, :, :], x[..., : 6 // H])  # head 0 = the first d_head components
    np.testing.assert_array_equal(merge_heads(heads), x)


def _torch_mha(d_model, n_heads, seed, bias=True):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True, dtype=torch.float64).eval()
    W, E = mha.in_proj_weight.detach().numpy(), d_model
    # torch stores each projection as (out, in) and computes x @ W.T: ours is x @ W
    weights = dict(w_q=W[:E].T, w_k=W[E:2 * E].T, w_v=W[2 * E:].T, w_o=mha.out_proj.weight.detach().numpy().T)
    if bias:
        b = mha.in_proj_bias.detach().numpy()
        weights.update(b_q=b[:E], b_k=b[E:2 * E], b_v=b[2 * E:], b_o=mha.out_proj.bias.detach().numpy())
    return mha, weights


@pytest.mark.parametrize("batch, T_q, T_k, d_model, n_heads, masked, bias", [
    (1, 5, 5, 8, 2, False, True),
    (3, 7, 7, 12, 3, True, True),
    (2, 4, 9, 16, 4, True, False),  # cross-attention, a causal mask aligned bottom-right
    (2, 6, 6, 6, 1, True, True),
    (1, 10, 10, 32, 8, False, False),
])
def test_agrees_with_torch_multihead_attention(batch, T_q, T_k, d_model, n_heads, masked, bias):
    rng = np.random.default_rng(T_q * 100 + d_model)
    x = rng.normal(size=(batch, T_q, d_model))
    context = x if T_q == T_k else rng.normal(size=(batch, T_k, d_model))
    mha, weights = _torch_mha(d_model, n_heads, seed=T_k, bias=bias)
    mask = causal_mask(T_q, T_k) if masked else None
    ours = multi_head_attention(x, n_heads=n_heads, mask=mask, context=None if T_q == T_k else context, **weights)
    with torch.no_grad():
        theirs, _ = mha(*(torch.from_numpy(a) for a in (x, context, context)),
                        attn_mask=None if mask is None else torch.from_numpy(~mask),  # torch: True = blocked
                        need_weights=False)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


def test_multi_head_is_attention_per_head_then_projection():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 8))
    w_q, w_k, w_v, w_o = rng.normal(size=(4, 8, 8))
    by_hand = np.concatenate([
        scaled_dot_product_attention(x @ w_q[:, h * 4:(h + 1) * 4], x @ w_k[:, h * 4:(h + 1) * 4], x @ w_v[:, h * 4:(h + 1) * 4])
        for h in range(2)
    ], axis=-1) @ w_o
    np.testing.assert_allclose(multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads=2), by_hand)


def test_multi_head_names_bad_weights():
    x, w = np.ones((3, 8)), np.ones((8, 8))
    with pytest.raises(ValueError, match=r"w_q.shape=\(6, 8\) must have 8 rows"):
        multi_head_attention(x, np.ones((6, 8)), w, w, w, n_heads=2)
    with pytest.raises(ValueError, match=r"w_q.shape=\(8, 8\) and w_k.shape=\(8, 4\) must match"):
        multi_head_attention(x, w, np.ones((8, 4)), w, w, n_heads=2)
    with pytest.raises(ValueError, match=r"b_o.shape=\(3,\) must have length 8"):
        multi_head_attention(x, w, w, w, w, n_heads=2, b_o=np.ones(3))


# -- permutation equivariance -------------------------------------------------------------


@given(st.integers(2, 8), st.randoms(use_true_random=False), st.data())
@settings(deadline=None)
def test_self_attention_without_positions_is_permutation_equivariant(T, random, data):
    x = data.draw(hnp.arrays(np.float64, (T, 8), elements=elements))
    w_q, w_k, w_v, w_o = np.random.default_rng(T).normal(size=(4, 8, 8))
    perm = list(range(T))
    random.shuffle(perm)
    out = multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads=2)
    np.testing.assert_allclose(multi_head_attention(x[perm], w_q, w_k, w_v, w_o, n_heads=2), out[perm], atol=1e-9)


def test_a_causal_mask_breaks_the_symmetry():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 8))
    w_q, w_k, w_v, w_o = rng.normal(size=(4, 8, 8))
    perm = [3, 2, 1, 0]
    mask = causal_mask(4, 4)
    out = multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads=2, mask=mask)
    assert not np.allclose(multi_head_attention(x[perm], w_q, w_k, w_v, w_o, n_heads=2, mask=mask), out[perm])
