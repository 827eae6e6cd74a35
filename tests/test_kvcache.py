"""dotlab.kvcache: a cache changes what is computed, never what comes out.

- one head's decode step equals the last row of full causal attention;
- generating with the cache gives the logits of recomputing the whole prefix, at every
  step, to float rounding (the course's tinygpt and random models of other shapes);
- the cache holds exactly ``dotlab.cost.kv_cache_bytes`` bytes;
- the dot products counted while generating equal ``generation_cost`` with and without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from dotlab import tinygpt
from dotlab.attention import causal_mask, scaled_dot_product_attention
from dotlab.checkpoints import from_tinygpt
from dotlab.cost import TransformerShape, kv_cache_bytes
from dotlab.forward import forward, random_weights
from dotlab.kvcache import CachedDecoder, KVCache, Recompute, generation_cost, head_decode_step
from dotlab.ledger import Ledger
from dotlab.vocab import generate


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # two cores shared by everyone: a second BLAS thread only waits for the first
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def tiny():
    model, tok = tinygpt.load()
    return from_tinygpt(model), tok


OTHER = random_weights(TransformerShape(n_layers=2, d_model=12, n_heads=3, d_head=5, d_ff=20, vocab_size=17),
                       n_positions=32, seed=4, std=0.3)


# -- one head, one token --------------------------------------------------------------------


@pytest.mark.task(id="6.5")
def test_a_decode_step_is_the_last_row_of_full_attention():
    rng = np.random.default_rng(0)
    T, d_model, d_head = 7, 10, 4
    X = rng.normal(size=(T, d_model))
    W_q, W_k, W_v = rng.normal(size=(3, d_model, d_head))
    full = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask=causal_mask(T, T))  # (T, d_head)
    K, V = np.zeros((0, d_head)), np.zeros((0, d_head))
    for t in range(T):  # feed the tokens one at a time, as generation does
        out, K, V = head_decode_step(X[t], K, V, W_q, W_k, W_v)
        np.testing.assert_allclose(out, full[t], atol=1e-12)
    np.testing.assert_allclose(K, X @ W_k, atol=1e-12)
    np.testing.assert_allclose(V, X @ W_v, atol=1e-12)


@pytest.mark.task(id="6.5")
def test_a_decode_step_refuses_caches_that_disagree():
    W = np.eye(3)
    with pytest.raises(ValueError, match="K_cache holds 2 tokens but V_cache holds 1"):
        head_decode_step(np.ones(3), np.ones((2, 3)), np.ones((1, 3)), W, W, W)
    with pytest.raises(ValueError, match=r"W_q.shape=\(4, 3\)"):
        head_decode_step(np.ones(3), np.ones((2, 3)), np.ones((2, 3)), np.ones((4, 3)), W, W)
    with pytest.raises(ValueError, match="d_head"):
        head_decode_step(np.ones(3), np.ones((2, 2)), np.ones((2, 3)), W, W, W)


# -- the whole model ------------------------------------------------------------------------


def test_cached_logits_equal_recomputed_logits_on_the_course_model(tiny):
    weights, tok = tiny
    prompt = tok.encode("the boy fed the cat . it")
    cached, slow = CachedDecoder(weights), Recompute(weights)
    ids = list(prompt)
    for _ in range(20):
        a, b = cached(ids), slow(ids)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
        ids.append(int(np.argmax(a)))
    assert cached.cache.length == len(ids) - 1  # the last token chosen is not fed back yet


@pytest.mark.parametrize("weights", [OTHER], ids=["d_attn != d_model"])
def test_cached_logits_equal_recomputed_logits_for_another_shape(weights):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 17, size=25).tolist()
    everything = forward(weights, ids)  # (T, V): position t's logits see tokens 0..t
    cache = KVCache(2)
    got = [forward(weights, ids[:4], cache=cache)]  # a prefill of four tokens ...
    for chunk in (ids[4:5], ids[5:9], ids[9:10], ids[10:25]):  # ... then steps of one or several
        got.append(forward(weights, chunk, cache=cache))
    np.testing.assert_allclose(np.vstack(got), everything, rtol=0, atol=1e-10)


def test_sampling_with_and_without_the_cache_picks_the_same_tokens(tiny):
    weights, tok = tiny
    prompt = tok.encode("the dog saw the girl . she")
    fast_ids, fast = generate(CachedDecoder(weights), prompt, 15, rng=3, temperature=1.2, top_k=20)
    slow_ids, slow = generate(Recompute(weights), prompt, 15, rng=3, temperature=1.2, top_k=20)
    assert fast_ids == slow_ids
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a.logits, b.logits, rtol=0, atol=1e-10)


def test_the_decoder_starts_over_on_another_context():
    decoder = CachedDecoder(OTHER)
    decoder([1, 2, 3, 4])
    again = decoder([1, 2, 3, 4])  # nothing new: the same logits, nothing computed
    np.testing.assert_array_equal(again, decoder.last_logits)
    other = decoder([5, 6])  # not a continuation
    np.testing.assert_allclose(other, Recompute(OTHER)([5, 6]), atol=1e-12)
    assert decoder.cache.length == 2


def test_the_cache_cannot_outgrow_the_position_table():
    w = random_weights(TransformerShape(1, 8, 2, 4, 16, 10), n_positions=4)
    cache = KVCache(1)
    forward(w, [1, 2, 3], cache=cache)
    forward(w, [4], cache=cache)
    with pytest.raises(ValueError, match="4 \\+ 1 tokens is longer"):
        forward(w, [5], cache=cache)


# -- what the cache costs: memory, and what it saves: dot products ----------------------------


@pytest.mark.parametrize("dtype, nbytes", [(np.float64, 8), (np.float32, 4)])
def test_the_cache_holds_kv_cache_bytes(tiny, dtype, nbytes):
    weights, tok = tiny
    weights = from_tinygpt(tinygpt.load()[0], dtype=dtype)
    cache = KVCache(weights.shape.n_layers)
    for T, chunk in enumerate([[1, 2, 3, 4, 5], [6], [7], [8, 9]]):
        forward(weights, chunk, cache=cache, logits="last")
        assert cache.nbytes == kv_cache_bytes(weights.shape, cache.length, bytes_per_value=nbytes)
    s = weights.shape
    assert all(k.shape == (s.n_heads, 9, s.d_head) and k.dtype == dtype for k in cache.keys)


@pytest.mark.parametrize("prompt_length, n_new", [(1, 1), (3, 6), (8, 12)])
def test_counted_dot_products_equal_generation_cost(tiny, prompt_length, n_new):
    weights, _ = tiny
    prompt = list(range(prompt_length))
    for cached, make in ((True, CachedDecoder), (False, Recompute)):
        ledger = Ledger()
        generate(make(weights, ledger), prompt, n_new, temperature=0)
        assert ledger.table().rows == generation_cost(weights.shape, prompt_length, n_new, cached=cached).rows


def test_the_cache_saves_more_the_longer_the_text(tiny):
    s = tiny[0].shape
    ratios = [generation_cost(s, 8, n, cached=False).total.macs / generation_cost(s, 8, n).total.macs
              for n in (1, 10, 40)]
    assert ratios[0] == 1 and ratios[0] < ratios[1] < ratios[2]


def test_kv_cache_refuses_bad_layers():
    with pytest.raises(ValueError, match="n_layers=0"):
        KVCache(0)
    cache = KVCache(2)
    with pytest.raises(ValueError, match="layer=2"):
        cache.extend(2, np.ones((1, 1, 1)), np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="n_new=0"):
        generation_cost(OTHER.shape, 3, 0)
