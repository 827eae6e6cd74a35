"""Learners' versions of chapter 8's functions (tasks 8.1 and 8.2): wrong ones, then right ones.

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
RIGHT = Catalogue()

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


@WRONG.add("gpt2_attention", expect="dotlab.forward", kind="allowlist")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    import dotlab.forward

    return dotlab.forward.causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads)


@WRONG.add("gpt2_attention", expect="dotlab.forward.causal_self_attention", kind="allowlist", mentioned=True)
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


@WRONG.add("gpt2_block", expect="dotlab.forward", kind="allowlist")
def gpt2_block(x, w, n_heads):
    import dotlab.forward

    return dotlab.forward.block(x, dotlab.forward.BlockWeights(**w), n_heads)


# -- classes by design: contract, mutation, edges, allowlist ------------------------------------


@WRONG.add("gpt2_attention", expect="changed its input `w_qkv`", kind="mutation")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    w_qkv[:, :d_model] /= math.sqrt(d_head)  # fold the scale into W_q... of the caller's weights
    b_qkv[:d_model] /= math.sqrt(d_head)
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (a.reshape(T, n_heads, d_head).transpose(1, 0, 2) for a in (q, k, v))
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), q @ k.transpose(0, 2, 1), -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return ((e / e.sum(axis=-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@WRONG.add("gpt2_attention", expect="the task asks for a NumPy array", kind="contract")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    import torch

    x, w_qkv, b_qkv, w_o, b_o = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (x, w_qkv, b_qkv, w_o, b_o))
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    q, k, v = (x @ w_qkv + b_qkv).split(d_model, dim=-1)
    q, k, v = (a.view(T, n_heads, -1).transpose(0, 1) for a in (q, k, v))
    s = (q @ k.transpose(-1, -2)) / math.sqrt(d_model // n_heads)
    s = s.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    w = torch.exp(s - s.amax(-1, keepdim=True))
    y = (w / w.sum(-1, keepdim=True)) @ v
    return y.transpose(0, 1).reshape(T, d_model) @ w_o + b_o  # a tensor


@WRONG.add("gpt2_attention", expect="torch.nn.functional", kind="allowlist")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    import torch
    import torch.nn.functional as F

    x, w_qkv, b_qkv, w_o, b_o = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (x, w_qkv, b_qkv, w_o, b_o))
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    q, k, v = ((x @ w_qkv + b_qkv).split(d_model, dim=-1))
    q, k, v = (a.view(T, n_heads, -1).transpose(0, 1) for a in (q, k, v))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return (y.transpose(0, 1).reshape(T, d_model) @ w_o + b_o).numpy()


@WRONG.add("gpt2_block", expect="changed its input `x`", kind="mutation")
def gpt2_block(x, w, n_heads):
    x += causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"],
                               n_heads)  # the residual added to the caller's array
    x += gelu(layer_norm(x, w["ln2_g"], w["ln2_b"]) @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]
    return x


@WRONG.add("gpt2_block", expect="changed its input `w`", kind="mutation")
def gpt2_block(x, w, n_heads):
    w["eps"] = 1e-5  # kept with the weights for both layer norms: a key added to the caller's dict
    x = x + causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"], w["eps"]), w["w_qkv"], w["b_qkv"], w["w_o"],
                                  w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"], w["eps"])
    return x + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@WRONG.add("gpt2_block", expect="dotlab.forward.mlp", kind="allowlist")
def gpt2_block(x, w, n_heads):
    from dotlab.forward import mlp

    x = x + causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"],
                                  n_heads)
    return x + mlp(layer_norm(x, w["ln2_g"], w["ln2_b"]), w["w_up"], w["b_up"], w["w_down"], w["b_down"])


@WRONG.add("gpt2_block", expect="the task asks for a NumPy array", kind="contract")
def gpt2_block(x, w, n_heads):
    x = x + causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"],
                                  n_heads)
    return (x + gelu(layer_norm(x, w["ln2_g"], w["ln2_b"]) @ w["w_up"] + w["b_up"]) @ w["w_down"]
            + w["b_down"]).tolist()  # a list of rows


# -- right answers, written unusually ----------------------------------------------------------


@RIGHT.add("gpt2_attention", how="NumPy, heads as a batch axis")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    x = np.asarray(x, dtype=float)
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
    return y.transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@RIGHT.add("gpt2_attention", how="float32 throughout")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    x, w_qkv, b_qkv, w_o, b_o = (np.asarray(a, dtype=np.float32) for a in (x, w_qkv, b_qkv, w_o, b_o))
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)
    q, k, v = (t.reshape(T, n_heads, d_head).transpose(1, 0, 2) for t in (q, k, v))
    s = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(d_head))
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, np.float32(-np.inf))
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return ((e / e.sum(axis=-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(T, d_model) @ w_o + b_o


@RIGHT.add("gpt2_attention", how="torch tensors by hand, returned as NumPy")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    import torch

    x, w_qkv, b_qkv, w_o, b_o = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (x, w_qkv, b_qkv, w_o, b_o))
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    q, k, v = (x @ w_qkv + b_qkv).split(d_model, dim=-1)
    q, k, v = (a.reshape(T, n_heads, -1).transpose(0, 1) for a in (q, k, v))
    s = (q @ k.transpose(-1, -2)) / math.sqrt(d_model // n_heads)
    s = s.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    w = torch.exp(s - s.amax(-1, keepdim=True))
    y = (w / w.sum(-1, keepdim=True)) @ v
    return (y.transpose(0, 1).reshape(T, d_model) @ w_o + b_o).numpy()


@RIGHT.add("gpt2_attention", how="a loop over heads and tokens with einsum")
def gpt2_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    d_head = d_model // n_heads
    qkv = np.einsum("td,de->te", x, w_qkv) + b_qkv
    out = np.zeros((T, d_model))
    for h in range(n_heads):
        cols = slice(h * d_head, (h + 1) * d_head)
        q, k, v = qkv[:, cols], qkv[:, d_model:][:, cols], qkv[:, 2 * d_model:][:, cols]
        for t in range(T):
            s = np.einsum("d,jd->j", q[t], k[:t + 1]) / math.sqrt(d_head)
            w = np.exp(s - s.max())
            out[t, cols] = np.einsum("j,jd->d", w / w.sum(), v[:t + 1])
    return out @ w_o + b_o


@RIGHT.add("gpt2_block", how="the notebook's helpers")
def gpt2_block(x, w, n_heads):
    a = layer_norm(x, w["ln1_g"], w["ln1_b"])
    x = x + causal_self_attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    m = layer_norm(x, w["ln2_g"], w["ln2_b"])
    return x + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@RIGHT.add("gpt2_block", how="its own layer norm and GELU, in float32")
def gpt2_block(x, w, n_heads):
    x = np.asarray(x, dtype=np.float32)
    w = {key: np.asarray(value, dtype=np.float32) for key, value in w.items()}

    def norm(a, gain, bias):
        mean = a.mean(axis=-1, keepdims=True)
        var = ((a - mean) ** 2).mean(axis=-1, keepdims=True)
        return (a - mean) / np.sqrt(var + np.float32(1e-5)) * gain + bias

    def tanh_gelu(z):
        return 0.5 * z * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (z + np.float32(0.044715) * z ** 3)))

    x = x + causal_self_attention(norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    return x + tanh_gelu(norm(x, w["ln2_g"], w["ln2_b"]) @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


@RIGHT.add("gpt2_block", how="torch's layer_norm and gelu, returned as NumPy")
def gpt2_block(x, w, n_heads):
    import torch

    F = torch.nn.functional
    t = {key: torch.as_tensor(np.asarray(value, dtype=float)) for key, value in w.items()}
    x = torch.as_tensor(np.asarray(x, dtype=float))
    d_model = x.shape[-1]
    a = F.layer_norm(x, (d_model,), t["ln1_g"], t["ln1_b"], eps=1e-5)
    x = x + torch.as_tensor(causal_self_attention(a.numpy(), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads))
    m = F.layer_norm(x, (d_model,), t["ln2_g"], t["ln2_b"], eps=1e-5)
    return (x + F.gelu(m @ t["w_up"] + t["b_up"], approximate="tanh") @ t["w_down"] + t["b_down"]).numpy()
