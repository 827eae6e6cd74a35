"""Feedback that teaches without giving the hidden tests away.

A failed hidden check's traceback quotes the test cell's source line by line. nbgrader's
ClearHiddenTests removes the hidden region from the cell's source, but not from the
error output underneath it, so this preprocessor keeps only the final line of every
traceback: the exception type and the check's own message.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def last_line(traceback: list[str], ename: str, evalue: str) -> str:
    """The one line of a traceback a learner should see: ``Type: message``.

    Examples
    --------
    >>> last_line(["Traceback ...", "  check(x, hidden=True)", "CheckFailure: wrong"], "CheckFailure", "wrong")
    'CheckFailure: wrong'
    """
    if ename or evalue:
        return f"{ename}: {evalue}"
    cleaned = [_ANSI.sub("", line).strip() for line in traceback]
    return next((line for line in reversed(cleaned) if line), "")


class HideTracebacks(Preprocessor):
    """Replace each error output's traceback with its last line."""

    # nbconvert preprocessors are off unless enabled; nbgrader registers without enabling.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [last_line(output.get("traceback", []), output.get("ename", ""), output.get("evalue", ""))]
        return cell, resources
