"""Chapter 4: why attention divides its scores by ``sqrt(d_k)``.

If the ``d_k`` components of a query ``q`` and a key ``k`` are independent, with mean 0
and variance 1, then ``q·k`` is a sum of ``d_k`` independent products, each with mean 0
and variance 1, so ``Var(q·k) = d_k``: the scores spread out like ``sqrt(d_k)``.
Softmax of widely spread scores is nearly one-hot, and a one-hot softmax passes almost
no gradient back. Dividing by ``sqrt(d_k)`` brings the variance back to 1 whatever
``d_k`` is (Vaswani et al. 2017, section 3.2.1, footnote 4).

(The often-quoted version "for random *unit* vectors" is a different statement: two
random directions in ``d`` dimensions have ``Var(q·k) = 1/d``, which shrinks.)

Shape vocabulary: ``d_k`` is the length of queries and keys; ``T_q`` queries and
``T_k`` keys; a score table is ``(T_q, T_k)``.

The module holds the experiments, which return numbers (:func:`scaled_scores`,
:func:`dot_product_variance`, :func:`saturation`); the chapter's d_k explorer, which
draws them, is :mod:`dotlab.score_explorer`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from dotlab._validate import as_array
from dotlab.softmax import entropy

__all__ = ["Saturation", "dot_product_samples", "dot_product_variance", "saturation", "scaled_scores"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive whole number")
    return int(value)


def _scale(scale, d: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"scale={scale!r} must be a finite number (default 1/sqrt(d) = {1 / math.sqrt(d):.4g})")
    return float(scale)


def scaled_scores(q, k, scale: float | None = None) -> np.ndarray:
    """Every query's dot product with every key, divided by ``sqrt(d_k)``.

    ``S = Q Kᵀ / sqrt(d_k)``: entry ``[i, j]`` is ``q_i · k_j / sqrt(d_k)``.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d_k)
    k : array_like, shape (..., T_k, d_k)
        Leading (batch, head) axes broadcast as in ``numpy.matmul``.
    scale : float, optional
        Multiplies the dot products; default ``1 / sqrt(d_k)``.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, T_k)

    Raises
    ------
    ValueError
        If ``q`` or ``k`` is not at least 2-D, or their last axes differ.

    Examples
    --------
    >>> scaled_scores([[1.0, 2.0, 3.0, 4.0]], [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]])
    array([[0.5, 4.5]])
    """
    q, k = as_array(q, "q"), as_array(k, "k")
    for name, arr, rows in (("q", q, "T_q"), ("k", k, "T_k")):
        if arr.ndim < 2:
            raise ValueError(f"{name} must have shape (..., {rows}, d_k), but {name}.shape={arr.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q.shape={q.shape} and k.shape={k.shape} must match on the last axis (d_k): "
            "each score is a dot product of a query with a key"
        )
    # Scale the (T_q, d_k) queries rather than the (T_q, T_k) scores: the same numbers up
    # to rounding, without a second pass over the largest array in attention.
    return (q * q.dtype.type(_scale(scale, q.shape[-1]))) @ np.swapaxes(k, -1, -2)


def dot_product_samples(d: int, n_samples: int, *, unit: bool = False, rng=None) -> np.ndarray:
    """``n_samples`` dot products of independent random vector pairs in ``d`` dimensions.

    Components are independent standard normal (mean 0, variance 1). With ``unit=True``
    each vector is then divided by its length, which makes it a uniformly random
    direction (the normal distribution looks the same from every direction).

    Parameters
    ----------
    d, n_samples : int
    unit : bool, default False
    rng : numpy.random.Generator or int, optional
        A generator, or a seed for a new one.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)

    Examples
    --------
    >>> dot_product_samples(64, 3, rng=0).shape
    (3,)
    """
    d, n_samples = _positive_int(d, "d"), _positive_int(n_samples, "n_samples")
    rng = np.random.default_rng(rng)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return np.einsum("nd,nd->n", q, k)  # row i of q with row i of k: one dot product per pair


def dot_product_variance(d: int, n_samples: int = 20_000, *, unit: bool = False, seed: int = 0) -> float:
    """The variance experiment: the sample variance of ``q·k`` over random pairs.

    Theory says ``d`` for independent unit-variance components, and ``1/d`` for random
    unit vectors; this measures it.

    Parameters
    ----------
    d : int
        Dimension of the vectors (``d_k``).
    n_samples : int, default 20,000
        Number of independent pairs. The estimate's relative standard error is about
        ``sqrt(2 / n_samples)``: 1% at the default.
    unit : bool, default False
        Use random unit vectors instead of unit-variance components.
    seed : int, default 0

    Returns
    -------
    float

    Examples
    --------
    >>> round(dot_product_variance(64), -1)               # theory: 64
    60.0
    >>> round(dot_product_variance(64, unit=True) * 64, 1)   # theory: 1/64
    1.0
    """
    return float(np.var(dot_product_samples(d, n_samples, unit=unit, rng=seed)))


# -- saturation: entropy and gradient against d_k ---------------------------------------


@dataclass(frozen=True)
class Saturation:
    """How peaked softmax gets over random scores, and how much gradient it passes back.

    Attributes
    ----------
    d_k : int
    scaled : bool
        Whether the scores were divided by ``sqrt(d_k)``.
    entropy : float
        Mean entropy of the weights, in nats (``log n_keys`` is uniform, 0 is one-hot).
    max_weight : float
        Mean of each query's largest weight (1 is one-hot).
    grad_scores : float
        Median over queries of ``|∂L/∂s|``, the gradient reaching the scores.
    grad_scores_mean : float
        The mean of the same, pulled up by the few queries whose top scores nearly tie.
    grad_query : float
        Median over queries of ``|∂L/∂q|``, the gradient reaching the query vector.
    """

    d_k: int
    scaled: bool
    entropy: float
    max_weight: float
    grad_scores: float
    grad_scores_mean: float
    grad_query: float


def saturation(d_k: int, *, scaled: bool = True, n_keys: int = 16, n_queries: int = 1000, seed: int = 0) -> Saturation:
    """Measure softmax saturation at one ``d_k`` with PyTorch autograd.

    Each of ``n_queries`` random queries is scored against its own ``n_keys`` random
    keys (standard normal components); the weights ``w = softmax(s)`` feed a loss
    ``L = Σ_j w_j g_j`` with a random upstream gradient ``g`` (standing in for whatever
    the rest of the network sends back), and autograd returns ``∂L/∂s`` and ``∂L/∂q``.
    Medians, not means: with unscaled scores a few queries whose top two scores almost
    tie keep a large gradient and would hide that the typical query gets almost none.

    Examples
    --------
    >>> s = saturation(256, scaled=False, n_queries=200)
    >>> s.max_weight > 0.8, s.grad_scores < 0.05
    (True, True)
    >>> saturation(256, n_queries=200).grad_scores > 0.2
    True
    """
    import torch

    d_k, n_keys, n_queries = (_positive_int(v, n) for v, n in ((d_k, "d_k"), (n_keys, "n_keys"), (n_queries, "n_queries")))
    gen = torch.Generator().manual_seed(seed)
    # float32, as models train: drawing 1000 x 16 x 1024 numbers is four times faster
    # than in float64, and the smallest medians measured (about 1e-5) are far above its
    # resolution.
    q = torch.randn(n_queries, d_k, generator=gen, requires_grad=True)
    k = torch.randn(n_queries, n_keys, d_k, generator=gen)
    g = torch.randn(n_queries, n_keys, generator=gen)
    s = torch.einsum("nd,njd->nj", q, k)  # (n_queries, d_k) x (n_queries, n_keys, d_k) -> (n_queries, n_keys)
    if scaled:
        s = s / math.sqrt(d_k)
    s.retain_grad()
    w = torch.softmax(s, dim=-1)
    (w * g).sum().backward()
    w = w.detach().numpy()
    return Saturation(
        d_k=d_k,
        scaled=bool(scaled),
        entropy=float(np.mean(entropy(w))),
        max_weight=float(w.max(axis=-1).mean()),
        grad_scores=float(s.grad.norm(dim=-1).median()),
        grad_scores_mean=float(s.grad.norm(dim=-1).mean()),
        grad_query=float(q.grad.norm(dim=-1).median()),
    )
