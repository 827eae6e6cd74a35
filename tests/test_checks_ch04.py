"""Chapter 4's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 4 follows them.
"""

import numpy as np
import pytest

from catalogue.ch04 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch04

# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

globals().update(contract_tests(ch04, WRONG, RIGHT, min_visible=2))


def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


def test_a_library_softmax_imported_under_another_name_is_caught():
    """A tripwire cannot reach a name bound before the check; the allowlist reads the source."""
    from check_contract import SourceOnly
    from dotlab.checks._allow import learner_refusal

    cells = ["import numpy as np\nfrom scipy.special import softmax as sm\n",
             "def softmax(x, axis=-1):\n    return sm(x, axis=axis)\n"]
    refused = learner_refusal(SourceOnly(cells), "softmax", ch04.TASKS["4.1"].allowed)
    assert "uses scipy.special.softmax" in refused


def test_a_float32_softmax_passes():
    """The issue's example: a right softmax computed in float32 scored zero."""
    def softmax(x, axis=-1):
        x = np.asarray(x, dtype=np.float32)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    ch04.check_softmax(softmax, hidden=True)


def test_variance_check_accepts_any_honest_seeding():
    """The learner's draws differ from the reference's; only the statistics must agree."""
    def other_order(d, n_samples, unit=False, seed=0):
        rng = np.random.default_rng(seed + 1000)
        pairs = rng.standard_normal((2, n_samples, d))
        if unit:
            pairs /= np.linalg.norm(pairs, axis=2, keepdims=True)
        return float(np.var(np.einsum("nd,nd->n", *pairs)))

    ch04.check_dot_product_variance(other_order, hidden=True)


def test_an_unseeded_experiment_fails_the_visible_and_the_hidden_check():
    def unseeded(d, n_samples, unit=False, seed=0):
        return dot_product_variance(d, n_samples, unit=unit, seed=np.random.default_rng().integers(1 << 30))

    def seed_ignored(d, n_samples, unit=False, seed=0):
        return dot_product_variance(d, n_samples, unit=unit, seed=0)

    with pytest.raises(CheckFailure, match="the same seed must give the same draws"):
        ch04.check_dot_product_variance(unseeded)  # the task text asks for it: the self-check tells
    with pytest.raises(CheckFailure, match="the same seed must give the same draws") as failure:
        ch04.check_dot_product_variance(unseeded, hidden=True)
    assert failure.value.mistake == ch04.SEED_NOT_FOLLOWED.name  # what the instructor's report counts
    with pytest.raises(CheckFailure, match="the seed is ignored") as failure:
        ch04.check_dot_product_variance(seed_ignored, hidden=True)
    assert failure.value.mistake == ch04.SEED_IGNORED.name
