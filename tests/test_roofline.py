"""dotlab.roofline: arithmetic intensity of a matrix product."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dotlab.cost import WholeNumberError, matmul_count
from dotlab.roofline import matmul_intensity

sizes = st.integers(1, 10_000)


def test_matmul_intensity_by_hand():
    # (2×3) @ (3×4): 48 FLOPs; 6 + 12 + 8 = 26 values of 2 bytes
    assert matmul_intensity(2, 3, 4) == 48 / 52
    assert matmul_intensity(2, 3, 4, bytes_per_value=4) == 48 / 104
    assert matmul_intensity(1, 1, 1, bytes_per_value=0.5) == 2 / 1.5


@given(sizes, sizes, sizes, st.sampled_from([0.5, 1, 2, 4]))
def test_intensity_is_the_cost_models_flops_over_each_operand_once(m, k, n, b):
    flops = matmul_count(m, k, n).flops
    assert math.isclose(matmul_intensity(m, k, n, b), flops / (b * (m * k + k * n + m * n)), rel_tol=1e-12)


@given(sizes, sizes, st.sampled_from([1, 2, 4]))
def test_a_matrix_vector_product_stays_below_two_flops_per_value(k, n, b):
    """What one decode step does to every weight matrix: at most 2 FLOPs per value read."""
    assert matmul_intensity(1, k, n, b) < 2 / b


@given(st.integers(1, 2000))
def test_a_square_product_grows_with_its_size(n):
    assert math.isclose(matmul_intensity(n, n, n, 2), n / 3, rel_tol=1e-12)


@pytest.mark.parametrize(
    "args, error, message",
    [((0, 3, 4), ValueError, "m=0 must be at least 1"), ((2, -1, 4), ValueError, "k=-1"),
     ((2, 3, 4.5), WholeNumberError, r"n=4\.5"), ((2, 3, 4, 0), ValueError, "bytes_per_value=0"),
     ((2, 3, 4, float("nan")), ValueError, "bytes_per_value=nan"), ((2, 3, 4, "2"), TypeError, "bytes_per_value='2'")],
)
def test_bad_input_is_named(args, error, message):
    with pytest.raises(error, match=message):
        matmul_intensity(*args)
