"""Chapter 4's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch04 import WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch04
from dotlab.scaling import scaled_scores
from dotlab.softmax import entropy, softmax


def dot_product_variance(d, n_samples, unit=False, seed=0):
    """The solution's experiment, self-contained: dotlab.scaling's version calls
    dot_product_samples, which the check forbids while a learner's function runs."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='4.1')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch04.CHECKS.items()}
CHECKS = {name: ch04.CHECKS[task] for name, task in TASKS.items()}
REFERENCES = {
    "softmax": softmax,
    "scaled_scores": scaled_scores,
    "entropy": entropy,
    "dot_product_variance": dot_product_variance,
}

globals().update(contract_tests(ch04, WRONG, REFERENCES, min_visible=2))


def test_a_library_softmax_imported_under_another_name_is_caught():
    """A tripwire cannot reach a name bound before the check: the check looks it up."""
    import scipy.special

    namespace = {"np": np, "sm": scipy.special.softmax}
    exec("def softmax(x, axis=-1):\n    return sm(x, axis=axis)\n", namespace)
    with pytest.raises(CheckFailure, match="uses `sm`, which is scipy.special.softmax"):
        ch04.check_softmax(namespace["softmax"])


def test_a_learner_helper_of_the_same_name_is_not_mistaken_for_the_reference():
    namespace = {"np": np}
    exec("def exp(x):\n    return np.exp(x)\n"
         "def softmax(x, axis=-1):\n    x = np.asarray(x, float)\n    e = exp(x - x.max(axis=axis, keepdims=True))\n"
         "    return e / e.sum(axis=axis, keepdims=True)\n", namespace)
    ch04.check_softmax(namespace["softmax"], hidden=True)


def test_variance_check_accepts_any_honest_seeding():
    """The learner's draws differ from the reference's; only the statistics must agree."""
    def other_order(d, n_samples, unit=False, seed=0):
        rng = np.random.default_rng(seed + 1000)
        pairs = rng.standard_normal((2, n_samples, d))
        if unit:
            pairs /= np.linalg.norm(pairs, axis=2, keepdims=True)
        return float(np.var(np.einsum("nd,nd->n", *pairs)))

    ch04.check_dot_product_variance(other_order, hidden=True)


def test_an_unseeded_experiment_fails_where_the_function_is_local():
    def unseeded(d, n_samples, unit=False, seed=0):
        return dot_product_variance(d, n_samples, unit=unit, seed=np.random.default_rng().integers(1 << 30))

    def seed_ignored(d, n_samples, unit=False, seed=0):
        return dot_product_variance(d, n_samples, unit=unit, seed=0)

    ch04.check_dot_product_variance(unseeded)  # the visible checks cannot tell
    with pytest.raises(CheckFailure, match="the same seed must give the same draws"):
        ch04.check_dot_product_variance(unseeded, hidden=True)
    with pytest.raises(CheckFailure, match="the seed is ignored"):
        ch04.check_dot_product_variance(seed_ignored, hidden=True)


def test_checks_restore_what_they_disarm():
    import importlib

    import scipy.special

    import dotlab

    module = importlib.import_module("dotlab.softmax")  # `dotlab.softmax` is the function

    def now():
        return scipy.special.softmax, dotlab.softmax, module.softmax, module.entropy

    before = now()
    for wrong in WRONG.entries:
        with pytest.raises(CheckFailure):
            CHECKS[wrong.target](wrong.fn, hidden=True)
    assert now() == before
