"""dotlab.scaling: the variance argument holds in simulation, and scaling undoes saturation."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.scaling import dot_product_samples, dot_product_variance, saturation, scaled_scores

torch.set_num_threads(1)
# Every property sets deadline=None: Hypothesis' 200 ms default fails correct code on a busy machine.


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 8), st.data())
@settings(deadline=None)
def test_scaled_scores_are_dot_products_over_root_d(t_q, t_k, d, data):
    q = data.draw(hnp.arrays(np.float64, (t_q, d), elements=st.floats(-10, 10)))
    k = data.draw(hnp.arrays(np.float64, (t_k, d), elements=st.floats(-10, 10)))
    s = scaled_scores(q, k)
    assert s.shape == (t_q, t_k)
    i, j = data.draw(st.integers(0, t_q - 1)), data.draw(st.integers(0, t_k - 1))
    assert s[i, j] == pytest.approx(float(q[i] @ k[j]) / math.sqrt(d), abs=1e-9)
    np.testing.assert_allclose(scaled_scores(q, k, scale=1.0), q @ k.T)


def test_scaled_scores_batch_and_errors():
    q, k = np.ones((2, 3, 4, 8)), np.ones((2, 3, 5, 8))
    assert scaled_scores(q, k).shape == (2, 3, 4, 5)
    with pytest.raises(ValueError, match=r"q.shape=\(4, 8\) and k.shape=\(5, 7\) must match on the last axis"):
        scaled_scores(np.ones((4, 8)), np.ones((5, 7)))
    with pytest.raises(ValueError, match=r"q must have shape \(\.\.\., T_q, d_k\), but q.shape=\(8,\)"):
        scaled_scores(np.ones(8), np.ones((5, 8)))
    with pytest.raises(ValueError, match="scale=nan"):
        scaled_scores(q, k, scale=float("nan"))


@pytest.mark.parametrize("d", [1, 4, 16, 64, 256])
def test_variance_is_d_for_unit_variance_components(d):
    # relative standard error sqrt((2 + 6/d) / n): under 2% here, so 10% is > 5 sigma
    assert dot_product_variance(d) == pytest.approx(d, rel=0.1)


@pytest.mark.parametrize("d", [2, 4, 16, 64, 256])
def test_variance_is_one_over_d_for_random_unit_vectors(d):
    assert dot_product_variance(d, unit=True) == pytest.approx(1 / d, rel=0.1)


def test_samples_have_mean_zero_and_are_reproducible():
    s = dot_product_samples(64, 20_000, rng=1)
    assert abs(s.mean()) < 5 * 8 / math.sqrt(20_000)
    np.testing.assert_array_equal(s, dot_product_samples(64, 20_000, rng=1))
    unit = dot_product_samples(16, 100, unit=True, rng=2)
    assert np.all(np.abs(unit) <= 1 + 1e-12)  # a cosine
    with pytest.raises(ValueError, match="d=0"):
        dot_product_samples(0, 10)


def test_unscaled_scores_saturate_and_scaled_ones_do_not():
    small = [saturation(d, scaled=False, n_queries=500) for d in (4, 1024)]
    scaled = [saturation(d, scaled=True, n_queries=500) for d in (4, 1024)]
    # unscaled: entropy collapses toward 0 and the typical gradient vanishes
    assert small[1].entropy < 0.25 * small[0].entropy
    assert small[1].grad_scores < 1e-2 * small[0].grad_scores
    assert small[1].max_weight > 0.9
    # scaled: the same at every d_k, within sampling noise
    assert scaled[1].entropy == pytest.approx(scaled[0].entropy, rel=0.1)
    assert scaled[1].grad_scores == pytest.approx(scaled[0].grad_scores, rel=0.2)
    assert scaled[1].entropy < math.log(16)


def test_saturation_gradient_is_what_autograd_gives_by_hand():
    """∂L/∂s for L = Σ w_j g_j is w ⊙ (g - w·g): check the autograd figure against it."""
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(16, generator=gen, dtype=torch.float64) * 4
    g = torch.randn(16, generator=gen, dtype=torch.float64)
    s.requires_grad_(True)
    w = torch.softmax(s, -1)
    (w * g).sum().backward()
    w = w.detach()
    np.testing.assert_allclose(s.grad.numpy(), (w * (g - (w * g).sum())).numpy(), atol=1e-12)
