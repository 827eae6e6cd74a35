"""Chapter 8's ledger: every dot product a forward pass performs, counted as it happens.

Each matrix product of the pass is handed to :meth:`Ledger.matmul`, which does it and
writes down the stage it belongs to (one of :data:`dotlab.cost.STAGES`), the layer, how
many dot products it performed and how long each was. Nothing is predicted: the count
comes from the arrays actually multiplied, which is what lets the tests hold it against
the cost model's formulas (:func:`dotlab.cost.prefill_cost`, :func:`~dotlab.cost.decode_cost`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dotlab.cost import STAGES, CostTable, StageCost

__all__ = ["Entry", "Ledger", "matmul"]


@dataclass(frozen=True)
class Entry:
    """One matrix product the pass performed: its stage, layer and dot products."""

    stage: str
    layer: int | None  # None for the unembedding, which happens once, after the last layer
    dot_products: int
    length: int


@dataclass
class Ledger:
    """A record of every dot product a forward pass performs, by stage.

    The forward pass hands each matrix product to :meth:`matmul`, which does it and
    writes down what it did: every entry of the result is one dot product, as long as
    the axis the two operands share. Nothing is predicted; the count comes from the
    arrays that were actually multiplied.

    Examples
    --------
    >>> ledger = Ledger()
    >>> _ = ledger.matmul(np.ones((3, 4)), np.ones((4, 5)), "mlp_up")
    >>> ledger.entries
    [Entry(stage='mlp_up', layer=None, dot_products=15, length=4)]
    >>> ledger.table()["mlp_up"]
    StageCost(name='mlp_up', dot_products=15, length=4, macs=60, flops=120)
    """

    entries: list[Entry] = field(default_factory=list)

    def matmul(self, a: np.ndarray, b: np.ndarray, stage: str, layer: int | None = None) -> np.ndarray:
        """``a @ b``, recorded under ``stage`` (one of :data:`dotlab.cost.STAGES`)."""
        if stage not in STAGES:
            raise ValueError(f"stage={stage!r} is not one of the cost model's stages {STAGES}")
        out = np.matmul(a, b)
        # (..., m, k) @ (..., k, n) -> (..., m, n): each output number is one dot product of length k
        self.entries.append(Entry(stage, layer, int(out.size), int(np.shape(a)[-1])))
        return out

    def table(self, title: str = "ledger") -> CostTable:
        """The entries added up by stage, in the cost model's format (rows in STAGES order)."""
        rows = []
        for stage in STAGES:
            mine = [e for e in self.entries if e.stage == stage]
            lengths = {e.length for e in mine}
            macs = sum(e.dot_products * e.length for e in mine)
            rows.append(StageCost(stage, sum(e.dot_products for e in mine),
                                  lengths.pop() if len(lengths) == 1 else None, macs, 2 * macs))
        return CostTable(title, tuple(rows))

    def clear(self) -> None:
        self.entries.clear()



def matmul(ledger: Ledger | None, a, b, stage: str, layer: int | None = None) -> np.ndarray:
    """``a @ b``, recorded in ``ledger`` under ``stage`` when a ledger is given.

    Lets a forward pass name the stage of every product whether or not anyone counts.

    Examples
    --------
    >>> matmul(None, np.ones((2, 3)), np.ones((3, 4)), "qkv").shape
    (2, 4)
    """
    return a @ b if ledger is None else ledger.matmul(a, b, stage, layer)
