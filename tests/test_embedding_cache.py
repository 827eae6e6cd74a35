"""dotlab.embedding_cache: the committed cache is small, current, and refuses to be stale."""

import numpy as np
import pytest

from dotlab import embedding_cache
from dotlab.catalogue import load_catalogue
from dotlab.embedding_cache import StaleCacheError, load_embeddings
from dotlab.embeddings import DIM
from dotlab.search import top_k


def test_the_cache_is_small_float16_and_matches_the_catalogue():
    assert embedding_cache.CACHE_PATH.stat().st_size < 300_000
    with np.load(embedding_cache.CACHE_PATH) as stored:
        assert stored["items"].dtype == np.float16
    emb = load_embeddings()
    assert emb.items.shape == (len(load_catalogue()), DIM)
    assert emb.items.dtype == np.float32 and not emb.normalised
    lengths = np.linalg.norm(emb.items, axis=1)
    assert lengths.min() > 2 and lengths.max() / lengths.min() > 1.3  # raw: lengths differ
    unit = load_embeddings(normalised=True)
    np.testing.assert_allclose(np.linalg.norm(unit.items, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("key", ["catalogue_sha256", "queries_sha256", "model_sha256"])
def test_a_cache_built_from_something_else_is_refused(tmp_path, key):
    with np.load(embedding_cache.CACHE_PATH) as stored:
        contents = {name: stored[name] for name in stored.files}
    contents[key] = np.array("0" * 64)  # as if the catalogue, queries or model had changed
    np.savez(tmp_path / "stale.npz", **contents)
    with pytest.raises(StaleCacheError, match=f"{key}.*--rebuild"):
        load_embeddings.__wrapped__(path=tmp_path / "stale.npz")


def test_a_missing_cache_says_how_to_build_it(tmp_path):
    with pytest.raises(StaleCacheError, match="--rebuild"):
        load_embeddings.__wrapped__(path=tmp_path / "nothing.npz")


def test_queries_find_their_category_by_meaning():
    emb = load_embeddings(normalised=True)
    categories = np.array(emb.catalogue.categories)
    _, indices = top_k(emb.items, emb.queries, 5)
    hits = categories[indices] == np.array(emb.query_set.categories)[:, None]
    assert hits.mean() >= 0.85
    assert np.median(hits.mean(axis=1)) == 1.0
