"""Checks for chapter 8's assignment: GPT-2's attention from its fused weights, and one block.

Task ids match the chapter, the exercise notebook and the pytest markers:
8.1 ``gpt2_attention``, 8.2 ``gpt2_block``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake. The references are :func:`dotlab.forward.causal_self_attention` and
:func:`dotlab.forward.block`; the hidden cases include the course's trained tinygpt.

Weights are in the ``x @ W`` layout, ``(d_in, d_out)``, as Hugging Face stores GPT-2.
"""

from __future__ import annotations

import math

import numpy as np

from dotlab.checks._core import Case, Forbidden, Mistake
from dotlab.checks.contract import MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Task, allow, tasks_table
from dotlab.forward import BlockWeights
from dotlab.forward import block as _block
from dotlab.forward import causal_self_attention as _attention
from dotlab.forward import gelu as _gelu
from dotlab.forward import layer_norm as _layer_norm


# The precision the tasks promise, relative to the answer's scale: a float32 implementation
# (about 7 significant digits, rounded through two or three matrix products, a layer norm
# and a softmax) passes, since neither task asks for float64; every catalogued mistake is
# off by far more.
_RTOL, _ATOL = 1e-4, 1e-5


def _f64(value):
    """An input as float64 (a dict of weights entry by entry): the reference answers in full precision."""
    if isinstance(value, dict):
        return {key: np.asarray(v, dtype=np.float64) for key, v in value.items()}
    return np.asarray(value, dtype=np.float64)


def _no_reference(*targets: str) -> tuple[Forbidden, ...]:
    return tuple(Forbidden(t, "the course's reference implementation is not your answer") for t in targets)


def _rows_softmax(s, axis=-1, stable=True):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True)) if stable else np.exp(s)
    return e / e.sum(axis=axis, keepdims=True)


# -- 8.1: GPT-2's multi-head causal self-attention -----------------------------------------


def _attention_variant(x, w_qkv, b_qkv, w_o, b_o, n_heads, *, mask="causal", scale="d_head", split="heads",
                       order="qkv", project=True, bias=True, axis=-1, heads=True, stable=True):
    """The reference computation with one thing changed, to predict what a mistake returns."""
    x, w_qkv, b_qkv, w_o, b_o = (np.asarray(a, float) for a in (x, w_qkv, b_qkv, w_o, b_o))
    T, d_attn = x.shape[0], w_qkv.shape[1] // 3
    H = n_heads if heads else 1
    d_head = d_attn // H
    qkv = x @ w_qkv + (b_qkv if bias else 0.0)
    parts = dict(zip(order, np.split(qkv, 3, axis=-1)))
    if split == "heads":
        q, k, v = (parts[c].reshape(T, H, d_head).transpose(1, 0, 2) for c in "qkv")
    else:  # reshaped straight to (H, T, d_head): tokens and heads mixed up
        q, k, v = (parts[c].reshape(H, T, d_head) for c in "qkv")
    s = q @ k.transpose(0, 2, 1)
    s = s * {"d_head": 1 / math.sqrt(d_head), "d_model": 1 / math.sqrt(x.shape[1]), "none": 1.0}[scale]
    if mask == "causal":
        s = np.where(np.tril(np.ones((T, T), bool)), s, -np.inf)
    elif mask == "future":
        s = np.where(np.triu(np.ones((T, T), bool)), s, -np.inf)
    elif mask == "strict":  # the diagonal masked too: token 0 sees nothing
        s = np.where(np.tril(np.ones((T, T), bool), k=-1), s, -np.inf)
    elif mask == "zeroed":  # future scores set to 0, not -inf: exp(0) still weighs them
        s = s * np.tril(np.ones((T, T)))
    y = _rows_softmax(s, axis, stable) @ v
    merged = (y.transpose(1, 0, 2) if split == "heads" else y).reshape(T, d_attn)
    return merged @ w_o + b_o if project else merged


def _attention_mistake(**change):
    return lambda *args: _attention_variant(*args, **change)


_ATTENTION_MISTAKES = (
    Mistake("no mask", "later tokens leaked into earlier ones: apply the causal mask (token t may attend to tokens "
                       "0..t only), setting the other scores to -inf before the softmax",
            _attention_mistake(mask="none")),
    Mistake("future mask", "your mask is the wrong way round: it lets each token see the ones *after* it and hides "
                           "those before. Keep the lower triangle, np.tril", _attention_mistake(mask="future")),
    Mistake("scale d_model", "you scaled by 1/sqrt(d_model); a score is one head's query against one head's key, a "
                             "dot product of length d_head = d_model / n_heads: scale by 1/sqrt(d_head)",
            _attention_mistake(scale="d_model")),
    Mistake("unscaled", "you left out the 1/sqrt(d_head) scale on the scores (chapter 4)", _attention_mistake(scale="none")),
    Mistake("reshape", "you reshaped (T, d_model) straight to (n_heads, T, d_head), which cuts across tokens. Reshape "
                       "to (T, n_heads, d_head) first, then swap the first two axes (and undo both when merging)",
            _attention_mistake(split="flat")),
    Mistake("order", "the fused projection holds the queries first, then the keys, then the values: "
                     "q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)", _attention_mistake(order="kqv")),
    Mistake("no projection", "you returned the heads side by side; finish with the output projection, @ w_o + b_o, "
                             "which mixes the heads", _attention_mistake(project=False)),
    Mistake("no qkv bias", "you left out b_qkv: the projection is x @ w_qkv + b_qkv", _attention_mistake(bias=False)),
    Mistake("softmax over queries", "you normalised each column of the score table (over queries); each query's row "
                                    "of scores must sum to 1: softmax over the last axis, the keys",
            _attention_mistake(axis=-2)),
    Mistake("overflow", "exp() of large scores overflows to inf, and inf/inf = nan: subtract each row's largest "
                        "score before exp (masked -inf scores stay -inf; the weights do not change)",
            _attention_mistake(stable=False)),
    Mistake("one head", "you attended with all d_model components at once; split them into n_heads heads that "
                        "attend separately", _attention_mistake(heads=False, scale="d_model")),
    Mistake("diagonal masked", "your mask also hides each token from itself (np.triu(..., k=0) blocked, or < where "
                               "<= belongs): token t attends to tokens 0..t, itself included, and token 0 is left "
                               "with nothing (nan)", _attention_mistake(mask="strict")),
    Mistake("zeroed scores", "you set the future scores to 0, which does not remove them: exp(0) = 1 still gives them "
                             "weight. Set them to -inf before the softmax (np.where(mask, s, -np.inf))",
            _attention_mistake(mask="zeroed")),
)

_HEADS_HINT = ("n_heads must divide d_model into equal heads: raise ValueError(f'n_heads={n_heads} does not divide "
               "d_model={d_model}').")


def _weights(rng, d_model, std=0.5):
    return (rng.normal(scale=std, size=(d_model, 3 * d_model)), rng.normal(scale=std, size=3 * d_model),
            rng.normal(scale=std, size=(d_model, d_model)), rng.normal(scale=std, size=d_model))


def _attention_case(label, rng, T, d_model, n_heads, *, scale=1.0, strided=False, same_tokens=False, **kwargs):
    x = rng.normal(size=(T, 2 * d_model))[:, ::2] if strided else rng.normal(size=(T, d_model))
    if same_tokens:
        x = np.repeat(x[:1], T, axis=0)
    return Case(label, (x * scale, *_weights(rng, d_model), n_heads), show_inputs=False, **kwargs)


def _tinygpt():
    """The trained tinygpt's weights and a real residual stream entering its first block."""
    from dotlab import tinygpt
    from dotlab.checkpoints import from_tinygpt

    model, tok = tinygpt.load()
    w = from_tinygpt(model)
    ids = tok.encode("the girl saw the dogs . they barked")
    return w, w.wte[ids] + w.wpe[: len(ids)]


def _attention_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(801)
    cases = [
        _attention_case("T=4 tokens, d_model=6, 2 heads", rng, 4, 6, 2),
        _attention_case("T=5 tokens, d_model=8, 4 heads", rng, 5, 8, 4),
        _attention_case("one token, d_model=4, 2 heads", rng, 1, 4, 2),
        _attention_case("scores in the hundreds (exp overflows)", rng, 5, 4, 2, scale=40.0),
        _attention_case("4 heads do not divide d_model=6", rng, 3, 6, 4, raises=ValueError, must_mention=("4", "6"),
                        hint=_HEADS_HINT),
    ]
    if not hidden:
        return cases
    w, x = _tinygpt()
    b = w.blocks[0]
    ln = _layer_norm(x, b.ln1_g, b.ln1_b, w.eps)
    return cases + [
        _attention_case("T=7, d_model=12, 3 heads", rng, 7, 12, 3),
        _attention_case("a single head", rng, 6, 5, 1),
        _attention_case("heads of width 1: d_model=4, 4 heads", rng, 4, 4, 4),
        Case("tinygpt's first layer on a real sentence", (ln, b.w_qkv, b.b_qkv, b.w_o, b.b_o, w.n_heads), show_inputs=False),
        Case("tinygpt's first layer in float32", tuple(np.float32(a) for a in (ln, b.w_qkv, b.b_qkv, b.w_o, b.b_o))
             + (w.n_heads,), show_inputs=False),
        _attention_case("5 heads do not divide d_model=8", rng, 2, 8, 5, raises=ValueError, must_mention=("5", "8"),
                        hint=_HEADS_HINT),
    ]


def _attention_edges(rng) -> list[Case]:
    H, d_head, T = (int(n) for n in rng.integers(1, 5, size=3))
    d_model = H * d_head
    return [
        _attention_case("one token", rng, 1, d_model, H),
        _attention_case("one head", rng, T + 1, d_head, 1),
        _attention_case("heads of width 1", rng, T + 1, H, H),
        _attention_case("tokens that are all the same: equal scores", rng, T + 1, d_model, H, same_tokens=True),
        _attention_case("scores in the hundreds", rng, T + 2, d_model, H, scale=50.0),
        _attention_case("a strided view of x (not contiguous)", rng, T + 1, d_model, H, strided=True),
        Case("int x and a NumPy integer n_heads", (rng.integers(-2, 3, size=(T + 1, d_model)), *_weights(rng, d_model),
                                                    np.int64(H)), show_inputs=False),
    ]


def _attention_reference(x, w_qkv, b_qkv, w_o, b_o, n_heads):
    return _attention(*(_f64(a) for a in (x, w_qkv, b_qkv, w_o, b_o)), int(n_heads))


# -- 8.2: one pre-norm block -------------------------------------------------------------------


def _exact_gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _block_variant(x, w, n_heads, *, norm="pre", attn_residual=True, mlp_residual=True, parallel=False,
                   act=_gelu, ln2="ln2", stream_normalised=False):
    x = np.asarray(x, float)
    w = {key: np.asarray(value, float) for key, value in w.items()}
    eps = 1e-5

    def attn(a):
        return _attention(a, w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)

    def mlp(a):
        return act(a @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]

    def ln_1(a):
        return _layer_norm(a, w["ln1_g"], w["ln1_b"], eps)

    def ln_2(a):
        return _layer_norm(a, w["ln2_g"], w["ln2_b"], eps) if ln2 == "ln2" else ln_1(a)

    if norm == "post":  # the original transformer's order
        x = ln_1(x + attn(x))
        return ln_2(x + mlp(x))
    if parallel:  # GPT-J's: both read the same input
        return x + attn(ln_1(x)) + mlp(ln_2(x))
    if stream_normalised:
        x = ln_1(x)
        x = x + attn(x)
        x = ln_2(x)
        return x + mlp(x)
    a = attn(ln_1(x))
    x = x + a if attn_residual else a
    m = mlp(ln_2(x))
    return x + m if mlp_residual else m


def _block_mistake(**change):
    return lambda x, w, n_heads: _block_variant(x, w, n_heads, **change)


_BLOCK_MISTAKES = (
    Mistake("post-norm", "you normalised after adding (x = ln(x + attn(x)), the original transformer's post-norm). "
                         "GPT-2 normalises *before* each half and adds to the raw stream: x = x + attn(ln_1(x)), "
                         "then x = x + mlp(ln_2(x))", _block_mistake(norm="post")),
    Mistake("no attention residual", "attention's output replaced x; it is *added* to the residual stream: "
                                     "x = x + attn(ln_1(x))", _block_mistake(attn_residual=False)),
    Mistake("no MLP residual", "the MLP's output replaced x; it is *added* to the residual stream: "
                               "x = x + mlp(ln_2(x))", _block_mistake(mlp_residual=False)),
    Mistake("parallel", "the MLP read the block's input; it reads the stream *after* attention has added to it "
                        "(GPT-J runs the two in parallel, GPT-2 does not)", _block_mistake(parallel=True)),
    Mistake("relu", "you used ReLU in the MLP; GPT-2 uses GELU (tanh form): use gelu", _block_mistake(act=lambda z: np.maximum(z, 0))),
    Mistake("exact gelu", "you used the exact, erf-based GELU; GPT-2 uses its tanh approximation, "
                          "0.5·z·(1 + tanh(sqrt(2/π)·(z + 0.044715·z³))), which is what gelu computes",
            _block_mistake(act=_exact_gelu)),
    Mistake("no activation", "the MLP has no nonlinearity; apply gelu between its two matrices",
            _block_mistake(act=lambda z: z)),
    Mistake("ln_1 twice", "the MLP's input is normalised with ln_2's own gain and bias (ln2_g, ln2_b), not ln_1's",
            _block_mistake(ln2="ln1")),
    Mistake("normalised stream", "the residual stream itself is never normalised inside a block: attention reads "
                                 "ln_1(x), but its output is added to x as it was",
            _block_mistake(stream_normalised=True)),
)


def _random_block(rng, d_model, d_ff, std=0.3) -> dict:
    def normal(*size):
        return rng.normal(scale=std, size=size)

    return dict(ln1_g=1 + normal(d_model), ln1_b=normal(d_model), w_qkv=normal(d_model, 3 * d_model),
                b_qkv=normal(3 * d_model), w_o=normal(d_model, d_model), b_o=normal(d_model), ln2_g=1 + normal(d_model),
                ln2_b=normal(d_model), w_up=normal(d_model, d_ff), b_up=normal(d_ff), w_down=normal(d_ff, d_model),
                b_down=normal(d_model))


def _block_case(label, rng, T, d_model, n_heads, d_ff, **kwargs):
    return Case(label, (rng.normal(size=(T, d_model)), _random_block(rng, d_model, d_ff), n_heads),
                show_inputs=False, **kwargs)


def _block_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(802)
    cases = [
        _block_case("T=3 tokens, d_model=8, 2 heads, d_ff=16", rng, 3, 8, 2, 16),
        _block_case("T=4 tokens, d_model=6, 3 heads, d_ff=10", rng, 4, 6, 3, 10),
        _block_case("one token, d_model=4, 1 head, d_ff=8", rng, 1, 4, 1, 8),
    ]
    if not hidden:
        return cases
    w, x = _tinygpt()
    return cases + [
        _block_case("T=9, d_model=12, 4 heads, d_ff=48", rng, 9, 12, 4, 48),
        Case("tinygpt's first block on a real sentence", (x, w.blocks[0].as_dict(), w.n_heads), show_inputs=False),
        Case("tinygpt's last block on a real sentence", (x, w.blocks[-1].as_dict(), w.n_heads), show_inputs=False),
        _block_case("a wide MLP: d_ff = 8·d_model", rng, 5, 4, 2, 32),
        Case("tinygpt's first block in float32", (np.float32(x), {k: np.float32(v) for k, v in w.blocks[0].as_dict().items()},
                                                  w.n_heads), show_inputs=False),
    ]


def _block_edges(rng) -> list[Case]:
    H, d_head = (int(n) for n in rng.integers(1, 4, size=2))
    d_model = H * d_head
    d_ff = int(rng.integers(1, 4 * d_model + 1))
    return [
        _block_case("one token", rng, 1, d_model, H, d_ff),
        _block_case("an MLP of width 1", rng, 3, d_model, H, 1),
        Case("a strided view of x (not contiguous)", (rng.normal(size=(4, 2 * d_model))[:, ::2],
                                                       _random_block(rng, d_model, d_ff), H), show_inputs=False),
        Case("a large residual stream (layer norm rescales it)", (rng.normal(scale=300, size=(3, d_model)),
                                                                   _random_block(rng, d_model, d_ff), H),
             show_inputs=False),
        Case("float32 weights and stream", (rng.normal(size=(3, d_model)).astype(np.float32),
                                            {k: v.astype(np.float32) for k, v in _random_block(rng, d_model, d_ff).items()},
                                            H), show_inputs=False),
    ]


def _block_reference(x, w, n_heads):
    return _block(_f64(x), BlockWeights(**_f64(w)), int(n_heads))


# -- the tasks ------------------------------------------------------------------------------

_BY_HAND = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!torch.nn.*", "!torch.softmax", "!torch.special.*",
                                                       "!torch.log_softmax", ".dot", ".matmul", ".mm", ".bmm"},
                 matmul=True, methods=None,
                 says="attention written yourself with NumPy: no library attention or softmax, nothing from dotlab "
                      "(the helpers the imports cell gives are for task 8.2)")
_WITH_HELPERS = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH,
                      {"dotlab.forward.layer_norm", "dotlab.forward.gelu", "dotlab.forward.causal_self_attention",
                       ".dot", ".matmul", ".mm"},
                      matmul=True, methods=None,
                      says="the helpers the imports cell gives (layer_norm, gelu, causal_self_attention) and NumPy; "
                           "not the course's block, mlp or forward")

GPT2_ATTENTION = Task(
    "8.1", "gpt2_attention", reference=_attention_reference, cases=_attention_cases, mistakes=_ATTENTION_MISTAKES,
    returns=ArrayOf("f"), allowed=_BY_HAND,
    forbidden=_no_reference("dotlab.forward.causal_self_attention", "dotlab.forward.block", "dotlab.forward.forward",
                            "dotlab.attention.multi_head_attention", "dotlab.attention.scaled_dot_product_attention",
                            "dotlab.scaled_dot_product_attention"),
    edges=_attention_edges, variants=("int", "float32", "strided"),
    params_=("x", "w_qkv", "b_qkv", "w_o", "b_o", "n_heads"), array_params_=("x", "w_qkv", "b_qkv", "w_o", "b_o"),
    rtol=_RTOL, atol=_ATOL, float32_rtol=_RTOL, float32_atol=_ATOL, error_hints=(("cannot reshape", _HEADS_HINT),),
    doc="multi-head causal self-attention from GPT-2's fused Q/K/V weights.",
)
GPT2_BLOCK = Task(
    "8.2", "gpt2_block", reference=_block_reference, cases=_block_cases, mistakes=_BLOCK_MISTAKES,
    returns=ArrayOf("f"), allowed=_WITH_HELPERS,
    forbidden=_no_reference("dotlab.forward.block", "dotlab.forward.forward", "dotlab.forward.mlp"),
    edges=_block_edges, variants=("float32", "strided"), params_=("x", "w", "n_heads"), array_params_=("x",),
    rtol=_RTOL, atol=_ATOL, float32_rtol=_RTOL, float32_atol=_ATOL,
    doc="one pre-norm GPT-2 block, from layer norm, attention and the MLP.",
)

TASKS = {task.id: task for task in (GPT2_ATTENTION, GPT2_BLOCK)}
CHECKS = tasks_table(*TASKS.values())
check_gpt2_attention, check_gpt2_block = CHECKS.values()
