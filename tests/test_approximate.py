"""dotlab.approximate: FAISS's approximate indexes against the course's exact top_k.

An approximate index is right when, given enough effort, it finds exactly what exact
search finds, and when its effort (dot products per query) is counted truthfully.
The counts are checked against FAISS's own statistics and against the corpus size.
"""

import faiss
import numpy as np
import pytest

from dotlab import top_k
from dotlab.approximate import (
    exact_search,
    hnsw_index,
    hnsw_search,
    ivf_index,
    ivf_search,
    queries_per_second,
    synthetic_corpus,
)

faiss.omp_set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    both = synthetic_corpus(3050, 24, n_clusters=40, seed=3)
    corpus, queries = both[:3000], both[3000:]  # queries from the same clusters, not in the corpus
    return corpus, queries, exact_search(corpus, queries, k=10)


def test_exact_search_is_top_k_and_faiss_flat(data):
    corpus, queries, exact = data
    scores, indices = top_k(corpus, queries, 10)
    np.testing.assert_array_equal(exact.indices, indices)
    flat = faiss.IndexFlatIP(corpus.shape[1])
    flat.add(corpus)
    their_scores, their_indices = flat.search(queries, 10)
    np.testing.assert_array_equal(exact.indices, their_indices)
    np.testing.assert_allclose(exact.scores, their_scores, rtol=1e-5)
    assert exact.dot_products == 3000 and exact.recall(exact.indices) == 1.0


@pytest.mark.task(id="9.5")
def test_ivf_probing_every_cell_is_exact(data):
    corpus, queries, exact = data
    index = ivf_index(corpus, n_lists=20)
    run = ivf_search(index, queries, 10, n_probe=20)
    np.testing.assert_array_equal(run.indices, exact.indices)
    assert run.dot_products == 20 + 3000  # every centroid, then every item


def test_ivf_dot_products_agree_with_faiss_statistics(data):
    corpus, queries, _ = data
    index = ivf_index(corpus, n_lists=30)
    for n_probe in (1, 3, 7):
        stats = faiss.cvar.indexIVF_stats
        stats.reset()
        run = ivf_search(index, queries, 10, n_probe)
        # FAISS counts the items it scored in the probed cells; we add the 30 centroids
        assert run.dot_products == pytest.approx(30 + stats.ndis / len(queries))


def test_more_effort_more_recall_fewer_dot_products_than_exact(data):
    corpus, queries, exact = data
    ivf, hnsw = ivf_index(corpus, n_lists=30), hnsw_index(corpus)
    ivf_runs = [ivf_search(ivf, queries, 10, p) for p in (1, 4, 30)]
    hnsw_runs = [hnsw_search(hnsw, queries, 10, ef) for ef in (10, 40, 400)]
    for runs in (ivf_runs, hnsw_runs):
        recalls = [r.recall(exact.indices) for r in runs]
        dots = [r.dot_products for r in runs]
        assert recalls == sorted(recalls) and dots == sorted(dots)
        assert recalls[0] < 1.0 and recalls[-1] >= 0.99
    assert hnsw_runs[1].dot_products < 3000 / 3  # the point of the graph: a small share of the corpus


def test_same_corpus_same_cells():
    corpus = synthetic_corpus(500, 8, seed=2)
    a, b = ivf_index(corpus, 12, seed=5), ivf_index(corpus, 12, seed=5)
    centroids = [index.quantizer.reconstruct_n(0, 12) for index in (a, b)]  # (n_lists, d) each
    np.testing.assert_array_equal(*centroids)


def test_queries_per_second_counts_queries_over_the_best_time():
    calls = []
    qps = queries_per_second(lambda: calls.append(1), n_queries=50, repeats=4)
    assert len(calls) == 4 and qps > 50


@pytest.mark.parametrize("call, error, message", [
    (lambda c: ivf_index(c, n_lists=0), ValueError, "n_lists=0 must be between 1 and 200"),
    (lambda c: ivf_index(c, n_lists=201), ValueError, "n_lists=201"),
    (lambda c: ivf_index(c[:, 0], n_lists=2), ValueError, r"corpus.shape=\(200,\)"),
    (lambda c: ivf_search(ivf_index(c, 4), c[:2], k=3, n_probe=5), ValueError, "n_probe=5 must be between 1 and 4"),
    (lambda c: hnsw_search(hnsw_index(c), c[:2], k=5, ef_search=3), ValueError, "ef_search=3 must be between 5"),
    (lambda c: hnsw_index(np.full((3, 2), np.nan)), ValueError, "corpus holds NaN"),
    (lambda c: exact_search(c, c[:1], k=2.0), TypeError, r"k=2.0 must be a whole number"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call(synthetic_corpus(200, 4))
