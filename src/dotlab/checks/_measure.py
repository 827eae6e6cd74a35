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

from dotlab.checks._core import Case, CheckFailure, Forbidden, LearnerProxy, Mistake, _forbid

PEAK_MEMORY = "peak_memory"

_LEAVE_IT = ("the check measures your function's memory with tracemalloc while it runs: a function that resets, "
             "clears or stops the tracer hides what it held. Leave tracemalloc alone")
#: The tracer's controls, armed as tripwires while a measured call runs, wherever it runs
#: (this process, or the sandbox's worker, which keeps its own untouched copies). The
#: allowlists refuse ``tracemalloc`` in the learner's source too; these catch a call that
#: reaches the tracer some other way (a module object handed on by a library).
TRACER_CONTROLS = tuple(Forbidden(f"tracemalloc.{name}", _LEAVE_IT) for name in ("reset_peak", "clear_traces", "stop"))
#: The mistake a measured call that touched the tracer is recorded under (the instructor's
#: report counts failures by mistake); it is judged by the tripwires, so it predicts nothing.
TRACER_TOUCHED = Mistake("memory tracer touched", _LEAVE_IT, lambda *args, **kwargs: float("nan"))


def _traced_peak(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, int | None, Exception | None]:
    """Call ``fn``: its answer, the peak bytes allocated above the start, and its error.

    NumPy reports its arrays to :mod:`tracemalloc`, so the peak is measured, not guessed.
    The sandbox's worker does the same around the call it makes. The peak is None when the
    call reset, cleared or stopped the tracer (the tripwires saw it, or tracing is off).
    """
    was_tracing = tracemalloc.is_tracing()
    # the originals, taken before the tripwires replace them for the learner's call
    start, stop, reset_peak = tracemalloc.start, tracemalloc.stop, tracemalloc.reset_peak
    traced, tracing = tracemalloc.get_traced_memory, tracemalloc.is_tracing
    if not was_tracing:
        start()
    reset_peak()
    base = traced()[0]
    value = error = None
    try:
        with _forbid(TRACER_CONTROLS) as wires:
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:  # the learner's error, judged by the caller
                error = exc
            peak = traced()[1] - base if tracing() else None
        if any(wire.tripped for wire in wires):  # even if the learner's code caught the tripwire
            peak = None
    finally:
        if not was_tracing and tracing():
            stop()
    return value, peak, error


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
        outcome, wires, peak = measure(Case(label, tuple(args), dict(kwargs)), TRACER_CONTROLS, PEAK_MEMORY)
        if any(wire.tripped for wire in wires):
            peak = None
        elif outcome.error is not None:
            raise CheckFailure(f"{fn_name} raised {type(outcome.error).__name__}: {outcome.error} ({label}).",
                               mistake=f"(raised {type(outcome.error).__name__})", case=label)
        value = outcome.value
    else:
        value, peak, error = _traced_peak(fn, args, kwargs)
        if error is not None and peak is not None:  # the learner's error, reported as theirs
            raise CheckFailure(f"{fn_name} raised {type(error).__name__}: {error} ({label}).",
                               mistake=f"(raised {type(error).__name__})", case=label)
    if peak is None:
        raise CheckFailure(f"{fn_name} reset, cleared or stopped Python's memory tracer (tracemalloc) while it ran "
                           f"({label}), so its memory could not be measured: {_LEAVE_IT}",
                           mistake=TRACER_TOUCHED.name, hint=TRACER_TOUCHED.hint, case=label)
    return value, peak
