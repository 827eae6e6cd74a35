"""dotlab.vectors: the algebra holds, and bad input is refused by name."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dotlab import angle_between, dot, dot_loop, norm, project
from dotlab.vectors import dot_flops
from strategies import finite, nonzero, vector_pairs, vector_triples


def test_the_worked_example():
    assert dot([2, 3, 1], [4, -1, 5]) == 10.0
    assert dot_loop([2, 3, 1], [4, -1, 5]) == 10.0
    assert isinstance(dot([2, 3, 1], [4, -1, 5]), float)


@given(vector_pairs())
def test_symmetric(pair):
    a, b = pair
    assert dot(a, b) == pytest.approx(dot(b, a))


@given(vector_triples(), finite)
def test_linear_in_each_argument(triple, s):
    a, b, c = triple
    scale = 1 + abs(dot(a, c)) + abs(dot(b, c)) * (1 + abs(s))
    assert dot(s * a + b, c) == pytest.approx(s * dot(a, c) + dot(b, c), abs=1e-9 * scale)


@given(vector_pairs())
def test_cauchy_schwarz(pair):
    a, b = pair
    assert abs(dot(a, b)) <= norm(a) * norm(b) * (1 + 1e-12) + 1e-12


@given(vector_pairs())
def test_loop_and_vectorised_agree(pair):
    a, b = pair
    assert dot_loop(a, b) == pytest.approx(dot(a, b), rel=1e-9, abs=1e-9)


@given(vector_pairs())
def test_norm_is_root_of_self_dot(pair):
    a, _ = pair
    assert norm(a) == pytest.approx(math.sqrt(dot(a, a)), rel=1e-12, abs=1e-12)


def test_norm_survives_huge_and_tiny_components():
    assert norm([3e200, 4e200]) == pytest.approx(5e200)
    assert norm([3e-200, 4e-200]) == pytest.approx(5e-200)


@given(vector_pairs())
def test_angle_in_range_and_consistent_with_dot(pair):
    a, b = pair
    assume(nonzero(a) and nonzero(b))
    theta = angle_between(a, b)
    assert 0.0 <= theta <= math.pi
    assert norm(a) * norm(b) * math.cos(theta) == pytest.approx(dot(a, b), rel=1e-6, abs=1e-6 * norm(a) * norm(b))


@pytest.mark.parametrize("b, degrees", [([1, 0], 0.0), ([0, 1], 90.0), ([-1, 0], 180.0), ([1, 1], 45.0)])
def test_angle_table(b, degrees):
    assert angle_between([1, 0], b, degrees=True) == pytest.approx(degrees)


def test_parallel_vectors_do_not_give_nan():
    v = [-0.92, -0.46, 0.22]  # a·a / (|a||a|) rounds to just above 1
    assert angle_between(v, v) == 0.0


@given(vector_pairs())
def test_projection_leaves_a_perpendicular_remainder(pair):
    a, onto = pair
    assume(nonzero(onto))
    p = project(a, onto)
    remainder = a - p
    assert dot(remainder, onto) == pytest.approx(0.0, abs=1e-7 * (1 + norm(a)) * norm(onto))
    assert project(p, onto) == pytest.approx(p, abs=1e-7 * (1 + norm(a)))


def test_dot_flops():
    assert dot_flops(8192) == 16383
    with pytest.raises(ValueError, match="d=0"):
        dot_flops(0)


@pytest.mark.parametrize(
    "a, b, error, message",
    [
        ([1, 2, 3], [1, 2], ValueError, r"a.shape=\(3,\) and b.shape=\(2,\)"),
        ([], [], ValueError, "a is empty"),
        (["x", "y"], [1, 2], TypeError, "must hold numbers.*dtype <U1"),
        ([1, float("nan")], [1, 2], ValueError, r"NaN or infinity \(at index \[\[1\]\]\)"),
        ([1, 2], [1, float("inf")], ValueError, "b contains NaN or infinity"),
        ([[1, 2]], [1, 2], ValueError, r"a must be a 1-D vector, but a.shape=\(1, 2\)"),
        ([1, [2, 3]], [1, 2], TypeError, "cannot be read as an array"),
        ([1j, 2], [1, 2], TypeError, "complex"),
    ],
)
def test_bad_input_is_named(a, b, error, message):
    with pytest.raises(error, match=message):
        dot(a, b)


def test_zero_vectors_have_no_direction():
    with pytest.raises(ValueError, match="b is the zero vector"):
        angle_between([1, 2], [0, 0])
    with pytest.raises(ValueError, match="onto is the zero vector"):
        project([1, 2], [0, 0])


@given(st.integers(1, 50))
def test_norm_refuses_matrices(n):
    with pytest.raises(ValueError, match=rf"\(1, {n}\)"):
        norm(np.ones((1, n)))
