"""A notebook's time budget: once its code has run for that long, nothing more of it runs.

The budget on its own first, then in the real sandbox: functions that are right but
sleep just under the per-call limit on every call use up a small budget in the first
graded cell; that cell fails with a message naming the budget, every later cell scores
zero with the budget's own message, and grading returns (the batch goes on). The same
notebook with no budget passes, so it is the budget, not the answers, that costs it. The
nbgrader round trip with the kernel is tests/test_hostile.py's ``slow_but_right``.
"""

from __future__ import annotations

import time

import pytest

from dotlab.checks import Case, run_checks
from dotlab.grading.budget import BUDGET_ENAME, TimeBudget
from dotlab.grading.plan import CheckCall
from dotlab.grading.release import COURSE_ROOT
from dotlab.grading.sandbox import Settings, Step, grade_notebook


def test_a_budget_is_a_positive_number_of_seconds():
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive number of seconds"):
            TimeBudget(bad)


def test_running_charges_the_time_the_block_takes():
    budget = TimeBudget(60)
    with budget.running():
        time.sleep(0.05)
    assert 0.05 <= budget.spent < 5 and not budget.exhausted
    assert budget.limits(59.99) and not budget.limits(1)


def _twice(fn, hidden=False):
    cases = [Case(f"x={x}", (x,)) for x in range(6)]
    run_checks(fn, fn_name="twice", reference=lambda x: 2.0 * x, cases=cases, quiet=False)


SLEEPY = "import time\ndef twice(x):\n    time.sleep(0.4)\n    return 2.0 * x\n"


def _grade(budget: TimeBudget):
    steps = [Step(0, SLEEPY)] + [Step(1 + i, calls=[CheckCall(_twice, "twice")]) for i in range(3)]
    settings = Settings(timeout=1.0, secret=[COURSE_ROOT / "solutions"], budget=budget)
    verdicts, _ = grade_notebook(steps, settings)
    return [verdicts[1 + i] for i in range(3)]


def _errors(outputs):
    return [(o["ename"], o["evalue"]) for o in outputs if o["output_type"] == "error"]


def test_without_a_budget_slow_right_answers_pass():
    verdicts = _grade(TimeBudget.unlimited())
    assert all(not _errors(v) and "✔ twice" in v[0]["text"] for v in verdicts)


def test_when_the_budget_runs_out_the_rest_scores_zero_with_a_reason():
    # each cell needs 6 calls x 0.4 s = 2.4 s of the learner's code; the budget is 1.5 s
    budget = TimeBudget(1.5)
    verdicts = _grade(budget)
    (first,), (second,), (third,) = (_errors(v) for v in verdicts)
    assert first[0] == "CellTimeoutError" and "time budget (1.5 s of running its code) ran out" in first[1]
    assert second == third == (BUDGET_ENAME, TimeBudget(1.5).message())
    # the three cells would sleep 7.2 s; learner code ran no longer than the budget (and a reply's overhead)
    assert 1.5 <= budget.spent < 2.5


def test_the_kernel_gets_no_longer_than_the_budget_allows_and_nothing_once_it_is_spent():
    from nbformat.v4 import new_code_cell

    from dotlab.grading.preprocessors import ConfinedExecute

    execute = ConfinedExecute(timeout=30)
    execute._dotlab_skip, execute._dotlab_stopped = set(), None
    execute._dotlab_budget = TimeBudget(10)
    execute._dotlab_budget.charge(8)
    assert execute._get_timeout(new_code_cell("x = 1")) == 2  # a kernel cell waits no longer than what is left
    execute._dotlab_budget.charge(5)
    cell, _ = execute.preprocess_cell(new_code_cell("x = 1"), {}, 0)  # spent: the kernel is not even asked
    assert [(o["ename"], o["evalue"]) for o in cell.outputs] == [(BUDGET_ENAME, TimeBudget(10).message())]
