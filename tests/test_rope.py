"""dotlab.rope: rotary position embedding, proved by its property and by parity.

The property (Su et al. 2021): after rotation, a query at m and a key at n score the
same as at m + s and n + s, for any shift s. The parity: Hugging Face transformers'
Llama functions (half-split pairs, ``rotate_half``) and GPT-J's (interleaved pairs,
``rotate_every_two``) give the same rotated vectors, computed by independent code.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from transformers.models.gptj import modeling_gptj
from transformers.models.llama import modeling_llama

from dotlab.rope import LAYOUTS, apply_rope, interleaved_to_half, rope_angles, rope_frequencies

torch.set_num_threads(1)
elements = st.floats(-10, 10, allow_nan=False)
widths = st.sampled_from([2, 4, 6, 8, 16, 64])


def _llama_cos_sin(positions, d_head, base):
    """cos and sin as Llama's rotary embedding builds them: the frequencies twice over."""
    inv_freq = 1.0 / base ** (torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)
    freqs = torch.as_tensor(positions, dtype=torch.float64)[:, None] * inv_freq  # (T, d/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, d): pair i uses columns i and i + d/2
    return emb.cos(), emb.sin()


@pytest.mark.task(id="9.1")  # the assignment's rope is this layout
@pytest.mark.parametrize("base", [10000.0, 500000.0])
@pytest.mark.parametrize("d_head", [2, 8, 64])
def test_half_layout_matches_transformers_llama(d_head, base):
    rng = np.random.default_rng(d_head)
    H, T = 3, 11
    q, k = rng.normal(size=(2, 1, H, T, d_head))  # (B, H, T, d_head), as Llama holds them
    positions = np.arange(5, 5 + T)
    cos, sin = _llama_cos_sin(positions, d_head, base)
    theirs_q, theirs_k = modeling_llama.apply_rotary_pos_emb(
        torch.from_numpy(q), torch.from_numpy(k), cos[None], sin[None])  # cos (B, T, d_head), unsqueezed over H
    np.testing.assert_allclose(apply_rope(q, positions, base=base, layout="half"), theirs_q.numpy(), atol=1e-12)
    np.testing.assert_allclose(apply_rope(k, positions, base=base, layout="half"), theirs_k.numpy(), atol=1e-12)


@pytest.mark.parametrize("d_head", [2, 8, 64])
def test_interleaved_layout_matches_transformers_gptj(d_head):
    rng = np.random.default_rng(d_head)
    T, H = 9, 2
    x = rng.normal(size=(1, T, H, d_head))  # GPT-J rotates (B, T, H, d_head)
    table = modeling_gptj.create_sinusoidal_positions(T, d_head).double()  # (T, d_head): sin then cos
    sin, cos = torch.split(table[None], d_head // 2, dim=-1)  # (1, T, d_head/2) each
    theirs = modeling_gptj.apply_rotary_pos_emb(torch.from_numpy(x), sin, cos).numpy()
    ours = apply_rope(x.transpose(0, 2, 1, 3), layout="interleaved").transpose(0, 2, 1, 3)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)  # GPT-J builds its angles in float32


def test_frequencies_and_angles_by_hand():
    np.testing.assert_allclose(rope_frequencies(4), [1.0, 0.01])
    np.testing.assert_allclose(rope_frequencies(4, base=100.0), [1.0, 0.1])
    np.testing.assert_allclose(rope_angles([0, 2], 4), [[0, 0], [2, 0.02]])
    assert np.all(np.diff(rope_frequencies(64)) < 0)  # the first pair turns fastest


def test_one_pair_is_a_rotation_by_position_times_frequency():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    out = apply_rope(x, positions=[0, np.pi / 2, np.pi])  # θ_0 = 1 rad per position
    np.testing.assert_allclose(out, [[1, 0], [0, 1], [0, -2]], atol=1e-12)


@settings(deadline=None, max_examples=60)
@given(widths.flatmap(lambda d: hnp.arrays(np.float64, (2, d), elements=elements)),
       st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-10**5, 10**5), st.sampled_from(LAYOUTS))
def test_scores_depend_only_on_the_offset(qk, m, n, shift, layout):
    q, k = qk[:1], qk[1:]
    here = apply_rope(q, [m], layout=layout) @ apply_rope(k, [n], layout=layout).T
    there = apply_rope(q, [m + shift], layout=layout) @ apply_rope(k, [n + shift], layout=layout).T
    np.testing.assert_allclose(here, there, rtol=1e-7, atol=1e-7)


@settings(deadline=None, max_examples=40)
@given(widths.flatmap(lambda d: hnp.arrays(np.float64, (5, d), elements=elements)), st.sampled_from(LAYOUTS))
def test_rotation_keeps_lengths_and_position_zero_is_identity(x, layout):
    out = apply_rope(x, positions=[0, 1, 7, 100, 12345], layout=layout)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(x, axis=1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out[0], x[0])


def test_scores_change_with_the_offset():
    """Not a property every function has: a rotation by the same angle everywhere would pass the shift test."""
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(2, 1, 16))
    scores = [(apply_rope(q, [m]) @ apply_rope(k, [0]).T).item() for m in range(6)]
    assert len(set(np.round(scores, 6))) == 6


def test_the_layouts_are_the_same_method_in_another_order():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 8))
    order = interleaved_to_half(8)
    np.testing.assert_allclose(apply_rope(x, layout="interleaved")[..., order], apply_rope(x[..., order]))
    assert not np.allclose(apply_rope(x, layout="interleaved"), apply_rope(x, layout="half"))
    q, k = rng.normal(size=(2, 5, 8))
    inter = apply_rope(q, layout="interleaved") @ apply_rope(k, layout="interleaved").T
    half = apply_rope(q[:, order]) @ apply_rope(k[:, order]).T
    np.testing.assert_allclose(inter, half)  # reordered W_Q and W_K rows: the same scores


@pytest.mark.parametrize("call, error, message", [
    (lambda: apply_rope(np.ones((3, 5))), ValueError, "d_head=5 must be even"),
    (lambda: apply_rope(np.ones(4)), ValueError, r"x.shape=\(4,\) must be \(..., T, d_head\)"),
    (lambda: apply_rope(np.ones((3, 4)), positions=[0, 1]), ValueError, r"positions.shape=\(2,\) must be \(3,\)"),
    (lambda: apply_rope(np.ones((3, 4)), layout="pairs"), ValueError, "layout='pairs' must be one of"),
    (lambda: rope_frequencies(4, base=1.0), ValueError, "base=1.0 must be a finite number above 1"),
    (lambda: rope_frequencies(4.0), TypeError, "d_head=4.0 must be a whole number"),
    (lambda: rope_angles(np.zeros((2, 2)), 4), ValueError, r"positions.shape=\(2, 2\) must be 1-D"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
