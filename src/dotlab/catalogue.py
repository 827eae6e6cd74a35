"""Chapter 2's texts: a course catalogue to search, and queries that should find its items.

The catalogue (``data/catalogue.csv``: 240 short items in 8 categories, written for the
course) and a few course queries (``data/queries.csv``), each query with the category
that should answer it. :mod:`dotlab.embeddings` turns them into vectors and
:mod:`dotlab.embedding_cache` keeps those vectors.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATALOGUE_CSV", "DATA_DIR", "QUERIES_CSV", "Catalogue", "Queries", "load_catalogue", "load_queries"]

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_CSV = DATA_DIR / "catalogue.csv"
QUERIES_CSV = DATA_DIR / "queries.csv"


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
