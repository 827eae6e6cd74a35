"""dotlab.quantisation: int8 codes within half a step, exact integer dot products, recall."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dotlab.embedding_cache import load_embeddings
from dotlab.quantisation import dequantise_int8, int8_dot, int8_scores, quantise_int8, recall_at_k
from dotlab.search import top_k
from strategies import finite


# -- int8 --------------------------------------------------------------------------------


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 32)), elements=finite))
def test_quantise_round_trip_error_is_at_most_half_a_step(x):
    codes, scale = quantise_int8(x)
    assert codes.dtype == np.int8 and codes.shape == x.shape and scale.shape == (x.shape[0],)
    assert np.all(np.abs(codes) <= 127)
    back = dequantise_int8(codes, scale)
    step = scale.astype(np.float64)[:, None]
    assert np.all(np.abs(back - x) <= 0.5 * step * (1 + 1e-6) + 1e-12)


def test_quantise_a_vector_and_zero_vectors():
    codes, scale = quantise_int8([0.5, -1.0, 0.25])
    assert codes.tolist() == [64, -127, 32] and scale == pytest.approx(1 / 127)
    codes, scale = quantise_int8([[0.0, 0.0], [2.0, -1.0]])
    assert codes.tolist() == [[0, 0], [127, -64]] and scale[0] == 1.0
    # too small for a float32 scale (5e-324 / 127 is 0 even in float64): stored as zero
    codes, scale = quantise_int8([[5e-324, 0.0], [1e-40, -1e-40]])
    assert codes.tolist() == [[0, 0], [0, 0]] and scale.tolist() == [1.0, 1.0]


def test_int8_accumulation_wraps_but_int32_does_not():
    q = np.full(384, 127, dtype=np.int8)
    true = 384 * 127 * 127
    # NumPy computes int8 @ int8 in int8, keeping only the true sum modulo 256
    assert int(q @ q) == (true + 128) % 256 - 128 == -128
    assert int8_dot(q, 1.0, q, 1.0) == true


@given(st.integers(1, 64), st.data())
def test_int8_dot_is_close_to_the_float_dot(d, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a, b = rng.normal(size=d), rng.normal(size=d)
    (qa, sa), (qb, sb) = quantise_int8(a), quantise_int8(b)
    exact = float(dequantise_int8(qa, sa) @ dequantise_int8(qb, sb))
    assert int8_dot(qa, sa, qb, sb) == pytest.approx(exact, rel=1e-9, abs=1e-9)
    # error bound: each component is off by at most half a step
    bound = 0.5 * (sa * np.abs(b).sum() + sb * np.abs(a).sum()) + 0.25 * d * sa * sb
    assert abs(int8_dot(qa, sa, qb, sb) - a @ b) <= bound + 1e-9


def test_int8_scores_match_int8_dot_and_stay_exact_past_float32_range():
    rng = np.random.default_rng(3)
    for d in (16, 1100):  # 1100·127² > 2^24: the int32 route
        x, y = rng.normal(size=(4, d)), rng.normal(size=(3, d))
        (qx, sx), (qy, sy) = quantise_int8(x), quantise_int8(y)
        table = int8_scores(qx, sx, qy, sy)
        assert table.shape == (3, 4)
        for i in range(3):
            for j in range(4):
                assert table[i, j] == pytest.approx(int8_dot(qy[i], sy[i], qx[j], sx[j]), rel=1e-6)
    q = np.full((1, 1100), 127, dtype=np.int8)
    assert int8_scores(q, [1.0], q, [1.0])[0, 0] == 1100 * 127 * 127


@pytest.mark.parametrize("call, error, words", [
    (lambda: int8_dot(np.ones(3), 1.0, np.ones(3, np.int8), 1.0), TypeError, "int8"),
    (lambda: int8_dot(np.ones(3, np.int8), 1.0, np.ones(4, np.int8), 1.0), ValueError, "(4,)"),
    (lambda: int8_scores(np.ones((2, 3), np.int8), [1.0], np.ones((1, 3), np.int8), [1.0]), ValueError, "scale"),
    (lambda: dequantise_int8(np.ones((2, 3), np.int8), [1.0]), ValueError, "(2,)"),
    (lambda: quantise_int8([[[1.0]]]), ValueError, "(1, 1, 1)"),
])
def test_int8_bad_input(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_int8_search_keeps_recall_on_the_course_embeddings():
    emb = load_embeddings(normalised=True, check_model=False)
    (qc, sc), (qq, sq) = quantise_int8(emb.items), quantise_int8(emb.queries)
    approx = np.argsort(-int8_scores(qc, sc, qq, sq), axis=1, kind="stable")[:, :10]
    _, exact = top_k(emb.items, emb.queries, 10)
    assert recall_at_k(approx, exact) >= 0.95


# -- recall ------------------------------------------------------------------------------


def test_recall_ignores_order_and_averages_queries():
    assert recall_at_k([[1, 2, 3]], [[3, 2, 1]]) == 1.0
    assert recall_at_k([[1, 2, 3], [4, 5, 6]], [[1, 2, 9], [7, 8, 9]]) == pytest.approx((2 / 3 + 0) / 2)


@pytest.mark.parametrize("found, exact, error, words", [
    ([[1, 2]], [[1, 2, 3]], ValueError, "(1, 3)"),
    ([1, 2], [1, 2], ValueError, "(2,)"),
    ([[1.0, 2.0]], [[1, 2]], TypeError, "float64"),
])
def test_recall_bad_input(found, exact, error, words):
    with pytest.raises(error) as info:
        recall_at_k(found, exact)
    assert words in str(info.value)
