"""Chapter 3's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch03 import WRONG
from dotlab import cost, layers
from dotlab.checks import CheckFailure, ch03

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='3.2')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch03.CHECKS.items()}
CHECKS = {name: ch03.CHECKS[task] for name, task in TASKS.items()}
_matmul_count = cost.matmul_count  # held here: the check disarms the module attribute while it runs
REFERENCES = {
    "linear": layers.linear,
    "matmul_from_dots": layers.matmul_from_dots,
    "matmul_count": lambda m, k, n: (lambda c: (c.dot_products, c.length, c.macs, c.flops))(_matmul_count(m, k, n)),
    "embedding_lookup": layers.embedding_lookup,
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
    assert out.startswith(f"\u2714 {name}: all") and passed >= (7 if hidden else 3)


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


def test_checks_restore_what_they_disarm():
    before = (np.dot, np.matmul, np.einsum, layers.linear, layers.one_hot, cost.matmul_count)
    for wrong in WRONG.entries:
        with pytest.raises(CheckFailure):
            CHECKS[wrong.target](wrong.fn, hidden=True)
    assert (np.dot, np.matmul, np.einsum, layers.linear, layers.one_hot, cost.matmul_count) == before


def test_the_counter_is_the_one_the_cost_chapter_uses():
    """The reference for task 3.3 is dotlab.cost.matmul_count, not a second copy."""
    assert ch03._count(2, 3, 4) == (8, 3, 24, 48)
    c = cost.matmul_count(7, 5, 3)
    assert ch03._count(7, 5, 3) == (c.dot_products, c.length, c.macs, c.flops)
