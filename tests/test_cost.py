"""dotlab.cost: the cost model is proven against PyTorch's own FLOP counter.

The proof has three parts:

1. Real PyTorch modules (a transformer block, a small GPT, a KV-cache decode step) are
   run under ``torch.utils.flop_counter.FlopCounterMode``. Each module that performs a
   stage is named after it (``qkv``, ``scores``, ..., ``unembed``), so the counter's
   per-module breakdown attributes every measured FLOP to a stage, and the cost model
   must equal it exactly, stage by stage and in total.
2. The syllabus's worked example is recomputed from closed forms written out here,
   independently of the cost module, and measured on a full-size model on PyTorch's
   meta device (shapes only, no memory, no arithmetic).
3. Hypothesis checks the algebra: flops = 2·macs, total = sum of rows, linear in L and
   in T for projections, quadratic in T for attention, prefill = T decode steps.
4. Grouped-query attention and sliding windows (chapter 9) are measured the same way: the
   reference attention makes ``n_kv_heads`` keys and values, and with a window it
   gathers each query's ``window`` keys into a band, so the counter sees ``T·window``
   scores, not ``T²``; its outputs equal a dense pass under the window's mask.

Legend for shape comments, the notation page's: B batch, T tokens (Tq new queries, Tk
keys), d_model, H heads, G key/value heads, d_head, w window, d_ff, V vocabulary.
"""

import dataclasses
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from dotlab.cost import (
    STAGES,
    CostTable,
    StageCost,
    TransformerShape,
    WholeNumberError,
    arithmetic_intensity,
    attention_mlp_crossover,
    decode_bytes_moved,
    decode_cost,
    kaplan_forward_flops,
    kv_cache_bytes,
    matmul_count,
    matmul_weight_count,
    prefill_cost,
)

WORKED = TransformerShape(n_layers=48, d_model=4096, n_heads=32, d_head=128, d_ff=16384, vocab_size=50257)
# 2 × MACs of qkv + scores + mixing + out_proj + mlp_up + mlp_down + unembed at T = 1000,
# each MAC count the product of the sizes in test_worked_example_equals_closed_forms.
WORKED_TOTAL_FLOPS = 2 * (
    2_415_919_104_000 + 196_608_000_000 + 196_608_000_000 + 805_306_368_000
    + 3_221_225_472_000 + 3_221_225_472_000 + 205_852_672_000
)
GPT2_SMALL = TransformerShape(n_layers=12, d_model=768, n_heads=12, d_head=64, d_ff=3072, vocab_size=50257)

# Small enough to run in milliseconds; chosen so no two sizes coincide by accident.
# Several have H·d_head != d_model, so mixing up d_model and d_attn shows up.
SMALL_SHAPES = [
    TransformerShape(n_layers=1, d_model=8, n_heads=2, d_head=4, d_ff=32, vocab_size=11),
    TransformerShape(n_layers=2, d_model=12, n_heads=3, d_head=5, d_ff=20, vocab_size=17),  # d_attn 15 > 12
    TransformerShape(n_layers=3, d_model=16, n_heads=4, d_head=2, d_ff=24, vocab_size=9),  # d_attn 8 < 16
    TransformerShape(n_layers=2, d_model=6, n_heads=1, d_head=7, d_ff=6, vocab_size=29),  # 1 head, d_ff = d_model
]
LENGTHS = [1, 2, 7, 13]
# Grouped-query and windowed shapes (chapter 9); again no two sizes coincide.
GROUPED_SHAPES = [
    TransformerShape(n_layers=2, d_model=12, n_heads=4, d_head=3, d_ff=20, vocab_size=17, n_kv_heads=2),
    TransformerShape(n_layers=1, d_model=8, n_heads=6, d_head=2, d_ff=16, vocab_size=11, n_kv_heads=1),  # MQA
    TransformerShape(n_layers=2, d_model=10, n_heads=3, d_head=5, d_ff=14, vocab_size=13, window=4),
    TransformerShape(n_layers=3, d_model=9, n_heads=4, d_head=4, d_ff=18, vocab_size=7, n_kv_heads=2, window=5),
]


# ------------------------------------------------------------- reference modules
# A nanoGPT-style model in which every stage of the cost model is its own module.


class Scores(nn.Module):
    """q · k for every query-key pair in every head: the ``scores`` stage."""

    def __init__(self, d_head):
        super().__init__()
        self.scale = 1 / math.sqrt(d_head)  # see Vaswani et al. 2017, eq. 1

    def forward(self, q, k):
        return (q @ k.transpose(-2, -1)) * self.scale  # (B, H, Tq, d_head) x (B, H, d_head, Tk) -> (B, H, Tq, Tk)


class Mixing(nn.Module):
    """Attention weights times values: the ``mixing`` stage."""

    def forward(self, weights, v):
        return weights @ v  # (B, H, Tq, Tk) x (B, H, Tk, d_head) -> (B, H, Tq, d_head)


class KVCache:
    """Keys and values of the positions seen so far, one pair of tensors per layer.

    It holds ``n_kv_heads`` heads, and with a window only the last ``window`` tokens
    (a rolling cache): older keys can never be seen again.
    """

    def __init__(self, shape, batch=1, dtype=torch.float32):
        empty = torch.zeros(batch, shape.n_kv_heads, 0, shape.d_head, dtype=dtype)
        self.k = [empty] * shape.n_layers
        self.v = [empty] * shape.n_layers
        self.window = shape.window
        self.seen = 0  # tokens seen so far: the next one's position

    def extend(self, layer, k, v):
        """Append the new tokens' keys and values; return every key the new queries need."""
        Tq = k.size(2)
        k = torch.cat([self.k[layer], k], dim=2)  # (B, G, T_past + Tq, d_head)
        v = torch.cat([self.v[layer], v], dim=2)
        if self.window is not None:
            keep = self.window  # what the next query will need
            self.k[layer], self.v[layer] = k[:, :, -keep:], v[:, :, -keep:]
            need = self.window + Tq - 1  # the first new query looks window - 1 back
            return k[:, :, -need:], v[:, :, -need:]
        self.k[layer], self.v[layer] = k, v
        return k, v

    def nbytes(self):
        return sum(t.numel() * t.element_size() for t in (*self.k, *self.v))

    def __len__(self):
        return self.k[0].size(2)


class Attention(nn.Module):
    def __init__(self, s, layer, banded=True):
        super().__init__()
        self.s, self.layer = s, layer
        self.banded = banded  # False: a dense pass under the window's mask, to compare with
        self.qkv = nn.Linear(s.d_model, s.d_attn + 2 * s.d_kv)  # G key/value heads, not H
        self.scores = Scores(s.d_head)
        self.mixing = Mixing()
        self.out_proj = nn.Linear(s.d_attn, s.d_model)

    def forward(self, x, cache=None):
        B, Tq, d_model = x.size()
        H, G, d_head, w = self.s.n_heads, self.s.n_kv_heads, self.s.d_head, self.s.window
        q, k, v = self.qkv(x).split([self.s.d_attn, self.s.d_kv, self.s.d_kv], dim=-1)
        q = q.view(B, Tq, H, d_head).transpose(1, 2)  # (B, H, Tq, d_head)
        k, v = (t.view(B, Tq, G, d_head).transpose(1, 2) for t in (k, v))  # (B, G, Tq, d_head)
        if cache is not None:
            k, v = cache.extend(self.layer, k, v)  # (B, G, Tk, d_head), the keys the queries need
        # Query head h reads key/value head h // (H/G) (Ainslie et al. 2023): a copy, no arithmetic.
        k, v = (t.repeat_interleave(H // G, dim=1) for t in (k, v))  # (B, H, Tk, d_head)
        Tk = k.size(2)
        if w is not None and self.banded and Tq == Tk and Tq > w:
            y = self._band(q, k, v, w)
        else:
            # Query i sits at position Tk - Tq + i and may see keys up to there,
            # and with a window none more than w - 1 before it.
            allowed = torch.ones(Tq, Tk, dtype=torch.bool, device=x.device).tril(diagonal=Tk - Tq)
            if w is not None:
                allowed &= torch.ones_like(allowed).triu(diagonal=Tk - Tq - w + 1)
            att = self.scores(q, k).masked_fill(~allowed, float("-inf")).softmax(dim=-1)
            y = self.mixing(att, v)  # (B, H, Tq, d_head)
        y = y.transpose(1, 2).reshape(B, Tq, H * d_head)  # heads side by side
        return self.out_proj(y)

    def _band(self, q, k, v, w):
        """Each query against its own w keys only: T·w scores instead of T²."""
        B, H, T, d_head = q.size()
        # Pad w - 1 empty keys in front, then take every run of w: query i gets keys i-w+1..i.
        k, v = (F.pad(t, (0, 0, w - 1, 0)).unfold(2, w, 1).transpose(-2, -1) for t in (k, v))  # (B, H, T, w, d_head)
        s = self.scores(q.unsqueeze(-2), k)  # (B, H, T, 1, d_head) x (B, H, T, d_head, w) -> (B, H, T, 1, w)
        real = torch.arange(w) >= (w - 1) - torch.arange(T)[:, None]  # (T, w): not a padded key
        att = s.masked_fill(~real[:, None, :], float("-inf")).softmax(dim=-1)
        return self.mixing(att, v).squeeze(-2)  # (B, H, T, 1, w) x (B, H, T, w, d_head) -> (B, H, T, d_head)


class MLP(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.mlp_up = nn.Linear(s.d_model, s.d_ff)
        self.mlp_down = nn.Linear(s.d_ff, s.d_model)

    def forward(self, x):
        return self.mlp_down(F.gelu(self.mlp_up(x)))  # (B, T, d_model) -> (B, T, d_ff) -> (B, T, d_model)


class Block(nn.Module):
    def __init__(self, s, layer=0, banded=True):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(s.d_model), nn.LayerNorm(s.d_model)
        self.attn, self.mlp = Attention(s, layer, banded), MLP(s)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, s, tied=False, max_T=64, banded=True):
        super().__init__()
        self.token_embedding = nn.Embedding(s.vocab_size, s.d_model)
        self.position_embedding = nn.Embedding(max_T, s.d_model)
        self.blocks = nn.ModuleList(Block(s, layer, banded) for layer in range(s.n_layers))
        self.ln_f = nn.LayerNorm(s.d_model)
        self.unembed = nn.Linear(s.d_model, s.vocab_size, bias=False)
        if tied:  # nanoGPT's weight tying: one matrix, two uses; changes parameters, not arithmetic
            self.token_embedding.weight = self.unembed.weight

    def forward(self, idx, logits="all", cache=None):
        B, T = idx.size()
        start = cache.seen if cache is not None else 0
        if cache is not None:
            cache.seen += T
        positions = torch.arange(start, start + T, device=idx.device)
        x = self.token_embedding(idx) + self.position_embedding(positions)  # (B, T, d_model)
        for block in self.blocks:
            x = block(x, cache)
        x = self.ln_f(x)
        if logits == "last":
            x = x[:, -1:, :]  # generation needs only the last position's scores
        return self.unembed(x)  # (B, T or 1, d_model) x (d_model, V) -> (B, T or 1, V)


# ------------------------------------------------------------------- measuring


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny matmuls gain nothing from threads, and on a shared, busy machine a thread
    pool waiting for its turn makes each pass 10-30 times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



def measure(fn, *args, **kwargs):
    """Run ``fn`` under FlopCounterMode; return (total FLOPs, FLOPs per stage name)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:  # forward only
        fn(*args, **kwargs)
    per_stage = dict.fromkeys(STAGES, 0)
    for module_name, by_op in counter.get_flop_counts().items():
        stage = module_name.rsplit(".", 1)[-1]  # "GPT.blocks.1.attn.qkv" -> "qkv"
        if stage in per_stage:
            per_stage[stage] += sum(by_op.values())
    return counter.get_total_flops(), per_stage


def assert_agrees(table, total, per_stage, stages=STAGES):
    """Stage by stage first, so a failure names the stage the model gets wrong."""
    for name in stages:
        assert table[name].flops == per_stage[name], (
            f"{table.title}: stage {name!r}: cost model says {table[name].flops:,} FLOPs, "
            f"FlopCounterMode measured {per_stage[name]:,}"
        )
    outside = total - sum(per_stage[name] for name in stages)
    assert outside == 0, f"the counter saw {outside:,} FLOPs of matmuls outside the named stages"
    assert sum(table[name].flops for name in stages) == total


def tokens(s, T, batch=1):
    return torch.randint(0, s.vocab_size, (batch, T), generator=torch.Generator().manual_seed(T))


# ----------------------------------------------------- agreement with FlopCounterMode


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("s", SMALL_SHAPES, ids=str)
def test_one_block_matches_flop_counter(s, T):
    one_layer = TransformerShape(1, s.d_model, s.n_heads, s.d_head, s.d_ff, s.vocab_size)
    x = torch.randn(1, T, s.d_model)
    total, per_stage = measure(Block(one_layer), x)
    block_stages = STAGES[:-1]  # a block has no unembedding
    assert_agrees(prefill_cost(one_layer, T), total, per_stage, block_stages)
    assert total == prefill_cost(one_layer, T).total.flops - prefill_cost(one_layer, T)["unembed"].flops


@pytest.mark.task(id="7.2")
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("logits", ["all", "last"])
@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("s", SMALL_SHAPES, ids=str)
def test_whole_model_prefill_matches_flop_counter(s, T, logits, tied):
    model = GPT(s, tied=tied)
    total, per_stage = measure(model, tokens(s, T), logits=logits)
    table = prefill_cost(s, T, logits=logits)
    assert_agrees(table, total, per_stage)
    assert table.total.flops == total


def test_a_batch_costs_batch_times_one_sequence():
    s, T, B = SMALL_SHAPES[1], 5, 3
    total, _ = measure(GPT(s), tokens(s, T, batch=B))
    assert total == B * prefill_cost(s, T).total.flops


@pytest.mark.task(id="7.3")
@pytest.mark.parametrize("T", [1, 2, 9, 16])
@pytest.mark.parametrize("s", SMALL_SHAPES, ids=str)
def test_decode_step_with_kv_cache_matches_flop_counter(s, T):
    model = GPT(s)
    idx = tokens(s, T)
    cache = KVCache(s)
    if T > 1:
        model(idx[:, :-1], cache=cache)  # prefill the first T-1 tokens, not measured
    total, per_stage = measure(model, idx[:, -1:], cache=cache)  # one new token sees T keys
    assert len(cache) == T
    assert_agrees(decode_cost(s, T), total, per_stage)


@pytest.mark.parametrize("s", SMALL_SHAPES[:2], ids=str)
def test_the_measured_decode_step_is_a_real_decode_step(s):
    """The KV-cache step gives the same next-token scores as a full pass: we measured the real thing."""
    model = GPT(s).double()
    idx = tokens(s, 9)
    cache = KVCache(s, dtype=torch.float64)
    model(idx[:, :-1], cache=cache)
    step = model(idx[:, -1:], cache=cache)
    full = model(idx, logits="last")
    torch.testing.assert_close(step, full)


@pytest.mark.parametrize("s", SMALL_SHAPES[1:3], ids=str)
def test_kv_cache_tensors_occupy_kv_cache_bytes(s):
    T = 11
    model = GPT(s).half()
    cache = KVCache(s, dtype=torch.float16)
    with torch.no_grad():
        model(tokens(s, T), cache=cache)
    assert cache.nbytes() == kv_cache_bytes(s, T, bytes_per_value=2)


# ---------------------------------------- grouped keys and windows (chapter 9)


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("s", GROUPED_SHAPES, ids=str)
def test_grouped_and_windowed_prefill_matches_flop_counter(s, T):
    total, per_stage = measure(GPT(s), tokens(s, T))
    assert_agrees(prefill_cost(s, T), total, per_stage)


@pytest.mark.parametrize("T", [1, 3, 6, 11])
@pytest.mark.parametrize("s", GROUPED_SHAPES, ids=str)
def test_grouped_and_windowed_decode_matches_flop_counter(s, T):
    model, idx, cache = GPT(s), tokens(s, T), KVCache(s)
    if T > 1:
        model(idx[:, :-1], cache=cache)
    total, per_stage = measure(model, idx[:, -1:], cache=cache)
    assert_agrees(decode_cost(s, T), total, per_stage)
    assert len(cache) == s.keys_seen(T)  # a rolling cache keeps the last window tokens


@pytest.mark.parametrize("s", GROUPED_SHAPES, ids=str)
def test_the_band_and_the_rolling_cache_compute_windowed_attention(s):
    """What we measured is real: the banded pass equals a dense pass under the window's
    mask, and decoding from the rolling cache gives the same next-token scores."""
    torch.manual_seed(0)
    banded = GPT(s, banded=True).double()
    dense = GPT(s, banded=False).double()
    dense.load_state_dict(banded.state_dict())
    idx = tokens(s, 12)
    with torch.no_grad():
        torch.testing.assert_close(banded(idx), dense(idx))
        cache = KVCache(s, dtype=torch.float64)
        banded(idx[:, :-1], cache=cache)
        torch.testing.assert_close(banded(idx[:, -1:], cache=cache), dense(idx, logits="last"))


@pytest.mark.parametrize("s", GROUPED_SHAPES, ids=str)
def test_grouped_cache_tensors_occupy_kv_cache_bytes(s):
    model, cache = GPT(s).half(), KVCache(s, dtype=torch.float16)
    with torch.no_grad():
        model(tokens(s, 11), cache=cache)
    assert cache.nbytes() == kv_cache_bytes(s, 11, bytes_per_value=2)


def test_grouped_and_windowed_weights_are_the_models_matmul_parameters():
    for s in GROUPED_SHAPES:
        weights = [m.weight.numel() for m in GPT(s).modules() if isinstance(m, nn.Linear)]
        assert matmul_weight_count(s) == sum(weights), s


def _variant(s, **changes):
    return dataclasses.replace(s, **changes)


# Plausible wrong models of the two new fields: each must disagree with a measurement.
GROUPED_MISTAKES = {
    "shrinks the score count with n_kv_heads": lambda s, T: sum(
        r.flops * (s.n_kv_heads if r.name in ("scores", "mixing") else s.n_heads) // s.n_heads
        for r in prefill_cost(s, T)),
    "keeps three full-width projections": lambda s, T: prefill_cost(_variant(s, n_kv_heads=s.n_heads), T).total.flops,
    "ignores the window": lambda s, T: prefill_cost(_variant(s, window=None), T).total.flops,
    "counts a window one key too wide": lambda s, T: prefill_cost(
        _variant(s, window=s.window + 1 if s.window else None), T).total.flops,
}


@pytest.mark.parametrize("mistake", GROUPED_MISTAKES)
def test_the_measurements_catch_each_grouped_or_windowed_mistake(mistake):
    wrong = GROUPED_MISTAKES[mistake]
    caught = [(s, T) for s in GROUPED_SHAPES for T in LENGTHS if wrong(s, T) != measure(GPT(s), tokens(s, T))[0]]
    assert caught, f"no test shape tells apart a cost model that {mistake}"


@pytest.mark.task(id="9.4")
def test_grouped_and_windowed_by_hand():
    # Llama-2-70B-like: 80 layers, 64 query heads, 8 key/value heads of 128, fp16.
    s = TransformerShape(80, 8192, 64, 128, 28672, 32000, n_kv_heads=8)
    full = _variant(s, n_kv_heads=64)
    T = 100_000
    assert kv_cache_bytes(s, T) == 2 * 80 * 8 * 128 * T * 2
    assert kv_cache_bytes(full, T) == 8 * kv_cache_bytes(s, T)
    assert prefill_cost(s, T)["scores"] == prefill_cost(full, T)["scores"]  # same score dot products
    assert prefill_cost(s, T)["qkv"].dot_products == 80 * T * (64 + 2 * 8) * 128
    windowed = _variant(s, window=4096)
    assert prefill_cost(windowed, T)["scores"].dot_products == 80 * 64 * T * 4096
    assert decode_cost(windowed, T)["mixing"].length == 4096
    assert kv_cache_bytes(windowed, T) == kv_cache_bytes(s, 4096)
    assert kv_cache_bytes(windowed, 100) == kv_cache_bytes(s, 100)  # shorter than the window


def test_defaults_are_full_multi_head_attention():
    assert GPT2_SMALL.n_kv_heads == 12 and GPT2_SMALL.window is None and GPT2_SMALL.d_kv == GPT2_SMALL.d_attn
    assert TransformerShape(12, 768, 12, 64, 3072, 50257, n_kv_heads=12) == GPT2_SMALL
    assert TransformerShape(12, 768, 12, 64, 3072, 50257, window=np.int64(8)).window == 8


def test_window_wider_than_the_context_changes_nothing():
    for T in (1, 5, 64):
        assert prefill_cost(_variant(GPT2_SMALL, window=64), T).rows == prefill_cost(GPT2_SMALL, T).rows


def test_crossover_refuses_a_window_attention_never_fills():
    with pytest.raises(ValueError, match="window=1000 attention never catches up.*3072"):
        attention_mlp_crossover(_variant(GPT2_SMALL, window=1000))
    assert attention_mlp_crossover(_variant(GPT2_SMALL, window=3072)) == 3072


@pytest.mark.parametrize(
    "changes, error, message",
    [({"n_kv_heads": 5}, ValueError, "n_kv_heads=5 must divide n_heads=12"),
     ({"n_kv_heads": 0}, ValueError, "n_kv_heads=0 must be at least 1"),
     ({"n_kv_heads": 2.0}, TypeError, r"n_kv_heads=2\.0"),
     ({"window": 0}, ValueError, "window=0 must be at least 1"),
     ({"window": 2.5}, TypeError, r"window=2\.5"),
     ({"window": "64"}, TypeError, "window='64'")],
)
def test_bad_grouping_or_window_is_named(changes, error, message):
    with pytest.raises(error, match=message):
        TransformerShape(12, 768, 12, 64, 3072, 50257, **changes)


def test_worked_example_full_size_on_the_meta_device():
    """48 layers of 4096, a 1000-token prompt: measured without allocating a byte."""
    with torch.device("meta"):
        model = GPT(WORKED, max_T=1000)
        idx = torch.zeros(1, 1000, dtype=torch.long)
    total, per_stage = measure(model, idx)
    assert_agrees(prefill_cost(WORKED, 1000), total, per_stage)
    assert total == WORKED_TOTAL_FLOPS


@functools.cache
def _measured_prefill(s, T):
    return measure(GPT(s), tokens(s, T))[0]


# Plausible wrong cost models. Each must disagree with the measurement on some shape
# above, so the agreement tests really do tell these mistakes apart.
def _mistaken(table_fn):
    return lambda s, T: sum(table_fn(s, T).values())


D_ATTN_STAGES = ("qkv", "scores", "mixing", "out_proj")  # their MACs are proportional to H·d_head
MISTAKES = {
    "counts 2k-1 FLOPs per dot product instead of 2k": _mistaken(
        lambda s, T: {r.name: r.dot_products * (2 * r.length - 1) for r in prefill_cost(s, T)}
    ),
    "forgets the value mixing": _mistaken(
        lambda s, T: {r.name: r.flops for r in prefill_cost(s, T) if r.name != "mixing"}
    ),
    "discounts the causal mask in attention": _mistaken(
        lambda s, T: {
            r.name: r.flops * (T + 1) // (2 * T) if r.name in ("scores", "mixing") else r.flops
            for r in prefill_cost(s, T)
        }
    ),
    "uses d_model where H·d_head belongs": _mistaken(
        lambda s, T: {
            r.name: r.flops * s.d_model // s.d_attn if r.name in D_ATTN_STAGES else r.flops
            for r in prefill_cost(s, T)
        }
    ),
    "forgets to multiply by the number of layers": _mistaken(
        lambda s, T: {
            r.name: r.flops // s.n_layers if r.name != "unembed" else r.flops for r in prefill_cost(s, T)
        }
    ),
    "multiplies the unembedding by the number of layers": _mistaken(
        lambda s, T: {
            r.name: r.flops * s.n_layers if r.name == "unembed" else r.flops for r in prefill_cost(s, T)
        }
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_the_measurements_catch_each_plausible_mistake(mistake):
    wrong = MISTAKES[mistake]
    caught = [(s, T) for s in SMALL_SHAPES for T in LENGTHS if wrong(s, T) != _measured_prefill(s, T)]
    assert caught, f"no test shape tells apart a cost model that {mistake}"


# ------------------------------------------------------------- the worked example


def test_worked_example_equals_closed_forms():
    L, d_model, H, d_head, d_ff, V, T = 48, 4096, 32, 128, 16384, 50257, 1000
    expected = {  # (dot products, length), written out from the definitions
        "qkv": (L * T * 3 * H * d_head, d_model),
        "scores": (L * H * T * T, d_head),
        "mixing": (L * H * T * d_head, T),
        "out_proj": (L * T * d_model, H * d_head),
        "mlp_up": (L * T * d_ff, d_model),
        "mlp_down": (L * T * d_model, d_ff),
        "unembed": (T * V, d_model),
    }
    table = prefill_cost(WORKED, T)
    for name, (count, length) in expected.items():
        assert (table[name].dot_products, table[name].length) == (count, length), name
        assert table[name].macs == count * length
    assert table.total.flops == 2 * sum(count * length for count, length in expected.values())
    assert table.total.flops == WORKED_TOTAL_FLOPS
    # per layer: attention proper is 2·H·d_head·T² MACs, the MLP 2·T·d_model·d_ff
    attention = table.subtotal("scores", "mixing").macs
    mlp = table.subtotal("mlp_up", "mlp_down").macs
    assert attention == 2 * L * H * d_head * T**2 == 393_216_000_000
    assert mlp == 2 * L * T * d_model * d_ff == 6_442_450_944_000
    assert mlp / attention == d_model * d_ff / (H * d_head * T) == 16.384  # "several times": sixteen
    assert mlp >= 5 * attention


def test_worked_example_decode_and_cache():
    step = decode_cost(WORKED, 1000)
    assert step["scores"].dot_products == 48 * 32 * 1000  # L·H·T, the syllabus's count
    assert kv_cache_bytes(WORKED, 1000) == 2 * 48 * 1000 * 32 * 128 * 2 == 750 * 2**20


# ------------------------------------------------------------------- crossover


CROSSOVER_SHAPES = SMALL_SHAPES + [WORKED, GPT2_SMALL, TransformerShape(80, 8192, 64, 128, 28672, 32000)]


def _attention_and_mlp(table):
    return table.subtotal("scores", "mixing").macs, table.subtotal("mlp_up", "mlp_down").macs


@pytest.mark.task(id="7.5")
@pytest.mark.parametrize("s", CROSSOVER_SHAPES, ids=str)
def test_crossover_is_where_attention_catches_up(s):
    t_star = attention_mlp_crossover(s)
    assert t_star == math.ceil(s.d_model * s.d_ff / (s.n_heads * s.d_head))
    attention, mlp = _attention_and_mlp(prefill_cost(s, t_star))
    assert attention >= mlp
    if t_star > 1:
        attention, mlp = _attention_and_mlp(prefill_cost(s, t_star - 1))
        assert attention < mlp


def test_crossover_values():
    assert attention_mlp_crossover(WORKED) == 16384  # 4096·16384 / (32·128)
    assert attention_mlp_crossover(GPT2_SMALL) == 3072  # 768·3072 / 768 = d_ff
    at_t_star = _attention_and_mlp(prefill_cost(WORKED, 16384))
    assert at_t_star[0] == at_t_star[1]  # the division is exact: a tie at T*


# --------------------------------------------------------------- hand-checked sizes


def test_kv_cache_bytes_by_hand():
    # GPT-2 small, 1024 tokens, fp16: 2 · 12 layers · 1024 · 768 · 2 bytes = 36 MiB
    assert kv_cache_bytes(GPT2_SMALL, 1024) == 37_748_736 == 36 * 2**20
    assert kv_cache_bytes(GPT2_SMALL, 1024, bytes_per_value=4) == 72 * 2**20
    assert kv_cache_bytes(SMALL_SHAPES[1], 10, bytes_per_value=1) == 2 * 2 * 10 * 3 * 5
    assert kv_cache_bytes(GPT2_SMALL, 1, bytes_per_value=0.5) == 2 * 12 * 768 * 0.5


def test_matmul_count_by_hand():
    assert matmul_count(2, 3, 4) == StageCost("matmul", dot_products=8, length=3, macs=24, flops=48)


def test_matmul_count_matches_flop_counter():
    a, b = torch.randn(5, 7), torch.randn(7, 3)
    total, _ = measure(torch.matmul, a, b)
    assert matmul_count(5, 7, 3).flops == total


def test_matmul_weight_count_is_the_models_matmul_parameters():
    s = SMALL_SHAPES[1]
    model = GPT(s)
    weights = [m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)]
    assert matmul_weight_count(s) == sum(weights)
    assert matmul_weight_count(GPT2_SMALL, include_unembed=False) == 84_934_656  # "85M"


def test_decode_traffic_and_intensity_by_hand():
    traffic = decode_bytes_moved(GPT2_SMALL, T=1024, bytes_per_value=2)
    assert traffic.weights == (84_934_656 + 50257 * 768) * 2
    assert traffic.kv_cache == 36 * 2**20
    assert traffic.total == traffic.weights + traffic.kv_cache
    assert arithmetic_intensity(100, 50) == 2.0
    assert arithmetic_intensity(0, 1) == 0.0


def test_kaplan_relation():
    """Per token without unembed we count 2N + 4·L·T·d_attn; Kaplan's Table 1, 2N + 2·L·T·d_attn."""
    s, T = GPT2_SMALL, 1024
    table = prefill_cost(s, T)
    ours_per_token = (table.total.flops - table["unembed"].flops) // T
    assert ours_per_token == kaplan_forward_flops(s, T) + 2 * s.n_layers * T * s.d_attn


# ------------------------------------------------------------------ properties

shapes = st.builds(
    TransformerShape,
    n_layers=st.integers(1, 96),
    d_model=st.integers(1, 8192),
    n_heads=st.integers(1, 128),
    d_head=st.integers(1, 256),
    d_ff=st.integers(1, 32768),
    vocab_size=st.integers(1, 256_000),
)
lengths = st.integers(1, 200_000)
PER_LAYER = STAGES[:-1]


def _with_layers(s, n_layers):
    return TransformerShape(n_layers, s.d_model, s.n_heads, s.d_head, s.d_ff, s.vocab_size)


@given(shapes, lengths, st.sampled_from(["all", "last"]))
def test_rows_are_consistent(s, T, logits):
    for table in (prefill_cost(s, T, logits), decode_cost(s, T)):
        assert table.names == STAGES
        for row in (*table, table.total):
            assert row.flops == 2 * row.macs
        for row in table:
            assert row.macs == row.dot_products * row.length
        total = table.total
        assert total.dot_products == sum(r.dot_products for r in table)
        assert total.macs == sum(r.macs for r in table)
        lengths = {r.length for r in table}
        assert total.length == (lengths.pop() if len(lengths) == 1 else None)


@given(shapes, lengths, st.integers(2, 10))
def test_linear_in_layers(s, T, k):
    one, many = prefill_cost(_with_layers(s, 1), T), prefill_cost(_with_layers(s, k), T)
    for name in PER_LAYER:
        assert many[name].macs == k * one[name].macs
    assert many["unembed"] == one["unembed"]  # the vocabulary is scored once, not per layer


@given(shapes, st.integers(1, 50_000))
def test_attention_quadratic_projections_linear_in_T(s, T):
    short, double = prefill_cost(s, T), prefill_cost(s, 2 * T)
    for name in ("scores", "mixing"):
        assert double[name].macs == 4 * short[name].macs
    for name in ("qkv", "out_proj", "mlp_up", "mlp_down", "unembed"):
        assert double[name].macs == 2 * short[name].macs


@given(shapes, lengths)
def test_dense_prefill_is_T_decode_steps(s, T):
    prefill, step = prefill_cost(s, T), decode_cost(s, T)
    for name in STAGES:
        assert prefill[name].macs == T * step[name].macs
    assert prefill_cost(s, T, "last")["unembed"] == step["unembed"]


@given(shapes, lengths)
def test_logits_last_changes_only_unembed(s, T):
    every, last = prefill_cost(s, T, "all"), prefill_cost(s, T, "last")
    for name in PER_LAYER:
        assert every[name] == last[name]
    assert every["unembed"].dot_products == T * last["unembed"].dot_products


@given(shapes)
def test_crossover_property(s):
    t_star = attention_mlp_crossover(s)
    attention, mlp = _attention_and_mlp(prefill_cost(s, t_star))
    assert attention >= mlp
    attention, mlp = _attention_and_mlp(decode_cost(s, t_star))  # the same T* for one decode step
    assert attention >= mlp
    if t_star > 1:
        for table in (prefill_cost(s, t_star - 1), decode_cost(s, t_star - 1)):
            attention, mlp = _attention_and_mlp(table)
            assert attention < mlp


@given(shapes, lengths, st.sampled_from([1, 2, 4]))
def test_decode_intensity_is_two_flops_per_value_read(s, T, bytes_per_value):
    """Every weight and every cached value read takes part in exactly one MAC."""
    flops = decode_cost(s, T).total.flops
    traffic = decode_bytes_moved(s, T, bytes_per_value)
    assert flops * bytes_per_value == 2 * traffic.total
    assert traffic.kv_cache == kv_cache_bytes(s, T, bytes_per_value)


@given(shapes, lengths, st.integers(1, 8))
def test_kv_cache_linear_in_T_and_bytes(s, T, b):
    assert kv_cache_bytes(s, T, b) == T * b * kv_cache_bytes(s, 1, 1)


grouped_shapes = st.builds(
    # gcd: a divisor of n_heads, from 1 (multi-query) to n_heads (every head its own keys)
    lambda s, groups, window: dataclasses.replace(s, n_kv_heads=math.gcd(s.n_heads, groups), window=window),
    shapes, st.integers(1, 128), st.none() | st.integers(1, 300_000),
)


@given(grouped_shapes, lengths)
def test_grouped_windowed_algebra(s, T):
    full = dataclasses.replace(s, n_kv_heads=s.n_heads, window=None)
    prefill, step, dense = prefill_cost(s, T), decode_cost(s, T), prefill_cost(full, T)
    for name in STAGES:
        assert prefill[name].macs == T * step[name].macs  # still T decode steps
    seen = T if s.window is None else min(T, s.window)
    assert prefill["scores"].dot_products == s.n_layers * s.n_heads * T * seen
    assert prefill["scores"].dot_products * T == dense["scores"].dot_products * seen
    assert prefill["qkv"].macs * 3 * s.n_heads == dense["qkv"].macs * (s.n_heads + 2 * s.n_kv_heads)
    for name in ("out_proj", "mlp_up", "mlp_down", "unembed"):
        assert prefill[name] == dense[name]
    assert kv_cache_bytes(s, T) * s.n_heads * T == kv_cache_bytes(full, T) * s.n_kv_heads * seen


# ---------------------------------------------------------- the table's interface


def test_cost_table_interface():
    table = prefill_cost(SMALL_SHAPES[0], 3)
    assert isinstance(table, CostTable)
    assert len(table) == 7 and [r.name for r in table] == list(STAGES)
    assert table["total"] == table.total
    assert table.subtotal("mlp_up", "mlp_down").macs == table["mlp_up"].macs + table["mlp_down"].macs
    assert table.subtotal("qkv", "mlp_up").length == SMALL_SHAPES[0].d_model  # equal lengths survive a sum
    markdown = table.to_markdown()
    assert markdown.count("\n") == 2 + 7 and "| **total** |" in markdown
    with pytest.raises(KeyError, match="'attention'.*'qkv'"):
        table["attention"]
    with pytest.raises(ValueError, match="at least one stage"):
        table.subtotal()


def test_shape_is_frozen_and_normalised():
    s = TransformerShape(np.int64(2), 8, 2, 4, 32, 11)
    assert type(s.n_layers) is int
    with pytest.raises(AttributeError):
        s.n_layers = 3


# ----------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    "field, value, error, message",
    [
        ("n_layers", 0, ValueError, "n_layers=0 must be at least 1"),
        ("d_model", -4, ValueError, "d_model=-4"),
        ("n_heads", 2.0, ValueError, "n_heads=2.0 must be a whole number"),
        ("d_head", "64", TypeError, "d_head='64'"),
        ("d_ff", True, TypeError, "d_ff=True"),
        ("vocab_size", None, ValueError, "vocab_size=None"),
    ],
)
def test_bad_shape_fields_are_named(field, value, error, message):
    assert issubclass(WholeNumberError, TypeError) and issubclass(WholeNumberError, ValueError)
    sizes = dict(n_layers=2, d_model=8, n_heads=2, d_head=4, d_ff=32, vocab_size=11)
    sizes[field] = value
    with pytest.raises(error, match=message):
        TransformerShape(**sizes)


@pytest.mark.parametrize("fn", [prefill_cost, decode_cost, kv_cache_bytes, decode_bytes_moved])
@pytest.mark.parametrize(
    "T, error, message",
    [(0, ValueError, r"T=0 must be at least 1"), (-3, ValueError, "T=-3"), (2.5, TypeError, r"T=2\.5"),
     ("10", TypeError, "T='10'"), (None, WholeNumberError, "T=None")],
)
def test_bad_T_is_named(fn, T, error, message):
    with pytest.raises(error, match=message):
        fn(SMALL_SHAPES[0], T)


@pytest.mark.parametrize("fn", [prefill_cost, decode_cost, kv_cache_bytes, decode_bytes_moved])
def test_shape_of_the_wrong_type_is_named(fn):
    with pytest.raises(TypeError, match=r"shape=\{'n_layers': 2\} is a dict, but must be a TransformerShape"):
        fn({"n_layers": 2}, 10)


def test_other_functions_refuse_a_dict_shape():
    for fn in (attention_mlp_crossover, matmul_weight_count):
        with pytest.raises(TypeError, match="must be a TransformerShape"):
            fn({"n_layers": 2})
    with pytest.raises(TypeError, match="must be a TransformerShape"):
        kaplan_forward_flops((1, 2, 3), 10)


@pytest.mark.parametrize("logits", ["first", "ALL", None, 1])
def test_bad_logits_is_named(logits):
    with pytest.raises(ValueError, match=f"logits={logits!r} must be 'all'"):
        prefill_cost(SMALL_SHAPES[0], 4, logits=logits)


@pytest.mark.parametrize(
    "args, message", [((0, 3, 4), "m=0"), ((2, 3.5, 4), r"k=3\.5"), ((2, 3, -1), "n=-1")]
)
def test_bad_matmul_sizes_are_named(args, message):
    with pytest.raises(ValueError, match=message):
        matmul_count(*args)


@pytest.mark.parametrize(
    "bytes_per_value, error, message",
    [(0, ValueError, "bytes_per_value=0 must be a finite number > 0"), (-2, ValueError, "bytes_per_value=-2"),
     (float("nan"), ValueError, "bytes_per_value=nan"), ("2", TypeError, "bytes_per_value='2'"),
     (True, TypeError, "bytes_per_value=True")],
)
def test_bad_bytes_per_value_is_named(bytes_per_value, error, message):
    with pytest.raises(error, match=message):
        kv_cache_bytes(SMALL_SHAPES[0], 4, bytes_per_value)
    with pytest.raises(error, match=message):
        decode_bytes_moved(SMALL_SHAPES[0], 4, bytes_per_value)


@pytest.mark.parametrize(
    "flops, bytes_moved, error, message",
    [(-1, 10, ValueError, "flops=-1 must be a finite number >= 0"), (10, 0, ValueError, "bytes_moved=0 must be"),
     (10, float("inf"), ValueError, "bytes_moved=inf"), ("10", 1, TypeError, "flops='10'")],
)
def test_bad_intensity_arguments_are_named(flops, bytes_moved, error, message):
    with pytest.raises(error, match=message):
        arithmetic_intensity(flops, bytes_moved)


def test_kaplan_refuses_bad_n_ctx():
    with pytest.raises(ValueError, match="n_ctx=0"):
        kaplan_forward_flops(GPT2_SMALL, 0)
