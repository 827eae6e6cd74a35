"""Learners' answers to the graded functions, one catalogue per chapter: wrong and right.

Each entry is real source code, written the way a learner might write it, under the
exercise's own function name. A wrong entry carries a fragment of the message the
checks must answer it with; a right entry must pass every check, hidden ones included.
The same wrong entries are graded in pytest (tests/test_checks_chNN.py) and pasted into
real notebooks for nbgrader (tests/test_grading.py).

``kind`` sorts wrong entries into the classes of mistake the checks catch by design
(issue 13): ``"value"`` (a wrong number), ``"contract"`` (a type, dtype or rank the task
rules out), ``"mutation"`` (an input changed in place), ``"allowlist"`` (a routine or
construct the task does not allow), ``"edge"`` (wrong only at a boundary of the domain).
``mentioned``: the chapter or the task text warns about this mistake, so the visible
self-check must catch it. ``hidden_only``: only the hidden checks catch it (never with
``mentioned``).
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import Callable

KINDS = ("value", "contract", "mutation", "allowlist", "edge")


@dataclass(frozen=True)
class Wrong:
    """One wrong version of ``target``, and what the checks must say about it."""

    target: str
    expect: str
    fn: Callable
    source: str
    hidden_only: bool = False
    kind: str = "value"
    mentioned: bool = False

    @property
    def label(self) -> str:
        return f"{self.target}: {self.expect}"


@dataclass(frozen=True)
class Right:
    """One right version of ``target``, written unusually (``how``): it must pass."""

    target: str
    how: str
    fn: Callable
    source: str

    @property
    def label(self) -> str:
        return f"{self.target}: {self.how}"


def _source(fn: Callable) -> str:
    """The function's own source, without its decorator (which may span several lines)."""
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "async def ", "class ")))
    return "\n".join(lines[start:])


class Catalogue:
    """Collects versions as they are defined: ``@WRONG.add("dot", expect=...)``, ``@RIGHT.add("dot", how=...)``."""

    def __init__(self):
        self.entries: list = []

    def add(self, target: str, expect: str = "", *, hidden_only: bool = False, kind: str = "value",
            mentioned: bool = False, how: str = "", helpers: tuple[Callable, ...] = (), preamble: str = ""):
        assert kind in KINDS, kind
        assert not (hidden_only and mentioned), "a mistake the page warns about must fail the visible check"

        def register(fn: Callable) -> Callable:
            # helpers: the learner's own functions the entry calls, pasted into the same cell;
            # preamble: what the cell imports first (import torch), as a learner writes it
            source = "\n\n".join(([preamble] if preamble else []) + [_source(h) for h in helpers] + [_source(fn)])
            if how:
                self.entries.append(Right(target, how, fn, source))
            else:
                self.entries.append(Wrong(target, expect, fn, source, hidden_only, kind, mentioned))
            return fn

        return register

    def for_target(self, target: str) -> list:
        return [w for w in self.entries if w.target == target]
