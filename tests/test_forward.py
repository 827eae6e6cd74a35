"""dotlab.forward: the NumPy forward pass is GPT-2.

Two independent witnesses:

1. the course's tinygpt in PyTorch gives the same logits as the NumPy pass on its weights;
2. Hugging Face's ``GPT2LMHeadModel``, built from a ``GPT2Config`` with random weights
   (no download), gives the same logits for several configurations and lengths.

That the pass performs exactly the dot products the cost model counts is
tests/test_ledger.py; reading weights into it is tests/test_checkpoints.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dotlab import tinygpt
from dotlab.attention import causal_mask, multi_head_attention
from dotlab.checkpoints import from_hf_gpt2, from_tinygpt
from dotlab.cost import TransformerShape
from dotlab.forward import block, causal_self_attention, forward, gelu, layer_norm, random_weights
from gpt2_models import CONFIGS, hf_logits, random_gpt2

pytestmark = pytest.mark.usefixtures("one_thread")

PROMPTS = ["the girl saw the dogs . they", "the boy fed the cat . it", "the dog"]


@pytest.fixture(scope="module")
def trained():
    return tinygpt.load()


# -- 1. the course's tinygpt -------------------------------------------------------------


@pytest.mark.parametrize("text", PROMPTS)
def test_same_logits_as_tinygpt_in_torch(trained, text):
    model, tok = trained
    ids = tok.encode(text)
    with torch.no_grad():
        want = model.double()(torch.tensor([ids]))[0].numpy()
    model.float()
    got = forward(from_tinygpt(model), ids)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_tinygpt_predicts_the_pronouns_verb(trained):
    model, tok = trained
    logits = forward(from_tinygpt(model), tok.encode("the girl saw the dogs . they"), logits="last")
    assert tok.words[int(np.argmax(logits))] == "barked"


def test_tied_unembedding_is_one_dot_product_per_token(trained):
    model, tok = trained
    w = from_tinygpt(model)
    ids = tok.encode(PROMPTS[1])
    x = w.wte[ids] + w.wpe[: len(ids)]
    for i, b in enumerate(w.blocks):
        x = block(x, b, w.n_heads, w.eps)
    h = layer_norm(x[-1], w.lnf_g, w.lnf_b, w.eps)
    by_hand = np.array([h @ w.wte[v] for v in range(w.wte.shape[0])])  # V dot products of length d_model
    np.testing.assert_allclose(forward(w, ids, logits="last"), by_hand, atol=1e-12)


# -- 2. Hugging Face's GPT-2, an independent implementation ------------------------------



@pytest.mark.parametrize("name", CONFIGS)
def test_same_logits_as_hugging_face_gpt2(name):
    config = CONFIGS[name]
    model = random_gpt2(**config)
    weights = from_hf_gpt2(model)
    assert weights.shape.d_ff == (config.get("n_inner") or 4 * config["n_embd"])
    rng = np.random.default_rng(len(name))
    for T in (1, 5, config["n_positions"]):
        ids = rng.integers(0, config["vocab_size"], size=T).tolist()
        np.testing.assert_allclose(forward(weights, ids), hf_logits(model, ids), rtol=0, atol=1e-10)


# -- the pieces against PyTorch and against chapter 5 -------------------------------------


def test_layer_norm_and_gelu_match_torch():
    rng = np.random.default_rng(0)
    x, g, b = rng.normal(size=(4, 10)), rng.normal(size=10), rng.normal(size=10)
    want = F.layer_norm(torch.tensor(x), (10,), torch.tensor(g), torch.tensor(b), eps=1e-5).numpy()
    np.testing.assert_allclose(layer_norm(x, g, b, 1e-5), want, atol=1e-12)
    z = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(gelu(z), F.gelu(torch.tensor(z), approximate="tanh").numpy(), atol=1e-12)


@pytest.mark.task(id="8.2")
@pytest.mark.parametrize("name", CONFIGS)
def test_each_block_is_hugging_faces_gpt2_block(name):
    """One block at a time, on the same weights and the same residual stream: the
    pre-norm wiring (x + attn(ln_1 x), then + mlp(ln_2 x)) matches GPT2Block's."""
    config = CONFIGS[name]
    model = random_gpt2(**config)
    weights = from_hf_gpt2(model)
    x = np.random.default_rng(len(name)).normal(size=(min(7, config["n_positions"]), config["n_embd"]))  # (T, d_model)
    for hf_block, ours in zip(model.transformer.h, weights.blocks):
        with torch.no_grad():
            want = hf_block(torch.tensor(x)[None])
        want = (want[0] if isinstance(want, tuple) else want)[0].numpy()  # GPT2Block returned a tuple before 4.5x
        np.testing.assert_allclose(block(x, ours, weights.n_heads, weights.eps), want, rtol=0, atol=1e-12)


@pytest.mark.task(id="8.1")
def test_attention_equals_chapter_5s_multi_head_attention():
    rng = np.random.default_rng(1)
    T, d_model, H = 6, 12, 3
    x = rng.normal(size=(T, d_model))
    w_qkv, b_qkv = rng.normal(size=(d_model, 3 * d_model)), rng.normal(size=3 * d_model)
    w_o, b_o = rng.normal(size=(d_model, d_model)), rng.normal(size=d_model)
    wq, wk, wv = np.split(w_qkv, 3, axis=1)
    bq, bk, bv = np.split(b_qkv, 3)
    want = multi_head_attention(x, wq, wk, wv, w_o, H, mask=causal_mask(T, T), b_q=bq, b_k=bk, b_v=bv, b_o=b_o)
    np.testing.assert_allclose(causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, H), want, atol=1e-12)


def test_attention_refuses_shapes_that_do_not_fit():
    x = np.ones((3, 8))
    with pytest.raises(ValueError, match="n_heads=3 must divide d_attn=8"):
        causal_self_attention(x, np.ones((8, 24)), np.zeros(24), np.ones((8, 8)), np.zeros(8), 3)
    with pytest.raises(ValueError, match=r"w_qkv.shape=\(6, 24\)"):
        causal_self_attention(x, np.ones((6, 24)), np.zeros(24), np.ones((8, 8)), np.zeros(8), 2)


def test_the_causal_mask_holds():
    """Changing a later token never changes an earlier position's logits."""
    w = random_weights(TransformerShape(2, 16, 4, 4, 32, 20), n_positions=10, seed=3)
    a, b = forward(w, [1, 2, 3, 4, 5]), forward(w, [1, 2, 3, 9, 9])
    np.testing.assert_array_equal(a[:3], b[:3])
    assert not np.allclose(a[3:], b[3:])


def test_forward_refuses_bad_input():
    w = random_weights(TransformerShape(1, 8, 2, 4, 16, 10), n_positions=4)
    with pytest.raises(ValueError, match=r"0\.\.9"):
        forward(w, [1, 10])
    with pytest.raises(ValueError, match="n_positions=4"):
        forward(w, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="'all' or 'last'"):
        forward(w, [1], logits="first")
    with pytest.raises(ValueError, match="token ids"):
        forward(w, [0.5, 1.0])
