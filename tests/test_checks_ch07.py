"""Chapter 7's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The references are
built from dotlab.cost and dotlab.roofline; the instructor's solutions must pass too.
"""

import numpy as np
import pytest

from catalogue.ch07 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch07



globals().update(contract_tests(ch07, WRONG, RIGHT, min_wrong=7))


def test_every_mistake_the_checks_know_has_a_catalogue_entry():
    """Each Mistake's hint is the expected message of some wrong version, so no
    diagnosis goes untested."""
    expects = [w.expect for w in WRONG.entries]
    for mistakes in (ch07._MATMUL_MISTAKES, ch07._PREFILL_MISTAKES, ch07._DECODE_MISTAKES, ch07._KV_MISTAKES,
                     ch07._CROSSOVER_MISTAKES, ch07._INTENSITY_MISTAKES):
        for mistake in mistakes:
            assert any(e in mistake.hint for e in expects), mistake.name


def test_the_mistakes_are_told_apart_on_the_visible_cases():
    """No two mistakes predict the same answers on every visible case: if they did, the
    diagnosis could name the wrong one."""
    tables = [
        (ch07._MATMUL_MISTAKES, ch07._matmul_cases(False)),
        (ch07._PREFILL_MISTAKES, ch07._prefill_cases(False)),
        (ch07._DECODE_MISTAKES, ch07._decode_cases(False)),
        (ch07._KV_MISTAKES, ch07._kv_cases(False)),
        (ch07._CROSSOVER_MISTAKES, ch07._crossover_cases(False)),
        (ch07._INTENSITY_MISTAKES, ch07._intensity_cases(False)),
    ]
    for mistakes, cases in tables:
        cases = [c for c in cases if c.raises is None]
        seen = {}
        for mistake in mistakes:
            answers = tuple(np.array(mistake.predict(*c.args, **c.kwargs), dtype=float).round(9).tobytes() for c in cases)
            assert answers not in seen, f"{mistake.name!r} and {seen.get(answers)!r} look alike"
            seen[answers] = mistake.name


def test_a_non_function_is_refused():
    for check in CHECKS.values():
        with pytest.raises(CheckFailure, match="should be a function"):
            check(42)


def test_a_mistake_in_one_stage_is_reported_with_that_stage():
    wrong = next(w for w in WRONG.for_target("prefill_count") if "vocabulary is scored once" in w.expect)
    with pytest.raises(CheckFailure, match=r"prefill_count\(\.\.\.\) on stage 'unembed' for L=2"):
        ch07.check_prefill_count(wrong.fn)
