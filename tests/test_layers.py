"""dotlab.layers: neurons, layers and matrix products agree with NumPy and PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.cost import matmul_count
from dotlab.layers import embedding_lookup, linear, matmul_from_dots, neuron, one_hot, relu
from strategies import finite

torch.set_num_threads(1)


@st.composite
def matmul_pairs(draw, max_side=6):
    m, k, n = (draw(st.integers(1, max_side)) for _ in range(3))
    a = draw(hnp.arrays(np.float64, (m, k), elements=finite))
    b = draw(hnp.arrays(np.float64, (k, n), elements=finite))
    return a, b


def test_a_neuron_is_a_dot_product_plus_bias_then_relu():
    w, b = np.array([0.5, -1.0, 2.0]), -0.5
    for x in ([1.0, 0.0, 1.0], [0.0, 3.0, 0.0]):
        z = float(w @ np.array(x)) + b
        assert neuron(x, w, b) == max(z, 0.0)
        assert neuron(x, w, b, activation=None) == z
    assert neuron([1, 1], [1, 1], activation=np.tanh) == pytest.approx(np.tanh(2.0))


def test_relu():
    np.testing.assert_array_equal(relu(np.array([-1.0, 0.0, 2.5])), [0.0, 0.0, 2.5])


@given(matmul_pairs())
def test_matmul_from_dots_equals_the_operator(ab):
    a, b = ab
    np.testing.assert_allclose(matmul_from_dots(a, b), a @ b, rtol=1e-9, atol=1e-6)


def test_matmul_from_dots_does_what_matmul_count_counts(monkeypatch):
    """M·N dot products, each of length K: count the calls to the inner product."""
    import dotlab.layers as layers

    lengths = []
    real_sum = np.sum

    def counting_sum(x, *args, **kwargs):
        lengths.append(np.shape(x)[0])
        return real_sum(x, *args, **kwargs)

    monkeypatch.setattr(layers.np, "sum", counting_sum)
    A, B = np.ones((3, 5)), np.ones((5, 4))
    matmul_from_dots(A, B)
    monkeypatch.undo()
    count = matmul_count(3, 5, 4)
    assert len(lengths) == count.dot_products and set(lengths) == {count.length}
    assert sum(lengths) == count.macs


def test_linear_agrees_with_torch_nn_linear():
    torch.manual_seed(0)
    layer = torch.nn.Linear(in_features=7, out_features=3)
    x = torch.randn(5, 7)
    W, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert W.shape == (3, 7)  # (out_features, in_features): one row per neuron
    with torch.no_grad():
        want = layer(x).numpy()
    np.testing.assert_allclose(linear(x.numpy(), W, b), want, rtol=1e-5, atol=1e-6)
    # each output is one neuron: row j of W dotted with the input, plus b[j]
    np.testing.assert_allclose(
        [[neuron(xi, W[j], b[j], activation=None) for j in range(3)] for xi in x.numpy()], want, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(matmul_from_dots(x.numpy(), W.T) + b, want, rtol=1e-5, atol=1e-6)


def test_linear_keeps_leading_axes_and_works_without_bias():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4))
    out = linear(x, W)
    assert out.shape == (2, 3, 5)
    np.testing.assert_allclose(out[1, 2], W @ x[1, 2])
    assert linear(x[0, 0], W).shape == (5,)


@pytest.mark.parametrize("call, error, words", [
    (lambda: linear(np.ones(3), np.ones((2, 4))), ValueError, "x.shape=(3,) and weight.shape=(2, 4)"),
    (lambda: linear(np.ones(4), np.ones((4, 2))), ValueError, "d_in=2"),
    (lambda: linear(np.ones(4), np.ones((2, 4)), bias=np.ones(4)), ValueError, "(2,)"),
    (lambda: linear(np.ones(4), np.ones(4)), ValueError, "2-D"),
    (lambda: matmul_from_dots(np.ones((2, 3)), np.ones((2, 3))), ValueError, "A.shape=(2, 3) and B.shape=(2, 3)"),
    (lambda: neuron([1, 2], [1, 2, 3]), ValueError, "(3,)"),
    (lambda: one_hot([0, 4], 4), ValueError, "[4]"),
    (lambda: one_hot([-1], 4), ValueError, "[-1]"),
    (lambda: one_hot([0.0, 1.0], 4), TypeError, "float64"),
    (lambda: one_hot([0], 0), ValueError, "vocab_size=0"),
    (lambda: embedding_lookup([3], np.ones((3, 2))), ValueError, "V=3"),
])
def test_bad_input_is_refused_by_name(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


@given(st.integers(1, 20), st.integers(1, 8), st.data())
def test_one_hot_times_embedding_is_row_selection(V, d_model, data):
    ids = data.draw(st.lists(st.integers(0, V - 1), min_size=1, max_size=12))
    E = data.draw(hnp.arrays(np.float64, (V, d_model), elements=finite))
    oh = one_hot(ids, V)
    assert oh.shape == (len(ids), V) and np.all(oh.sum(axis=1) == 1)
    np.testing.assert_array_equal(embedding_lookup(ids, E), E[ids])  # exact: every other term is 0·x


def test_embedding_lookup_agrees_with_torch_nn_embedding():
    torch.manual_seed(1)
    table = torch.nn.Embedding(10, 4)
    ids = torch.tensor([3, 1, 3, 9])
    with torch.no_grad():
        want = table(ids).numpy()
    np.testing.assert_array_equal(embedding_lookup(ids.numpy(), table.weight.detach().numpy()), want)
