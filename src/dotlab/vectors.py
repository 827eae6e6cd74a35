"""Chapter 1: the dot product of two vectors, and what it says about their geometry.

Shape vocabulary: a vector has ``d`` components; ``a`` and ``b`` are 1-D arrays of shape
``(d,)``.
"""

from __future__ import annotations

import math

import numpy as np

from dotlab._validate import as_array, nonzero, same_length

__all__ = ["angle_between", "dot", "dot_flops", "dot_loop", "norm", "project"]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = as_array(a, "a", ndim=1)
    b = as_array(b, "b", ndim=1)
    same_length(a, b)
    return a, b


def dot_loop(a, b) -> float:
    """Dot product written as the definition reads: multiply pairs, add them up.

    Parameters
    ----------
    a, b : array_like, shape (d,)
        Two vectors of the same length.

    Returns
    -------
    float
        ``a[0]*b[0] + a[1]*b[1] + ... + a[d-1]*b[d-1]``.

    Raises
    ------
    ValueError
        If the lengths differ, a vector is empty or holds NaN/infinity.
    TypeError
        If an input does not hold numbers.

    Examples
    --------
    >>> dot_loop([2, 3, 1], [4, -1, 5])
    10.0
    """
    a, b = _pair(a, b)
    total = 0.0
    for x, y in zip(a.tolist(), b.tolist()):  # plain floats: the loop is the lesson
        total += x * y
    return total


def dot(a, b) -> float:
    """Dot product of two 1-D vectors of equal length, as a Python float.

    Parameters
    ----------
    a, b : array_like, shape (d,)
        Two vectors of the same length.

    Returns
    -------
    float
        The sum of the element-wise products.

    Raises
    ------
    ValueError
        If the lengths differ, a vector is not 1-D, is empty or holds NaN/infinity.
    TypeError
        If an input does not hold numbers.

    Examples
    --------
    >>> dot([2, 3, 1], [4, -1, 5])
    10.0
    >>> dot([1, 0], [0, 1])  # perpendicular
    0.0
    """
    a, b = _pair(a, b)
    return float(a @ b)


def norm(a) -> float:
    """Euclidean length of a 1-D vector: the square root of its dot product with itself.

    Parameters
    ----------
    a : array_like, shape (d,)

    Returns
    -------
    float
        ``sqrt(a · a)``, never negative.

    Examples
    --------
    >>> norm([3, 4])
    5.0
    """
    a = as_array(a, "a", ndim=1)
    # Divide by the largest component before squaring, so components of 1e200 do not
    # overflow to infinity (and 1e-200 do not vanish) on the way to the square root.
    scale = float(np.max(np.abs(a)))
    if scale == 0.0:
        return 0.0
    unit = a / scale
    return scale * math.sqrt(float(unit @ unit))


def angle_between(a, b, *, degrees: bool = False) -> float:
    """Angle between two non-zero vectors, from ``a·b = |a| |b| cos θ``.

    Parameters
    ----------
    a, b : array_like, shape (d,)
    degrees : bool, default False
        Return degrees instead of radians.

    Returns
    -------
    float
        θ in ``[0, π]`` (or ``[0, 180]`` with ``degrees=True``).

    Raises
    ------
    ValueError
        If either vector is the zero vector (it has no direction), or lengths differ.

    Examples
    --------
    >>> angle_between([1, 0], [0, 2], degrees=True)
    90.0
    >>> round(angle_between([1, 1], [-1, -1]), 6)  # opposed: π
    3.141593
    """
    a, b = _pair(a, b)
    na, nb = norm(a), norm(b)
    nonzero(na, "a")
    nonzero(nb, "b")
    # Rounding can push the ratio a hair past ±1, where arccos returns NaN.
    cos = min(1.0, max(-1.0, float(a @ b) / (na * nb)))
    theta = math.acos(cos)
    return math.degrees(theta) if degrees else theta


def project(a, onto) -> np.ndarray:
    """Vector projection of ``a`` onto the direction of ``onto``.

    ``proj = (a·onto / onto·onto) * onto``: the shadow ``a`` casts on the line through
    ``onto``. Its signed length is ``a·onto / |onto|``.

    Parameters
    ----------
    a, onto : array_like, shape (d,)

    Returns
    -------
    numpy.ndarray, shape (d,)

    Raises
    ------
    ValueError
        If ``onto`` is the zero vector or the lengths differ.

    Examples
    --------
    >>> project([2, 3], [1, 0])
    array([2., 0.])
    """
    a, onto = as_array(a, "a", ndim=1), as_array(onto, "onto", ndim=1)
    same_length(a, onto, ("a", "onto"))
    length_sq = float(onto @ onto)
    nonzero(length_sq, "onto")
    return (float(a @ onto) / length_sq) * onto


def dot_flops(d: int) -> int:
    """Floating-point operations in one dot product of length ``d``.

    ``d`` multiplications and ``d - 1`` additions: ``2d - 1``, which the course rounds
    to ``2d`` (one multiply-accumulate counts as two FLOPs).

    Examples
    --------
    >>> dot_flops(3)
    5
    """
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d={d!r} must be a positive whole number of components")
    return 2 * int(d) - 1
