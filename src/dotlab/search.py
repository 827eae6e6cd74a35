"""Chapter 2: cosine similarity, and search as one big matrix of dot products.

Shape vocabulary: ``d`` components per vector; a corpus of ``N`` stored vectors has
shape ``(N, d)``; ``n`` queries have shape ``(n, d)``; a search returns the best ``k``
of the ``N`` for each query.

The module follows the chapter: :func:`normalise` and :func:`cosine_similarity`
(the angle without the lengths), :func:`top_k` (maximum inner product search by a
matrix product and a partial sort), then :func:`quantise_int8`, :func:`int8_dot` and
:func:`int8_scores` (the same scores from one byte per component) and
:func:`recall_at_k` (how much of the exact answer a cheaper search keeps).
"""

from __future__ import annotations

import numbers

import numpy as np

from dotlab._validate import as_array, same_length

METRICS = ("dot", "cosine")


def _rows(x, name: str) -> np.ndarray:
    """A 1-D vector or a 2-D matrix of row vectors, as a finite float array."""
    arr = as_array(x, name)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be a vector (d,) or a matrix of row vectors (n, d), but {name}.shape={arr.shape}"
        )
    return arr


def _lengths(x: np.ndarray, name: str) -> np.ndarray:
    """Euclidean length of each row, refusing zero rows (they have no direction)."""
    # Divide by the largest component before squaring, as dotlab.norm does, so huge or
    # tiny components neither overflow nor vanish on the way to the square root.
    scale = np.max(np.abs(x), axis=-1, keepdims=True)
    if np.any(scale == 0):
        if x.ndim == 1:
            raise ValueError(f"{name} is the zero vector: it has no direction, so it cannot be normalised "
                             "and its cosine with anything is undefined")
        rows = np.flatnonzero(scale[:, 0] == 0)
        shown = rows[:5].tolist() + (["..."] if len(rows) > 5 else [])
        raise ValueError(f"{name} has {len(rows)} zero row(s) (at row {shown}): a zero vector has no direction, "
                         "so it cannot be normalised and its cosine with anything is undefined")
    unit = x / scale
    return scale * np.sqrt(np.sum(unit * unit, axis=-1, keepdims=True))


def normalise(x) -> np.ndarray:
    """Scale a vector, or every row of a matrix, to length 1.

    After normalising, a dot product between two vectors *is* their cosine: the lengths
    have been divided out once, in advance.

    Parameters
    ----------
    x : array_like, shape (d,) or (n, d)

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; each row has length 1 and points where it pointed before.
        float32 input stays float32.

    Raises
    ------
    ValueError
        If ``x`` (or a row of it) is the zero vector, which has no direction; or if
        ``x`` is not 1-D or 2-D, is empty or holds NaN/infinity.

    Examples
    --------
    >>> normalise([3, 4])
    array([0.6, 0.8])
    >>> normalise([[3, 4], [0, -2]])
    array([[ 0.6,  0.8],
           [ 0. , -1. ]])
    """
    arr = _rows(x, "x")
    return arr / _lengths(arr, "x")


def cosine_similarity(a, b):
    """Cosine of the angle between vectors: ``a·b / (|a| |b|)``, always in ``[-1, 1]``.

    Parameters
    ----------
    a, b : array_like
        Two vectors ``(d,)``; or two matrices of row vectors ``(n, d)`` and ``(m, d)``;
        or one vector and one matrix.

    Returns
    -------
    float or numpy.ndarray
        Two vectors: a float. Two matrices: the ``(n, m)`` table whose entry ``[i, j]``
        is the cosine of row ``i`` of ``a`` with row ``j`` of ``b``. A vector and a
        matrix: one cosine per row of the matrix.

    Raises
    ------
    ValueError
        If a vector (or a row) is the zero vector, which has no direction; if the
        vectors have different lengths ``d``; or if an input is not 1-D or 2-D.

    Examples
    --------
    >>> cosine_similarity([1, 0], [1, 1])  # 45 degrees
    0.7071067811865475
    >>> cosine_similarity([[1, 0], [0, 3]], [[2, 0], [1, 1], [0, -1]])
    array([[ 1.        ,  0.70710678,  0.        ],
           [ 0.        ,  0.70710678, -1.        ]])
    """
    a, b = _rows(a, "a"), _rows(b, "b")
    same_length(a, b)
    table = (a / _lengths(a, "a")) @ (b / _lengths(b, "b")).T
    # Rounding can leave a cosine a hair outside [-1, 1]; the promise is [-1, 1].
    table = np.clip(table, -1.0, 1.0)
    return float(table) if table.ndim == 0 else table


def _whole_number(k, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name}={k!r} must be a whole number (an int), not {type(k).__name__}")
    return int(k)


def _rows_unchecked(x, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    """Like ``as_array`` but without the pass over every value looking for NaN/infinity.

    A search reads a corpus of millions of numbers; scanning them all for NaN costs a
    tenth of the search itself. Instead :func:`top_k` checks the scores: any NaN or
    infinity in an input makes the scores it touches NaN or infinite too.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} cannot be read as an array of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, but its elements have dtype {arr.dtype}")
    if arr.ndim not in ndim:
        kinds = {1: "a 1-D vector", 2: "a 2-D matrix"}
        raise ValueError(f"{name} must be {' or '.join(kinds[n] for n in ndim)}, but {name}.shape={arr.shape} "
                         f"has {arr.ndim} dimension(s)")
    if arr.size == 0:
        raise ValueError(f"{name} is empty ({name}.shape={arr.shape}); there is nothing to search")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


#: Stored vectors per block in :func:`_best_rows`: big enough that the block maxima are
#: few, small enough that k blocks make a short list of candidates.
_BLOCK = 128


def _best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """For each column of ``scores`` (N, n), the rows of its k largest entries: (n, k), unordered.

    One ``np.argpartition`` over all N rows works, but on a large corpus it costs a third
    as much as the matrix product that made the scores. Two levels cost far less. Cut
    each column into blocks of rows and take each block's maximum; then every one of the
    column's k best scores lies in one of the k blocks with the highest maxima (a block
    holding a top-k score has a maximum at least that high, and at most k blocks can).
    So a partial sort of the block maxima, then of those k blocks' scores, finds them.
    """
    N, n = scores.shape
    blocks = N // _BLOCK
    if blocks < 4 * k:  # too few blocks to skip many: one partial sort
        return np.argpartition(scores, N - k, axis=0)[N - k:].T
    tiled = scores[: blocks * _BLOCK].reshape(blocks, _BLOCK, n)                          # a view: no copy
    top_blocks = np.argpartition(tiled.max(axis=1), blocks - k, axis=0)[blocks - k:]  # (k, n)
    # The candidates' rows, one query per row, and their scores fetched by flat index
    # (scores is C-contiguous, so entry [r, j] sits at r·n + j).
    rows = (top_blocks.T[:, :, None] * _BLOCK + np.arange(_BLOCK)).reshape(n, k * _BLOCK)  # (n, k·B)
    candidates = np.take(scores, rows * n + np.arange(n)[:, None])                        # (n, k·B)
    if blocks * _BLOCK < N:  # the last, shorter block always stays in the running
        rest = np.arange(blocks * _BLOCK, N)
        rows = np.concatenate([rows, np.broadcast_to(rest, (n, len(rest)))], axis=1)
        candidates = np.concatenate([candidates, scores[blocks * _BLOCK:].T], axis=1)
    part = np.argpartition(candidates, candidates.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(rows, part, axis=1)


def top_k(corpus, queries, k: int, metric: str = "dot"):
    """The ``k`` best-scoring rows of ``corpus`` for each query, best first.

    Every query is scored against every stored vector at once, as one matrix product
    (``corpus @ queries.T``: ``N·n`` dot products of length ``d``, so the cost is
    O(N·d) per query). Then a partial sort finds the ``k`` largest scores without
    sorting all ``N`` (:func:`numpy.argpartition`, on block maxima first when the
    corpus is large), and only those ``k`` are sorted.

    Parameters
    ----------
    corpus : array_like, shape (N, d)
        The stored vectors, one per row.
    queries : array_like, shape (n, d) or (d,)
        The query vectors, one per row (or a single query).
    k : int
        How many results per query, ``1 <= k <= N``.
    metric : {"dot", "cosine"}, default "dot"
        ``"dot"`` ranks by the raw dot product (maximum inner product search, what
        FAISS's ``IndexFlatIP`` does). ``"cosine"`` normalises both sides first, so
        lengths are ignored and scores are cosines.

    Returns
    -------
    scores : numpy.ndarray, shape (n, k)
        Each query's ``k`` best scores, largest first.
    indices : numpy.ndarray of int64, shape (n, k)
        The corpus rows those scores belong to. For a single query of shape ``(d,)``
        both results have shape ``(k,)``. When several rows tie for the last places,
        which of them are returned is not specified.

    Raises
    ------
    ValueError
        If the lengths ``d`` differ, ``k`` is outside ``1..N``, ``metric`` is unknown,
        an input holds NaN or infinity, or (for ``"cosine"``) a vector is zero.
    TypeError
        If ``k`` is not a whole number.

    Notes
    -----
    float32 inputs stay float32 (half the memory traffic of float64, and what search
    libraries use); mixing float32 with float64 makes NumPy copy the corpus to float64.

    Examples
    --------
    >>> corpus = [[1, 0], [0, 1], [3, 3], [-1, 0]]
    >>> scores, indices = top_k(corpus, [[1, 0.2]], k=2)
    >>> scores, indices
    (array([[3.6, 1. ]]), array([[2, 0]]))
    >>> top_k(corpus, [1, 0.2], k=2, metric="cosine")[1]  # lengths no longer count
    array([0, 2])
    """
    corpus = _rows_unchecked(corpus, "corpus", (2,))
    queries = _rows_unchecked(queries, "queries", (1, 2))
    same_length(corpus, queries, ("corpus", "queries"))
    k = _whole_number(k, "k")
    N = corpus.shape[0]
    if not 1 <= k <= N:
        raise ValueError(f"k={k} must be between 1 and the number of corpus rows N={N}")
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} must be one of {METRICS}")
    if metric == "cosine":
        corpus, queries = corpus / _lengths(corpus, "corpus"), queries / _lengths(queries, "queries")
    single = queries.ndim == 1
    q = queries[None, :] if single else queries      # (n, d)
    # The long side first, (N, d) @ (d, n), as FAISS does: OpenBLAS runs this
    # orientation up to twice as fast when n is small (benchmarks/bench_top_k.py).
    scores = corpus @ q.T                            # (N, d) @ (d, n) -> (N, n): a column per query
    if not np.isfinite(scores).all():
        raise ValueError("the scores contain NaN or infinity: corpus or queries hold NaN/infinity, "
                         "or values so large that their products overflow")
    n = scores.shape[1]
    part = _best_rows(scores, k) if k < N else np.broadcast_to(np.arange(N), (n, N))  # (n, k), unordered
    best = scores[part, np.arange(n)[:, None]]                                           # (n, k)
    order = np.argsort(-best, axis=1, kind="stable")  # sort only those k
    top_scores = np.take_along_axis(best, order, axis=1)
    top_indices = np.take_along_axis(part, order, axis=1).astype(np.int64)
    return (top_scores[0], top_indices[0]) if single else (top_scores, top_indices)


# -- INT8 quantisation -----------------------------------------------------------------

#: Codes run from -127 to 127: symmetric, so 0 stays exactly 0 and the sign of every
#: component survives (-128 is left unused, as in most symmetric int8 schemes).
INT8_MAX = 127


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
        would reproduce it; 1.0 keeps the division harmless).

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
    arr = _rows(x, "x")
    peak = np.max(np.abs(arr), axis=-1, keepdims=True)
    scale = np.where(peak > 0, peak / INT8_MAX, 1.0)
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
