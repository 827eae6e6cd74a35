"""dotlab.forward: the NumPy forward pass is GPT-2, and its ledger is the cost model.

Three independent witnesses:

1. the course's tinygpt in PyTorch gives the same logits as the NumPy pass on its weights;
2. Hugging Face's ``GPT2LMHeadModel``, built from a ``GPT2Config`` with random weights
   (no download), gives the same logits for several configurations and lengths;
3. the ledger, which counts the dot products the pass actually performs from the arrays
   it multiplies, equals ``dotlab.cost.prefill_cost`` and ``decode_cost`` stage by stage.

GPT-2's real weights are never downloaded: the "weights available" branch is tested with
a random model saved to a temporary folder, and laid out as a Hugging Face cache.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from dotlab import tinygpt
from dotlab.attention import causal_mask, multi_head_attention
from dotlab.cost import STAGES, TransformerShape, decode_cost, prefill_cost
from dotlab.forward import (BlockWeights, Ledger, WeightsNotAvailable, block, causal_self_attention, forward,
                            from_hf_gpt2, from_state_dict, from_tinygpt, gelu, gpt2_available, layer_norm,
                            load_gpt2, mlp, random_weights)
from dotlab.kvcache import KVCache

transformers = pytest.importorskip("transformers")
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

PROMPTS = ["the girl saw the dogs . they", "the boy fed the cat . it", "the dog"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # two cores shared by everyone: a second BLAS or torch thread only waits for the first
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained():
    return tinygpt.load()


def _hf(seed=0, **config):
    """A GPT-2 with random weights, in float64 so agreement can be tested to rounding."""
    torch.manual_seed(seed)
    config = {"bos_token_id": 0, "eos_token_id": 0, **config}  # GPT-2's 50256 is out of a small vocabulary
    return GPT2LMHeadModel(GPT2Config(**config)).double().eval()


def _hf_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


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


def test_float32_weights_stay_float32_and_agree(trained):
    model, tok = trained
    ids = tok.encode(PROMPTS[0])
    w32 = from_tinygpt(model, dtype=np.float32)
    got = forward(w32, ids)
    assert got.dtype == np.float32
    with torch.no_grad():
        want = model(torch.tensor([ids]))[0].numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


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

CONFIGS = {
    "one layer, one head": dict(vocab_size=13, n_positions=8, n_embd=8, n_layer=1, n_head=1),
    "gpt2-like, scaled down": dict(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4),
    "narrow MLP": dict(vocab_size=40, n_positions=12, n_embd=24, n_layer=3, n_head=6, n_inner=40),
    "wide heads, other eps": dict(vocab_size=31, n_positions=20, n_embd=48, n_layer=2, n_head=2,
                                  layer_norm_epsilon=1e-3),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_same_logits_as_hugging_face_gpt2(name):
    config = CONFIGS[name]
    model = _hf(**config)
    weights = from_hf_gpt2(model)
    assert weights.shape.d_ff == (config.get("n_inner") or 4 * config["n_embd"])
    rng = np.random.default_rng(len(name))
    for T in (1, 5, config["n_positions"]):
        ids = rng.integers(0, config["vocab_size"], size=T).tolist()
        np.testing.assert_allclose(forward(weights, ids), _hf_logits(model, ids), rtol=0, atol=1e-10)


def test_hugging_face_in_float32():
    model = _hf(**CONFIGS["gpt2-like, scaled down"]).float()
    ids = [3, 1, 4, 1, 5, 9, 2, 6]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(from_hf_gpt2(model, dtype=np.float32), ids), want, rtol=0, atol=1e-4)


def test_conv1d_and_linear_layouts_meet():
    """HF stores (in, out); nn.Linear stores (out, in): transposing one gives the other."""
    model = _hf(**CONFIGS["gpt2-like, scaled down"])
    sd = model.state_dict()
    as_linear = {k: (v.T if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else v) for k, v in sd.items()}
    a = from_state_dict(sd, 4, layout="conv1d")
    b = from_state_dict(as_linear, 4, layout="linear")
    for x, y in zip(a.blocks, b.blocks):
        for key in BlockWeights.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(x, key), getattr(y, key))


def test_unsupported_hugging_face_settings_are_refused():
    with pytest.raises(ValueError, match="tanh GELU"):
        from_hf_gpt2(_hf(vocab_size=10, n_positions=4, n_embd=8, n_layer=1, n_head=2, activation_function="relu"))
    with pytest.raises(ValueError, match="1/sqrt"):
        from_hf_gpt2(_hf(vocab_size=10, n_positions=4, n_embd=8, n_layer=1, n_head=2, scale_attn_by_inverse_layer_idx=True))


def test_bad_state_dicts_say_what_is_wrong():
    sd = _hf(**CONFIGS["one layer, one head"]).state_dict()
    with pytest.raises(ValueError, match="layout"):
        from_state_dict(sd, 1, layout="transposed")
    del sd["transformer.ln_f.bias"]
    with pytest.raises(KeyError, match="ln_f.bias"):
        from_state_dict(sd, 1, layout="conv1d")


# -- the pieces against PyTorch and against chapter 5 -------------------------------------


def test_layer_norm_and_gelu_match_torch():
    rng = np.random.default_rng(0)
    x, g, b = rng.normal(size=(4, 10)), rng.normal(size=10), rng.normal(size=10)
    want = F.layer_norm(torch.tensor(x), (10,), torch.tensor(g), torch.tensor(b), eps=1e-5).numpy()
    np.testing.assert_allclose(layer_norm(x, g, b, 1e-5), want, atol=1e-12)
    z = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(gelu(z), F.gelu(torch.tensor(z), approximate="tanh").numpy(), atol=1e-12)


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


# -- 3. the ledger is the cost model ------------------------------------------------------

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


# -- GPT-2's real weights: never downloaded ------------------------------------------------


def _saved_model(tmp_path):
    model = _hf(**CONFIGS["gpt2-like, scaled down"]).float()
    folder = tmp_path / "saved"
    model.save_pretrained(folder)
    return model, folder


def test_without_the_weights_the_message_says_how_to_get_them(tmp_path):
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    assert gpt2_available(cache_dir=empty) is False
    with pytest.raises(WeightsNotAvailable, match="hf download openai-community/gpt2"):
        load_gpt2(cache_dir=empty)
    with pytest.raises(WeightsNotAvailable):
        load_gpt2(tmp_path)  # a folder without a model in it
    assert isinstance(WeightsNotAvailable("x"), FileNotFoundError)


def test_this_machine_either_has_gpt2_or_says_so():
    if gpt2_available():
        weights, _ = load_gpt2()
        assert weights.shape.d_model == 768
    else:
        with pytest.raises(WeightsNotAvailable):
            load_gpt2()


def test_a_saved_gpt2_folder_runs_through_the_same_pass(tmp_path):
    model, folder = _saved_model(tmp_path)
    assert gpt2_available(folder)
    weights, tokenizer = load_gpt2(folder, dtype=np.float64)
    assert tokenizer is None  # a model saved without its tokenizer
    ids = [5, 4, 3, 2, 1, 0, 7]
    with torch.no_grad():
        want = model.double()(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(weights, ids), want, rtol=0, atol=1e-6)


def test_gpt2_in_the_hugging_face_cache_is_found_offline(tmp_path):
    """Lay the saved model out as the Hub cache does (models--gpt2/snapshots/<commit>/)."""
    model, folder = _saved_model(tmp_path)
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = cache / "models--gpt2" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (cache / "models--gpt2" / "refs").mkdir()
    (cache / "models--gpt2" / "refs" / "main").write_text(commit)
    for f in folder.iterdir():
        shutil.copy(f, snapshot / f.name)
    assert gpt2_available(cache_dir=cache)
    weights, _ = load_gpt2(cache_dir=cache)
    assert weights.wte.dtype == np.float32
    ids = [1, 2, 3]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(weights, ids), want, rtol=0, atol=1e-4)
