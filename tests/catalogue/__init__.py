"""Plausible wrong implementations of the graded functions, one catalogue per chapter.

Each entry is real source code, written the way a learner might write it, under the
exercise's own function name, together with a fragment of the message the checks must
answer it with. The same entries are graded in pytest (tests/test_checks_chNN.py) and
pasted into real notebooks for nbgrader (tests/test_grading_roundtrip.py).
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Wrong:
    """One wrong version of ``target``, and what the checks must say about it."""

    target: str
    expect: str
    fn: Callable
    source: str
    hidden_only: bool = False

    @property
    def label(self) -> str:
        return f"{self.target}: {self.expect}"


class Catalogue:
    """Collects wrong versions as they are defined: ``@catalogue.add("dot", expect=...)``."""

    def __init__(self):
        self.entries: list[Wrong] = []

    def add(self, target: str, expect: str, *, hidden_only: bool = False):
        def register(fn: Callable) -> Callable:
            lines = inspect.getsource(fn).splitlines()
            body = "\n".join(line for line in lines if not line.lstrip().startswith("@"))
            self.entries.append(Wrong(target, expect, fn, textwrap.dedent(body), hidden_only))
            return fn

        return register

    def for_target(self, target: str) -> list[Wrong]:
        return [w for w in self.entries if w.target == target]
