"""dotlab.vocab: logits are dot products, the samplers draw what they promise, with a seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from threadpoolctl import threadpool_limits

from dotlab import tinygpt
from dotlab.softmax import softmax
from dotlab.vocab import (Step, generate, greedy, next_token_probs, sample_token, sequence_log_probs, top_k_filter,
                          top_p_filter, vocab_logits)

@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # two cores shared by everyone: a second BLAS thread only waits for the first
    with threadpool_limits(1):
        yield


logit_vectors = hnp.arrays(np.float64, st.integers(2, 30), elements=st.floats(-20, 20, allow_nan=False),
                           unique=True)  # distinct logits: no ties at a filter's boundary


# -- logits --------------------------------------------------------------------------------


def test_logits_are_one_dot_product_per_vocabulary_row():
    rng = np.random.default_rng(0)
    W_U, h = rng.normal(size=(50, 8)), rng.normal(size=8)
    np.testing.assert_allclose(vocab_logits(h, W_U), [row @ h for row in W_U], atol=1e-12)
    H = rng.normal(size=(4, 8))  # several positions at once
    np.testing.assert_allclose(vocab_logits(H, W_U), np.stack([vocab_logits(x, W_U) for x in H]), atol=1e-12)


def test_logits_refuse_mismatched_widths():
    with pytest.raises(ValueError, match=r"h.shape=\(3,\) and W_U.shape=\(5, 4\)"):
        vocab_logits(np.ones(3), np.ones((5, 4)))
    with pytest.raises(ValueError, match="must be a 2-D matrix"):
        vocab_logits(np.ones(3), np.ones(3))


def test_tinygpt_scores_with_its_own_embedding_matrix():
    """Weight tying: tinygpt's logits are its final states dotted with the rows of wte."""
    import torch

    model, tok = tinygpt.load()
    ids = torch.tensor([tok.encode("the boy fed the cat . it")])
    captured = {}
    hook = model.transformer.ln_f.register_forward_hook(lambda m, i, out: captured.setdefault("h", out))
    with torch.no_grad():
        logits = model(ids)[0, -1].numpy()
    hook.remove()
    h = captured["h"][0, -1].numpy()
    np.testing.assert_allclose(vocab_logits(h, model.transformer.wte.weight.detach().numpy()), logits, atol=1e-5)


# -- greedy, top-k, top-p ------------------------------------------------------------------


def test_greedy_is_the_largest_logit_first_on_a_tie():
    assert greedy([0.0, 3.0, 1.0]) == 1
    assert greedy([2.0, 5.0, 5.0]) == 1
    assert sample_token([0.0, 3.0, 1.0], temperature=0) == 1


@pytest.mark.task(id="6.3")
@settings(max_examples=40, deadline=None)
@given(logits=logit_vectors, data=st.data())
def test_top_k_keeps_exactly_the_k_largest(logits, data):
    k = data.draw(st.integers(1, logits.size))
    kept = np.isfinite(top_k_filter(logits, k))
    assert kept.sum() == k
    assert logits[kept].min() > logits[~kept].max() if k < logits.size else kept.all()


@pytest.mark.task(id="6.4")
@settings(max_examples=40, deadline=None)
@given(logits=logit_vectors, p=st.floats(0.01, 1.0))
def test_top_p_keeps_the_smallest_nucleus_that_reaches_p(logits, p):
    probs = softmax(logits)
    kept = np.isfinite(top_p_filter(logits, p))
    assert probs[kept].sum() >= p * (1 - 1e-9)  # enough probability ...
    if kept.sum() > 1:  # ... and not one token more than needed
        assert probs[kept].sum() - probs[kept].min() < p
        assert probs[kept].min() >= probs[~kept].max(initial=0)


@pytest.mark.task(id="6.4")
def test_top_p_examples():
    logits = np.log([0.5, 0.1, 0.3, 0.1])
    assert np.isfinite(top_p_filter(logits, 0.5)).tolist() == [True, False, False, False]
    assert np.isfinite(top_p_filter(logits, 0.81)).sum() == 3
    assert np.isfinite(top_p_filter(logits, 1.0)).all()


@pytest.mark.parametrize("bad", [0, -1, 5, 2.5, True])
def test_top_k_refuses_bad_k(bad):
    with pytest.raises(ValueError, match=f"k={bad!r}"):
        top_k_filter([1.0, 2.0, 3.0, 4.0], bad)


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, "0.9"])
def test_top_p_refuses_bad_p(bad):
    with pytest.raises(ValueError, match="must be a probability"):
        top_p_filter([1.0, 2.0], bad)


def test_filters_refuse_bad_logits():
    with pytest.raises(ValueError, match="1-D"):
        top_k_filter([[1.0, 2.0]], 1)
    with pytest.raises(ValueError, match="NaN"):
        top_p_filter([1.0, np.nan], 0.5)


@pytest.mark.task(id="6.2")
def test_temperature_moves_top_p_but_not_top_k():
    logits = np.array([3.0, 2.0, 1.0, 0.0, -1.0])
    for t in (0.3, 1.0, 3.0):
        assert np.isfinite(next_token_probs(logits, temperature=t, top_k=2)).sum() == 5
        assert (next_token_probs(logits, temperature=t, top_k=2) > 0).sum() == 2
    nucleus = [(next_token_probs(logits, temperature=t, top_p=0.9) > 0).sum() for t in (0.3, 1.0, 3.0)]
    assert nucleus == sorted(nucleus) and nucleus[0] < nucleus[-1]


# -- sampling with a seed ------------------------------------------------------------------


def test_the_same_seed_gives_the_same_tokens():
    logits = np.random.default_rng(0).normal(size=40)
    for kwargs in ({}, {"top_k": 5}, {"top_p": 0.8}, {"temperature": 0.7, "top_k": 10, "top_p": 0.9}):
        a = [sample_token(logits, np.random.default_rng(3), **kwargs) for _ in range(5)]
        b = [sample_token(logits, 3, **kwargs) for _ in range(5)]  # an int seed is the same thing
        assert a == b and len(set(a)) == 1
        rng1, rng2 = np.random.default_rng(11), np.random.default_rng(11)
        assert [sample_token(logits, rng1, **kwargs) for _ in range(20)] == [sample_token(logits, rng2, **kwargs) for _ in range(20)]


def test_the_draw_is_rng_choice_over_the_vocabulary():
    logits = np.random.default_rng(1).normal(size=12)
    for seed in range(30):
        want = np.random.default_rng(seed).choice(12, p=next_token_probs(logits, top_k=4))
        assert sample_token(logits, seed, top_k=4) == want


@pytest.mark.task(id="6.3")
def test_samples_follow_the_distribution_and_never_leave_the_filter():
    logits = np.array([2.0, 1.5, 1.0, 0.0, -1.0, -3.0])
    rng = np.random.default_rng(5)
    for kwargs in ({}, {"top_k": 3}, {"top_p": 0.7}, {"temperature": 2.0}):
        probs = next_token_probs(logits, **kwargs)
        draws = np.array([sample_token(logits, rng, **kwargs) for _ in range(1500)])
        freq = np.bincount(draws, minlength=6) / draws.size
        np.testing.assert_allclose(freq, probs, atol=0.05)  # about 4 standard errors
        assert set(draws.tolist()) <= set(np.flatnonzero(probs).tolist())


def test_sampling_needs_a_seed():
    with pytest.raises(TypeError, match="Generator or an int seed"):
        sample_token([1.0, 2.0])
    with pytest.raises(TypeError, match="Generator or an int seed"):
        sample_token([1.0, 2.0], rng=0.5)
    with pytest.raises(ValueError, match="temperature"):
        sample_token([1.0, 2.0], 0, temperature=-1)


# -- log-probabilities ---------------------------------------------------------------------


def test_sequence_log_probs_pick_each_next_token():
    rng = np.random.default_rng(2)
    logits, ids = rng.normal(size=(5, 7)), [3, 1, 4, 1, 5]
    want = [np.log(softmax(logits[t])[ids[t + 1]]) for t in range(4)]
    np.testing.assert_allclose(sequence_log_probs(logits, ids), want, atol=1e-12)
    with pytest.raises(ValueError, match="T = len"):
        sequence_log_probs(logits, ids[:3])
    with pytest.raises(ValueError, match="0..6"):
        sequence_log_probs(logits, [0, 1, 2, 3, 7])


# -- the generation loop -------------------------------------------------------------------


def _bigram(ids):
    """A toy model: after token t, token (t + 1) % 6 is likely, (t + 2) % 6 less so."""
    logits = np.zeros(6)
    logits[(ids[-1] + 1) % 6] = 3.0
    logits[(ids[-1] + 2) % 6] = 2.0
    return logits


def test_greedy_generation_follows_the_model():
    ids, steps = generate(_bigram, [0], 7, temperature=0)
    assert ids == [0, 1, 2, 3, 4, 5, 0, 1]
    assert all(isinstance(s, Step) for s in steps) and [s.context_length for s in steps] == list(range(1, 8))
    first = steps[0]
    np.testing.assert_allclose(first.top_probs, np.sort(softmax(_bigram([0])))[::-1][:10])
    assert first.prob == pytest.approx(first.top_probs[0]) and first.token == first.top_ids[0]


def test_sampled_generation_is_reproducible():
    a, _ = generate(_bigram, [2], 20, rng=np.random.default_rng(9))
    b, _ = generate(_bigram, [2], 20, rng=9)
    c, _ = generate(_bigram, [2], 20, rng=10)
    assert a == b and a != c


def test_generation_refuses_what_it_cannot_do():
    assert generate(_bigram, [4], 0, temperature=0) == ([4], [])
    with pytest.raises(ValueError, match="prompt is empty"):
        generate(_bigram, [], 3, temperature=0)
    with pytest.raises(ValueError, match="n_new"):
        generate(_bigram, [1], -1, temperature=0)
    with pytest.raises(TypeError, match="seed"):
        generate(_bigram, [1], 2)


def test_the_course_model_generates_its_grammar():
    from dotlab.checkpoints import from_tinygpt
    from dotlab.kvcache import Recompute

    model, tok = tinygpt.load()
    ids, steps = generate(Recompute(from_tinygpt(model)), tok.encode("the girl saw the dogs . they"), 2, temperature=0)
    assert tok.words[ids[-2]] == "barked" and tok.words[ids[-1]] == "."
    assert steps[0].prob > 0.5
