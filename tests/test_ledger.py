"""dotlab.ledger: the dot products a forward pass performs are the ones the cost model counts.

The ledger counts from the arrays the pass actually multiplies; the cost model
(``dotlab.cost.prefill_cost`` and ``decode_cost``) predicts from shapes alone. They must
agree stage by stage, for tinygpt, for awkward shapes and for any shape at all.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotlab import tinygpt
from dotlab.checkpoints import from_tinygpt
from dotlab.cost import STAGES, TransformerShape, decode_cost, prefill_cost
from dotlab.forward import forward, mlp, random_weights
from dotlab.kvcache import KVCache
from dotlab.ledger import Ledger, matmul

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained():
    return tinygpt.load()


# -- the ledger is the cost model ------------------------------------------------------

SHAPES = {
    "tinygpt": None,  # filled from the checkpoint below
    "d_attn != d_model": TransformerShape(n_layers=2, d_model=12, n_heads=3, d_head=5, d_ff=20, vocab_size=17),
    "one layer, one head": TransformerShape(1, 4, 1, 4, 8, 5),
    "deep and narrow": TransformerShape(5, 8, 2, 3, 16, 11),
}


def _weights(name, trained):
    if name == "tinygpt":
        return from_tinygpt(trained[0])
    return random_weights(SHAPES[name], n_positions=24, seed=7)


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("T", [1, 7, 24])
def test_prefill_ledger_equals_the_cost_model(name, T, trained):
    w = _weights(name, trained)
    for logits in ("all", "last"):
        ledger = Ledger()
        forward(w, np.arange(T) % w.shape.vocab_size, ledger=ledger, logits=logits)
        assert ledger.table().rows == prefill_cost(w.shape, T, logits=logits).rows
        # one entry per matrix product: 6 per layer (qkv, scores, mixing, out_proj, mlp_up, mlp_down) + unembed
        assert len(ledger.entries) == 6 * w.shape.n_layers + 1


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("T0", [1, 5])
def test_decode_ledger_equals_the_cost_model(name, T0, trained):
    w = _weights(name, trained)
    cache = KVCache(w.shape.n_layers)
    forward(w, np.arange(T0) % w.shape.vocab_size, cache=cache, logits="last")
    for T in range(T0 + 1, T0 + 4):  # three decode steps, the context growing by one each
        ledger = Ledger()
        forward(w, [T % w.shape.vocab_size], cache=cache, ledger=ledger, logits="last")
        assert ledger.table().rows == decode_cost(w.shape, T).rows


@settings(max_examples=20, deadline=None)
@given(L=st.integers(1, 3), d_model=st.integers(2, 10), H=st.integers(1, 3), d_head=st.integers(1, 5),
       d_ff=st.integers(1, 12), V=st.integers(2, 12), T=st.integers(1, 9))
def test_any_shape_any_length(L, d_model, H, d_head, d_ff, V, T):
    shape = TransformerShape(L, d_model, H, d_head, d_ff, V)
    ledger = Ledger()
    forward(random_weights(shape, n_positions=T, seed=T), np.arange(T) % V, ledger=ledger)
    assert ledger.table().rows == prefill_cost(shape, T).rows


def test_the_ledger_names_layers_and_refuses_unknown_stages():
    w = random_weights(TransformerShape(3, 8, 2, 4, 16, 10), n_positions=4)
    ledger = Ledger()
    forward(w, [1, 2], ledger=ledger)
    assert {e.layer for e in ledger.entries if e.stage != "unembed"} == {0, 1, 2}
    assert [e.layer for e in ledger.entries if e.stage == "unembed"] == [None]
    assert [e.stage for e in ledger.entries[:6]] == list(STAGES[:6])
    with pytest.raises(ValueError, match="not one of the cost model's stages"):
        ledger.matmul(np.ones((2, 2)), np.ones((2, 2)), "softmax")
    ledger.clear()
    assert ledger.table().total.dot_products == 0


def test_block_and_mlp_record_their_own_stages():
    w = random_weights(TransformerShape(1, 8, 2, 4, 16, 10), n_positions=4)
    ledger = Ledger()
    mlp(np.ones((3, 8)), w.blocks[0].w_up, w.blocks[0].b_up, w.blocks[0].w_down, w.blocks[0].b_down, ledger=ledger)
    assert [(e.stage, e.dot_products, e.length) for e in ledger.entries] == [("mlp_up", 48, 8), ("mlp_down", 24, 16)]


def test_without_a_ledger_matmul_only_multiplies():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(matmul(None, a, b, "qkv"), a @ b)
    ledger = Ledger()
    np.testing.assert_array_equal(matmul(ledger, a, b, "qkv", layer=2), a @ b)
    assert [(e.stage, e.layer, e.dot_products, e.length) for e in ledger.entries] == [("qkv", 2, 8, 3)]
