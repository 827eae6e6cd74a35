"""Checks that grade a learner's functions, shared by exercises, the grader and pytest.

Usage inside an exercise notebook::

    from dotlab.checks import ch01
    ch01.check_norm(norm)               # the visible self-check
    ch01.check_norm(norm, hidden=True)  # what the grader runs
"""

from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, run_checks

__all__ = ["Case", "CheckFailure", "Forbidden", "Mistake", "run_checks"]
