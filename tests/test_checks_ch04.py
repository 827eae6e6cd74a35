"""Chapter 4's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch04 import WRONG
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


def _by_task(items, name_of, ids=None):
    """Parametrize values, each marked with the task id of the function it concerns."""
    return [pytest.param(item, marks=pytest.mark.task(id=TASKS[name_of(item)]), id=ids(item) if ids else None) for item in items]


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("name", _by_task(CHECKS, lambda n: n, ids=lambda n: n))
def test_reference_passes(name, hidden, capsys):
    assert CHECKS[name](REFERENCES[name], hidden=hidden) is None  # a number would be partial credit
    out = capsys.readouterr().out
    passed = int(out.split("all ")[1].split(" checks")[0])
    assert out.startswith(f"\u2714 {name}: all") and passed >= (7 if hidden else 2)


@pytest.mark.parametrize("wrong", _by_task(WRONG.entries, lambda w: w.target, ids=lambda w: w.label))
def test_every_mistake_fails_with_its_own_message(wrong):
    with pytest.raises(CheckFailure) as failure:
        CHECKS[wrong.target](wrong.fn, hidden=True)
    assert wrong.expect in str(failure.value), f"message was: {failure.value}"


@pytest.mark.parametrize("wrong", _by_task([w for w in WRONG.entries if not w.hidden_only], lambda w: w.target, ids=lambda w: w.label))
def test_visible_checks_already_catch_the_common_mistakes(wrong):
    with pytest.raises(CheckFailure) as failure:
        CHECKS[wrong.target](wrong.fn, hidden=False)
    assert wrong.expect in str(failure.value), f"message was: {failure.value}"


@pytest.mark.parametrize("wrong", _by_task([w for w in WRONG.entries if w.hidden_only], lambda w: w.target, ids=lambda w: w.label))
def test_subtle_mistakes_slip_past_the_visible_checks(wrong, capsys):
    """These are what the hidden tests are for; if the visible ones caught them too,
    the catalogue entry should lose its hidden_only flag."""
    CHECKS[wrong.target](wrong.fn, hidden=False)


def test_catalogue_covers_every_graded_function():
    for name in CHECKS:
        assert len(WRONG.for_target(name)) >= 5, name


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
