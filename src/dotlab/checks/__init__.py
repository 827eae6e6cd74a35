"""Checks that grade a learner's functions, shared by exercises, the grader and pytest.

Usage inside an exercise notebook::

    from dotlab.checks import ch01
    ch01.check_norm(norm)               # the visible self-check
    ch01.check_norm(norm, hidden=True)  # what the grader runs

Authors declare each graded function once as a :class:`~dotlab.checks.contract.Task`
(see that module's "how to declare a task"); the grader sets the hidden cases' seed with
:func:`~dotlab.checks.contract.configure`.
"""

from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, run_checks
from dotlab.checks.contract import Task, configure

__all__ = ["Case", "CheckFailure", "Forbidden", "Mistake", "Task", "configure", "run_checks"]
