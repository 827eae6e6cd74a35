"""What every chapter's checks must do, written once: tests/test_checks_chNN.py use it.

A chapter's checks are trustworthy when every right answer passes them (however it is
written: loops, einsum, torch, float32), every catalogued mistake fails them with its
own explanation, the visible self-checks already catch what the page warns about, and
the hidden tests are needed only for the subtle ones. A chapter's test module is then::

    from catalogue.ch01 import RIGHT, WRONG
    from check_contract import contract_tests
    from dotlab.checks import ch01

    globals().update(contract_tests(ch01, WRONG, RIGHT))

which also defines ``TASKS`` (name -> task id) and ``CHECKS`` (name -> check) there.
A chapter whose checks are declared as :class:`~dotlab.checks.contract.Task` objects
(``chNN.TASKS``) also gets the contract tests: every task declares what it returns and
what it may use, and the allowlist refuses ``dotlab``, ``dotlab.checks`` and
``getattr`` in the grader's way (from the notebook's cells). A chapter not converted yet
passes a dict of reference functions instead of ``RIGHT``.
"""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from types import ModuleType

import pytest

from dotlab.checks import CheckFailure
from dotlab.checks._core import LearnerProxy
from dotlab.grading.release import COURSE_ROOT


@lru_cache(maxsize=None)
def _solution_namespace(chapter: str) -> dict:
    nb = json.loads((COURSE_ROOT / "solutions" / chapter / f"{chapter}.ipynb").read_text())
    namespace: dict = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "imports"):
            exec("".join(cell["source"]), namespace)
    return namespace


def solution_functions(chapter: str) -> dict:
    """The instructor's solution functions, run from the notebook's own cells (once per test run)."""
    return dict(_solution_namespace(chapter))


def solution_sources(chapter: str) -> list[str]:
    """The solution notebook's code cells before the tests, as the grader reads a learner's."""
    nb = json.loads((COURSE_ROOT / "solutions" / chapter / f"{chapter}.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
            and not c["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("test_")]


def _passed(out: str, name: str) -> int:
    """How many checks a "✔ name: all N checks passed" line says passed."""
    assert out.startswith(f"\u2714 {name}: all"), out
    return int(out.split("all ")[1].split(" checks")[0])


class SourceOnly(LearnerProxy):
    """The grader's view of a learner's function for the allowlist: its notebook cells only."""

    def __init__(self, sources: list[str]):
        self.learner_sources = sources


def _forbidden_now(checks: dict) -> dict:
    """Every routine the checks turn into tripwires, as it is bound right now."""
    from dotlab.grading.sandbox import forbidden_targets

    found = {}
    for check in checks.values():
        for target in forbidden_targets(check, (), {"hidden": True}):
            module_name, attr = target.rsplit(".", 1)
            try:
                found[target] = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError):
                pass
    return found


def contract_tests(checks_module: ModuleType, wrong, right, *, min_wrong: int = 5, min_right: int = 2,
                   min_visible: int = 3, min_hidden: int = 7) -> dict:
    """The contract's tests for one chapter, by name, with ``TASKS`` and ``CHECKS``.

    ``checks_module`` is ``dotlab.checks.chNN``; ``wrong`` its catalogue of wrong versions;
    ``right`` its catalogue of right ones (or, for a chapter not converted yet, a dict
    of a right version of every graded function). ``min_wrong``/``min_right`` are how
    many each function's catalogue must hold; ``min_visible`` and ``min_hidden`` how
    many cases the visible and hidden checks must run at least.
    """
    chapter = checks_module.__name__.rsplit(".", 1)[-1]
    # The task id of each function, as in the chapter and the exercise: pytest -m "task(id='4.1')"
    tasks = {check.__name__.removeprefix("check_"): task for task, check in checks_module.CHECKS.items()}
    checks = {name: checks_module.CHECKS[task] for name, task in tasks.items()}
    declared = getattr(checks_module, "TASKS", None)  # Task objects, once a chapter is converted
    legacy = isinstance(right, dict)
    rights = [] if legacy else list(right.entries)

    def by_task(items, name_of, ids):
        return [pytest.param(item, marks=pytest.mark.task(id=tasks[name_of(item)]), id=ids(item)) for item in items]

    names = by_task(checks, lambda n: n, lambda n: n)
    entries = by_task(wrong.entries, lambda w: w.target, lambda w: w.label)
    common = by_task([w for w in wrong.entries if not w.hidden_only], lambda w: w.target, lambda w: w.label)
    subtle = by_task([w for w in wrong.entries if w.hidden_only], lambda w: w.target, lambda w: w.label)
    mentioned = by_task([w for w in wrong.entries if w.mentioned], lambda w: w.target, lambda w: w.label)
    answers = by_task(rights, lambda r: r.target, lambda r: r.label)

    tests = []

    if legacy:
        @pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
        @pytest.mark.parametrize("name", names)
        def test_reference_passes(name, hidden, capsys):
            assert checks[name](right[name], hidden=hidden) is None  # a number would be partial credit
            assert _passed(capsys.readouterr().out, name) >= (min_hidden if hidden else min_visible)

        tests.append(test_reference_passes)
    else:
        @pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
        @pytest.mark.parametrize("answer", answers)
        def test_every_right_answer_passes(answer, hidden, capsys):
            """Loops, einsum, torch, float32, lists where allowed: a right answer is never refused."""
            assert checks[answer.target](answer.fn, hidden=hidden) is None  # a number would be partial credit
            assert _passed(capsys.readouterr().out, answer.target) >= (min_hidden if hidden else min_visible)

        tests.append(test_every_right_answer_passes)

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
            if not legacy:
                assert len(right.for_target(name)) >= min_right, name
        if legacy:
            assert set(right) == set(checks), "a reference for every graded function, and no other"

    def test_checks_restore_what_they_disarm():
        before = _forbidden_now(checks)
        for entry in wrong.entries:
            with pytest.raises(CheckFailure):
                checks[entry.target](entry.fn, hidden=True)
        after = _forbidden_now(checks)
        assert {k: id(v) for k, v in after.items()} == {k: id(v) for k, v in before.items()}

    tests += [test_the_instructors_solution_passes_the_hidden_checks, test_every_mistake_fails_with_its_own_message,
              test_visible_checks_already_catch_the_common_mistakes, test_catalogue_covers_every_graded_function,
              test_checks_restore_what_they_disarm]
    if subtle:  # a catalogue may have no mistake that only the hidden tests catch
        tests.append(test_subtle_mistakes_slip_past_the_visible_checks)
    if mentioned:
        @pytest.mark.parametrize("wrong", mentioned)
        def test_what_the_page_warns_about_fails_the_visible_check(wrong):
            with pytest.raises(CheckFailure) as failure:
                checks[wrong.target](wrong.fn, hidden=False)
            assert wrong.expect in str(failure.value), f"message was: {failure.value}"

        tests.append(test_what_the_page_warns_about_fails_the_visible_check)

    if declared is not None:
        declared_names = by_task([t.name for t in declared.values()], lambda n: n, lambda n: n)

        @pytest.mark.parametrize("name", declared_names)
        def test_every_task_declares_its_contract_and_allowlist(name):
            task = next(t for t in declared.values() if t.name == name)
            assert task.returns is not None and task.allowed is not None, name

        @pytest.mark.parametrize("how", [
            "import dotlab\ndef {name}(*args, **kwargs):\n    return dotlab.{name}(*args, **kwargs)\n",
            "from dotlab.checks import {chapter}\ndef {name}(*args, **kwargs):\n"
            "    return {chapter}.TASKS['{id}'].reference(*args, **kwargs)\n",
            "from dotlab.checks.{chapter} import TASKS as t\nhelp = t['{id}'].reference\n"
            "def {name}(*args, **kwargs):\n    return help(*args, **kwargs)\n",
            "import numpy as np\ndef helper(*args):\n    return getattr(np, 'asarray')(args[0])\n"
            "def {name}(*args, **kwargs):\n    return helper(*args)\n",
        ], ids=["dotlab", "the checks' reference", "a global bound to it", "getattr in a helper"])
        @pytest.mark.parametrize("name", declared_names)
        def test_the_allowlist_refuses_what_nobody_listed(name, how):
            """In the grader's way: from the notebook's cells, following helpers and globals."""
            from dotlab.checks._allow import learner_refusal

            task = next(t for t in declared.values() if t.name == name)
            source = how.format(name=name, chapter=chapter, id=task.id)
            refused = learner_refusal(SourceOnly(["import math\nimport numpy as np\n", source]), name, task.allowed)
            assert refused and "line" in refused, refused

        @pytest.mark.parametrize("name", declared_names)
        def test_the_instructors_solution_is_allowed_where_the_grader_reads_it(name):
            from dotlab.checks._allow import learner_refusal

            task = next(t for t in declared.values() if t.name == name)
            assert learner_refusal(SourceOnly(solution_sources(chapter)), name, task.allowed) is None

        tests += [test_every_task_declares_its_contract_and_allowlist, test_the_allowlist_refuses_what_nobody_listed,
                  test_the_instructors_solution_is_allowed_where_the_grader_reads_it]

    named = {test.__name__: test for test in tests}
    named.update(TASKS=tasks, CHECKS=checks)
    return named
