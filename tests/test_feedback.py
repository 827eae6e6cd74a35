"""The feedback preprocessors: learners read the checks' words, never a hidden test's source."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_output

from dotlab.grading.feedback import HideTracebacks


def test_hide_tracebacks_keeps_only_the_checks_words():
    cell = new_code_cell("check(f, hidden=True)")
    cell.outputs = [new_output("error", ename="CheckFailure", evalue="f(2) returned 5",
                               traceback=["Traceback", "  check(f, hidden=True)", "CheckFailure: f(2) returned 5"])]
    cell, _ = HideTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == ["CheckFailure: f(2) returned 5"]


def test_hide_tracebacks_is_enabled_when_registered():
    # nbgrader registers preprocessors without enabling them: ours must be on by default.
    assert HideTracebacks().enabled


def test_hide_tracebacks_leaves_other_outputs_alone():
    cell = new_code_cell("print(1)")
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    cell, _ = HideTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["text"] == "1\n"
