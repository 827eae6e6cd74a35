"""dotlab.embeddings: the catalogue is sound, and the committed cache is what the model gives.

The cache check loads the real model once (about ten seconds) and re-embeds everything.
"""

import os
from collections import Counter

import numpy as np
import pytest

from dotlab import embeddings
from dotlab.embeddings import StaleCacheError, load_catalogue, load_embeddings, load_queries
from dotlab.search import top_k


def test_the_catalogue_is_ours_and_balanced():
    cat = load_catalogue()
    assert len(cat) >= 200
    assert len(set(cat.texts)) == len(cat), "duplicate items"
    assert all(3 <= len(t.split()) <= 20 for t in cat.texts), "items are short sentences"
    counts = Counter(cat.categories)
    assert len(counts) >= 6 and len(set(counts.values())) == 1, counts
    assert {"fruit", "hardware"} <= set(counts)  # the chapter's toy example uses both


def test_every_query_names_a_catalogue_category():
    assert set(load_queries().categories) <= set(load_catalogue().categories)


def test_the_cache_is_small_float16_and_matches_the_catalogue():
    assert embeddings.CACHE_PATH.stat().st_size < 300_000
    with np.load(embeddings.CACHE_PATH) as stored:
        assert stored["items"].dtype == np.float16
    emb = load_embeddings()
    assert emb.items.shape == (len(load_catalogue()), embeddings.DIM)
    assert emb.items.dtype == np.float32 and not emb.normalised
    lengths = np.linalg.norm(emb.items, axis=1)
    assert lengths.min() > 2 and lengths.max() / lengths.min() > 1.3  # raw: lengths differ
    unit = load_embeddings(normalised=True)
    np.testing.assert_allclose(np.linalg.norm(unit.items, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("key", ["catalogue_sha256", "queries_sha256", "model_sha256"])
def test_a_cache_built_from_something_else_is_refused(tmp_path, key):
    with np.load(embeddings.CACHE_PATH) as stored:
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


@pytest.fixture(scope="module")
def fresh():
    """Everything re-embedded by the real model, offline."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    assert os.environ.get("HF_HUB_OFFLINE", "1") == "1"
    cat, queries = load_catalogue(), load_queries()
    return embeddings.embed(cat.texts, normalised=False), embeddings.embed(queries.texts, normalised=False)


def test_the_cache_is_what_the_model_gives(fresh):
    items, queries = fresh
    emb = load_embeddings(normalised=False, check_model=True)
    # float16 keeps ~3 significant digits of components up to about 2 in size
    np.testing.assert_allclose(emb.items, items, atol=4e-3)
    np.testing.assert_allclose(emb.queries, queries, atol=4e-3)


def test_raw_vectors_are_the_published_model_before_its_last_step(fresh):
    items, _ = fresh
    published = embeddings.embed(load_catalogue().texts[:16])
    np.testing.assert_allclose(published, items[:16] / np.linalg.norm(items[:16], axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(published, axis=1), 1.0, atol=1e-5)


def test_embed_refuses_empty_input():
    with pytest.raises(ValueError, match="non-empty"):
        embeddings.embed([])
