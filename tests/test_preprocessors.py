"""The confined kernel nbgrader grades in: it starts again when a start fails."""

from __future__ import annotations

import logging

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient
from nbformat.v4 import new_code_cell, new_notebook

from dotlab.grading.preprocessors import ConfinedExecute


def test_a_kernel_that_never_answers_is_replaced_and_the_notebook_still_runs(monkeypatch, tmp_path, caplog):
    answered = AsyncKernelClient.wait_for_ready
    attempts = []

    async def first_start_fails(self, timeout=None):
        attempts.append(timeout)
        if len(attempts) == 1:  # as when another process took one of the kernel's ports
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        return await answered(self, timeout=timeout)

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", first_start_fails)
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    with caplog.at_level(logging.WARNING):
        nb, _ = ConfinedExecute(timeout=30).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})
    assert len(attempts) == 2
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert "starting a new one on new ports" in caplog.text


def test_a_kernel_that_never_answers_twice_is_reported(monkeypatch, tmp_path):
    async def never(self, timeout=None):
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", never)
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    with pytest.raises(RuntimeError, match="didn't respond"):  # nbgrader reports it; the batch goes on
        ConfinedExecute(timeout=30).preprocess(nb, {"dotlab_plan": {}, "metadata": {"path": str(tmp_path)}})
