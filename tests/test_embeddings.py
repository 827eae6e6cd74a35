"""dotlab.embeddings: the model runs offline, and the committed cache is what it gives.

Loads the real model once (about ten seconds) and re-embeds everything.
"""

import os

import numpy as np
import pytest
import torch

from dotlab import embeddings
from dotlab.catalogue import load_catalogue, load_queries
from dotlab.embedding_cache import load_embeddings


@pytest.fixture(scope="module")
def fresh():
    """Everything re-embedded by the real model, offline."""
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
