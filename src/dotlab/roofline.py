"""Chapter 7: the roofline, arithmetic against memory traffic.

A processor does at most ``peak`` FLOPs per second and moves at most ``bandwidth``
bytes per second between memory and its arithmetic units. A computation that does
``I`` FLOPs for every byte it moves (its *arithmetic intensity*) can therefore run at
no more than ``min(peak, I · bandwidth)`` FLOP/s (Williams, Waterman and Patterson
2009, "Roofline: an insightful visual performance model"). Below the *ridge*
``peak / bandwidth`` a computation waits for memory; above it, for arithmetic.

This module gives the intensity of a matrix product, the only kind of computation the
course counts, and measures the two roofs of the machine it runs on: how fast it
multiplies matrices (:func:`measure_matmul_flops`) and how fast it copies memory
(:func:`measure_bandwidth`). Both take well under a second at their default sizes, so a
page can draw the reader's own roofline when it runs, and a benchmark can reuse them.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from dotlab.cost import _count, _positive_real, matmul_count

__all__ = [
    "Roofline",
    "matmul_intensity",
    "measure_bandwidth",
    "measure_matmul_flops",
    "measure_roofline",
    "time_matmul",
]


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


# -------------------------------------------------------------------------- measuring


def _best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed warm-up call.

    The minimum, not the mean: every source of noise (another process, a page fault,
    a frequency change) only ever makes a run slower, so the fastest run is the
    closest to what the hardware can do.
    """
    fn()  # warm-up: first touch of memory, thread pools starting, caches filling
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    # A clock that did not advance would give an infinite speed; never return that.
    return max(best, 1e-9)


def time_matmul(m: int, k: int, n: int, *, repeats: int = 5, dtype="float32", seed: int = 0) -> float:
    """Seconds one ``(m, k) @ (k, n)`` NumPy product takes: the fastest of ``repeats`` runs.

    The matrices are random and allocated once, outside the timing, as is the result.
    Dividing :func:`dotlab.cost.matmul_count` ``(m, k, n).flops`` by this gives the
    FLOP/s the product attained; :func:`matmul_intensity` says which roof limits it.

    Parameters
    ----------
    m, k, n : int
        The shapes, each a whole number >= 1.
    repeats : int, default 5
        Timed runs (after one untimed warm-up), >= 1.
    dtype : str or numpy dtype, default "float32"
        A floating-point type.
    seed : int, default 0
        Seed for the random matrices (their values do not change the speed).

    Returns
    -------
    float
        Seconds, positive and finite.

    Raises
    ------
    ValueError, WholeNumberError
        If a size or ``repeats`` is not a whole number >= 1.
    TypeError
        If ``dtype`` is not a floating-point type.

    Examples
    --------
    >>> seconds = time_matmul(1, 256, 256, repeats=2)
    >>> 0 < seconds < 1
    True
    >>> time_matmul(4, 0, 4)
    Traceback (most recent call last):
    ...
    ValueError: k=0 must be at least 1
    """
    m, k, n = _count(m, "m"), _count(k, "k"), _count(n, "n")
    repeats = _count(repeats, "repeats")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype={dtype} must be a floating-point type such as 'float32' or 'float64'")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    return _best_time(lambda: np.matmul(a, b, out=out), repeats)


def measure_matmul_flops(n: int = 1024, *, repeats: int = 5, dtype="float32", seed: int = 0) -> float:
    """Measure the FLOP/s of this machine's matrix product, ``(n, n) @ (n, n)`` with NumPy.

    The product does ``2·n³`` FLOPs (:func:`dotlab.cost.matmul_count`); the answer is that
    divided by the fastest of ``repeats`` timed runs (:func:`time_matmul`). NumPy hands
    the product to its BLAS library, which uses every core it is allowed to, so this is
    close to the peak a program can reach on the CPU (for large enough ``n``: a small
    product spends much of its time starting up). At ``n = 1024`` in float32 one run
    takes tens of milliseconds on a laptop.

    Parameters
    ----------
    n : int, default 1024
        Side of the square matrices, >= 1.
    repeats : int, default 5
        Timed runs (after one untimed warm-up), >= 1.
    dtype : str or numpy dtype, default "float32"
        A floating-point type.
    seed : int, default 0
        Seed for the random matrices.

    Returns
    -------
    float
        FLOPs per second, positive and finite.

    Raises
    ------
    ValueError, WholeNumberError
        If ``n`` or ``repeats`` is not a whole number >= 1.
    TypeError
        If ``dtype`` is not a floating-point type.

    Examples
    --------
    >>> flops = measure_matmul_flops(64, repeats=2)
    >>> 0 < flops < float("inf")
    True
    >>> measure_matmul_flops(0)
    Traceback (most recent call last):
    ...
    ValueError: n=0 must be at least 1
    """
    n = _count(n, "n")  # named as the caller knows it, before time_matmul calls it m, k and n
    seconds = time_matmul(n, n, n, repeats=repeats, dtype=dtype, seed=seed)
    return matmul_count(n, n, n).flops / seconds


def measure_bandwidth(n_bytes: int = 2**26, *, repeats: int = 5, threads: int | None = None) -> float:
    """Measure this machine's memory bandwidth by copying ``n_bytes`` from one array to another.

    A copy reads every byte once and writes it once, so it moves ``2·n_bytes``; the
    answer is that divided by the fastest of ``repeats`` timed copies (the convention of
    the STREAM benchmark's "Copy"). The array should be larger than the processor's
    last-level cache, or the copy measures the cache instead of memory: the default,
    64 MiB, is larger than most. The copy is split across ``threads`` threads (NumPy
    releases the GIL while it copies), because one core alone often cannot keep the
    memory busy, and the matrix product measured by :func:`measure_matmul_flops` uses
    every core too.

    Parameters
    ----------
    n_bytes : int, default 2**26
        Bytes in each of the two arrays, >= 1.
    repeats : int, default 5
        Timed copies (after one untimed warm-up), >= 1.
    threads : int, optional
        Threads sharing the copy; by default the number of CPUs this process may use.

    Returns
    -------
    float
        Bytes per second, positive and finite.

    Raises
    ------
    ValueError, WholeNumberError
        If ``n_bytes``, ``repeats`` or ``threads`` is not a whole number >= 1.

    Examples
    --------
    >>> bandwidth = measure_bandwidth(2**16, repeats=2)
    >>> 0 < bandwidth < float("inf")
    True
    >>> measure_bandwidth(2**16, threads=0)
    Traceback (most recent call last):
    ...
    ValueError: threads=0 must be at least 1
    """
    n_bytes, repeats = _count(n_bytes, "n_bytes"), _count(repeats, "repeats")
    threads = _count(_cpu_count() if threads is None else threads, "threads")
    src = np.ones(n_bytes, dtype=np.uint8)
    dst = np.empty_like(src)
    bounds = np.linspace(0, n_bytes, min(threads, n_bytes) + 1).astype(int)
    pieces = [(dst[lo:hi], src[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(max_workers=len(pieces)) as pool:

        def copy():
            for future in [pool.submit(np.copyto, d, s) for d, s in pieces]:
                future.result()

        seconds = _best_time(copy, repeats)
    return 2 * n_bytes / seconds


def _cpu_count() -> int:
    """CPUs this process may run on (fewer than the machine has, in a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- the roof


@dataclass(frozen=True)
class Roofline:
    """A machine's two roofs: peak arithmetic and memory bandwidth.

    Parameters
    ----------
    peak_flops : float
        FLOPs per second the machine can do, > 0.
    bandwidth : float
        Bytes per second it can move between memory and the processor, > 0.

    Examples
    --------
    >>> roof = Roofline(peak_flops=100e9, bandwidth=20e9)
    >>> roof.ridge  # FLOPs per byte needed to keep the arithmetic busy
    5.0
    >>> roof.attainable(1.0) / 1e9, roof.attainable(50.0) / 1e9
    (20.0, 100.0)
    >>> roof.bound(1.0), roof.bound(50.0)
    ('memory', 'compute')
    """

    peak_flops: float
    bandwidth: float

    def __post_init__(self):
        _positive_real(self.peak_flops, "peak_flops")
        _positive_real(self.bandwidth, "bandwidth")

    @property
    def ridge(self) -> float:
        """The intensity (FLOPs per byte) at which the two roofs meet."""
        return self.peak_flops / self.bandwidth

    def attainable(self, intensity):
        """The most FLOP/s a computation of this intensity can reach: ``min(peak, bandwidth · I)``.

        Works on a number or an array of intensities.
        """
        intensity = np.asarray(intensity, dtype=float)
        if np.any(intensity < 0) or not np.all(np.isfinite(intensity)):
            raise ValueError(f"intensity={intensity!r} must hold finite numbers >= 0 (FLOPs per byte)")
        result = np.minimum(self.peak_flops, self.bandwidth * intensity)
        return float(result) if result.ndim == 0 else result

    def bound(self, intensity: float) -> str:
        """``"memory"`` below the ridge, where the computation waits for bytes; else ``"compute"``."""
        intensity = _positive_real(intensity, "intensity", allow_zero=True)
        return "memory" if intensity < self.ridge else "compute"


def measure_roofline(matmul_n: int = 1024, n_bytes: int = 2**26, repeats: int = 5) -> Roofline:
    """Measure both roofs of this machine: :func:`measure_matmul_flops` and :func:`measure_bandwidth`.

    Examples
    --------
    >>> roof = measure_roofline(matmul_n=64, n_bytes=2**16, repeats=1)
    >>> roof.ridge > 0
    True
    """
    return Roofline(
        peak_flops=measure_matmul_flops(matmul_n, repeats=repeats),
        bandwidth=measure_bandwidth(n_bytes, repeats=repeats),
    )
