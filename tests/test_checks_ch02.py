"""Chapter 2's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 2 follows them.
"""

import numpy as np
import pytest

from catalogue.ch02 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch02

globals().update(contract_tests(ch02, WRONG, RIGHT))


def test_a_quantiser_that_is_not_a_function_or_not_implemented_is_told_so():
    with pytest.raises(CheckFailure, match="should be a function"):
        ch02.check_quantise_int8(None)

    def quantise_int8(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="not implemented yet"):
        ch02.check_quantise_int8(quantise_int8)


def test_cases_have_no_ties_where_the_order_of_results_is_graded():
    """A tie at the k-th place would make more than one answer right."""
    for case in ch02.TASKS["2.3"].all_cases(hidden=True):
        if case.raises is None:
            corpus, queries, k = case.args
            scores = np.sort(np.asarray(queries, float) @ np.asarray(corpus, float).T, axis=1)[:, ::-1]
            assert np.all(np.diff(scores[:, : k + 1], axis=1) < 0), case.label


def test_the_visible_top_k_case_really_shows_an_unsorted_partition():
    corpus, queries, k = ch02._UNSORTED.args
    scores = np.asarray(queries) @ np.asarray(corpus).T
    first = np.take_along_axis(scores, np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    assert np.any(np.diff(first) > 0)
