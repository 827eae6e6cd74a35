"""Chapter 2's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch02 import WRONG
from check_contract import contract_tests
from dotlab import quantisation, search
from dotlab.checks import CheckFailure, ch02

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='2.3')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch02.CHECKS.items()}
CHECKS = {name: ch02.CHECKS[task] for name, task in TASKS.items()}
REFERENCES = {
    "cosine_similarity": search.cosine_similarity,
    "normalise": search.normalise,
    "top_k": search.top_k,
    "quantise_int8": quantisation.quantise_int8,
    "int8_dot": quantisation.int8_dot,
    "recall_at_k": quantisation.recall_at_k,
}

globals().update(contract_tests(ch02, WRONG, REFERENCES))


def test_a_quantiser_that_is_not_a_function_or_not_implemented_is_told_so():
    with pytest.raises(CheckFailure, match="should be a function"):
        ch02.check_quantise_int8(None)

    def quantise_int8(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="not implemented yet"):
        ch02.check_quantise_int8(quantise_int8)


def test_checks_restore_what_they_disarm():
    import dotlab

    before = (search.top_k, search.normalise, search.cosine_similarity, getattr(dotlab, "top_k", None))
    for wrong in WRONG.entries:
        with pytest.raises(CheckFailure):
            CHECKS[wrong.target](wrong.fn, hidden=True)
    assert (search.top_k, search.normalise, search.cosine_similarity, getattr(dotlab, "top_k", None)) == before


def test_cases_have_no_ties_where_the_order_of_results_is_graded():
    """A tie at the k-th place would make more than one answer right."""
    for case in ch02._top_k_cases(hidden=True):
        if case.raises is None:
            corpus, queries, k = case.args
            scores = np.sort(np.asarray(queries, float) @ np.asarray(corpus, float).T, axis=1)[:, ::-1]
            assert np.all(np.diff(scores[:, : k + 1], axis=1) < 0), case.label
