"""Tests for dotlab.tinygpt: the corpus, the model, the committed checkpoint, the helpers."""

from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dotlab import tinygpt
from dotlab.tinygpt import corpus, train
from dotlab.tinygpt.corpus import Tokenizer
from dotlab.tinygpt.model import GPT, GPTConfig

TINY = GPTConfig(vocab_size=len(corpus.vocabulary()), block_size=16, n_layers=2, n_heads=2, d_model=16)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # `make test` runs two workers on two cores; a second torch thread each would only
    # make them wait for one another, and these models are too small to gain from it
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained():
    return tinygpt.load()


@pytest.fixture(scope="module")
def data(trained):
    model, tok = trained
    return train.heldout(tok, model.config.block_size)


# ---- the corpus -------------------------------------------------------------------


def test_corpus_is_deterministic_per_seed():
    first = [u.text for u in corpus.generate(200, seed=3)]
    again = [u.text for u in corpus.generate(200, seed=3)]
    assert first == again, "the same seed must give the same corpus, word for word"


def test_train_and_heldout_splits_differ():
    assert corpus.TRAIN_SEED != corpus.HELDOUT_SEED
    tr = [u.text for u in corpus.generate(200, corpus.TRAIN_SEED)]
    ho = [u.text for u in corpus.generate(200, corpus.HELDOUT_SEED)]
    assert tr != ho
    # short units such as "the dog barked ." recur by chance; most units must not
    assert len(set(ho) - set(tr)) > 0.8 * len(set(ho))


def _pronoun_class():
    classes = {}
    for noun in corpus.NOUNS:
        classes[noun.singular] = corpus.pronoun_of(noun, plural=False)
        classes[noun.plural] = corpus.pronoun_of(noun, plural=True)
    return classes


def test_every_pronoun_has_exactly_one_possible_antecedent():
    classes = _pronoun_class()
    verbs = {w: n.verb for n in corpus.NOUNS for w in (n.singular, n.plural)}
    units = [u for u in corpus.generate(2000, seed=11) if u.pronoun is not None]
    assert len(units) > 1000
    for u in units:
        pronoun = u.words[u.pronoun]
        matching = [p for p in u.nouns if p < u.pronoun and classes[u.words[p]] == pronoun]
        assert matching == [u.antecedent], f"{u.text!r}: {pronoun!r} could mean {[u.words[p] for p in matching]}"
        # the word after the pronoun is the antecedent's own verb: that is what makes it learnable
        assert u.words[u.pronoun + 1] == verbs[u.words[u.antecedent]]


def test_antecedent_is_not_always_the_nearest_noun():
    units = [u for u in corpus.generate(2000, seed=11) if u.pronoun is not None]
    nearest = np.mean([max(p for p in u.nouns if p < u.pronoun) == u.antecedent for u in units])
    assert 0.2 < nearest < 0.6, "a recency shortcut must not solve the corpus"


def test_vocabulary_covers_the_corpus():
    words = {w for u in corpus.generate(3000, seed=5) for w in u.words}
    assert words <= set(corpus.vocabulary())


def test_generate_rejects_bad_arguments():
    with pytest.raises(TypeError, match="n_units"):
        corpus.generate(2.5, seed=0)
    with pytest.raises(ValueError, match="n_units=-1"):
        corpus.generate(-1, seed=0)


# ---- the tokenizer ----------------------------------------------------------------


def test_tokenizer_round_trip_and_errors():
    tok = Tokenizer(corpus.vocabulary())
    assert tok.decode(tok.encode("The dog barked.")) == "the dog barked ."
    with pytest.raises(ValueError, match="'zebra'"):
        tok.encode("the zebra barked")
    with pytest.raises(TypeError, match="str"):
        tok.encode(["the", "dog"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([len(tok)])


# ---- the model --------------------------------------------------------------------


def test_forward_shapes_and_causal_attention():
    torch.manual_seed(0)
    model = GPT(TINY).eval()
    idx = torch.randint(TINY.vocab_size, (3, 10))
    logits, att = model(idx, return_attention=True)
    assert logits.shape == (3, 10, TINY.vocab_size)
    assert att.shape == (3, TINY.n_layers, TINY.n_heads, 10, 10)
    torch.testing.assert_close(att.sum(-1), torch.ones(3, TINY.n_layers, TINY.n_heads, 10))
    assert torch.all(att.triu(diagonal=1) == 0), "a token attended to a later one: is the causal mask applied?"


def test_attention_matches_torch_sdpa():
    torch.manual_seed(1)
    attn = GPT(TINY).transformer.h[0].attn
    x = torch.randn(2, 7, TINY.d_model)  # (B, T, C)
    out, _ = attn(x)
    q, k, v = attn.c_attn(x).split(TINY.d_model, dim=2)
    heads = lambda t: t.view(2, 7, TINY.n_heads, TINY.d_head).transpose(1, 2)  # noqa: E731
    y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
    expected = attn.c_proj(y.transpose(1, 2).reshape(2, 7, TINY.d_model))
    torch.testing.assert_close(out, expected)


def test_unembedding_is_tied_to_the_token_embedding():
    model = GPT(TINY)
    keys = set(model.state_dict())
    assert not any(k.startswith("lm_head") for k in keys)
    assert model.state_dict()["transformer.h.0.attn.c_attn.weight"].shape == (3 * TINY.d_model, TINY.d_model)
    assert {"transformer.h.1.mlp.c_fc.bias", "transformer.h.1.mlp.c_proj.weight", "transformer.ln_f.weight"} <= keys


def test_forward_rejects_bad_ids():
    model = GPT(TINY)
    with pytest.raises(ValueError, match=r"T=17 .*block_size=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match=r"idx.shape=\(5,\)"):
        model(torch.zeros(5, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(1, 3))


def test_config_rejects_heads_that_do_not_divide_d_model():
    with pytest.raises(ValueError, match="d_model=30 must be divisible by n_heads=4"):
        GPTConfig(d_model=30, n_heads=4)


def test_a_few_training_steps_lower_the_loss_and_are_reproducible():
    tok = Tokenizer(corpus.vocabulary())
    ids, starts = train.stream(corpus.generate(300, seed=1), tok)
    cfg = train.TrainConfig(steps=40, batch_size=8, warmup=5, lr=1e-2)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = GPT(TINY)
        x, y = train.sample_batch(ids, starts, TINY.block_size, 64, torch.Generator().manual_seed(9))
        before = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
        train.train(model, ids, starts, cfg, progress=False)
        after = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
        runs.append(model.transformer.wte.weight.detach().clone())
        assert after < before - 1.0, f"loss went from {before:.2f} to only {after:.2f}"
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


# ---- the committed checkpoint -----------------------------------------------------


def test_checkpoint_is_small_and_holds_plain_data_only():
    assert tinygpt.CHECKPOINT.stat().st_size < 3_000_000
    ckpt = torch.load(tinygpt.CHECKPOINT, weights_only=True)
    assert set(ckpt) == {"config", "vocab", "state_dict"}
    assert ckpt["vocab"] == corpus.vocabulary(), "the checkpoint's vocabulary drifted from the grammar's"


def test_heldout_accuracy_is_well_above_baselines(trained, data):
    model, tok = trained
    accuracy = train.next_token_accuracy(model, data)
    base = train.baselines(data, len(tok))
    assert accuracy > base["most_frequent"] + 0.2, f"accuracy {accuracy:.3f} vs most-frequent {base['most_frequent']:.3f}"
    assert accuracy > 20 * base["uniform"]


def test_some_head_attends_from_the_pronoun_to_its_antecedent(trained, data):
    model, _ = trained
    result = train.pronoun_attention(model, data)
    assert len(data.pronouns) > 500
    best = result["majority_rate"].max().item()
    # a uniform head never puts more than half its weight on one of several tokens; a head
    # that always looked at the nearest noun would be right only this often:
    assert result["recency_rate"] < 0.5
    assert best > result["recency_rate"] + 0.4, f"best head: {best:.3f}, recency baseline {result['recency_rate']:.3f}"
    assert result["verb_accuracy"] > 0.9, "the model should name the antecedent's verb after the pronoun"


# ---- the public helpers -----------------------------------------------------------


def test_next_token_distribution(trained):
    model, tok = trained
    top = tinygpt.next_token_distribution(model, tok, "the girls saw the car . it", k=4)
    words, probs = zip(*top)
    assert words[0] == "honked"
    assert list(probs) == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_attention_weights_shape(trained):
    model, tok = trained
    att = tinygpt.attention_weights(model, tok, "the dog barked .")
    cfg = model.config
    assert isinstance(att, np.ndarray) and att.shape == (cfg.n_layers, cfg.n_heads, 4, 4)


def test_helpers_reject_unknown_words_and_long_text(trained):
    model, tok = trained
    with pytest.raises(ValueError, match="'unicorn'"):
        tinygpt.next_token_distribution(model, tok, "the unicorn saw the dog")
    too_long = " ".join(["the dog barked ."] * 13)  # 52 tokens
    with pytest.raises(ValueError, match=rf"52 tokens .*block_size={model.config.block_size}"):
        tinygpt.attention_weights(model, tok, too_long)
    with pytest.raises(ValueError, match="no words"):
        tinygpt.attention_weights(model, tok, "  ")
    with pytest.raises(ValueError, match="k=0"):
        tinygpt.next_token_distribution(model, tok, "the dog", k=0)


def test_load_reports_a_missing_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint"):
        tinygpt.load(tmp_path / "missing.pt")


def test_config_round_trips_through_the_checkpoint(trained):
    model, _ = trained
    ckpt = torch.load(tinygpt.CHECKPOINT, weights_only=True)
    assert GPTConfig(**ckpt["config"]) == model.config
