"""Chapter 2: cosine similarity, and search as one big matrix of dot products.

Shape vocabulary: ``d`` components per vector; a corpus of ``N`` stored vectors has
shape ``(N, d)``; ``n`` queries have shape ``(n, d)``; a search returns the best ``k``
of the ``N`` for each query.

The module follows the chapter: :func:`normalise` and :func:`cosine_similarity`
(the angle without the lengths), then :func:`top_k` (maximum inner product search by a
matrix product and a partial sort). The same search from one byte per component is
in :mod:`dotlab.quantisation`.
"""

from __future__ import annotations

import numbers

import numpy as np

from dotlab._validate import as_array, same_length

__all__ = ["METRICS", "cosine_similarity", "normalise", "top_k"]

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
