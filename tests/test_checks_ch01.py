"""Chapter 1's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 1 follows them.
"""

import math

import numpy as np

from catalogue.ch01 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import ch01

globals().update(contract_tests(ch01, WRONG, RIGHT))


def test_the_angle_edges_really_round_past_one():
    """The edge cases exist because the naive cosine leaves [-1, 1] on them: check it does."""
    rng = np.random.default_rng(5)
    for sign in (1.0, -1.0):
        v, w = ch01._rounding_past_one(rng, sign)
        naive = float(v @ w) / (math.sqrt(float(v @ v)) * math.sqrt(float(w @ w)))
        assert abs(naive) > 1.0
