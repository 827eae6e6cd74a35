"""Hypothesis strategies shared by the test modules."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Moderate magnitudes keep float64 rounding far below the tolerances the tests use.
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def vectors(d):
    return hnp.arrays(np.float64, d, elements=finite)


@st.composite
def vector_pairs(draw, max_d=16):
    d = draw(st.integers(1, max_d))
    return draw(vectors(d)), draw(vectors(d))


@st.composite
def vector_triples(draw, max_d=16):
    d = draw(st.integers(1, max_d))
    return draw(vectors(d)), draw(vectors(d)), draw(vectors(d))


def nonzero(v):
    return bool(np.any(np.abs(v) > 1e-3))


@st.composite
def matrices(draw, max_rows=6, max_d=8):
    rows, d = draw(st.integers(1, max_rows)), draw(st.integers(1, max_d))
    return draw(hnp.arrays(np.float64, (rows, d), elements=finite))
