"""dotlab.search: cosine, normalisation and top-k (checked against FAISS)."""

import math

import faiss  # pinned in requirements.txt: a missing FAISS is a broken setup, not a skip
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.embedding_cache import load_embeddings
from dotlab.search import cosine_similarity, normalise, top_k
from strategies import finite, nonzero, vector_pairs


@st.composite
def matrices(draw, max_rows=6, max_d=8):
    d = draw(st.integers(1, max_d))
    a = draw(hnp.arrays(np.float64, (draw(st.integers(1, max_rows)), d), elements=finite))
    b = draw(hnp.arrays(np.float64, (draw(st.integers(1, max_rows)), d), elements=finite))
    return a, b


# -- cosine and normalise ----------------------------------------------------------------


def test_cosine_of_the_worked_example():
    a, b = [2, 3, 1], [4, -1, 5]
    assert cosine_similarity(a, b) == pytest.approx(10 / (math.sqrt(14) * math.sqrt(42)))
    assert isinstance(cosine_similarity(a, b), float)


@given(vector_pairs())
def test_cosine_in_range_symmetric_and_scale_free(pair):
    a, b = pair
    assume(nonzero(a) and nonzero(b))
    c = cosine_similarity(a, b)
    assert -1.0 <= c <= 1.0
    assert c == pytest.approx(cosine_similarity(b, a), abs=1e-12)
    assert cosine_similarity(3.5 * a, 0.25 * b) == pytest.approx(c, abs=1e-9)


@given(matrices())
def test_pairwise_table_matches_vector_by_vector(ab):
    a, b = ab
    assume(all(nonzero(r) for r in a) and all(nonzero(r) for r in b))
    table = cosine_similarity(a, b)
    assert table.shape == (len(a), len(b))
    for i in range(len(a)):
        for j in range(len(b)):
            assert table[i, j] == pytest.approx(cosine_similarity(a[i], b[j]), abs=1e-9)
    # a vector against a matrix gives one cosine per row
    np.testing.assert_allclose(cosine_similarity(a[0], b), table[0], atol=1e-12)


def test_cosine_of_a_vector_with_itself_is_exactly_one():
    v = [-0.92, -0.46, 0.22]  # a·a / (|a| |a|) rounds above 1 here without the clip
    assert cosine_similarity(v, v) == 1.0
    assert cosine_similarity(v, [-x for x in v]) == -1.0


def test_normalise_then_dot_is_the_cosine():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 16)), rng.normal(size=(7, 16))
    np.testing.assert_allclose(normalise(a) @ normalise(b).T, cosine_similarity(a, b), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(normalise(a), axis=1), 1.0)


def test_normalise_keeps_float32_and_survives_extreme_magnitudes():
    assert normalise(np.ones(4, dtype=np.float32)).dtype == np.float32
    np.testing.assert_allclose(normalise([3e200, 4e200]), [0.6, 0.8])
    np.testing.assert_allclose(normalise([3e-200, 4e-200]), [0.6, 0.8])


@pytest.mark.parametrize("call", [
    lambda: cosine_similarity([0, 0], [1, 1]),
    lambda: cosine_similarity([1, 1], [0.0, 0.0]),
    lambda: cosine_similarity([[1, 0], [0, 0]], [[1, 1]]),
    lambda: normalise([0.0, 0.0, 0.0]),
    lambda: normalise([[1.0, 2.0], [0.0, 0.0]]),
    lambda: top_k([[1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0]], k=1, metric="cosine"),
])
def test_a_zero_vector_has_no_direction(call):
    with pytest.raises(ValueError, match="zero"):
        call()


def test_zero_rows_are_named():
    with pytest.raises(ValueError, match=r"at row \[1, 3\]"):
        normalise([[1, 0], [0, 0], [2, 2], [0, 0]])


@pytest.mark.parametrize("call, error, words", [
    (lambda: cosine_similarity([1, 2, 3], [1, 2]), ValueError, "(3,)"),
    (lambda: cosine_similarity([[1, 2, 3]], [[1, 2]]), ValueError, "(1, 2)"),
    (lambda: cosine_similarity(np.ones((2, 2, 2)), [1, 1]), ValueError, "(2, 2, 2)"),
    (lambda: cosine_similarity(["a", "b"], [1, 2]), TypeError, "numbers"),
    (lambda: normalise([1.0, np.nan]), ValueError, "NaN"),
])
def test_bad_input_is_refused_by_name(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# -- top_k -------------------------------------------------------------------------------


def _brute_force(corpus, queries, k):
    scores = np.asarray(queries) @ np.asarray(corpus).T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order


@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 5), st.data())
def test_top_k_agrees_with_a_full_sort(N, d, n, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    corpus, queries = rng.normal(size=(N, d)), rng.normal(size=(n, d))  # ties have probability 0
    k = data.draw(st.integers(1, N))
    scores, indices = top_k(corpus, queries, k)
    want_scores, want_indices = _brute_force(corpus, queries, k)
    assert scores.shape == indices.shape == (n, k)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-12)
    np.testing.assert_array_equal(indices, want_indices)
    assert indices.dtype == np.int64
    assert np.all(np.diff(scores, axis=1) <= 0)  # best first


@given(st.integers(500, 3000), st.integers(1, 12), st.booleans(), st.data())
def test_top_k_on_a_large_corpus_finds_the_same_scores_as_a_full_sort(N, k, ties, data):
    """Large enough for the two-level partial sort, with and without tied scores."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    corpus = rng.integers(-3, 4, size=(N, 4)).astype(float) if ties else rng.normal(size=(N, 4))
    queries = rng.integers(-2, 3, size=(3, 4)).astype(float) if ties else rng.normal(size=(3, 4))
    scores, indices = top_k(corpus, queries, k)
    want_scores, _ = _brute_force(corpus, queries, k)
    np.testing.assert_array_equal(scores, want_scores)  # with ties, which rows is unspecified
    np.testing.assert_array_equal(np.take_along_axis(queries @ corpus.T, indices, axis=1), scores)
    assert all(len(set(row)) == k for row in indices.tolist())  # k different rows


def test_top_k_uses_every_column_of_a_corpus_that_is_not_a_whole_number_of_blocks():
    from dotlab.search import _BLOCK

    corpus = np.zeros((50 * _BLOCK + 7, 2))
    corpus[:, 0] = -np.arange(len(corpus))  # scores fall along the corpus...
    corpus[-3:, 0] = [10.0, 30.0, 20.0]     # ...except for the last, partial block
    _, indices = top_k(corpus, [[1.0, 0.0]], 4)
    assert indices.tolist() == [[len(corpus) - 2, len(corpus) - 1, len(corpus) - 3, 0]]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_top_k_refuses_nan_and_infinity_wherever_they_are(bad):
    corpus, queries = np.ones((2000, 3)), np.ones((2, 3))
    corpus[1234, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        top_k(corpus, queries, 3)
    queries[1, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        top_k(np.ones((5, 3)), queries, 3)


def test_top_k_cosine_normalises_both_sides():
    corpus = np.array([[1.0, 0.0], [0.0, 1.0], [10.0, 9.0]])
    query = np.array([[1.0, 0.2]])
    assert top_k(corpus, query, 1)[1][0, 0] == 2  # the long vector wins by dot product
    scores, indices = top_k(corpus, 7 * query, 3, metric="cosine")  # query length is irrelevant
    np.testing.assert_allclose(scores, cosine_similarity(query, corpus)[:, indices[0]])
    assert indices[0, 0] == 0


def test_top_k_single_query_and_float32():
    rng = np.random.default_rng(1)
    corpus = rng.normal(size=(50, 8)).astype(np.float32)
    scores, indices = top_k(corpus, corpus[7], 3)
    assert scores.shape == indices.shape == (3,)
    assert scores.dtype == np.float32
    assert top_k(corpus, corpus[7], 1, metric="cosine")[1][0] == 7  # by dot, a longer row may beat it


@pytest.mark.parametrize("kwargs, error, words", [
    ({"k": 0}, ValueError, "k=0"),
    ({"k": 5}, ValueError, "N=4"),
    ({"k": 2.0}, TypeError, "whole number"),
    ({"k": True}, TypeError, "whole number"),
    ({"k": 1, "metric": "l2"}, ValueError, "'l2'"),
])
def test_top_k_refuses_bad_k_and_metric(kwargs, error, words):
    with pytest.raises(error) as info:
        top_k(np.eye(4), [[1, 0, 0, 0]], **kwargs)
    assert words in str(info.value)


def test_top_k_refuses_mismatched_lengths_and_shapes():
    with pytest.raises(ValueError, match=r"corpus.shape=\(4, 4\) and queries.shape=\(1, 3\)"):
        top_k(np.eye(4), [[1, 0, 0]], 1)
    with pytest.raises(ValueError, match="2-D"):
        top_k([1, 2, 3], [1, 2, 3], 1)


def test_top_k_matches_faiss_index_flat_ip():
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(2)
    corpus = rng.standard_normal((5_000, 64), dtype=np.float32)
    queries = rng.standard_normal((50, 64), dtype=np.float32)
    index = faiss.IndexFlatIP(64)
    index.add(corpus)
    want_scores, want_indices = index.search(queries, 10)
    scores, indices = top_k(corpus, queries, 10)
    np.testing.assert_array_equal(indices, want_indices)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-4, atol=1e-4)


def test_top_k_matches_faiss_on_the_course_embeddings():
    faiss.omp_set_num_threads(1)
    emb = load_embeddings(normalised=True, check_model=False)
    index = faiss.IndexFlatIP(emb.items.shape[1])
    index.add(emb.items)
    _, want = index.search(emb.queries, 10)
    _, got = top_k(emb.items, emb.queries, 10, metric="cosine")
    np.testing.assert_array_equal(got, want)
