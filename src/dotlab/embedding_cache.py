"""Chapter 2's embedding cache: the catalogue's and queries' vectors, computed once and checked.

The catalogue and queries (:mod:`dotlab.catalogue`) are embedded once by the model
(:mod:`dotlab.embeddings`) and cached in ``data/catalogue_minilm.npz`` as float16,
*before* normalisation, so the chapter can show what the lengths do. The cache records
fingerprints of the catalogue, the queries and the model weights; loading it refuses a
cache that no longer matches them. Rebuild with::

    python -m dotlab.embeddings_cli --rebuild

and verify against the model with ``python -m dotlab.embeddings_cli --check``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dotlab.catalogue import DATA_DIR, Catalogue, Queries, load_catalogue, load_queries
from dotlab.embeddings import DIM, MODEL_NAME, embed, model_fingerprint
from dotlab.search import normalise

__all__ = ["CACHE_DTYPE", "CACHE_PATH", "CachedEmbeddings", "StaleCacheError", "check", "load_embeddings", "rebuild"]

CACHE_PATH = DATA_DIR / "catalogue_minilm.npz"

#: float16 keeps 3 significant digits: cosines from the cache agree with the model's to
#: about 1e-3, which never changes what the chapter shows; the file is ~200 KB, not ~400.
CACHE_DTYPE = np.float16


class StaleCacheError(RuntimeError):
    """The cached embeddings were made from a different catalogue, queries or model."""


def _sha256_texts(texts) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedEmbeddings:
    """The cache's contents, as float32.

    ``items`` is ``(N, 384)`` for the catalogue, ``queries`` is ``(Q, 384)`` for the
    course queries; both raw (mean pooled, not normalised) unless loaded otherwise.
    """

    items: np.ndarray
    queries: np.ndarray
    catalogue: Catalogue
    query_set: Queries
    normalised: bool


def _fingerprints(with_model: bool = True) -> dict[str, str]:
    fingerprints = {
        "catalogue_sha256": _sha256_texts(load_catalogue().texts),
        "queries_sha256": _sha256_texts(load_queries().texts),
        "model_name": MODEL_NAME,
    }
    if with_model:
        fingerprints["model_sha256"] = model_fingerprint()
    return fingerprints


def rebuild(path: Path = CACHE_PATH) -> Path:
    """Embed the catalogue and the queries with the model and write the cache."""
    items = embed(load_catalogue().texts, normalised=False)
    queries = embed(load_queries().texts, normalised=False)
    np.savez(path, items=items.astype(CACHE_DTYPE), queries=queries.astype(CACHE_DTYPE),
             **{key: np.array(value) for key, value in _fingerprints().items()})
    load_embeddings.cache_clear()
    return Path(path)


@functools.lru_cache(maxsize=4)
def load_embeddings(normalised: bool = False, path: Path = CACHE_PATH, check_model: bool = True) -> CachedEmbeddings:
    """The cached catalogue and query embeddings, checked against what they came from.

    Parameters
    ----------
    normalised : bool, default False
        False returns the raw mean-pooled vectors as cached; True divides each by its
        length, which gives the published model's output.
    check_model : bool, default True
        Also compare the fingerprint of the installed model's weights (reading 90 MB
        once per process); the catalogue and queries are always compared.

    Raises
    ------
    StaleCacheError
        If the catalogue, the queries or the model changed since the cache was built.

    Examples
    --------
    >>> emb = load_embeddings(normalised=True)
    >>> emb.items.shape, emb.items.dtype, round(float(emb.items[0] @ emb.items[0]), 3)
    ((240, 384), dtype('float32'), 1.0)
    """
    path = Path(path)
    if not path.is_file():
        raise StaleCacheError(f"no embedding cache at {path}: run `python -m dotlab.embeddings_cli --rebuild`")
    with np.load(path) as stored:
        recorded = {key: str(stored[key]) for key in stored.files if key not in ("items", "queries")}
        items, queries = stored["items"].astype(np.float32), stored["queries"].astype(np.float32)
    wanted = _fingerprints(with_model=check_model)
    changed = [key for key, value in wanted.items() if recorded.get(key) != value]
    if changed:
        raise StaleCacheError(f"{path.name} does not match the current {', '.join(changed)}: "
                              "run `python -m dotlab.embeddings_cli --rebuild`")
    catalogue, query_set = load_catalogue(), load_queries()
    if items.shape != (len(catalogue), DIM) or queries.shape != (len(query_set), DIM):
        raise StaleCacheError(f"{path.name} holds {items.shape} and {queries.shape} arrays for "
                              f"{len(catalogue)} items and {len(query_set)} queries")
    if normalised:
        items, queries = normalise(items), normalise(queries)
    for arr in (items, queries):
        arr.setflags(write=False)  # shared between callers through the lru_cache
    return CachedEmbeddings(items, queries, catalogue, query_set, normalised)


def check(path: Path = CACHE_PATH, atol: float = 2e-3) -> float:
    """Re-embed everything with the model and compare with the cache.

    Returns the largest difference between a cached and a fresh cosine-normalised
    component; raises :class:`StaleCacheError` if it exceeds ``atol``.
    """
    cached = load_embeddings(normalised=True, path=Path(path))
    fresh_items = embed(cached.catalogue.texts)
    fresh_queries = embed(cached.query_set.texts)
    worst = float(max(np.abs(fresh_items - cached.items).max(), np.abs(fresh_queries - cached.queries).max()))
    if worst > atol:
        raise StaleCacheError(f"cached and fresh embeddings differ by up to {worst:.2g} (allowed {atol}): rebuild the cache")
    return worst
