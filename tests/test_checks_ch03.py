"""Chapter 3's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch03 import WRONG
from check_contract import contract_tests
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

globals().update(contract_tests(ch03, WRONG, REFERENCES))


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
