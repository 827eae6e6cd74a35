"""Chapter 1's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import pytest

from catalogue.ch01 import WRONG
from check_contract import contract_tests
from dotlab import vectors
from dotlab.checks import CheckFailure, ch01

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='1.4')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch01.CHECKS.items()}
CHECKS = {name: ch01.CHECKS[task] for name, task in TASKS.items()}
REFERENCES = {
    "dot_loop": vectors.dot_loop,
    "dot": vectors.dot,
    "norm": vectors.norm,
    "angle_between": vectors.angle_between,
    "project": vectors.project,
}

globals().update(contract_tests(ch01, WRONG, REFERENCES))


def test_checks_restore_what_they_disarm():
    import numpy as np

    import dotlab

    before = (np.dot, np.linalg.norm, dotlab.dot, vectors.dot)
    for wrong in WRONG.entries:
        with pytest.raises(CheckFailure):
            CHECKS[wrong.target](wrong.fn, hidden=True)
    assert (np.dot, np.linalg.norm, dotlab.dot, vectors.dot) == before
