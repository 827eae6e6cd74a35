"""dotlab.roofline: arithmetic intensity, and the two roofs measured on this machine.

The measurements are not timed tests: they only have to return positive, finite
numbers quickly, at sizes far below the defaults, and refuse bad sizes by name.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dotlab.cost import WholeNumberError, matmul_count
import numpy as np

from dotlab.roofline import (
    Roofline,
    matmul_intensity,
    measure_bandwidth,
    measure_matmul_flops,
    measure_roofline,
    time_matmul,
)

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


# ------------------------------------------------------------------ measurements


@pytest.mark.parametrize("kwargs", [dict(n=1), dict(n=48, repeats=1), dict(n=33, dtype="float64")])
def test_matmul_flops_is_a_positive_finite_speed(kwargs):
    flops = measure_matmul_flops(**kwargs)
    assert isinstance(flops, float) and 0 < flops < math.inf


@pytest.mark.parametrize("args, kwargs", [((1, 1, 1), {}), ((3, 70, 5), dict(repeats=1)), ((8, 8, 8), dict(dtype=np.float64))])
def test_time_matmul_is_a_positive_finite_time(args, kwargs):
    seconds = time_matmul(*args, **kwargs)
    assert isinstance(seconds, float) and 0 < seconds < math.inf


@pytest.mark.parametrize("kwargs", [dict(n_bytes=1), dict(n_bytes=2**16, repeats=1), dict(n_bytes=1001, threads=3)])
def test_bandwidth_is_a_positive_finite_speed(kwargs):
    bandwidth = measure_bandwidth(**kwargs)
    assert isinstance(bandwidth, float) and 0 < bandwidth < math.inf


def test_measure_roofline_puts_both_together():
    roof = measure_roofline(matmul_n=32, n_bytes=2**12, repeats=1)
    assert roof.peak_flops > 0 and roof.bandwidth > 0
    assert math.isclose(roof.ridge, roof.peak_flops / roof.bandwidth)


@pytest.mark.parametrize(
    "fn, kwargs, error, message",
    [
        (measure_matmul_flops, dict(n=0), ValueError, "n=0 must be at least 1"),
        (measure_matmul_flops, dict(n=-8), ValueError, "n=-8"),
        (measure_matmul_flops, dict(n=16.0), WholeNumberError, r"n=16\.0 must be a whole number"),
        (measure_matmul_flops, dict(n=16, repeats=0), ValueError, "repeats=0"),
        (measure_matmul_flops, dict(n=16, dtype="int32"), TypeError, "dtype=int32 must be a floating-point type"),
        (measure_bandwidth, dict(n_bytes=0), ValueError, "n_bytes=0 must be at least 1"),
        (measure_bandwidth, dict(n_bytes="64"), TypeError, "n_bytes='64'"),
        (measure_bandwidth, dict(n_bytes=64, repeats=-1), ValueError, "repeats=-1"),
        (measure_bandwidth, dict(n_bytes=64, threads=0), ValueError, "threads=0"),
        (measure_roofline, dict(matmul_n=0), ValueError, "n=0"),
        (time_matmul, dict(m=0, k=2, n=2), ValueError, "m=0 must be at least 1"),
        (time_matmul, dict(m=2, k=2, n=-2), ValueError, "n=-2"),
        (time_matmul, dict(m=2, k=2.5, n=2), WholeNumberError, r"k=2\.5"),
        (time_matmul, dict(m=2, k=2, n=2, repeats=0), ValueError, "repeats=0"),
        (time_matmul, dict(m=2, k=2, n=2, dtype=bool), TypeError, "dtype=bool"),
    ],
)
def test_bad_sizes_are_refused_by_name(fn, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(**kwargs)


def test_the_copy_really_copies(monkeypatch):
    """The bandwidth is of a real copy: every byte arrives, whatever the split."""
    seen = []
    original = np.copyto

    def spy(dst, src):
        original(dst, src)
        seen.append((dst.size, bool(np.all(dst == src))))

    monkeypatch.setattr(np, "copyto", spy)
    measure_bandwidth(1001, repeats=1, threads=3)
    assert len(seen) == 2 * 3 and all(ok for _, ok in seen)  # warm-up and one timed copy, 3 pieces each
    assert sum(size for size, _ in seen[:3]) == 1001


# ------------------------------------------------------------------ the roof


def test_roofline_model():
    roof = Roofline(peak_flops=100.0, bandwidth=20.0)
    assert roof.ridge == 5.0
    assert roof.attainable(0) == 0.0
    assert roof.attainable(2.5) == 50.0 and roof.attainable(5.0) == 100.0 and roof.attainable(1e6) == 100.0
    np.testing.assert_array_equal(roof.attainable([1, 5, 10]), [20.0, 100.0, 100.0])
    assert (roof.bound(4.99), roof.bound(5.0), roof.bound(6)) == ("memory", "compute", "compute")


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(peak_flops=0, bandwidth=1), "peak_flops=0"), (dict(peak_flops=1, bandwidth=-1), "bandwidth=-1"),
     (dict(peak_flops=math.inf, bandwidth=1), "peak_flops=inf")],
)
def test_roofline_refuses_impossible_machines(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Roofline(**kwargs)


def test_roofline_refuses_negative_intensity():
    roof = Roofline(1.0, 1.0)
    with pytest.raises(ValueError, match="intensity"):
        roof.attainable([1.0, -2.0])
    with pytest.raises(ValueError, match="intensity=-1"):
        roof.bound(-1)
