"""dotlab.softmax: a distribution comes out, huge scores stay finite, torch agrees."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.softmax import entropy, log_softmax, softmax

torch.set_num_threads(1)
# Every property sets deadline=None: Hypothesis' 200 ms default fails correct code on a busy machine.

# Scores as large as the contract promises to survive.
logits = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                    elements=st.floats(-1e4, 1e4, allow_nan=False))


@given(logits, st.data())
@settings(deadline=None)
def test_a_distribution_along_the_axis(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    p = softmax(x, axis=axis)
    assert p.shape == x.shape
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


@given(logits, st.floats(-1e3, 1e3))
@settings(deadline=None)
def test_adding_a_constant_changes_nothing(x, c):
    np.testing.assert_allclose(softmax(x + c), softmax(x), atol=1e-12)


@given(logits)
@settings(deadline=None)
def test_agrees_with_torch(x):
    np.testing.assert_allclose(softmax(x), torch.softmax(torch.from_numpy(x), dim=-1).numpy(), atol=1e-12)
    np.testing.assert_allclose(log_softmax(x), torch.log_softmax(torch.from_numpy(x), dim=-1).numpy(), atol=1e-9)


def test_the_contract_logits_of_1e4_stay_finite():
    p = softmax(np.array([1e4, 1e4 - 1, -1e4]))
    np.testing.assert_allclose(p, [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1)), 0.0])
    with np.errstate(over="ignore", invalid="ignore"):  # the naive formula, for contrast
        naive = np.exp([1e4, 0.0]) / np.exp([1e4, 0.0]).sum()
    assert np.isnan(naive[0])
    assert softmax(np.array([1e4, 0.0], dtype=np.float32)).dtype == np.float32


def test_minus_infinity_gets_weight_zero_and_an_all_minus_infinity_row_is_refused():
    np.testing.assert_array_equal(softmax([0.0, -np.inf]), [1.0, 0.0])
    with pytest.raises(ValueError, match="all -inf"):
        softmax([[0.0, 1.0], [-np.inf, -np.inf]])


@given(st.floats(0.05, 20), hnp.arrays(np.float64, 5, elements=st.floats(-10, 10)))
@settings(deadline=None)
def test_temperature_divides_the_scores(tau, x):
    np.testing.assert_allclose(softmax(x, temperature=tau), softmax(x / tau), atol=1e-12)


def test_temperature_extremes():
    x = np.array([1.0, 3.0, 2.0])
    np.testing.assert_array_equal(softmax(x, temperature=1e-300), [0.0, 1.0, 0.0])  # cold: argmax
    np.testing.assert_allclose(softmax(x, temperature=1e6), np.full(3, 1 / 3), atol=1e-6)  # hot: uniform
    assert entropy(softmax(x, temperature=0.5)) < entropy(softmax(x)) < entropy(softmax(x, temperature=2))


@given(hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(-30, 30)))
@settings(deadline=None)
def test_entropy_between_zero_and_log_n(x):
    p = softmax(x)
    h = entropy(p)
    assert -1e-12 <= h <= math.log(len(p)) + 1e-12
    expected = torch.distributions.Categorical(probs=torch.from_numpy(p)).entropy().item()
    assert h == pytest.approx(expected, abs=1e-9)


def test_entropy_of_one_hot_and_zeros():
    assert entropy([0.0, 1.0, 0.0]) == 0.0
    assert entropy([0.5, 0.5, 0.0]) == pytest.approx(math.log(2))
    np.testing.assert_allclose(entropy(np.eye(3), axis=0), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: softmax(["a", "b"]), TypeError, "real numbers"),
    (lambda: softmax(3.0), ValueError, "single number"),
    (lambda: softmax([]), ValueError, "empty"),
    (lambda: softmax([1.0, np.nan]), ValueError, r"NaN or \+infinity \(at index \[\[1\]\]\)"),
    (lambda: softmax([1.0, np.inf]), ValueError, r"\+infinity"),
    (lambda: softmax([[1.0, 2.0]], axis=2), ValueError, r"axis=2 is out of range for x.shape=\(1, 2\)"),
    (lambda: softmax([1.0], axis=0.5), TypeError, "axis=0.5"),
    (lambda: softmax([1.0], temperature=0), ValueError, "temperature=0"),
    (lambda: softmax([1.0], temperature=-1.0), ValueError, "positive"),
    (lambda: entropy([0.5, 0.6]), ValueError, "sums to 1.1"),
    (lambda: entropy([1.5, -0.5]), ValueError, "negative entry"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
