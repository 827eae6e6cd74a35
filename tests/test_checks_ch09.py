"""Chapter 9's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch09 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch09
from dotlab.cost import TransformerShape

# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


globals().update(contract_tests(ch09, WRONG, RIGHT, min_visible=3))


def ivf_search(*args):
    """The first right answer, for the tests below."""
    return RIGHT.for_target("ivf_search")[0].fn(*args)


def test_the_ivf_cases_need_the_cells():
    """Each visible IVF case has a true neighbour outside the probed cells, or exact
    search would pass for IVF; probing every cell is exact."""
    for case in ch09._ivf_cases(hidden=False)[1:]:
        query, corpus, centroids, cells, k, n_probe = case.args
        exact = np.argsort(-(np.asarray(corpus) @ query))[:k]
        assert not np.array_equal(ivf_search(*case.args), exact), case.label
    query, corpus, centroids, cells, k, _ = ch09._ivf_cases(hidden=False)[1].args
    np.testing.assert_array_equal(ivf_search(query, corpus, centroids, cells, k, len(centroids)),
                                  np.argsort(-(corpus @ query))[:k])


def test_shapes_reach_the_learner_as_transformer_shapes():
    for case in ch09._kv_cases(hidden=True):
        assert isinstance(case.args[0], TransformerShape)


def test_a_rope_that_is_right_only_at_position_zero_fails():
    def identity(x, positions, base=10000.0):
        x = np.asarray(x, dtype=float)
        if x.shape[-1] % 2:
            raise ValueError(f"d_head={x.shape[-1]} must be even")
        return x

    with pytest.raises(CheckFailure, match="rope"):
        ch09.check_rope(identity)


def test_rotating_the_callers_array_in_place_is_named():
    """A mutation, caught where the learner's function runs in this process (pytest, the
    notebook); it is not in the catalogue because the grader's sandbox hands the learner
    its own copy of the inputs."""
    def rope(x, positions, base=10000.0):
        d = x.shape[-1]
        if d % 2:
            raise ValueError(f"d_head={d} must be even")
        angle = np.asarray(positions, dtype=float)[:, None] * base ** (-np.arange(0, d, 2) / d)
        a, b = x[:, : d // 2].copy(), x[:, d // 2:].copy()
        x[:, : d // 2] = a * np.cos(angle) - b * np.sin(angle)  # rotated in place
        x[:, d // 2:] = a * np.sin(angle) + b * np.cos(angle)
        return x

    with pytest.raises(CheckFailure, match="changed its input `x`"):
        ch09.check_rope(rope)


@pytest.mark.parametrize("seed", [14, 77])
def test_right_answers_pass_and_mistakes_are_named_with_other_instructor_seeds(seed, capsys):
    """The hidden edge cases are drawn from the instructor's seed; none of them may fail a
    right answer (seed 14 once did, by 1e-7, for a float32 one) or hide a mistake."""
    from dotlab.checks.contract import configure

    configure(seed=seed)
    try:
        for right in RIGHT.entries:
            getattr(ch09, f"check_{right.target}")(right.fn, hidden=True)
        for wrong in WRONG.entries:
            with pytest.raises(CheckFailure) as failure:
                getattr(ch09, f"check_{wrong.target}")(wrong.fn, hidden=True)
            assert wrong.expect in str(failure.value), f"{wrong.label}: {failure.value}"
    finally:
        configure(seed=None)
