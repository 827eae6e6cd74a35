"""A time budget per notebook: how long one learner's code may run in all, kernel and sandbox.

Per-cell and per-call timeouts bound one cell or one call; they do not bound a notebook.
A correct function that sleeps just under the per-call limit, called by its check on ten
inputs, makes its learner take minutes, and a class of such notebooks takes hours. So
each notebook also gets a budget (``c.GradingLimits.notebook_budget``, seconds): every
wait on the learner's code (a cell in the kernel, a cell replayed in the sandbox, a call
of one of its functions) is charged to it, and no wait may last longer than what is left.
When it runs out, the cells not yet decided score zero with a message that says why, and
grading goes on with the next learner.

Only time spent running the learner's code is charged: starting a kernel or a sandbox is
the grader's own time, which a learner cannot stretch and should not pay for on a busy
machine.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

__all__ = ["TimeBudget", "BUDGET_ENAME"]

BUDGET_ENAME = "TimeBudgetExceeded"  # the error name a cell shows when the budget ran out before it


class TimeBudget:
    """Seconds of learner code one notebook may run, shared by the kernel and the sandbox.

    Examples
    --------
    >>> budget = TimeBudget(10)
    >>> budget.limit(30.0)  # a wait may last no longer than what is left
    10.0
    >>> budget.charge(8.5)
    >>> budget.limit(30.0), budget.exhausted
    (1.5, False)
    >>> budget.charge(2)
    >>> budget.limit(30.0), budget.exhausted
    (0.0, True)
    """

    def __init__(self, seconds: float):
        if not seconds > 0:  # also refuses NaN
            raise ValueError(f"a notebook's time budget must be a positive number of seconds, not {seconds!r}")
        self.seconds = float(seconds)
        self.spent = 0.0
        self.started = time.monotonic()  # when the notebook's grading began (its first step made the budget)

    @classmethod
    def unlimited(cls) -> "TimeBudget":
        return cls(math.inf)

    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.seconds

    def elapsed(self) -> float:
        """Wall-clock seconds since the notebook's grading began: the grader's time as well as the learner's."""
        return time.monotonic() - self.started

    def limit(self, timeout: float) -> float:
        """The longest a wait with its own ``timeout`` may last now."""
        return min(float(timeout), self.left())

    def limits(self, timeout: float) -> bool:
        """Whether the budget, not ``timeout``, is what bounds a wait that starts now."""
        return self.left() < timeout

    def charge(self, seconds: float) -> None:
        self.spent += max(0.0, seconds)

    @contextmanager
    def running(self):
        """Charge the time the ``with`` block takes (a wait on the learner's code)."""
        start = time.monotonic()
        try:
            yield self
        finally:
            self.charge(time.monotonic() - start)

    def message(self) -> str:
        """Why a cell was not decided, in words a learner and an instructor both read."""
        return (f"not checked: this notebook's code ran for its whole time budget ({self.seconds:g} s in all, "
                f"kernel and checks together) before this cell was reached. Look for code that sleeps or "
                f"loops for long: each cell and each call also has its own time limit.")

    def ran_out(self) -> str:
        """Why a cell or a call was stopped while it ran: ``f"{call} {budget.ran_out()}"``."""
        return f"was stopped when this notebook's time budget ({self.seconds:g} s of running its code) ran out"
