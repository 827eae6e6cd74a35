"""Chapter 3: a neuron is a dot product, a layer is many, a batch is a matrix product.

Shape vocabulary: ``d_in`` input features, ``d_out`` output features (neurons in the
layer), ``B`` inputs in a batch, ``T`` tokens, ``V`` vocabulary size, ``d_model`` the
width of a token vector. Weights use PyTorch's ``nn.Linear`` layout: ``weight`` has
shape ``(d_out, d_in)``, one row per neuron, so row ``j`` *is* neuron ``j``'s template.
"""

from __future__ import annotations

import numbers

import numpy as np

from dotlab._validate import as_array, same_length

__all__ = ["embedding_lookup", "linear", "matmul_from_dots", "neuron", "one_hot", "relu"]


def relu(z):
    """The rectified linear unit: ``max(z, 0)``, element by element.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(z, 0.0)


def neuron(x, w, b: float = 0.0, activation=relu) -> float:
    """One neuron: how much does ``x`` look like the template ``w``? ``f(w·x + b)``.

    The dot product scores the match, the bias ``b`` shifts the threshold at which the
    neuron starts to respond, and the nonlinearity ``f`` (ReLU unless told otherwise)
    keeps only the part above that threshold.

    Parameters
    ----------
    x, w : array_like, shape (d_in,)
        The input and the neuron's weights.
    b : float, default 0.0
    activation : callable or None, default relu
        Applied to the pre-activation ``z = w·x + b``; None returns ``z`` itself.

    Returns
    -------
    float

    Examples
    --------
    >>> neuron([1.0, 0.0, 1.0], w=[2.0, -1.0, 1.0], b=-1.0)  # z = 3 - 1 = 2
    2.0
    >>> neuron([0.0, 1.0, 0.0], w=[2.0, -1.0, 1.0], b=-1.0)  # z = -2: silent
    0.0
    """
    x, w = as_array(x, "x", ndim=1), as_array(w, "w", ndim=1)
    same_length(x, w, ("x", "w"))
    z = float(w @ x) + float(b)
    return z if activation is None else float(activation(z))


def linear(x, weight, bias=None) -> np.ndarray:
    """A fully connected layer, ``x Wᵀ + b``, with ``nn.Linear``'s weight layout.

    Each output feature ``j`` is one neuron: the dot product of the input with row ``j``
    of ``weight``, plus ``bias[j]``. For one input that is ``W x + b``; for a batch of
    inputs stacked as rows it is one matrix product ``X Wᵀ``.

    Parameters
    ----------
    x : array_like, shape (..., d_in)
        One input ``(d_in,)``, or a batch ``(B, d_in)``, or any leading shape.
    weight : array_like, shape (d_out, d_in)
        One row per output feature (PyTorch's ``nn.Linear.weight`` layout).
    bias : array_like, shape (d_out,), optional

    Returns
    -------
    numpy.ndarray, shape (..., d_out)

    Raises
    ------
    ValueError
        If ``x``'s last axis is not ``d_in``, ``weight`` is not 2-D, or ``bias`` is not
        ``(d_out,)``.

    Examples
    --------
    >>> W = [[1, 0, -1], [2, 1, 0]]  # two neurons, three inputs
    >>> linear([1, 2, 3], W, bias=[0.5, 0])
    array([-1.5,  4. ])
    >>> linear([[1, 2, 3], [0, 0, 1]], W)  # a batch: X Wᵀ
    array([[-2.,  4.],
           [-1.,  0.]])
    """
    x = as_array(x, "x")
    weight = as_array(weight, "weight", ndim=2)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x.shape={x.shape} and weight.shape={weight.shape} do not fit: weight is (d_out, d_in), "
            f"so x's last axis must be d_in={weight.shape[1]}"
        )
    out = x @ weight.T  # (..., d_in) @ (d_in, d_out) -> (..., d_out)
    if bias is not None:
        bias = as_array(bias, "bias", ndim=1)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias.shape={bias.shape} must be (d_out,)=({weight.shape[0]},) for weight.shape={weight.shape}")
        out = out + bias
    return out


def matmul_from_dots(A, B) -> np.ndarray:
    """Matrix product built the slow way: one explicit dot product per output entry.

    ``C[i, j] = A[i, :] · B[:, j]``: row ``i`` of ``A`` against column ``j`` of ``B``.
    For ``(M, K) @ (K, N)`` that is ``M·N`` dot products, each of length ``K``, which is
    exactly what :func:`dotlab.cost.matmul_count` counts. The answer equals ``A @ B``;
    only the speed differs.

    Parameters
    ----------
    A : array_like, shape (M, K)
    B : array_like, shape (K, N)

    Returns
    -------
    numpy.ndarray, shape (M, N)

    Raises
    ------
    ValueError
        If the inner sizes differ or an input is not 2-D.

    Examples
    --------
    >>> matmul_from_dots([[2, 3, 1]], [[4], [-1], [5]])  # one dot product
    array([[10.]])
    >>> matmul_from_dots([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    array([[19., 22.],
           [43., 50.]])
    """
    A, B = as_array(A, "A", ndim=2), as_array(B, "B", ndim=2)
    M, K = A.shape
    if B.shape[0] != K:
        raise ValueError(
            f"A.shape={A.shape} and B.shape={B.shape} do not fit: A's columns ({K}) must match B's rows "
            f"({B.shape[0]}), since each output entry pairs a row of A with a column of B"
        )
    N = B.shape[1]
    C = np.empty((M, N), dtype=np.result_type(A, B))
    for i in range(M):
        for j in range(N):
            C[i, j] = np.sum(A[i, :] * B[:, j])  # one dot product of length K
    return C


def _token_ids(token_ids, vocab_size: int) -> np.ndarray:
    ids = np.asarray(token_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"token_ids must be whole numbers (an integer array), but their dtype is {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)].ravel()[:3].tolist()
        raise ValueError(f"token ids {bad} are outside 0..{vocab_size - 1} (the vocabulary has V={vocab_size} rows)")
    return ids


def one_hot(token_ids, vocab_size: int) -> np.ndarray:
    """One row per token: all zeros except a 1 in the token's column.

    Parameters
    ----------
    token_ids : array_like of int, shape (T,) or any shape
    vocab_size : int
        ``V``: how many columns.

    Returns
    -------
    numpy.ndarray of float, shape (..., V)

    Raises
    ------
    ValueError
        If an id is negative or ``>= V`` (NumPy would quietly read a negative id from the
        end of the table).
    TypeError
        If the ids are not integers.

    Examples
    --------
    >>> one_hot([2, 0], 4)
    array([[0., 0., 1., 0.],
           [1., 0., 0., 0.]])
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral) or vocab_size < 1:
        raise ValueError(f"vocab_size={vocab_size!r} must be a whole number >= 1")
    return _one_hot(token_ids, int(vocab_size))


def _one_hot(token_ids, vocab_size: int) -> np.ndarray:
    ids = _token_ids(token_ids, vocab_size)
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float64)


def embedding_lookup(token_ids, embedding) -> np.ndarray:
    """Token vectors as a matrix product: ``one_hot(ids) @ E``.

    Each output row is a dot product of a one-hot row with every column of ``E``, and
    all but one term of it is ``0 × something``: the product just copies row ``id`` of
    ``E``. Real models skip the arithmetic and index, ``E[ids]``; the answer is the same.

    Parameters
    ----------
    token_ids : array_like of int, shape (T,)
    embedding : array_like, shape (V, d_model)

    Returns
    -------
    numpy.ndarray, shape (T, d_model)

    Examples
    --------
    >>> E = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])  # V=3, d_model=2
    >>> embedding_lookup([2, 0, 2], E)
    array([[4., 5.],
           [0., 1.],
           [4., 5.]])
    """
    E = as_array(embedding, "embedding", ndim=2)
    return _one_hot(token_ids, E.shape[0]) @ E  # (T, V) @ (V, d_model) -> (T, d_model)
