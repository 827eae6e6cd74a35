"""Chapter 9: approximate nearest-neighbour search, fewer dot products per query.

Chapter 2's exact search scores every item: ``N`` dot products per query. Approximate
indexes score only a few, chosen so that the best items are likely among them:

- **IVF** (inverted file): k-means cuts the corpus into ``n_lists`` cells, each with a
  centroid. A query scores the ``n_lists`` centroids, then only the items of its
  ``n_probe`` best cells (Jégou et al. 2011; FAISS's ``IndexIVFFlat``).
- **HNSW** (hierarchical navigable small world graphs): each item is linked to a few
  neighbours; a query walks the graph greedily towards better scores, keeping
  ``ef_search`` candidates (Malkov & Yashunin 2020; FAISS's ``IndexHNSWFlat``).

Both trade recall (the share of the true top ``k`` they return) for speed; this module
builds them with FAISS (Johnson et al. 2019; a well-kept tool, so we do not write our
own) and counts the dot products each query computes, so the trade can be read in the
course's own unit.

Shape vocabulary: ``N`` corpus items, ``n`` queries, ``d`` the width of a vector,
``k`` results per query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import faiss
import numpy as np

from dotlab.quantisation import recall_at_k
from dotlab.search import top_k

__all__ = [
    "SearchRun",
    "exact_search",
    "hnsw_index",
    "hnsw_search",
    "ivf_index",
    "ivf_search",
    "queries_per_second",
    "synthetic_corpus",
]


@dataclass(frozen=True)
class SearchRun:
    """What one search of ``n`` queries returned and what it cost.

    ``dot_products`` is the mean number of dot products one query computed (centroids
    and probed items for IVF, graph nodes visited for HNSW, ``N`` for exact search).
    """

    scores: np.ndarray  # (n, k), best first
    indices: np.ndarray  # (n, k); -1 where the index found fewer than k items
    dot_products: float

    def recall(self, exact: np.ndarray) -> float:
        """recall@k against the exact search's indices ``(n, k)``."""
        return recall_at_k(self.indices, np.asarray(exact))


def _matrix(x, name: str) -> np.ndarray:
    """A C-contiguous float32 ``(rows, d)`` matrix, as FAISS needs, or an error naming it."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (rows, d) matrix, but {name}.shape={arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinity")
    return np.ascontiguousarray(arr)


def _setting(value, name: str, low: int = 1, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be a whole number, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name}={value!r} must be {bound}")
    return int(value)


def synthetic_corpus(n: int, d: int, n_clusters: int = 100, spread: float = 1.0, seed: int = 0) -> np.ndarray:
    """Unit vectors gathered around random centres, like real embeddings are.

    Uniformly random vectors in many dimensions have no neighbourhoods to find (every
    pair is nearly orthogonal), so they make every index look bad; real embeddings
    cluster by topic. Each item is a random centre plus Gaussian noise of size
    ``spread`` per component (relative to the centres'), normalised to length 1.

    Parameters
    ----------
    n, d : int
        Items and their width.
    n_clusters : int, default 100
    spread : float, default 1.0
    seed : int, default 0

    Returns
    -------
    numpy.ndarray of float32, shape (n, d)

    Examples
    --------
    >>> x = synthetic_corpus(1000, 16, seed=1)
    >>> x.shape, x.dtype, bool(np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-6))
    ((1000, 16), dtype('float32'), True)
    """
    n, d, n_clusters = _setting(n, "n"), _setting(d, "d"), _setting(n_clusters, "n_clusters")
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, d))
    x = centres[rng.integers(0, n_clusters, n)] + spread * rng.normal(size=(n, d))  # (n, d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def ivf_index(corpus, n_lists: int, seed: int = 0) -> faiss.IndexIVFFlat:
    """An inverted-file index over ``corpus`` for inner-product search.

    Parameters
    ----------
    corpus : array_like, shape (N, d)
    n_lists : int
        Cells k-means cuts the corpus into; at most ``N``. About ``sqrt(N)`` is usual.
    seed : int, default 0
        The k-means seed, so the same corpus gives the same cells.

    Returns
    -------
    faiss.IndexIVFFlat
        Trained and filled; its ``quantizer`` holds the centroids.

    Examples
    --------
    >>> index = ivf_index(synthetic_corpus(500, 8), n_lists=10)
    >>> index.ntotal, index.nlist
    (500, 10)
    """
    corpus = _matrix(corpus, "corpus")
    n_lists = _setting(n_lists, "n_lists", 1, corpus.shape[0])
    N, d = corpus.shape
    quantizer = faiss.IndexFlatIP(d)  # the centroids are searched exactly
    index = faiss.IndexIVFFlat(quantizer, d, n_lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.cp.min_points_per_centroid = 1  # small corpora are fine here; no warning about them
    index.train(corpus)
    index.add(corpus)
    return index


def ivf_search(index: faiss.IndexIVFFlat, queries, k: int, n_probe: int) -> SearchRun:
    """Search an IVF index, visiting the ``n_probe`` cells nearest each query.

    The dot products are counted from the index's own cells, independently of FAISS's
    statistics: each query scores every centroid (``n_lists``) and every item in the
    cells it probes.

    Parameters
    ----------
    index : faiss.IndexIVFFlat
    queries : array_like, shape (n, d)
    k : int
    n_probe : int
        Between 1 and ``n_lists``; ``n_lists`` makes the search exact.

    Returns
    -------
    SearchRun

    Examples
    --------
    >>> corpus = synthetic_corpus(500, 8)
    >>> run = ivf_search(ivf_index(corpus, 10), corpus[:3], k=5, n_probe=10)
    >>> run.dot_products     # 10 centroids + all 500 items: probing every cell
    510.0
    """
    queries = _matrix(queries, "queries")
    k = _setting(k, "k", 1, index.ntotal)
    n_probe = _setting(n_probe, "n_probe", 1, index.nlist)
    index.nprobe = n_probe
    scores, indices = index.search(queries, k)
    _, cells = index.quantizer.search(queries, n_probe)  # (n, n_probe): the cells each query visits
    sizes = np.array([index.invlists.list_size(int(c)) for c in range(index.nlist)])
    probed = sizes[cells].sum(axis=1)  # (n,)
    return SearchRun(scores, indices, float(index.nlist + probed.mean()))


def hnsw_index(corpus, neighbours: int = 16, ef_construction: int = 40) -> faiss.IndexHNSWFlat:
    """A navigable-small-world graph index over ``corpus`` for inner-product search.

    Parameters
    ----------
    corpus : array_like, shape (N, d)
    neighbours : int, default 16
        Links per item (HNSW's ``M``): more links, better recall, more memory.
    ef_construction : int, default 40
        Candidates kept while linking each new item.

    Returns
    -------
    faiss.IndexHNSWFlat

    Examples
    --------
    >>> hnsw_index(synthetic_corpus(300, 8), neighbours=8).ntotal
    300
    """
    corpus = _matrix(corpus, "corpus")
    neighbours = _setting(neighbours, "neighbours", 2)
    index = faiss.IndexHNSWFlat(corpus.shape[1], neighbours, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = _setting(ef_construction, "ef_construction")
    index.add(corpus)
    return index


def hnsw_search(index: faiss.IndexHNSWFlat, queries, k: int, ef_search: int) -> SearchRun:
    """Search an HNSW graph keeping ``ef_search`` candidates per query.

    The dot products are FAISS's own count of the vectors it scored on the walk
    (``faiss.cvar.hnsw_stats.ndis``), shared by all queries of this call.

    Parameters
    ----------
    index : faiss.IndexHNSWFlat
    queries : array_like, shape (n, d)
    k : int
    ef_search : int
        At least ``k``: more candidates, better recall, more dot products.

    Returns
    -------
    SearchRun

    Examples
    --------
    >>> corpus = synthetic_corpus(2000, 8)
    >>> run = hnsw_search(hnsw_index(corpus), corpus[:20], k=5, ef_search=16)
    >>> bool(run.dot_products < 2000)     # far fewer than scoring everything
    True
    """
    queries = _matrix(queries, "queries")
    k = _setting(k, "k", 1, index.ntotal)
    index.hnsw.efSearch = _setting(ef_search, "ef_search", k, index.ntotal)
    stats = faiss.cvar.hnsw_stats
    stats.reset()
    scores, indices = index.search(queries, k)
    return SearchRun(scores, indices, stats.ndis / len(queries))


def exact_search(corpus, queries, k: int) -> SearchRun:
    """Chapter 2's exact ``top_k``: every item scored, ``N`` dot products per query.

    Examples
    --------
    >>> corpus = synthetic_corpus(100, 4)
    >>> exact_search(corpus, corpus[:2], k=1).indices.ravel().tolist()
    [0, 1]
    """
    corpus, queries = _matrix(corpus, "corpus"), _matrix(queries, "queries")
    scores, indices = top_k(corpus, queries, _setting(k, "k", 1, len(corpus)))
    return SearchRun(scores, indices, float(len(corpus)))


def queries_per_second(search: Callable[[], SearchRun], n_queries: int, repeats: int = 3) -> float:
    """How many queries per second ``search()`` answers, from the best of ``repeats`` runs.

    The best run, not the mean, because the others were slowed by something else on the
    machine; a single run of a fast search is too short to time reliably, so keep the
    batch at a hundred queries or more.

    Examples
    --------
    >>> queries_per_second(lambda: time.sleep(0.01), n_queries=10, repeats=2) < 1000
    True
    """
    n_queries, repeats = _setting(n_queries, "n_queries"), _setting(repeats, "repeats")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        search()
        best = min(best, time.perf_counter() - start)
    return n_queries / best
