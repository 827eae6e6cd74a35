"""Chapter 7: the roofline, arithmetic against memory traffic.

A processor does at most ``peak`` FLOPs per second and moves at most ``bandwidth``
bytes per second between memory and its arithmetic units. A computation that does
``I`` FLOPs for every byte it moves (its *arithmetic intensity*) can therefore run at
no more than ``min(peak, I · bandwidth)`` FLOP/s (Williams, Waterman and Patterson
2009, "Roofline: an insightful visual performance model"). Below the *ridge*
``peak / bandwidth`` a computation waits for memory; above it, for arithmetic.

This module gives the intensity of a matrix product, the only kind of computation the
course counts.
"""

from __future__ import annotations

from dotlab.cost import _count, _positive_real

__all__ = ["matmul_intensity"]


def matmul_intensity(m: int, k: int, n: int, bytes_per_value: float = 2) -> float:
    """FLOPs per byte of one matrix product ``(m, k) @ (k, n)``, each operand moved once.

    The product does ``2·m·k·n`` FLOPs (one MAC = 2 FLOPs, as in :mod:`dotlab.cost`).
    At best it reads each input once and writes the result once::

        bytes = bytes_per_value · (m·k + k·n + m·n)

    so the intensity grows with the sizes: ``2·n / (3·bytes_per_value)`` for a
    square ``n × n`` product, but under ``2 / bytes_per_value`` when ``m = 1`` (a
    matrix-vector product, which is what one decode step does to every weight matrix).

    Parameters
    ----------
    m, k, n : int
        The shapes: ``(m, k) @ (k, n) -> (m, n)``, each a whole number >= 1.
    bytes_per_value : int or float, default 2
        Bytes per number: 2 for float16/bfloat16, 4 for float32.

    Returns
    -------
    float
        FLOPs per byte moved.

    Raises
    ------
    ValueError, WholeNumberError
        If a size is not a whole number >= 1, or ``bytes_per_value`` is not > 0.

    Examples
    --------
    A decode step's matrix-vector product with a 4096 × 4096 float16 weight matrix:

    >>> round(matmul_intensity(1, 4096, 4096), 4)
    0.9995
    >>> matmul_intensity(1000, 4096, 4096)  # the same weights, a 1000-token prompt
    671.92
    >>> matmul_intensity(2, 3, 0)
    Traceback (most recent call last):
    ...
    ValueError: n=0 must be at least 1
    """
    m, k, n = _count(m, "m"), _count(k, "k"), _count(n, "n")
    bytes_per_value = _positive_real(bytes_per_value, "bytes_per_value")
    return 2 * m * k * n / (bytes_per_value * (m * k + k * n + m * n))
