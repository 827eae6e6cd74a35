"""Checks for chapter 9's assignment: rotary positions, grouped keys, windows, IVF search.

Task ids match the chapter, the exercise notebook and the pytest markers:
9.1 ``rope``, 9.2 ``grouped_query_attention``, 9.3 ``sliding_window_mask``,
9.4 ``kv_cache_bytes``, 9.5 ``ivf_search``. Each ``check_*`` function runs the visible
cases, or with ``hidden=True`` the fuller set the grader uses, and raises
:class:`~dotlab.checks.CheckFailure` naming the likely mistake. Every task is declared
once as a :class:`~dotlab.checks.contract.Task`: what it returns, what its source may
use (NumPy, math and PyTorch's tensors; not PyTorch's attention or softmax, FAISS or
``dotlab``), edge cases drawn from the instructor's seed, float32 and strided variants, and its tolerance.

The references are the package's own functions (``dotlab.rope``, ``dotlab.grouped``,
``dotlab.window``, ``dotlab.cost``), which are proved against transformers, PyTorch and
FAISS in the course's tests; the IVF search is written out here, because FAISS's
answer depends on its own k-means, not on cells the learner is given.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dotlab import cost
from dotlab.checks._core import Case, Forbidden, Mistake
from dotlab.checks.contract import MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Number, Task, allow, tasks_table
from dotlab.cost import TransformerShape
from dotlab.grouped import grouped_query_attention as _gqa
from dotlab.rope import apply_rope, rope_frequencies
from dotlab.window import sliding_window_mask as _window_mask

_WHY_REFERENCE = "the course's reference implementation is not your answer"
_WHY_TORCH = "write attention yourself: scores, a row-wise softmax, a weighted sum of values"
NO_DELEGATION = (
    Forbidden("torch.nn.functional.scaled_dot_product_attention", _WHY_TORCH),
    Forbidden("torch.nn.functional.softmax", _WHY_TORCH),
    Forbidden("torch.softmax", _WHY_TORCH),
    Forbidden("scipy.special.softmax", _WHY_TORCH),
    Forbidden("faiss.IndexIVFFlat", "write the inverted-file search yourself: score the centroids, then the "
                                    "items of the best cells"),
    *(Forbidden(target, _WHY_REFERENCE) for target in (
        "dotlab.rope.apply_rope",
        "dotlab.grouped.grouped_query_attention",
        "dotlab.window.sliding_window_mask",
        "dotlab.cost.kv_cache_bytes",
        "dotlab.scaled_dot_product_attention",
        "dotlab.attention.scaled_dot_product_attention",
        "dotlab.causal_mask",
        "dotlab.attention.causal_mask",
        "dotlab.top_k",
        "dotlab.search.top_k",
        "dotlab.approximate.ivf_search",
        "dotlab.approximate.exact_search",
    )),
)

_EXACT = dict(rtol=1e-12, atol=0.0)

#: What every task's function may use, as the assignment's text says ("Use NumPy freely, but
#: not PyTorch's attention or softmax, FAISS, or the course's own dotlab functions"): NumPy,
#: math, heapq, PyTorch's tensors with @; not PyTorch's attention, softmax or nn, SciPy,
#: FAISS or dotlab (never allowed anywhere), which the tripwires above refuse a second time.
_NUMPY = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"heapq.*", "!torch.nn.*", "!torch.softmax", "!torch.special.*",
                                                     "!torch.log_softmax", "!torch.func.*", "!torch.autograd.*"},
               matmul=True, methods=None,
               says="NumPy (or PyTorch's tensors) and math, but not PyTorch's attention or softmax, SciPy, FAISS "
                    "or the course's dotlab functions")


# -- 9.1: rotary position embedding (half-split pairs) ---------------------------------------


def _rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=float)
    return apply_rope(x, np.asarray(positions, dtype=float), base=base, layout="half")


def _rope_angles(x, angles):
    """Half-split rotation by any table of angles (T, d/2): the mistakes' common core."""
    x = np.asarray(x, dtype=float)
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    cos, sin = np.cos(angles), np.sin(angles)
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)


def _theta(x, base):
    return rope_frequencies(np.shape(x)[-1], base)


_ROPE_MISTAKES = (
    Mistake("interleaved", "you rotated neighbouring components (0, 1), (2, 3), ...: that is the interleaved "
            "layout of the paper and GPT-J. This task uses the half-split layout of GPT-NeoX and Llama: component "
            "i turns with component i + d_head/2",
            lambda x, positions, base=10000.0: apply_rope(np.asarray(x, float), np.asarray(positions, float),
                                                          base=base, layout="interleaved")),
    Mistake("backwards", "your rotation turns the wrong way: a' = a cos - b sin, b' = a sin + b cos",
            lambda x, positions, base=10000.0: _rope(x, -np.asarray(positions, float), base)),
    Mistake("no position", "the angle must be proportional to the position, position * theta_i; you turned every "
            "token by theta_i alone, whatever its position",
            lambda x, positions, base=10000.0: _rope_angles(x, np.ones((len(x), 1)) * _theta(x, base))),
    Mistake("added", "the angle is position TIMES theta_i, not position plus theta_i: an angle that grows by a fixed "
            "step per position is what makes scores depend on the offset only",
            lambda x, positions, base=10000.0: _rope_angles(
                x, np.asarray(positions, float)[:, None] + _theta(x, base))),
    Mistake("exponent", "theta_i = base ** (-2 * i / d_head) for i = 0, 1, ..., d_head/2 - 1: the exponent has a "
            "factor 2 (pair i holds components i and i + d_head/2)",
            lambda x, positions, base=10000.0: _rope(x, positions, math.sqrt(base))),
    Mistake("from one", "pair 0 turns by one radian per position: theta_i = base ** (-2 * i / d_head) starts at "
            "i = 0, not 1",
            lambda x, positions, base=10000.0: _rope_angles(
                x, np.asarray(positions, float)[:, None] * _theta(x, base) * base ** (-2 / np.shape(x)[-1]))),
    Mistake("own positions", "use the positions you are given: the rows need not be at 0, 1, 2, ... (a decode step "
            "is at position T - 1)",
            lambda x, positions, base=10000.0: _rope(x, np.arange(len(x)), base)),
)

_ODD_HINT = ("RoPE turns components in pairs: check x.shape[-1] % 2 == 0 first and raise ValueError naming it, "
             "for example f'd_head={d_head} must be even'.")


def _rope_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(901)
    x4 = np.round(rng.normal(size=(2, 4)), 2)
    cases = [
        Case("one pair at position 1 turns by 1 radian", (np.array([[1.0, 0.0]]), np.array([1]))),
        Case("d_head = 4 at positions 0, 1, 2", (np.tile([1.0, 2.0, 3.0, 4.0], (3, 1)), np.arange(3))),
        Case("two rows at positions 5 and 9", (x4, np.array([5, 9]))),
        Case("an odd d_head = 3", (np.ones((2, 3)), np.arange(2)), raises=ValueError, must_mention=("3",),
             hint=_ODD_HINT),
    ]
    if not hidden:
        return cases
    x8 = rng.normal(size=(6, 8))
    return cases + [
        Case("random: 6 rows, d_head = 8, random positions", (x8, rng.integers(0, 500, 6)), show_inputs=False),
        Case("negative positions", (x8[:3], np.array([-4, -1, -30])), show_inputs=False),
        Case("Llama 3's base of 500,000, d_head = 16", (rng.normal(size=(3, 16)), np.array([0, 7, 4000])),
             {"base": 500000.0}, show_inputs=False),
        Case("position 0 changes nothing", (x8[:1], np.array([0]))),
        Case("a far position, 10,000", (x8[:2], np.array([10_000, 10_001])), show_inputs=False),
        Case("d_head = 2, one pair, many positions", (rng.normal(size=(5, 2)), np.arange(10, 15)),
             show_inputs=False),
        Case("lists, not arrays", ([[1.0, 0.0, 0.0, 1.0]], [3])),
        Case("d_head = 64, a decode step at position 99", (rng.normal(size=(1, 64)), np.array([99])),
             show_inputs=False),
        Case("an odd d_head = 5", (np.ones((1, 5)), np.array([0])), raises=ValueError, must_mention=("5",),
             hint=_ODD_HINT),
    ]


def _rope_edges(rng: np.random.Generator) -> list[Case]:
    d = 2 * int(rng.integers(1, 9))
    x = rng.normal(size=(int(rng.integers(1, 6)), d))
    return [
        Case("position 0 for every row: nothing turns", (x, np.zeros(len(x), dtype=int)), show_inputs=False),
        Case("the same position for every row", (x, np.full(len(x), int(rng.integers(1, 50)))), show_inputs=False),
        Case("positions far out, 10^5", (x, rng.integers(10**5, 2 * 10**5, len(x))), show_inputs=False),
        Case("positions out of order", (x, rng.permutation(len(x)) * 3), show_inputs=False),
        Case("a small base, 100", (x, rng.integers(0, 30, len(x))), {"base": 100.0}, show_inputs=False),
    ]


def _rope_tol(case: Case) -> Case:
    """The precision the task promises on one case: what a float32 implementation can keep.

    The task does not ask for float64. A float32 angle position * theta_i carries a relative
    error of about 6e-8, so an absolute one of 6e-8 * position radians, which a rotation
    passes on to the output times |x|: 1e-6 near position 0, ~1e-3 at 10,000, ~1e-2 at 10^5.
    Every catalogued mistake is off by far more (a wrong angle, a wrong pair, a wrong sign).
    """
    if case.raises is not None:
        return case
    far = float(np.max(np.abs(np.asarray(case.args[1], dtype=float)), initial=1.0))
    size = float(np.max(np.abs(np.asarray(case.args[0], dtype=float)), initial=1.0))
    return dataclasses.replace(case, tol=(1e-5, 1e-6 + 4e-7 * max(far, 1.0) * max(size, 1.0)))


ROPE = Task(
    "9.1", "rope", reference=_rope, cases=lambda hidden: [_rope_tol(c) for c in _rope_cases(hidden)],
    mistakes=_ROPE_MISTAKES, returns=ArrayOf("f"), allowed=_NUMPY, forbidden=NO_DELEGATION,
    edges=lambda rng: [_rope_tol(c) for c in _rope_edges(rng)], variants=("int", "float32", "strided"),
    array_params_=("x",), rtol=1e-5, atol=1e-6,
    doc="rotate each half-split pair by position times its frequency.",
)


# -- 9.2: grouped-query attention ------------------------------------------------------------


def _attend(q, k, v, scale=True, axis=-1):
    """One head's attention, or with a mistake switched on."""
    s = q @ k.T / (math.sqrt(q.shape[-1]) if scale else 1.0)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)) @ v


def _heads(q, k, v, which, **kw):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    return np.stack([_attend(q[h], k[g], v[g], **kw) for h, g in enumerate(which(q.shape[0], k.shape[0]))])


def _gqa_reference(q, k, v):
    return _gqa(np.asarray(q, float), np.asarray(k, float), np.asarray(v, float))


def _shared_queries(q, k, v):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    H, G = q.shape[0], k.shape[0]
    grouped = q.reshape(G, H // G, *q.shape[1:]).mean(axis=1)  # one query per group
    return np.stack([_attend(grouped[g], k[g], v[g]) for g in range(G)])


_GQA_MISTAKES = (
    Mistake("strided", "consecutive query heads share a key/value head: head h reads head h // (H // G), so heads "
            "0 and 1 share when H = 2G. You used h % G, which spreads each group across the heads",
            lambda q, k, v: _heads(q, k, v, lambda H, G: [h % G for h in range(H)])),
    Mistake("group size", "each group has H // G query heads, so head h reads key/value head h // (H // G); you "
            "divided by G, the number of key/value heads",
            lambda q, k, v: _heads(q, k, v, lambda H, G: [h // G for h in range(H)])),
    Mistake("shared queries", "it is the keys and values that are shared, not the queries: every one of the H query "
            "heads keeps its own queries and gives its own output (H outputs, not G)",
            _shared_queries),
    Mistake("first head", "every query head used key/value head 0; head h reads head h // (H // G)",
            lambda q, k, v: _heads(q, k, v, lambda H, G: [0] * H)),
    Mistake("unscaled", "the scores were not divided by sqrt(d) (d = q.shape[-1])",
            lambda q, k, v: _heads(q, k, v, lambda H, G: [h // (H // G) for h in range(H)], scale=False)),
    Mistake("columns", "the softmax ran down the columns (over queries); each query's weights must sum to 1 over "
            "the keys: softmax along the last axis",
            lambda q, k, v: _heads(q, k, v, lambda H, G: [h // (H // G) for h in range(H)], axis=0)),
)

_DIVIDE_HINT = ("Check H % G == 0 first and raise ValueError naming both, for example "
                "f'{G} key/value heads cannot be shared by {H} query heads'.")


def _gqa_cases(hidden: bool) -> list[Case]:
    rng = np.random.default_rng(902)
    q6, k3, v3 = rng.normal(size=(6, 3, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
    cases = [
        Case("2 query heads share 1 key/value head",
             (np.array([[[1.0, 0.0]], [[0.0, 1.0]]]), np.array([[[2.0, 0.0], [0.0, 2.0]]]),
              np.array([[[1.0], [2.0]]]))),
        Case("6 query heads, 3 key/value heads (groups of 2)", (q6, k3, v3), show_inputs=False),
        Case("4 query heads cannot share 3 key/value heads", (rng.normal(size=(4, 2, 4)), k3, v3),
             raises=ValueError, must_mention=("4", "3"), hint=_DIVIDE_HINT, show_inputs=False),
    ]
    if not hidden:
        return cases
    q8 = rng.normal(size=(8, 4, 6))
    return cases + [
        Case("multi-query: 4 query heads, 1 key/value head", (q6[:4], k3[:1], v3[:1]), show_inputs=False),
        Case("ordinary multi-head: 3 and 3", (q6[:3], k3, v3), show_inputs=False),
        Case("8 query heads, 2 key/value heads (groups of 4)",
             (q8, rng.normal(size=(2, 7, 6)), rng.normal(size=(2, 7, 3))), show_inputs=False),
        Case("one query per head, many keys",
             (q8[:, :1], rng.normal(size=(4, 9, 6)), rng.normal(size=(4, 9, 1))), show_inputs=False),
        Case("scores in the hundreds (the softmax must not overflow)", (q6 * 30, k3 * 30, v3), show_inputs=False),
        Case("one head, one key", (q6[:1, :2], k3[:1, :1], v3[:1, :1]), show_inputs=False),
        Case("6 query heads cannot share 4 key/value heads", (q6, rng.normal(size=(4, 5, 4)),
                                                               rng.normal(size=(4, 5, 2))),
             raises=ValueError, must_mention=("6", "4"), hint=_DIVIDE_HINT, show_inputs=False),
    ]


def _gqa_edges(rng: np.random.Generator) -> list[Case]:
    G = int(rng.integers(1, 4))
    H = G * int(rng.integers(2, 5))
    T_q, T_k, d, d_v = (int(rng.integers(1, n)) for n in (5, 8, 7, 4))
    q, k, v = rng.normal(size=(H, T_q, d)), rng.normal(size=(G, T_k, d)), rng.normal(size=(G, T_k, d_v))
    return [
        Case(f"random: {H} query heads, {G} key/value heads", (q, k, v), show_inputs=False),
        Case(f"multi-query: {H} query heads, 1 key/value head", (q, k[:1], v[:1]), show_inputs=False),
        Case("equal keys: every weight the same", (q, np.repeat(k[:, :1], T_k, axis=1), v), show_inputs=False),
        Case("one key: its value, whatever the scores", (q, k[:, :1], v[:, :1]), show_inputs=False),
    ]


GQA = Task(
    "9.2", "grouped_query_attention", reference=_gqa_reference, cases=_gqa_cases, mistakes=_GQA_MISTAKES,
    returns=ArrayOf("f"), allowed=_NUMPY, forbidden=NO_DELEGATION, edges=_gqa_edges,
    # float32 arithmetic is right too: its rounding is about 1e-7 of each value
    variants=("float32", "strided"), array_params_=("q", "k", "v"), rtol=1e-5, atol=1e-6,
    doc="H query heads, G key/value heads, each shared by H // G consecutive query heads.",
)


# -- 9.3: the sliding-window mask ------------------------------------------------------------


def _band(n_queries, n_keys, window, *, shift=0, low=0, causal=True, aligned=True):
    position = np.arange(n_queries)[:, None] + ((n_keys - n_queries) if aligned else 0)
    key = np.arange(n_keys)[None, :]
    recent = key > position - window - low
    return ((key <= position + shift) if causal else (key < position + window)) & recent


_WINDOW_MISTAKES = (
    Mistake("one too many", "a query sees window keys, itself included: keys p - window + 1 to p. Yours lets it see "
            "window + 1 (key >= p - window is one too far back)",
            lambda n_queries, n_keys, window: _band(n_queries, n_keys, window, low=1)),
    Mistake("one too few", "a query sees window keys, itself included: keys p - window + 1 to p. Yours lets it see "
            "only window - 1",
            lambda n_queries, n_keys, window: _band(n_queries, n_keys, window, low=-1)),
    Mistake("top left", "the queries are the LAST n_queries of the n_keys tokens: query i sits at position "
            "i + n_keys - n_queries (aligned at the bottom right, as causal_mask is)",
            lambda n_queries, n_keys, window: _band(n_queries, n_keys, window, aligned=False)),
    Mistake("both sides", "the window looks back only: a decoder may not see the keys after its own position, "
            "even inside the window",
            lambda n_queries, n_keys, window: _band(n_queries, n_keys, window, causal=False)),
    Mistake("no window", "that is the plain causal mask: also block the keys more than window - 1 positions back",
            lambda n_queries, n_keys, window: _band(n_queries, n_keys, n_keys + 1)),
    Mistake("swapped", "True and False are swapped: True marks a key the query MAY attend to",
            lambda n_queries, n_keys, window: ~_window_mask(n_queries, n_keys, window)),
)

_WINDOW_HINT = "A query must see at least itself: raise ValueError(f'window={window} must be at least 1')."


def _window_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("5 tokens, a window of 2", (5, 5, 2)),
        Case("2 new tokens at the end of 6, a window of 3", (2, 6, 3)),
        Case("a window wider than the context is the causal mask", (4, 4, 10)),
    ]
    if not hidden:
        return cases
    return cases + [
        Case("one token", (1, 1, 1)),
        Case("a window of 1: only itself", (6, 6, 1)),
        Case("3 new tokens at the end of 8, a window of 1", (3, 8, 1)),
        Case("7 tokens, a window of 3", (7, 7, 3)),
        Case("one decode step at the end of 9, a window of 4", (1, 9, 4)),
        Case("a window exactly as wide as the context", (8, 8, 8)),
        Case("5 new tokens at the end of 12, a window of 5", (5, 12, 5)),
        Case("window=0", (3, 3, 0), raises=ValueError, must_mention=("0",), hint=_WINDOW_HINT),
    ]


def _window_edges(rng: np.random.Generator) -> list[Case]:
    n_keys = int(rng.integers(3, 12))
    n_queries = int(rng.integers(1, n_keys + 1))
    return [
        Case("a window exactly the keys after the first query", (n_queries, n_keys, n_keys - n_queries + 1)),
        Case("a window one wider than the context", (n_queries, n_keys, n_keys + 1)),
        Case("a random window", (n_queries, n_keys, int(rng.integers(1, n_keys + 1)))),
        Case("a window of 2 (a token and its neighbour)", (n_keys, n_keys, 2)),
        Case("window=-1", (n_queries, n_keys, -1), raises=ValueError, must_mention=("-1",), hint=_WINDOW_HINT),
    ]


WINDOW = Task(
    "9.3", "sliding_window_mask", reference=_window_mask, cases=_window_cases, mistakes=_WINDOW_MISTAKES,
    returns=ArrayOf("b"), allowed=_NUMPY, forbidden=NO_DELEGATION, edges=_window_edges, array_params_=(),
    **_EXACT, doc="True where a query may attend: itself and the window - 1 keys before it.",
)


# -- 9.4: the KV cache with grouped keys and a window ----------------------------------------


def _kv(s, T, bytes_per_value=2, *, heads=None, window=True, kinds=2, layers=True, width=None, at_least=False):
    seen = T
    if window and s.window is not None:
        seen = s.window if at_least else min(T, s.window)
    per_token = width if width is not None else (s.n_kv_heads if heads is None else heads) * s.d_head
    return kinds * (s.n_layers if layers else 1) * seen * per_token * bytes_per_value


_KV_MISTAKES = (
    Mistake("full-size keys", "you cached full-size keys and values, one per query head (H·d_head numbers); with "
            "grouped-query attention only n_kv_heads heads are cached: 2·L·n_kv_heads·d_head per token",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, heads=s.n_heads)),
    Mistake("no window", "with a window the cache is rolling: it keeps only the last window tokens, so T is capped "
            "at window (min(T, window))",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, window=False)),
    Mistake("always the window", "a rolling cache fills up first: while T < window it holds T tokens, not window "
            "(min(T, window), not window)",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, at_least=True)),
    Mistake("keys only", "the cache holds a key AND a value per token, head and layer: the factor 2",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, kinds=1)),
    Mistake("one layer", "every layer keeps its own keys and values: multiply by n_layers",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, layers=False)),
    Mistake("d_model", "a token's cached key in one layer is n_kv_heads·d_head numbers, not d_model",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, width=s.d_model)),
)

#: Mistral 7B's shape (Jiang et al. 2023): 8 key/value heads for 32 query heads, a 4,096 window.
MISTRAL = TransformerShape(n_layers=32, d_model=4096, n_heads=32, d_head=128, d_ff=14336, vocab_size=32000,
                           n_kv_heads=8, window=4096)
#: Llama 2 70B's shape (Touvron et al. 2023): grouped keys, no window.
LLAMA2_70B = TransformerShape(n_layers=80, d_model=8192, n_heads=64, d_head=128, d_ff=28672, vocab_size=32000,
                              n_kv_heads=8)


def _describe(s: TransformerShape) -> str:
    return (f"L={s.n_layers}, d_model={s.d_model}, H={s.n_heads}, n_kv_heads={s.n_kv_heads}, d_head={s.d_head}, "
            f"window={s.window}")


def _kv_cases(hidden: bool) -> list[Case]:
    def case(label, s, T, **kwargs):
        return Case(f"{label}: {_describe(s)}, T={T:,}", (s, T), kwargs, show_inputs=False)

    small = TransformerShape(2, 10, 4, 3, 20, 17, n_kv_heads=2, window=6)  # d_model != H·d_head
    cases = [
        case("Mistral 7B, shorter than its window", MISTRAL, 1000),
        case("Mistral 7B, 100,000 tokens", MISTRAL, 100_000),
        case("a small grouped shape, past its window, float32", small, 9, bytes_per_value=4),
        Case("bytes_per_value=0", (small, 3), {"bytes_per_value": 0}, show_inputs=False, raises=ValueError,
             must_mention=("0",), hint="A number takes more than 0 bytes: raise ValueError naming bytes_per_value."),
    ]
    if not hidden:
        return cases
    mqa = TransformerShape(3, 16, 4, 4, 32, 11, n_kv_heads=1)
    return cases + [
        case("Llama 2 70B, no window", LLAMA2_70B, 4096),
        case("multi-query attention", mqa, 7, bytes_per_value=1),
        case("a window of 1", TransformerShape(2, 8, 2, 4, 16, 5, window=1), 5),
        case("exactly the window", small, 6),
        case("one token", small, 1, bytes_per_value=0.5),
        case("no grouping, no window (chapter 7's cache)", TransformerShape(2, 12, 3, 5, 20, 17), 10),
        case("8 key/value heads of 8, past a window of 3", TransformerShape(4, 64, 8, 8, 32, 9, window=3), 50),
    ]


def _kv_edges(rng: np.random.Generator) -> list[Case]:
    G = int(rng.integers(1, 5))
    H = G * int(rng.integers(1, 5))
    window = int(rng.integers(2, 50))
    s = TransformerShape(int(rng.integers(1, 9)), int(rng.integers(8, 65)), H, int(rng.integers(2, 17)),
                         int(rng.integers(8, 129)), int(rng.integers(10, 101)), n_kv_heads=G, window=window)
    return [
        Case(f"{_describe(s)}, T = window - 1", (s, window - 1), show_inputs=False),
        Case(f"{_describe(s)}, T = window", (s, window), show_inputs=False),
        Case(f"{_describe(s)}, T = window + 1", (s, window + 1), show_inputs=False),
        Case(f"{_describe(s)}, T = 1, bytes_per_value=4", (s, 1), {"bytes_per_value": 4}, show_inputs=False),
    ]


KV = Task(
    "9.4", "kv_cache_bytes", reference=cost.kv_cache_bytes, cases=_kv_cases, mistakes=_KV_MISTAKES,
    returns=Number(), allowed=_NUMPY, forbidden=NO_DELEGATION, edges=_kv_edges, array_params_=(), **_EXACT,
    doc="2 · L · n_kv_heads · d_head · min(T, window) · bytes_per_value.",
)


# -- 9.5: inverted-file search ---------------------------------------------------------------


def _ivf(query, corpus, centroids, cells, k, n_probe, *, order=-1, probe=None, local=False, everything=False,
         in_order=True):
    query, corpus, centroids = (np.asarray(a, dtype=float) for a in (query, corpus, centroids))
    cells = np.asarray(cells)
    ranked = np.argsort(order * (centroids @ query), kind="stable")  # best cells first when order = -1
    n = n_probe if probe is None else probe(n_probe)
    candidates = np.arange(len(corpus)) if everything else np.flatnonzero(np.isin(cells, ranked[:n]))
    scores = corpus[candidates] @ query
    best = np.argsort(-scores, kind="stable")[:k] if in_order else np.argpartition(-scores, k - 1)[:k]
    return best if local else candidates[best]


def _ivf_reference(query, corpus, centroids, cells, k, n_probe):
    return _ivf(query, corpus, centroids, cells, k, n_probe)


_IVF_MISTAKES = (
    Mistake("local positions", "you returned positions in your list of candidates, not rows of the corpus: keep "
            "the candidates' corpus indices (for example candidates = np.flatnonzero(np.isin(cells, probed))) "
            "and return candidates[best]",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      local=True)),
    Mistake("worst cells", "you probed the cells whose centroids score LOWEST; probe the n_probe cells whose "
            "centroids have the largest dot product with the query",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      order=1)),
    Mistake("one cell", "you probed one cell; probe the n_probe best cells",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      probe=lambda n: 1)),
    Mistake("exact", "you scored every item of the corpus: that is exact search, the answer IVF approximates. "
            "Score only the items in the probed cells",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      everything=True)),
    Mistake("extra cell", "you probed n_probe + 1 cells; probe exactly the n_probe best",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      probe=lambda n: n + 1)),
    Mistake("k best unsorted", "np.argpartition finds the k best but leaves them in no set order (for small k they "
            "happen to come out sorted): the results must be best first, so sort those k by score",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k, n_probe,
                                                                      in_order=False)),
    Mistake("worst first", "the results must be best first: sort the candidates' scores in decreasing order",
            lambda query, corpus, centroids, cells, k, n_probe: _ivf(query, corpus, centroids, cells, k,
                                                                      n_probe)[::-1]),
)


def _ivf_problem(seed: int, N: int, d: int, n_lists: int):
    """A corpus cut into cells the way k-means would leave it: each item in its best centroid's cell."""
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(n_lists, d))
    corpus = centroids[rng.integers(0, n_lists, N)] + 0.9 * rng.normal(size=(N, d))
    cells = np.argmax(corpus @ centroids.T, axis=1)  # (N,)
    return corpus, centroids, cells, rng.normal(size=d)


def _ivf_cases(hidden: bool) -> list[Case]:
    corpus, centroids, cells, query = _ivf_problem(918, 40, 3, 5)  # a seed whose best items straddle cells
    tiny_corpus = np.array([[3.0, 0.0], [2.0, 0.5], [0.0, 3.0], [0.5, 2.0], [-3.0, 0.1], [-2.0, -0.4]])
    tiny_centroids = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    tiny_cells = np.array([0, 0, 1, 1, 2, 2])
    cases = [
        Case("6 items in 3 cells, probe 1, k = 2",
             (np.array([1.0, 0.9]), tiny_corpus, tiny_centroids, tiny_cells, 2, 1)),
        Case("40 items in 5 cells, probe 2, k = 4", (query, corpus, centroids, cells, 4, 2), show_inputs=False),
        Case("40 items in 5 cells, probe 3, k = 6", (-query, corpus, centroids, cells, 6, 3), show_inputs=False),
    ]
    if not hidden:
        return cases
    big = _ivf_problem(906, 300, 8, 12)
    many = _ivf_problem(907, 1200, 8, 6)
    return cases + [
        Case("probe every cell: exact search", (query, corpus, centroids, cells, 5, 5), show_inputs=False),
        Case("k = 1", (query, corpus, centroids, cells, 1, 1), show_inputs=False),
        Case("300 items in 12 cells, probe 3, k = 10", (big[3], *big[:3], 10, 3), show_inputs=False),
        Case("300 items in 12 cells, probe 1, k = 5", (-big[3], *big[:3], 5, 1), show_inputs=False),
        Case("300 items in 12 cells, probe 6, k = 20", (big[3] * 2, *big[:3], 20, 6), show_inputs=False),
        # np.argpartition returns its k best in order for small k (NumPy 2.4), so a search
        # that never sorts them looks right until k is large: here it is not.
        Case("1,200 items in 6 cells, probe 3, k = 256", (many[3], *many[:3], 256, 3), show_inputs=False),
    ]


def _ivf_edges(rng: np.random.Generator) -> list[Case]:
    n_lists = int(rng.integers(3, 9))
    corpus, centroids, cells, query = _ivf_problem(int(rng.integers(0, 2**31)), 120, 5, n_lists)
    return [
        Case(f"probe all {n_lists} cells: exact search", (query, corpus, centroids, cells, 7, n_lists),
             show_inputs=False),
        Case("k = 1, probe 1", (query, corpus, centroids, cells, 1, 1), show_inputs=False),
        Case("a query twice as long (the same ranking)", (2 * query, corpus, centroids, cells, 5, 2),
             show_inputs=False),
        Case("the opposite query", (-query, corpus, centroids, cells, 5, 2), show_inputs=False),
    ]


IVF = Task(
    "9.5", "ivf_search", reference=_ivf_reference, cases=_ivf_cases, mistakes=_IVF_MISTAKES,
    returns=ArrayOf("iu", lists=True), allowed=_NUMPY, forbidden=NO_DELEGATION, edges=_ivf_edges,
    variants=("strided",), array_params_=("query", "corpus", "centroids"), **_EXACT,
    doc="score the centroids, then only the items of the n_probe best cells.",
)

TASKS = {task.id: task for task in (ROPE, GQA, WINDOW, KV, IVF)}
CHECKS = tasks_table(*TASKS.values())
check_rope = CHECKS["9.1"]
check_grouped_query_attention = CHECKS["9.2"]
check_sliding_window_mask = CHECKS["9.3"]
check_kv_cache_bytes = CHECKS["9.4"]
check_ivf_search = CHECKS["9.5"]
