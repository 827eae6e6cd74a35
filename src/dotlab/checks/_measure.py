"""Properties of a learner's call measured where the call runs, judged where the check runs.

A check that needs more than the answer (how much memory the function held at its
peak, say) must reach the same verdict in the learner's notebook, in pytest and in the
grader. In the first two the learner's function is an ordinary function in this process,
and it is measured here. In the grader it is a :class:`~dotlab.checks._core.LearnerProxy`
whose code runs in the sandbox's worker: the worker measures the call in the same way
and sends the number back (``measured_outcome`` of
:class:`dotlab.grading.sandbox.RemoteFunction`), and the check judges it here.

Comparing a function's answers with each other (the same seed, the same token) needs
nothing of this module: a proxy answers direct calls from one worker that keeps its
state between them, as a notebook's function would.

What the measure sees: allocations Python's :mod:`tracemalloc` traces, which include
NumPy's arrays (NumPy reports them to it) but not PyTorch's tensors or other C
libraries' buffers. A learner who builds the whole score table as a torch tensor is
not caught by the number: a known limit of this measure, in the grader as in a notebook.
"""

from __future__ import annotations

import tracemalloc
from typing import Any, Callable

from dotlab.checks._core import Case, CheckFailure, LearnerProxy

PEAK_MEMORY = "peak_memory"


def _traced_peak(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, int | None]:
    """Call ``fn`` and return its answer and the peak bytes allocated above the start.

    NumPy reports its arrays to :mod:`tracemalloc`, so the peak is measured, not guessed.
    The sandbox's worker does exactly this around the call it makes.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        value = fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - base if tracemalloc.is_tracing() else None
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return value, peak


def peak_memory(fn: Callable, args: tuple, kwargs: dict, *, fn_name: str, label: str) -> tuple[Any, int]:
    """The answer of ``fn(*args, **kwargs)`` and the peak bytes it allocated, wherever ``fn`` runs.

    Raises :class:`CheckFailure` when the function raises or leaves nothing to measure
    (it stopped the tracer itself).

    Examples
    --------
    >>> import numpy as np
    >>> value, peak = peak_memory(lambda n: np.zeros(n).sum(), (1_000_000,), {}, fn_name="f", label="a test")
    >>> float(value), peak >= 8_000_000  # the array of a million float64 was held at once
    (0.0, True)
    """
    if isinstance(fn, LearnerProxy):
        measure = getattr(fn, "measured_outcome", None)
        if measure is None:
            raise CheckFailure(f"{fn_name} runs where its memory cannot be measured ({label}).")
        outcome, _, peak = measure(Case(label, tuple(args), dict(kwargs)), (), PEAK_MEMORY)
        if outcome.error is not None:
            raise CheckFailure(f"{fn_name} raised {type(outcome.error).__name__}: {outcome.error} ({label}).")
        value = outcome.value
    else:
        try:
            value, peak = _traced_peak(fn, args, kwargs)
        except Exception as exc:  # the learner's error, reported as theirs
            raise CheckFailure(f"{fn_name} raised {type(exc).__name__}: {exc} ({label}).") from None
    if peak is None:
        raise CheckFailure(f"{fn_name} stopped Python's memory tracer (tracemalloc) while it ran ({label}), so its "
                           "memory could not be measured: leave tracemalloc alone")
    return value, peak
