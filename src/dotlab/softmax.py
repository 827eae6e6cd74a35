"""Chapter 4: softmax, the function that turns scores into weights, and its entropy.

Shape vocabulary: ``x`` holds scores (logits) of any shape; softmax normalises along one
axis, by default the last, so each slice along it becomes a probability distribution
over ``n`` entries. Attention applies it to each row of a ``(T_q, T_k)`` score table.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dotlab._validate import _describe

__all__ = ["entropy", "log_softmax", "softmax"]


def _logits(x, name: str = "x") -> np.ndarray:
    """``x`` as a float array of scores; ``-inf`` is allowed (it means "never pick me")."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name}={_describe(x)} cannot be read as an array of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}={_describe(x)} must hold real numbers, but its elements have dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name}={_describe(x)} is a single number; softmax needs at least one axis to normalise along")
    if arr.size == 0:
        raise ValueError(f"{name} is empty ({name}.shape={arr.shape}); there is nothing to normalise")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if np.isnan(arr).any() or np.isposinf(arr).any():
        bad = np.argwhere(np.isnan(arr) | np.isposinf(arr))[:3].tolist()
        raise ValueError(f"{name} contains NaN or +infinity (at index {bad}); only -inf has a meaning here (weight 0)")
    return arr


def _axis(arr: np.ndarray, axis, name: str = "x") -> int:
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"axis={axis!r} must be a whole number")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis={axis} is out of range for {name}.shape={arr.shape} ({arr.ndim} axes)")
    return int(axis) % arr.ndim


def _temperature(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"temperature={value!r} must be a positive finite number (1 leaves the scores as they are)")
    return float(value)


def softmax(x, axis: int = -1, *, temperature: float = 1.0) -> np.ndarray:
    """Turn scores into positive weights that sum to 1 along ``axis``.

    ``softmax(x)_i = exp(x_i / τ) / Σ_j exp(x_j / τ)``, with temperature ``τ``.
    Subtracting the largest score first changes nothing mathematically (the factor
    ``exp(-max)`` cancels between numerator and denominator) but keeps every ``exp``
    at most 1, so scores of 1e4 do not overflow to ``inf / inf = nan``.

    Parameters
    ----------
    x : array_like
        Scores (logits). ``-inf`` is allowed and gets weight exactly 0.
    axis : int, default -1
        The axis to normalise along.
    temperature : float, default 1.0
        Divides the scores. Below 1 sharpens the weights toward the largest score
        (toward one-hot as ``τ → 0``); above 1 flattens them toward uniform.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; non-negative, summing to 1 along ``axis``.

    Raises
    ------
    ValueError
        If ``x`` holds NaN or ``+inf``, is empty, if a slice along ``axis`` is all
        ``-inf`` (no entry may take part, so the weights would be 0/0), or if the
        temperature is not positive.
    TypeError
        If ``x`` does not hold real numbers.

    Examples
    --------
    >>> softmax([1.0, 2.0, 3.0]).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> softmax([10_000.0, 0.0])   # the naive formula gives nan here
    array([1., 0.])
    >>> softmax([1.0, 2.0, 3.0], temperature=10).round(4)   # hot: nearly uniform
    array([0.3006, 0.3322, 0.3672])
    >>> softmax([[1, 1], [0, -np.inf]], axis=1)
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    arr = _logits(x)
    axis = _axis(arr, axis)
    tau = _temperature(temperature)
    top = arr.max(axis=axis, keepdims=True)
    if np.isneginf(top).any():
        where = np.argwhere(np.isneginf(top))[0].tolist()
        raise ValueError(
            f"the slice of x at {where} (axis {axis} collapsed) is all -inf: no entry may take part, so its "
            "weights would be 0/0. Attention gives such a fully masked row an all-zero output instead."
        )
    # Shift first, then divide: (x - max) / τ is never positive, so a tiny τ gives
    # -inf (weight 0) rather than inf - inf.
    shifted = (arr - top) / tau
    e = np.exp(shifted)  # every value in (0, 1], the maximum exactly 1: the sum is at least 1
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """Logarithm of :func:`softmax`, computed without taking ``log`` of a rounded-off 0.

    ``log softmax(x)_i = x_i - max(x) - log Σ_j exp(x_j - max(x))``.

    Examples
    --------
    >>> log_softmax([0.0, 1000.0]).round(3)   # log(softmax) would give -inf for the first
    array([-1000.,     0.])
    """
    arr = _logits(x)
    axis = _axis(arr, axis)
    top = arr.max(axis=axis, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError("a slice of x along the axis is all -inf: its log-probabilities are undefined")
    shifted = arr - top
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def entropy(p, axis: int = -1) -> np.ndarray | float:
    """Shannon entropy ``H(p) = -Σ_i p_i log p_i`` in nats, along ``axis``.

    It measures how spread out a distribution is: 0 for a one-hot distribution (all
    weight on one entry), ``log n`` for the uniform distribution over ``n`` entries.
    Entries equal to 0 contribute 0 (the limit of ``p log p`` as ``p → 0``), not the
    ``0 · (-inf) = nan`` that the formula would compute.

    Parameters
    ----------
    p : array_like
        Probabilities: non-negative, summing to 1 along ``axis``.
    axis : int, default -1

    Returns
    -------
    float or numpy.ndarray
        A float for a 1-D ``p``, otherwise one entropy per slice (``axis`` removed).

    Raises
    ------
    ValueError
        If ``p`` has a negative entry or a slice does not sum to 1 (within 1e-6).

    Examples
    --------
    >>> entropy([0.25, 0.25, 0.25, 0.25])   # uniform over 4: log 4
    1.386
    >>> entropy([1.0, 0.0, 0.0])
    0.0
    >>> entropy([[0.5, 0.5], [0.9, 0.1]]).round(4)
    array([0.6931, 0.3251])
    """
    arr = _logits(p, "p")
    axis = _axis(arr, axis, "p")
    if np.isneginf(arr).any() or (arr < 0).any():
        raise ValueError(f"p has a negative entry (min {arr.min()}); probabilities are never negative")
    totals = arr.sum(axis=axis)
    if not np.allclose(totals, 1.0, rtol=0, atol=1e-6):
        worst = float(np.ravel(totals)[np.argmax(np.abs(np.ravel(totals) - 1))])
        raise ValueError(f"p must sum to 1 along axis {axis}, but a slice of p.shape={arr.shape} sums to {worst}")
    logs = np.zeros_like(arr)
    np.log(arr, out=logs, where=arr > 0)  # 0 log 0 = 0: leave those logs at 0
    h = -(arr * logs).sum(axis=axis)
    h = np.maximum(h, 0.0)  # -0.0 from a one-hot row reads oddly
    return float(h) if h.ndim == 0 else h
