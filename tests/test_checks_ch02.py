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


def test_tied_scores_may_come_in_either_order_but_must_be_the_best():
    """A tie (repeated rows, or float32 rounding) makes more than one answer right: the hidden
    cases hold one, the check accepts the first or the last of tied rows first, and still
    refuses a tied row that is not among the k best or an order that is not best first."""
    assert any("tied" in c.label for c in ch02.TASKS["2.3"].all_cases(hidden=True))

    def ranked(tie_break):
        def top_k(corpus, queries, k):
            corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
            if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1] or not 1 <= k <= len(corpus):
                raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}, k={k}")
            scores = queries @ corpus.T
            rows = np.arange(len(corpus))
            idx = np.array([np.lexsort((tie_break * rows, -row))[:k] for row in scores])
            return np.take_along_axis(scores, idx, axis=1), idx
        return top_k

    ch02.check_top_k(ranked(+1), hidden=True)  # the first of tied rows first
    ch02.check_top_k(ranked(-1), hidden=True)  # the last of tied rows first
    corpus = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.0, 1.0]])
    case = ch02.Case("ties", (corpus, np.array([[1.0, 0.0]]), 2))
    want = ch02.TASKS["2.3"].reference(*case.args)
    for idx, kept in (([[1, 0]], True), ([[0, 2]], False), ([[0, 0]], False)):
        answer = (want[0], np.array(idx))
        assert (ch02._top_k_equivalent(case, answer, want)[1] is answer[1]) == kept, idx


def test_the_visible_top_k_case_really_shows_an_unsorted_partition():
    corpus, queries, k = ch02._UNSORTED.args
    scores = np.asarray(queries) @ np.asarray(corpus).T
    first = np.take_along_axis(scores, np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    assert np.any(np.diff(first) > 0)
