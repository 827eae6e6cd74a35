"""Chapter 2's cheaper search: int8 quantisation, and recall to measure what it loses.

Shape vocabulary as in :mod:`dotlab.search`: ``d`` components per vector, a corpus
``(N, d)``, ``n`` queries ``(n, d)``. :func:`quantise_int8` stores each vector as one
byte per component and one scale, :func:`int8_dot` and :func:`int8_scores` compute dot
products from those bytes, and :func:`recall_at_k` says how much of the exact top-k
(:func:`dotlab.search.top_k`) a cheaper search still finds.
"""

from __future__ import annotations

import numpy as np

from dotlab._validate import as_array, same_length

__all__ = ["INT8_MAX", "dequantise_int8", "int8_dot", "int8_scores", "quantise_int8", "recall_at_k"]

#: Codes run from -127 to 127: symmetric, so 0 stays exactly 0 and the sign of every
#: component survives (-128 is left unused, as in most symmetric int8 schemes).
INT8_MAX = 127


def _vectors(x) -> np.ndarray:
    """A 1-D vector or a 2-D matrix of row vectors, as a finite float array."""
    arr = as_array(x, "x")
    if arr.ndim not in (1, 2):
        raise ValueError(f"x must be a vector (d,) or a matrix of row vectors (n, d), but x.shape={arr.shape}")
    return arr


def quantise_int8(x):
    """Store each vector as int8 codes and one float scale: ``x ≈ codes * scale``.

    Symmetric, per-vector: ``scale = max|x| / 127`` for each vector, and
    ``codes = round(x / scale)``, so every component becomes a whole number in
    ``[-127, 127]`` and takes one byte instead of four.

    Parameters
    ----------
    x : array_like, shape (d,) or (n, d)

    Returns
    -------
    codes : numpy.ndarray of int8, same shape as ``x``
    scale : float (for one vector) or numpy.ndarray of float32, shape (n,)
        One scale per vector. A zero vector gets codes 0 and scale 1.0 (any scale
        would reproduce it; 1.0 keeps the division harmless); so does a vector whose
        largest component is under 1.5e-36, too small for a float32 scale.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or 2-D, is empty or holds NaN/infinity.

    Examples
    --------
    >>> codes, scale = quantise_int8([0.5, -1.0, 0.25])
    >>> codes, round(scale, 6)
    (array([  64, -127,   32], dtype=int8), 0.007874)
    >>> codes * scale  # close to the original, not equal
    array([ 0.50393701, -1.        ,  0.2519685 ])
    """
    arr = _vectors(x)
    peak = np.max(np.abs(arr), axis=-1, keepdims=True)
    # A scale is stored as float32: below its smallest normal number (1.2e-38) it would
    # round to 0 or lose its digits, so such a vector is stored as the zero vector is.
    scale = peak / INT8_MAX
    scale = np.where(scale >= np.finfo(np.float32).tiny, scale, 1.0)
    codes = np.clip(np.rint(arr / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    scale = scale[..., 0]
    return (codes, float(scale)) if arr.ndim == 1 else (codes, scale.astype(np.float32))


def dequantise_int8(codes, scale) -> np.ndarray:
    """Turn int8 codes back into floats: ``codes * scale``, one scale per vector.

    Examples
    --------
    >>> dequantise_int8(np.array([[64, -127]], dtype=np.int8), [0.5])
    array([[ 32. , -63.5]])
    """
    codes = _int8(codes, "codes")
    scale = np.asarray(scale, dtype=np.float64)
    if codes.ndim == 2:
        if scale.shape != (codes.shape[0],):
            raise ValueError(f"scale.shape={scale.shape} must be ({codes.shape[0]},): one scale per row of "
                             f"codes.shape={codes.shape}")
        scale = scale[:, None]
    elif scale.ndim != 0:
        raise ValueError(f"one vector of codes takes one scale, but scale.shape={scale.shape}")
    return codes * scale


def _int8(q, name: str) -> np.ndarray:
    arr = np.asarray(q)
    if arr.dtype != np.int8:
        raise TypeError(f"{name} must hold int8 codes (from quantise_int8), but its dtype is {arr.dtype}")
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty vector (d,) or matrix (n, d), but {name}.shape={arr.shape}")
    return arr


def int8_dot(qa, scale_a, qb, scale_b) -> float:
    """Dot product of two int8-quantised vectors, accumulated in int32.

    ``a·b ≈ (scale_a · scale_b) · Σ qa_i qb_i``: the sum of code products is exact in
    int32 (each product is at most 127² = 16,129, so 2³¹ holds more than 100,000 of
    them), and the two scales are applied once, at the end. Accumulating in int8 instead
    would wrap around: ``127 · 127`` is already 16,129, which int8 stores as 1.

    Parameters
    ----------
    qa, qb : numpy.ndarray of int8, shape (d,)
        Codes from :func:`quantise_int8`.
    scale_a, scale_b : float
        Their scales.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If the codes are not int8.
    ValueError
        If the lengths differ.

    Examples
    --------
    >>> q = np.array([127, 127, 127, 127], dtype=np.int8)
    >>> int8_dot(q, 1.0, q, 1.0)  # 4 · 127² in int32
    64516.0
    >>> int(q @ q)  # NumPy keeps int8 and wraps: every 127 · 127 becomes 1
    4
    """
    qa, qb = _int8(qa, "qa"), _int8(qb, "qb")
    if qa.ndim != 1 or qb.ndim != 1:
        raise ValueError(f"qa.shape={qa.shape} and qb.shape={qb.shape} must both be vectors; use int8_scores for matrices")
    same_length(qa, qb, ("qa", "qb"))
    total = int(qa.astype(np.int32) @ qb.astype(np.int32))  # exact: int32 accumulation
    return float(total * float(scale_a) * float(scale_b))


def int8_scores(q_corpus, scale_corpus, q_queries, scale_queries) -> np.ndarray:
    """All dot products between int8-quantised queries and corpus, ``(n, N)``.

    The integer matrix product is accumulated in int32, then each entry is multiplied
    by its query's scale and its corpus row's scale.

    Examples
    --------
    >>> qc, sc = quantise_int8([[1.0, 0.0], [0.5, 0.5]])
    >>> qq, sq = quantise_int8([[2.0, 2.0]])
    >>> int8_scores(qc, sc, qq, sq).round(3)
    array([[2., 2.]], dtype=float32)
    """
    qc, qq = _int8(q_corpus, "q_corpus"), _int8(q_queries, "q_queries")
    if qc.ndim != 2 or qq.ndim != 2:
        raise ValueError(f"q_corpus.shape={qc.shape} and q_queries.shape={qq.shape} must both be matrices (rows of codes)")
    same_length(qc, qq, ("q_corpus", "q_queries"))
    sc = np.asarray(scale_corpus, dtype=np.float32).reshape(-1)
    sq = np.asarray(scale_queries, dtype=np.float32).reshape(-1)
    if sc.shape != (qc.shape[0],) or sq.shape != (qq.shape[0],):
        raise ValueError(f"need one scale per row: got {sc.shape} scales for {qc.shape[0]} corpus rows and "
                         f"{sq.shape} for {qq.shape[0]} queries")
    # NumPy has no fast integer matrix product, but float32 holds every partial sum of
    # this one exactly while it stays below 2^24 (16,777,216): d·127² fits for d <= 1,040.
    exact_in_float32 = qc.shape[1] * INT8_MAX * INT8_MAX < 2**24
    if exact_in_float32:
        dots = qq.astype(np.float32) @ qc.astype(np.float32).T
    else:
        dots = (qq.astype(np.int32) @ qc.astype(np.int32).T).astype(np.float64)
    return dots * sq[:, None] * sc[None, :]


def recall_at_k(found, exact) -> float:
    """Share of the true top-k neighbours that an approximate search also returned.

    For each query, count how many of its ``k`` exact neighbours appear anywhere in its
    ``k`` found ones (order does not matter), divide by ``k``, and average over queries.

    Parameters
    ----------
    found, exact : array_like of int, shape (n, k)
        Row indices returned by the approximate and by the exact search.

    Returns
    -------
    float
        In ``[0, 1]``; 1.0 means nothing was lost.

    Raises
    ------
    ValueError
        If the shapes differ or an input is not 2-D.

    Examples
    --------
    >>> recall_at_k([[3, 1, 2], [5, 6, 7]], [[1, 2, 4], [7, 6, 5]])
    0.8333333333333334
    """
    found, exact = np.asarray(found), np.asarray(exact)
    for name, arr in (("found", found), ("exact", exact)):
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty (n, k) table of indices, but {name}.shape={arr.shape}")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer row indices, but its dtype is {arr.dtype}")
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} and exact.shape={exact.shape} must match: "
                         "the same queries, k results each")
    k = exact.shape[1]
    hits = [len(set(f.tolist()) & set(e.tolist())) for f, e in zip(found, exact)]
    return float(np.mean(hits) / k)
