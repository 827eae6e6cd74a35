"""Learners' versions of chapter 7's functions (tasks 7.1 to 7.6): wrong ones, then right ones.

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it. Only ``math`` and ``np`` are
available there, and ``shape`` is a ``TransformerShape`` read through its attributes.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math
from fractions import Fraction

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 7.1 matmul_count ------------------------------------------------------------------


@WRONG.add("matmul_count", expect="2k - 1 FLOPs per dot product")
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    dot_products = m * n
    macs = dot_products * k
    flops = dot_products * (k + (k - 1))  # k multiplies and k - 1 additions
    return dot_products, k, macs, flops


@WRONG.add("matmul_count", expect="your FLOPs equal your MACs")
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    return m * n, k, m * n * k, m * n * k


@WRONG.add("matmul_count", expect="its length is K")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError(f"sizes must be at least 1, got m={m}, k={k}, n={n}")
    dot_products = m * n
    length = n
    return dot_products, length, dot_products * length, 2 * dot_products * length


@WRONG.add("matmul_count", expect="counting events is not counting work")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError(f"sizes must be at least 1, got m={m}, k={k}, n={n}")
    dot_products = m * n
    macs = dot_products  # one multiply-accumulate per dot product
    return dot_products, k, macs, 2 * macs


@WRONG.add("matmul_count", expect="the number of dot products is M·N")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError(f"sizes must be at least 1, got m={m}, k={k}, n={n}")
    return m * n * k, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="should raise ValueError")
def matmul_count(m, k, n):
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="should raise ValueError (a negative size)", mentioned=True)
def matmul_count(m, k, n):
    if 0 in (m, k, n):
        raise ValueError(f"a size is zero: m={m}, k={k}, n={n}")
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="does not mention")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError("matrix sizes must be positive")
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="not a number")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError(f"sizes must be at least 1, got m={m}, k={k}, n={n}")
    return {"dot_products": m * n, "length": k, "macs": m * n * k, "flops": 2 * m * n * k}


@WRONG.add("matmul_count", expect="dotlab.cost", kind="allowlist")
def matmul_count(m, k, n):
    from dotlab import cost

    row = cost.matmul_count(m, k, n)
    return row.dot_products, row.length, row.macs, row.flops


# -- 7.2 prefill_count -----------------------------------------------------------------


@WRONG.add("prefill_count", expect="multiply the per-layer count by shape.n_layers")
def prefill_count(shape, T, stage):
    d_attn = shape.n_heads * shape.d_head
    counts = {
        "qkv": (T * 3 * d_attn, shape.d_model),
        "scores": (shape.n_heads * T * T, shape.d_head),
        "mixing": (shape.n_heads * T * shape.d_head, T),
        "out_proj": (T * shape.d_model, d_attn),
        "mlp_up": (T * shape.d_ff, shape.d_model),
        "mlp_down": (T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="the vocabulary is scored once, after the last layer")
def prefill_count(shape, T, stage):
    L, d_attn = shape.n_layers, shape.n_heads * shape.d_head
    counts = {
        "qkv": (T * 3 * d_attn, shape.d_model),
        "scores": (shape.n_heads * T * T, shape.d_head),
        "mixing": (shape.n_heads * T * shape.d_head, T),
        "out_proj": (T * shape.d_model, d_attn),
        "mlp_up": (T * shape.d_ff, shape.d_model),
        "mlp_down": (T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    count, length = counts[stage]
    return L * count, length  # every stage happens in every layer


@WRONG.add("prefill_count", expect="counts attention dense")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    pairs = T * (T + 1) // 2  # the causal mask hides the future: only these pairs matter
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * pairs, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="you used d_model where H·d_head belongs")
def prefill_count(shape, T, stage):
    L, H, C = shape.n_layers, shape.n_heads, shape.d_model
    counts = {
        "qkv": (L * T * 3 * C, C),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * C, C),
        "mlp_up": (L * T * shape.d_ff, C),
        "mlp_down": (L * T * C, shape.d_ff),
        "unembed": (T * shape.vocab_size, C),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="attention runs in every head")
def prefill_count(shape, T, stage):
    L, d_attn = shape.n_layers, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * T * T, shape.d_head),
        "mixing": (L * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="queries, keys and values: 3·H·d_head outputs")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="not T·T of length d_head like the scores")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    attention = (L * H * T * T, shape.d_head)
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": attention,
        "mixing": attention,
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="mlp_down maps d_ff back to d_model")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    mlp = (L * T * shape.d_ff, shape.d_model)
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": mlp,
        "mlp_down": mlp,
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="at every one of the T positions")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),  # the next token only
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="a dot product of length d_head, not d_model")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_model),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="a stage that does not exist, 'attention' should raise ValueError")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    return counts.get(stage, (0, 0))


@WRONG.add("prefill_count", expect="not a number")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    return counts  # the whole table, not the stage asked for


@WRONG.add("prefill_count", expect="raised ValueError: unknown stage 'unembed'")
def prefill_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("prefill_count", expect="dotlab.cost.prefill_cost", kind="allowlist")
def prefill_count(shape, T, stage):
    from dotlab.cost import prefill_cost

    row = prefill_cost(shape, T)[stage]
    return row.dot_products, row.length


# -- 7.3 decode_count ------------------------------------------------------------------


@WRONG.add("decode_count", expect="the new token attends to itself as well")
def decode_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    past = T - 1  # the keys already in the cache
    counts = {
        "qkv": (L * 3 * d_attn, shape.d_model),
        "scores": (L * H * past, shape.d_head),
        "mixing": (L * H * shape.d_head, past),
        "out_proj": (L * shape.d_model, d_attn),
        "mlp_up": (L * shape.d_ff, shape.d_model),
        "mlp_down": (L * shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="you counted a whole prefill of T tokens")
def decode_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * T * shape.d_model, d_attn),
        "mlp_up": (L * T * shape.d_ff, shape.d_model),
        "mlp_down": (L * T * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="H·T scores per layer, not H·T·T")
def decode_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * 3 * d_attn, shape.d_model),
        "scores": (L * H * T * T, shape.d_head),  # attention is T x T
        "mixing": (L * H * T * shape.d_head, T),
        "out_proj": (L * shape.d_model, d_attn),
        "mlp_up": (L * shape.d_ff, shape.d_model),
        "mlp_down": (L * shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="multiply by shape.n_layers")
def decode_count(shape, T, stage):
    H, d_attn = shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (3 * d_attn, shape.d_model),
        "scores": (H * T, shape.d_head),
        "mixing": (H * shape.d_head, T),
        "out_proj": (shape.d_model, d_attn),
        "mlp_up": (shape.d_ff, shape.d_model),
        "mlp_down": (shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="meets the keys in every head")
def decode_count(shape, T, stage):
    L, d_attn = shape.n_layers, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * 3 * d_attn, shape.d_model),
        "scores": (L * T, shape.d_head),
        "mixing": (L * shape.d_head, T),
        "out_proj": (L * shape.d_model, d_attn),
        "mlp_up": (L * shape.d_ff, shape.d_model),
        "mlp_down": (L * shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="the unembedding is V dot products, not T·V")
def decode_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * 3 * d_attn, shape.d_model),
        "scores": (L * H * T, shape.d_head),
        "mixing": (L * H * shape.d_head, T),
        "out_proj": (L * shape.d_model, d_attn),
        "mlp_up": (L * shape.d_ff, shape.d_model),
        "mlp_down": (L * shape.d_model, shape.d_ff),
        "unembed": (T * shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="not H·T of length d_head")
def decode_count(shape, T, stage):
    L, H, d_attn = shape.n_layers, shape.n_heads, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * 3 * d_attn, shape.d_model),
        "scores": (L * H * T, shape.d_head),
        "mixing": (L * H * T, shape.d_head),
        "out_proj": (L * shape.d_model, d_attn),
        "mlp_up": (L * shape.d_ff, shape.d_model),
        "mlp_down": (L * shape.d_model, shape.d_ff),
        "unembed": (shape.vocab_size, shape.d_model),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}; the stages are {list(counts)}")
    return counts[stage]


@WRONG.add("decode_count", expect="not implemented yet")
def decode_count(shape, T, stage):
    # YOUR CODE HERE
    raise NotImplementedError()


# -- 7.4 kv_cache_bytes ----------------------------------------------------------------


@WRONG.add("kv_cache_bytes", expect="the cache holds keys and values")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return shape.n_layers * T * shape.n_heads * shape.d_head * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="you counted bits, not bytes")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    bits = 8 * bytes_per_value
    return 2 * shape.n_layers * T * shape.n_heads * shape.d_head * bits


@WRONG.add("kv_cache_bytes", expect="every layer keeps its own keys and values")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * T * shape.n_heads * shape.d_head * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="that equals d_model in many models")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * shape.n_layers * T * shape.d_model * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="every head has its own keys and values")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * shape.n_layers * T * shape.d_head * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="you assumed 2 bytes per number")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * shape.n_layers * T * shape.n_heads * shape.d_head * 2  # float16


@WRONG.add("kv_cache_bytes", expect="only keys and values are cached")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 3 * shape.n_layers * T * shape.n_heads * shape.d_head * bytes_per_value  # q, k, v


@WRONG.add("kv_cache_bytes", expect="on bytes_per_value=-2 should raise ValueError", mentioned=True)
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value == 0:
        raise ValueError("bytes_per_value=0: a number takes some bytes")
    return 2 * shape.n_layers * T * shape.n_heads * shape.d_head * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="should raise ValueError")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    return 2 * shape.n_layers * T * shape.n_heads * shape.d_head * bytes_per_value


# -- 7.5 crossover_length --------------------------------------------------------------


@WRONG.add("crossover_length", expect="(>=, not >)")
def crossover_length(shape):
    T = 1
    while shape.n_heads * shape.d_head * T <= shape.d_model * shape.d_ff:
        T += 1
    return T


@WRONG.add("crossover_length", expect="you rounded the ratio down")
def crossover_length(shape):
    return shape.d_model * shape.d_ff // (shape.n_heads * shape.d_head)


@WRONG.add("crossover_length", expect="a length is a whole number of tokens")
def crossover_length(shape):
    return shape.d_model * shape.d_ff / (shape.n_heads * shape.d_head)


@WRONG.add("crossover_length", expect="the last length at which the MLP is still ahead")
def crossover_length(shape):
    def attention(T):
        return 2 * shape.n_heads * shape.d_head * T * T

    def mlp(T):
        return 2 * T * shape.d_model * shape.d_ff

    T = 1
    while attention(T + 1) < mlp(T + 1):
        T += 1
    return T


@WRONG.add("crossover_length", expect="you used d_model in place of H·d_head")
def crossover_length(shape):
    # per layer: attention 2·d_model·T², MLP 2·T·d_model·d_ff, so T = d_ff
    return math.ceil(shape.d_model * shape.d_ff / shape.d_model)


@WRONG.add("crossover_length", expect="Counting only the scores")
def crossover_length(shape):
    d_attn = shape.n_heads * shape.d_head
    # attention: d_attn·T² (q·k for every pair); MLP: 2·T·d_model·d_ff
    return math.ceil(2 * shape.d_model * shape.d_ff / d_attn)


@WRONG.add("crossover_length", expect="counting one halves its cost")
def crossover_length(shape):
    d_attn = shape.n_heads * shape.d_head
    # attention: 2·d_attn·T²; MLP: T·d_model·d_ff
    return math.ceil(shape.d_model * shape.d_ff / (2 * d_attn))


@WRONG.add("crossover_length", expect="the Q/K/V and output projections grow like T")
def crossover_length(shape):
    C, d_attn = shape.d_model, shape.n_heads * shape.d_head

    def attention(T):  # the whole attention block
        return T * C * 3 * d_attn + 2 * d_attn * T * T + T * d_attn * C

    def mlp(T):
        return 2 * T * C * shape.d_ff

    T = 1
    while attention(T) < mlp(T):
        T += 1
    return T


@WRONG.add("crossover_length", expect="with the factor H")
def crossover_length(shape):
    return math.ceil(shape.d_model * shape.d_ff / shape.d_head)


# -- 7.6 matmul_intensity --------------------------------------------------------------


@WRONG.add("matmul_intensity", expect="the result has to be written back too")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * m * k * n / (bytes_per_value * (m * k + k * n))


@WRONG.add("matmul_intensity", expect="1 MAC = 2 FLOPs")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    macs = m * k * n
    return macs / (bytes_per_value * (m * k + k * n + m * n))


@WRONG.add("matmul_intensity", expect="bytes_per_value is already in bytes")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    bits = 8 * bytes_per_value * (m * k + k * n + m * n)
    return 2 * m * k * n / bits


@WRONG.add("matmul_intensity", expect="use the bytes_per_value you were given")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * m * k * n / (2 * (m * k + k * n + m * n))


@WRONG.add("matmul_intensity", expect="only the (K×N) matrix as traffic")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * m * k * n / (bytes_per_value * k * n)


@WRONG.add("matmul_intensity", expect="you divided bytes by FLOPs")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return bytes_per_value * (m * k + k * n + m * n) / (2 * m * k * n)


@WRONG.add("matmul_intensity", expect="multiply it by bytes_per_value")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * m * k * n / (m * k + k * n + m * n)


@WRONG.add("matmul_intensity", expect="should raise ValueError")
def matmul_intensity(m, k, n, bytes_per_value=2):
    return 2 * m * k * n / (bytes_per_value * (m * k + k * n + m * n))


@WRONG.add("matmul_intensity", expect="dotlab.roofline.matmul_intensity", kind="allowlist")
def matmul_intensity(m, k, n, bytes_per_value=2):
    from dotlab.roofline import matmul_intensity as reference

    return reference(m, k, n, bytes_per_value)


# -- classes by design: contract, edges, allowlist ---------------------------------------------


@WRONG.add("matmul_count", expect="the task asks for a tuple", kind="contract", mentioned=True)
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    return [m * n, k, m * n * k, 2 * m * n * k]  # a list, not the tuple the task asks for


@WRONG.add("matmul_count", expect="a whole number (int)", kind="contract", mentioned=True)
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    macs = m * n * k / 1  # a float count
    return m * n, k, macs, 2 * macs


@WRONG.add("matmul_count", expect="the first at element 2 of the tuple", kind="edge", hidden_only=True)
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    sizes = np.array([m, k, n], dtype=np.int32)  # "sizes are small numbers"
    dot_products = sizes[0] * sizes[2]
    macs = dot_products * sizes[1]  # wraps around past 2**31
    return int(dot_products), int(k), int(macs), int(2 * macs)


@WRONG.add("prefill_count", expect="the task asks for a tuple", kind="contract", mentioned=True)
def prefill_count(shape, T, stage):
    L, H, d_head, C = shape.n_layers, shape.n_heads, shape.d_head, shape.d_model
    d_attn = H * d_head
    counts = {
        "qkv": [L * T * 3 * d_attn, C], "scores": [L * H * T * T, d_head], "mixing": [L * H * T * d_head, T],
        "out_proj": [L * T * C, d_attn], "mlp_up": [L * T * shape.d_ff, C], "mlp_down": [L * T * C, shape.d_ff],
        "unembed": [T * shape.vocab_size, C],
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    return counts[stage]  # a list [count, length]


@WRONG.add("prefill_count", expect="a long context", kind="edge", hidden_only=True)
def prefill_count(shape, T, stage):
    L, H, d_head, C = shape.n_layers, shape.n_heads, shape.d_head, shape.d_model
    d_attn = H * d_head
    T32 = np.float32(T)  # "a float is big enough": 24 bits of mantissa
    counts = {
        "qkv": (L * T * 3 * d_attn, C), "scores": (int(L * H * T32 * T32), d_head),
        "mixing": (L * H * T * d_head, T), "out_proj": (L * T * C, d_attn), "mlp_up": (L * T * shape.d_ff, C),
        "mlp_down": (L * T * C, shape.d_ff), "unembed": (T * shape.vocab_size, C),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    return counts[stage]


@WRONG.add("decode_count", expect="dotlab.cost", kind="allowlist")
def decode_count(shape, T, stage):
    from dotlab.cost import STAGES, decode_cost

    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    row = decode_cost(shape, T)[stage]
    return row.dot_products, row.length


@WRONG.add("kv_cache_bytes", expect="a long context", kind="edge", hidden_only=True)
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    tokens = np.int32(T)  # "a token count fits in 32 bits": the product does not
    return 2 * shape.n_layers * shape.n_heads * shape.d_head * tokens * bytes_per_value


@WRONG.add("kv_cache_bytes", expect="dotlab.cost", kind="allowlist")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    import dotlab.cost as cost

    return cost.kv_cache_bytes(shape, T, bytes_per_value)


@WRONG.add("crossover_length", expect="the task asks for a whole number", kind="contract", mentioned=True)
def crossover_length(shape):
    return math.ceil(shape.d_model * shape.d_ff / (shape.n_heads * shape.d_head)) * 1.0  # a float length


@WRONG.add("crossover_length", expect="(>=, not >)", kind="edge")
def crossover_length(shape):
    ratio = shape.d_model * shape.d_ff / (shape.n_heads * shape.d_head)
    return int(ratio) + 1  # "round up" by adding one: one too many when the ratio is whole


@WRONG.add("matmul_intensity", expect="should have shape ()", kind="contract")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    flops = 2 * m * k * n
    return np.array([flops / (bytes_per_value * (m * k + k * n + m * n))])  # a one-element array


@WRONG.add("prefill_count", expect="dotlab.cost._stages", kind="allowlist", mentioned=True)
def prefill_count(shape, T, stage):
    from dotlab.cost import _stages  # a private helper is the course's answer all the same

    rows = {row.name: row for row in _stages(shape, T, T, T)}
    if stage not in rows:
        raise ValueError(f"unknown stage {stage!r}")
    return rows[stage].dot_products, rows[stage].length


@WRONG.add("decode_count", expect="dotlab.checks", kind="allowlist")
def decode_count(shape, T, stage):
    from dotlab.checks import ch07

    if stage not in ch07.STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return ch07.TASKS["7.3"].reference(shape, T, stage)


# -- right answers, written unusually ----------------------------------------------------------


@RIGHT.add("matmul_count", how="plain arithmetic")
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1:
            raise ValueError(f"{name}={size} must be at least 1")
    return m * n, k, m * n * k, 2 * m * n * k


@RIGHT.add("matmul_count", how="math.prod and NumPy integers")
def matmul_count(m, k, n):
    if min(m, k, n) < 1:
        raise ValueError(f"every size must be at least 1, got m={m}, k={k}, n={n}")
    macs = math.prod((m, k, n))
    return np.int64(m * n), int(k), macs, 2 * macs


@RIGHT.add("prefill_count", how="a dict of per-layer products")
def prefill_count(shape, T, stage):
    L, H, d_head = shape.n_layers, shape.n_heads, shape.d_head
    C, d_attn = shape.d_model, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * T * 3 * d_attn, C), "scores": (L * H * T * T, d_head), "mixing": (L * H * T * d_head, T),
        "out_proj": (L * T * C, d_attn), "mlp_up": (L * T * shape.d_ff, C), "mlp_down": (L * T * C, shape.d_ff),
        "unembed": (T * shape.vocab_size, C),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    return counts[stage]


@RIGHT.add("prefill_count", how="if/elif over (rows, cols, length) of each product")
def prefill_count(shape, T, stage):
    s = shape
    if stage == "qkv":
        rows, cols, length, times = T, 3 * s.n_heads * s.d_head, s.d_model, s.n_layers
    elif stage == "scores":
        rows, cols, length, times = T, T, s.d_head, s.n_layers * s.n_heads
    elif stage == "mixing":
        rows, cols, length, times = T, s.d_head, T, s.n_layers * s.n_heads
    elif stage == "out_proj":
        rows, cols, length, times = T, s.d_model, s.n_heads * s.d_head, s.n_layers
    elif stage == "mlp_up":
        rows, cols, length, times = T, s.d_ff, s.d_model, s.n_layers
    elif stage == "mlp_down":
        rows, cols, length, times = T, s.d_model, s.d_ff, s.n_layers
    elif stage == "unembed":
        rows, cols, length, times = T, s.vocab_size, s.d_model, 1
    else:
        raise ValueError(f"{stage!r} is not a stage")
    return int(rows * cols * times), int(length)


@RIGHT.add("decode_count", how="a dict of per-layer products")
def decode_count(shape, T, stage):
    L, H, d_head = shape.n_layers, shape.n_heads, shape.d_head
    C, d_attn = shape.d_model, shape.n_heads * shape.d_head
    counts = {
        "qkv": (L * 3 * d_attn, C), "scores": (L * H * T, d_head), "mixing": (L * H * d_head, T),
        "out_proj": (L * C, d_attn), "mlp_up": (L * shape.d_ff, C), "mlp_down": (L * C, shape.d_ff),
        "unembed": (shape.vocab_size, C),
    }
    if stage not in counts:
        raise ValueError(f"unknown stage {stage!r}")
    return counts[stage]


@RIGHT.add("decode_count", how="a prefill of one token, with T keys")
def decode_count(shape, T, stage):
    s = shape
    per_layer = {"qkv": (3 * s.d_attn, s.d_model), "scores": (s.n_heads * T, s.d_head),
                 "mixing": (s.n_heads * s.d_head, T), "out_proj": (s.d_model, s.d_attn),
                 "mlp_up": (s.d_ff, s.d_model), "mlp_down": (s.d_model, s.d_ff)}
    if stage == "unembed":
        return s.vocab_size, s.d_model
    if stage not in per_layer:
        raise ValueError(f"no stage called {stage!r}")
    count, length = per_layer[stage]
    return s.n_layers * count, length


@RIGHT.add("kv_cache_bytes", how="per token, per layer")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * shape.n_layers * shape.n_heads * shape.d_head * T * bytes_per_value


@RIGHT.add("kv_cache_bytes", how="a float product")
def kv_cache_bytes(shape, T, bytes_per_value=2):
    if not bytes_per_value > 0:
        raise ValueError(f"bytes_per_value must be positive, got {bytes_per_value}")
    return float(np.prod([2.0, shape.n_layers, T, shape.d_attn, bytes_per_value]))


@RIGHT.add("crossover_length", how="integer ceiling division")
def crossover_length(shape):
    return max(1, -(-shape.d_model * shape.d_ff // (shape.n_heads * shape.d_head)))


@RIGHT.add("crossover_length", how="a search, T by T")
def crossover_length(shape):
    T = 1
    while 2 * shape.n_heads * shape.d_head * T * T < 2 * T * shape.d_model * shape.d_ff:
        T += 1
    return T


@RIGHT.add("matmul_intensity", how="FLOPs over bytes")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0")
    return 2 * m * k * n / (bytes_per_value * (m * k + k * n + m * n))


@RIGHT.add("matmul_intensity", how="NumPy float64 scalars")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be > 0, not {bytes_per_value}")
    sizes = np.array([m, k, n], dtype=np.float64)
    moved = bytes_per_value * (sizes[0] * sizes[1] + sizes[1] * sizes[2] + sizes[0] * sizes[2])
    return 2 * np.prod(sizes) / moved


# Right answers found by trying the checks as an outsider would (session 4): a ratio
# computed in float32 (the task asks for no precision), and exact arithmetic with fractions.


@RIGHT.add("matmul_intensity", how="float32 scalars")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be positive")
    f = np.float32
    return f(2) * f(m) * f(k) * f(n) / (f(bytes_per_value) * (f(m) * f(k) + f(k) * f(n) + f(m) * f(n)))


@RIGHT.add("matmul_intensity", how="exact fractions", preamble="from fractions import Fraction")
def matmul_intensity(m, k, n, bytes_per_value=2):
    if bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value={bytes_per_value} must be positive")
    return float(Fraction(2 * m * k * n) / (Fraction(bytes_per_value) * (m * k + k * n + m * n)))
