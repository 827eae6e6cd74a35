"""Wrong versions of chapter 8's functions (tasks 8.1 and 8.2).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it. Available there: ``math``,
``np``, and the helpers the imports cell gives task 8.2, ``layer_norm``, ``gelu`` and
``causal_self_attention`` from ``dotlab.forward``.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue
from dotlab.forward import causal_self_attention, gelu, layer_norm  # noqa: F401 - as in the imports cell

WRONG = Catalogue()

# -- 8.1 gpt2_attention ----------------------------------------------------------------


@WRONG.add("gpt2_attention", expect="apply the causal mask")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)  # every token sees every token
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="the wrong way round")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.triu(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="scale by 1/sqrt(d_head)")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_model)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="cuts across tokens")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(n_heads, T, d_head) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="queries first, then the keys")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    k, q, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="finish with the output projection")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model)


@WRONG.add("gpt2_attention", expect="over the last axis, the keys")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=1, keepdims=True))  # down each column
    y = (w / w.sum(axis=1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="split them into n_heads heads")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)  # one big head
    scores = q @ k.T / math.sqrt(d_model)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (w / w.sum(axis=-1, keepdims=True)) @ v @ w_o + b_o


@WRONG.add("gpt2_attention", expect="does not mention 6")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))  # NumPy's error when uneven
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    y = (w / w.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="dotlab.forward.causal_self_attention")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    import dotlab.forward

    return dotlab.forward.causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads)


@WRONG.add("gpt2_attention", expect="dotlab.forward.causal_self_attention")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    # the helper the imports cell gives task 8.2, used where 8.1 asks for attention written out
    return causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads)


@WRONG.add("gpt2_attention", expect="exp() of large scores overflows")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (a.reshape(T, n_heads, d_head).transpose(1, 0, 2) for a in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head)
    e = np.exp(scores) * np.tril(np.ones((T, T)))  # masked by zeroing exp, no max subtracted
    y = (e / e.sum(axis=-1, keepdims=True)) @ v
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


# -- 8.2 gpt2_block --------------------------------------------------------------------


@WRONG.add("gpt2_block", expect="post-norm")
def gpt2_block(x, w, n_heads):
    x = layer_norm(x + causal_self_attention(x, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads),
                   w["ln1_g"], w["ln1_b"])
    m = gelu(x @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]
    return layer_norm(x + m, w["ln2_g"], w["ln2_b"])


@WRONG.add("gpt2_block", expect="attention's output replaced x")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="(GPT-J runs the two in parallel")
def gpt2_block(x, w, n_heads):
    a = causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + a + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="you used ReLU")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + np.maximum(m @ w["w_up"] + w["b_up"], 0) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="exact, erf-based GELU")
def gpt2_block(x, w, n_heads):
    def exact_gelu(z):
        return 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))

    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + exact_gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="not ln_1's")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln1_g"], w["ln1_b"])
    return x + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="never normalised inside a block")
def gpt2_block(x, w, n_heads):
    x = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(x, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    x = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + gelu(x @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="the MLP's output replaced x")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="has no nonlinearity")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + (m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="called dotlab.forward.block")
def gpt2_block(x, w, n_heads):
    import dotlab.forward

    return dotlab.forward.block(x, dotlab.forward.BlockWeights(**w), n_heads)
