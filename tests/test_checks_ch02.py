"""Chapter 2's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch02 import WRONG
from dotlab import search
from dotlab.checks import CheckFailure, ch02

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='2.3')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch02.CHECKS.items()}
CHECKS = {name: ch02.CHECKS[task] for name, task in TASKS.items()}
REFERENCES = {
    "cosine_similarity": search.cosine_similarity,
    "normalise": search.normalise,
    "top_k": search.top_k,
    "quantise_int8": search.quantise_int8,
    "int8_dot": search.int8_dot,
    "recall_at_k": search.recall_at_k,
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
