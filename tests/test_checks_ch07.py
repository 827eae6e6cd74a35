"""Chapter 7's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The references are
built from dotlab.cost and dotlab.roofline; the instructor's solutions must pass too.
"""

import numpy as np
import pytest

from catalogue.ch07 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab import cost, roofline
from dotlab.checks import CheckFailure, ch07
from dotlab.cost import STAGES, attention_mlp_crossover, decode_cost, kv_cache_bytes, matmul_count, prefill_cost
from dotlab.roofline import matmul_intensity

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='7.2')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch07.CHECKS.items()}
CHECKS = {name: ch07.CHECKS[task] for name, task in TASKS.items()}


def _stage(table, stage):
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return table[stage].dot_products, table[stage].length


# Bound here, at import: the checks disarm dotlab.cost.prefill_cost and friends while a
# learner's function runs, and these references must not trip over that.
REFERENCES = {
    "matmul_count": lambda m, k, n: (lambda r: (r.dot_products, r.length, r.macs, r.flops))(matmul_count(m, k, n)),
    "prefill_count": lambda shape, T, stage: _stage(prefill_cost(shape, T), stage),
    "decode_count": lambda shape, T, stage: _stage(decode_cost(shape, T), stage),
    "kv_cache_bytes": kv_cache_bytes,
    "crossover_length": attention_mlp_crossover,
    "matmul_intensity": matmul_intensity,
}

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
