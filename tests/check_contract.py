"""What every chapter's checks must do, written once: tests/test_checks_chNN.py use it.

A chapter's checks are trustworthy when the right answer passes them, every catalogued
mistake fails them with its own explanation, the visible self-checks already catch the
common mistakes, and the hidden tests are needed only for the subtle ones. Each
chapter's test module calls :func:`contract_tests` with its checks, catalogue and
reference functions, and puts the returned tests in its namespace, where pytest
collects them; the chapter's own tests sit next to them.
"""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from dotlab.checks import CheckFailure
from dotlab.grading.release import COURSE_ROOT


def solution_functions(chapter: str) -> dict:
    """The instructor's solution functions, run from the notebook's own cells."""
    nb = json.loads((COURSE_ROOT / "solutions" / chapter / f"{chapter}.ipynb").read_text())
    namespace: dict = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "imports"):
            exec("".join(cell["source"]), namespace)
    return namespace


def _passed(out: str, name: str) -> int:
    """How many checks a "✔ name: all N checks passed" line says passed."""
    assert out.startswith(f"\u2714 {name}: all"), out
    return int(out.split("all ")[1].split(" checks")[0])


def contract_tests(checks_module: ModuleType, wrong, references: dict, *, min_wrong: int = 5,
                   min_visible: int = 3, min_hidden: int = 7) -> dict:
    """The contract's tests for one chapter, by name.

    ``checks_module`` is ``dotlab.checks.chNN``; ``wrong`` its catalogue of wrong versions;
    ``references`` a right version of every graded function. ``min_wrong`` is how many
    wrong versions each function's catalogue must hold; ``min_visible`` and
    ``min_hidden`` how many cases the visible and hidden checks must run at least.
    """
    chapter = checks_module.__name__.rsplit(".", 1)[-1]
    # The task id of each function, as in the chapter and the exercise: pytest -m "task(id='4.1')"
    tasks = {check.__name__.removeprefix("check_"): task for task, check in checks_module.CHECKS.items()}
    checks = {name: checks_module.CHECKS[task] for name, task in tasks.items()}

    def by_task(items, name_of, ids):
        return [pytest.param(item, marks=pytest.mark.task(id=tasks[name_of(item)]), id=ids(item)) for item in items]

    names = by_task(checks, lambda n: n, lambda n: n)
    entries = by_task(wrong.entries, lambda w: w.target, lambda w: w.label)
    common = by_task([w for w in wrong.entries if not w.hidden_only], lambda w: w.target, lambda w: w.label)
    subtle = by_task([w for w in wrong.entries if w.hidden_only], lambda w: w.target, lambda w: w.label)

    @pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
    @pytest.mark.parametrize("name", names)
    def test_reference_passes(name, hidden, capsys):
        assert checks[name](references[name], hidden=hidden) is None  # a number would be partial credit
        assert _passed(capsys.readouterr().out, name) >= (min_hidden if hidden else min_visible)

    @pytest.mark.parametrize("name", names)
    def test_the_instructors_solution_passes_the_hidden_checks(name, capsys):
        checks[name](solution_functions(chapter)[name], hidden=True)
        _passed(capsys.readouterr().out, name)

    @pytest.mark.parametrize("wrong", entries)
    def test_every_mistake_fails_with_its_own_message(wrong):
        with pytest.raises(CheckFailure) as failure:
            checks[wrong.target](wrong.fn, hidden=True)
        assert wrong.expect in str(failure.value), f"message was: {failure.value}"

    @pytest.mark.parametrize("wrong", common)
    def test_visible_checks_already_catch_the_common_mistakes(wrong):
        with pytest.raises(CheckFailure) as failure:
            checks[wrong.target](wrong.fn, hidden=False)
        assert wrong.expect in str(failure.value), f"message was: {failure.value}"

    @pytest.mark.parametrize("wrong", subtle)
    def test_subtle_mistakes_slip_past_the_visible_checks(wrong):
        """These are what the hidden tests are for; if the visible ones caught them too,
        the catalogue entry should lose its hidden_only flag."""
        checks[wrong.target](wrong.fn, hidden=False)

    def test_catalogue_covers_every_graded_function():
        for name in checks:
            assert len(wrong.for_target(name)) >= min_wrong, name
        assert set(references) == set(checks), "a reference for every graded function, and no other"

    tests = [test_reference_passes, test_the_instructors_solution_passes_the_hidden_checks,
             test_every_mistake_fails_with_its_own_message, test_visible_checks_already_catch_the_common_mistakes,
             test_catalogue_covers_every_graded_function]
    if subtle:  # a catalogue may have no mistake that only the hidden tests catch
        tests.append(test_subtle_mistakes_slip_past_the_visible_checks)
    return {test.__name__: test for test in tests}
