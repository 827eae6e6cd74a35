"""Checks for chapter 7's assignment: counting what a transformer's dot products cost.

Task ids match the chapter, the exercise notebook and the pytest markers:
7.1 ``matmul_count``, 7.2 ``prefill_count``, 7.3 ``decode_count``,
7.4 ``kv_cache_bytes``, 7.5 ``crossover_length``, 7.6 ``matmul_intensity``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake. The references are :mod:`dotlab.cost` and :mod:`dotlab.roofline`.

Tasks 7.2 and 7.3 take a stage name and return that stage's ``(dot_products, length)``;
the checks ask for every stage, so a message names the stage that is wrong.
"""

from __future__ import annotations

import math
import numpy as np

from dotlab import cost, roofline
from dotlab.checks._core import Case, Forbidden, Mistake
from dotlab.checks.contract import MATH, METHODS, NUMPY, PYTHON, STDLIB, Number, Task, TupleOf, allow, tasks_table
from dotlab.cost import STAGES, TransformerShape

# Counts are whole numbers: an answer must be exact (up to float64's 2^53, far beyond
# every count below except the long-context ones, which both sides round alike).
_EXACT = dict(rtol=1e-12, atol=0.0)

WORKED = TransformerShape(n_layers=48, d_model=4096, n_heads=32, d_head=128, d_ff=16384, vocab_size=50257)
GPT2_SMALL = TransformerShape(n_layers=12, d_model=768, n_heads=12, d_head=64, d_ff=3072, vocab_size=50257)
# Small, with H·d_head = 15 != d_model = 12, so d_model in place of H·d_head shows up,
# two layers and three heads, so a forgotten L or H does too.
TINY = TransformerShape(n_layers=2, d_model=12, n_heads=3, d_head=5, d_ff=20, vocab_size=17)
# d_model·d_ff / (H·d_head) = 300 / 21 is not a whole number: rounding matters.
UNEVEN = TransformerShape(n_layers=2, d_model=10, n_heads=3, d_head=7, d_ff=30, vocab_size=11)


def _describe(shape: TransformerShape) -> str:
    s = shape
    return f"L={s.n_layers}, d_model={s.d_model}, H={s.n_heads}, d_head={s.d_head}, d_ff={s.d_ff}, V={s.vocab_size}"


def _random_shapes(seed, count: int) -> list[TransformerShape]:
    """``count`` small random shapes, from a seed or a Generator (the instructor's, for edges)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return [
        TransformerShape(
            n_layers=int(rng.integers(2, 7)), d_model=int(rng.integers(8, 65)), n_heads=int(rng.integers(2, 9)),
            d_head=int(rng.integers(2, 17)), d_ff=int(rng.integers(8, 129)), vocab_size=int(rng.integers(10, 101)),
        )
        for _ in range(count)
    ]


def _no_reference(*targets: str) -> tuple[Forbidden, ...]:
    return tuple(Forbidden(t, "the course's reference implementation is not your answer; count it yourself")
                 for t in targets)


# -- 7.1: one matrix product -----------------------------------------------------------


def _matmul_reference(m, k, n):
    row = cost.matmul_count(m, k, n)
    return (row.dot_products, row.length, row.macs, row.flops)


_MATMUL_MISTAKES = (
    Mistake("2k-1", "you counted 2k - 1 FLOPs per dot product (k multiplies, k - 1 adds). That is the exact count, "
                    "but this course, like PyTorch's FlopCounterMode, counts 1 MAC as 2 FLOPs: flops = 2 * macs",
            lambda m, k, n: (m * n, k, m * n * k, m * n * (2 * k - 1))),
    Mistake("flops = macs", "your FLOPs equal your MACs, but a multiply-accumulate is two operations (a multiply "
                            "and an add): flops = 2 * macs",
            lambda m, k, n: (m * n, k, m * n * k, m * n * k)),
    Mistake("length n", "each dot product pairs a row of the (M×K) matrix with a column of the (K×N) one, so its "
                        "length is K, the size the two matrices share, not N",
            lambda m, k, n: (m * n, n, m * n * n, 2 * m * n * n)),
    Mistake("events, not work", "your MACs equal the number of dot products: counting events is not counting "
                                "work. Each dot product of length K is K multiply-accumulates: macs = dot_products * length",
            lambda m, k, n: (m * n, k, m * n, 2 * m * n)),
    Mistake("mnk dot products", "M·N·K is the number of multiply-accumulates; the number of dot products is M·N, "
                                "one per entry of the (M×N) result",
            lambda m, k, n: (m * n * k, k, m * n * k, 2 * m * n * k)),
)

_SIZE_HINT = "Check every size: raise ValueError(f'k={k} must be at least 1') for a size below 1."


def _matmul_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("a (2×3) @ (3×4) product", (2, 3, 4)),
        Case("one token's vector through a 4096×4096 weight matrix", (1, 4096, 4096)),
        Case("an empty matrix", (0, 3, 4), raises=ValueError, must_mention=("0",), hint=_SIZE_HINT),
        Case("a negative size", (2, -1, 4), raises=ValueError, must_mention=("-1",), hint=_SIZE_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(701)
    m, k, n = (int(x) for x in rng.integers(1, 500, size=3))
    return cases + [
        Case("a (5×7) @ (7×3) product", (5, 7, 3)),
        Case("1×1 matrices: one dot product of length 1", (1, 1, 1)),
        Case("the worked example's Q/K/V projection in one layer", (1000, 4096, 3 * 4096)),
        Case("NumPy integers as sizes", (np.int64(6), np.int64(2), np.int64(9))),
        Case("random sizes", (m, k, n)),
        Case("a zero last size", (2, 3, 0), raises=ValueError, must_mention=("0",), hint=_SIZE_HINT),
    ]


# -- 7.2 and 7.3: stage by stage -------------------------------------------------------


def _stage_cases(shape: TransformerShape, T: int, name: str = "") -> list[Case]:
    where = f"{name} ({_describe(shape)}, T={T})" if name else f"{_describe(shape)}, T={T}"
    return [Case(f"stage {stage!r} for {where}", (shape, T, stage), show_inputs=False) for stage in STAGES]


_STAGE_HINT = ("The stages are 'qkv', 'scores', 'mixing', 'out_proj', 'mlp_up', 'mlp_down' and 'unembed'; for any "
               "other name raise ValueError(f'unknown stage {stage!r}').")


def _unknown_stages(shape: TransformerShape, hidden: bool) -> list[Case]:
    cases = [Case("a stage that does not exist, 'attention'", (shape, 5, "attention"), show_inputs=False,
                  raises=ValueError, must_mention=("attention",), hint=_STAGE_HINT)]
    if hidden:
        cases.append(Case("the total is not a stage", (shape, 5, "total"), show_inputs=False,
                          raises=ValueError, must_mention=("total",), hint=_STAGE_HINT))
    return cases


def _table_reference(table_fn):
    def reference(shape, T, stage):
        row = table_fn(shape, T)[stage]
        return (row.dot_products, row.length)

    return reference


def _per_layer(shape, stage, count, length):
    """A (count, length) pair given per layer (the unembedding: once), made whole-model."""
    return (count if stage == "unembed" else shape.n_layers * count, length)


def _prefill_layer(s, T, stage):
    """Per layer (unembed: once) dot products and length of a dense prefill."""
    return {
        "qkv": (T * 3 * s.d_attn, s.d_model),
        "scores": (s.n_heads * T * T, s.d_head),
        "mixing": (s.n_heads * T * s.d_head, T),
        "out_proj": (T * s.d_model, s.d_attn),
        "mlp_up": (T * s.d_ff, s.d_model),
        "mlp_down": (T * s.d_model, s.d_ff),
        "unembed": (T * s.vocab_size, s.d_model),
    }[stage]


def _prefill_with(**changes):
    """A mistake's prediction: the right per-layer counts, with some stages replaced.

    Each change is ``stage=lambda s, T: (count_per_layer, length)``.
    """

    def predict(s, T, stage):
        count, length = changes[stage](s, T) if stage in changes else _prefill_layer(s, T, stage)
        return _per_layer(s, stage, count, length)

    return predict


def _without_layers(s, T, stage):
    return _prefill_layer(s, T, stage)


def _unembed_per_layer(s, T, stage):
    count, length = _prefill_layer(s, T, stage)
    return (s.n_layers * count, length)


_PREFILL_MISTAKES = (
    Mistake("no layers", "every stage but the unembedding happens once in each of the n_layers layers: "
                         "multiply the per-layer count by shape.n_layers",
            _without_layers),
    Mistake("unembed per layer", "the vocabulary is scored once, after the last layer, not in every layer: "
                                 "the unembedding is T·V dot products, without a factor n_layers",
            _unembed_per_layer),
    Mistake("causal discount", "you counted only the T(T+1)/2 query-key pairs the causal mask keeps. This course "
                               "counts attention dense, as q @ k.T computes it: all T·T scores, the masked ones "
                               "included (they are computed, then thrown away)",
            _prefill_with(scores=lambda s, T: (s.n_heads * T * (T + 1) // 2, s.d_head))),
    Mistake("d_model for H·d_head", "you used d_model where H·d_head belongs: the Q/K/V projection makes 3·H·d_head "
                                    "outputs per token and the output projection reads H·d_head inputs; the two are "
                                    "equal in many models but not in general",
            _prefill_with(qkv=lambda s, T: (T * 3 * s.d_model, s.d_model),
                          out_proj=lambda s, T: (T * s.d_model, s.d_model))),
    Mistake("one head", "attention runs in every head: the scores and the value mixing need a factor n_heads",
            _prefill_with(scores=lambda s, T: (T * T, s.d_head), mixing=lambda s, T: (T * s.d_head, T))),
    Mistake("one of Q, K, V", "the projection makes queries, keys and values: 3·H·d_head outputs per token, "
                              "each a dot product of length d_model",
            _prefill_with(qkv=lambda s, T: (T * s.d_attn, s.d_model))),
    Mistake("mixing like scores", "the value mixing is (T×T weights) @ (T×d_head values): H·T·d_head dot products "
                                  "of length T per layer, not T·T of length d_head like the scores",
            _prefill_with(mixing=lambda s, T: (s.n_heads * T * T, s.d_head))),
    Mistake("mlp_down like mlp_up", "mlp_down maps d_ff back to d_model: T·d_model dot products of length d_ff per "
                                    "layer (mlp_up is the other way round: T·d_ff of length d_model)",
            _prefill_with(mlp_down=lambda s, T: (T * s.d_ff, s.d_model))),
    Mistake("last logits only", "a prefill here scores the vocabulary at every one of the T positions (T·V dot "
                                "products), as training does; generation would need only the last",
            _prefill_with(unembed=lambda s, T: (s.vocab_size, s.d_model))),
    Mistake("scores of length d_model", "a score is one query of one head against one key of that head: a dot "
                                        "product of length d_head, not d_model",
            _prefill_with(scores=lambda s, T: (s.n_heads * T * T, s.d_model))),
)


def _prefill_cases(hidden: bool) -> list[Case]:
    cases = _stage_cases(TINY, 7) + _stage_cases(WORKED, 1000, "the worked example") + _unknown_stages(TINY, hidden)
    if not hidden:
        return cases
    extra = _stage_cases(GPT2_SMALL, 1024, "GPT-2 small") + _stage_cases(UNEVEN, 1, "a one-token prompt")
    for i, shape in enumerate(_random_shapes(702, 2)):
        extra += _stage_cases(shape, 3 + 11 * i, f"random shape {i + 1}")
    return cases + extra


def _decode_layer(s, T, stage):
    """Per layer (unembed: once) dot products and length of one decode step with T keys."""
    return {
        "qkv": (3 * s.d_attn, s.d_model),
        "scores": (s.n_heads * T, s.d_head),
        "mixing": (s.n_heads * s.d_head, T),
        "out_proj": (s.d_model, s.d_attn),
        "mlp_up": (s.d_ff, s.d_model),
        "mlp_down": (s.d_model, s.d_ff),
        "unembed": (s.vocab_size, s.d_model),
    }[stage]


def _decode_with(**changes):
    def predict(s, T, stage):
        count, length = changes[stage](s, T) if stage in changes else _decode_layer(s, T, stage)
        return _per_layer(s, stage, count, length)

    return predict


_DECODE_MISTAKES = (
    Mistake("T-1 keys", "the new token attends to itself as well: T counts every token in the context, the new "
                        "one included, so its query meets T keys and mixes T values",
            _decode_with(scores=lambda s, T: (s.n_heads * (T - 1), s.d_head),
                         mixing=lambda s, T: (s.n_heads * s.d_head, T - 1))),
    Mistake("whole prefill", "you counted a whole prefill of T tokens. With a KV cache the earlier tokens' keys and "
                             "values are stored: a decode step runs the projections, the MLP and the unembedding for "
                             "the one new token, and its single query meets the T cached keys",
            lambda s, T, stage: _per_layer(s, stage, *_prefill_layer(s, T, stage))),
    Mistake("T×T scores", "the scores of the earlier tokens were computed in earlier steps: the new token's one "
                          "query meets T keys per head (H·T scores per layer, not H·T·T)",
            _decode_with(scores=lambda s, T: (s.n_heads * T * T, s.d_head),
                         mixing=lambda s, T: (s.n_heads * T * s.d_head, T))),
    Mistake("no layers", "every stage but the unembedding happens once in each of the n_layers layers: "
                         "multiply by shape.n_layers (the syllabus's L·H·T score dot products)",
            lambda s, T, stage: _decode_layer(s, T, stage)),
    Mistake("one head", "the new token's query meets the keys in every head: the scores and the mixing need a "
                        "factor n_heads",
            _decode_with(scores=lambda s, T: (T, s.d_head), mixing=lambda s, T: (s.d_head, T))),
    Mistake("every position's logits", "only the new token's next-token scores are needed: the unembedding is V "
                                       "dot products, not T·V",
            _decode_with(unembed=lambda s, T: (T * s.vocab_size, s.d_model))),
    Mistake("d_model for H·d_head", "you used d_model where H·d_head belongs: 3·H·d_head Q/K/V outputs, and an "
                                    "output projection that reads H·d_head inputs",
            _decode_with(qkv=lambda s, T: (3 * s.d_model, s.d_model),
                         out_proj=lambda s, T: (s.d_model, s.d_model))),
    Mistake("mixing like scores", "the mixing is (1×T weights) @ (T×d_head values): H·d_head dot products of length "
                                  "T per layer, not H·T of length d_head",
            _decode_with(mixing=lambda s, T: (s.n_heads * T, s.d_head))),
)


def _decode_cases(hidden: bool) -> list[Case]:
    cases = _stage_cases(TINY, 7) + _stage_cases(WORKED, 1000, "the worked example") + _unknown_stages(TINY, hidden)
    if not hidden:
        return cases
    extra = _stage_cases(GPT2_SMALL, 1024, "GPT-2 small") + _stage_cases(UNEVEN, 1, "the first token (T=1)")
    for i, shape in enumerate(_random_shapes(703, 2)):
        extra += _stage_cases(shape, 2 + 13 * i, f"random shape {i + 1}")
    return cases + extra


# -- 7.4: the KV cache in bytes --------------------------------------------------------


def _kv(s, T, bytes_per_value=2, *, kinds=2, layers=True, width=None, scale=1.0):
    width = s.d_attn if width is None else width
    return kinds * (s.n_layers if layers else 1) * T * width * bytes_per_value * scale


_KV_MISTAKES = (
    Mistake("keys only", "the cache holds keys and values: two vectors of H·d_head numbers per token per layer",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, kinds=1)),
    Mistake("bits", "you counted bits, not bytes: bytes_per_value already says how many bytes one number takes "
                    "(a float16 is 2 bytes = 16 bits)",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, scale=8)),
    Mistake("one layer", "every layer keeps its own keys and values: multiply by n_layers",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, layers=False)),
    Mistake("d_model for H·d_head", "a token's key (and value) in one layer is H·d_head numbers, all heads side by "
                                    "side; that equals d_model in many models but not in general",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, width=s.d_model)),
    Mistake("one head", "every head has its own keys and values: a token stores H·d_head numbers per layer for "
                        "each, not d_head",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, width=s.d_head)),
    Mistake("fixed 2 bytes", "you assumed 2 bytes per number; use the bytes_per_value you were given "
                             "(4 for float32, 0.5 for 4-bit values)",
            lambda s, T, bytes_per_value=2: _kv(s, T, 2)),
    Mistake("queries too", "only keys and values are cached: a query is used once, by its own token, then "
                           "dropped",
            lambda s, T, bytes_per_value=2: _kv(s, T, bytes_per_value, kinds=3)),
)

_BYTES_HINT = "A number cannot take 0 or fewer bytes: raise ValueError(f'bytes_per_value={bytes_per_value} must be > 0')."


def _kv_cases(hidden: bool) -> list[Case]:
    def label(shape, T, extra=""):
        return f"{_describe(shape)}, T={T}{extra}"

    cases = [
        Case(label(TINY, 7) + ", float16", (TINY, 7), show_inputs=False),
        Case(label(TINY, 10) + ", float32 (bytes_per_value=4)", (TINY, 10), {"bytes_per_value": 4}, show_inputs=False),
        Case("the worked example, " + label(WORKED, 1000) + ", float16", (WORKED, 1000), show_inputs=False),
        Case("bytes_per_value=0", (TINY, 7), {"bytes_per_value": 0}, show_inputs=False, raises=ValueError,
             must_mention=("0",), hint=_BYTES_HINT),
        Case("bytes_per_value=-2", (TINY, 3), {"bytes_per_value": -2}, show_inputs=False, raises=ValueError,
             must_mention=("-2",), hint=_BYTES_HINT),
    ]
    if not hidden:
        return cases
    shape = _random_shapes(704, 1)[0]
    return cases + [
        Case("GPT-2 small, " + label(GPT2_SMALL, 1024) + ", float16", (GPT2_SMALL, 1024), show_inputs=False),
        Case(label(UNEVEN, 1) + ", 4-bit (bytes_per_value=0.5)", (UNEVEN, 1), {"bytes_per_value": 0.5}, show_inputs=False),
        Case("a long context, " + label(WORKED, 100_000) + ", float16", (WORKED, 100_000), show_inputs=False),
        Case("random shape, " + label(shape, 29) + ", bytes_per_value=1", (shape, 29), {"bytes_per_value": 1},
             show_inputs=False),
    ]


# -- 7.5: where attention overtakes the MLP ---------------------------------------------


def _ratio(s):
    """d_model·d_ff / (H·d_head): the length at which the two are equal."""
    return s.d_model * s.d_ff / s.d_attn


def _first_at_least(attention, mlp, limit=10**7):
    """Smallest T >= 1 with attention(T) >= mlp(T), for the mistakes' predictions."""
    lo, hi = 1, 1
    while attention(hi) < mlp(hi):  # both sides are polynomials: double, then bisect
        lo, hi = hi + 1, 2 * hi
        if hi > limit:
            raise OverflowError("no crossover below the limit")
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if attention(mid) >= mlp(mid) else (mid + 1, hi)
    return lo


_CROSSOVER_MISTAKES = (
    Mistake("strictly greater", "at T = d_model·d_ff / (H·d_head) the two are exactly equal, and the question asks "
                                "for the first length at which attention is at least the MLP (>=, not >)",
            lambda s: math.floor(_ratio(s)) + 1),
    Mistake("rounded down", "you rounded the ratio down: at that length attention is still behind. Round up "
                            "(math.ceil, or -(-a // b) with integers)",
            lambda s: math.floor(_ratio(s))),
    Mistake("not rounded", "a length is a whole number of tokens: return the first whole T at which attention "
                           "has caught up, the ratio rounded up",
            _ratio),
    Mistake("last MLP-ahead length", "you returned the last length at which the MLP is still ahead; the question "
                                     "asks for the first at which attention has caught up (one more)",
            lambda s: max(1, math.ceil(_ratio(s)) - 1)),  # a search from T = 1 returns at least 1
    Mistake("d_model for H·d_head", "attention's work per layer is 2·H·d_head·T² MACs (scores and mixing); you "
                                    "used d_model in place of H·d_head",
            lambda s: math.ceil(s.d_ff)),
    Mistake("scores only", "attention proper is two products of equal size: the scores (Q Kᵀ) and the value "
                           "mixing (weights @ V). Counting only the scores puts the crossover twice too far",
            lambda s: math.ceil(2 * _ratio(s))),
    Mistake("one MLP matrix", "the MLP has two matrices of equal work (up and down): counting one halves its cost",
            lambda s: math.ceil(_ratio(s) / 2)),
    Mistake("projections as attention", "only the scores and the mixing grow like T²; the Q/K/V and output "
                                        "projections grow like T, as the MLP does, and this comparison leaves them "
                                        "out",
            lambda s: _first_at_least(lambda T: 4 * T * s.d_model * s.d_attn + 2 * s.d_attn * T * T,
                                      lambda T: 2 * T * s.d_model * s.d_ff)),
    Mistake("one head", "attention runs in every head: its work per layer is 2·H·d_head·T², with the factor H",
            lambda s: math.ceil(s.d_model * s.d_ff / s.d_head)),
)


def _crossover_cases(hidden: bool) -> list[Case]:
    cases = [  # the uneven ratio first: a length that is not whole is then named as such
        Case(f"a shape whose ratio is not whole ({_describe(UNEVEN)})", (UNEVEN,), show_inputs=False),
        Case(f"the worked example ({_describe(WORKED)})", (WORKED,), show_inputs=False),
        Case(f"a small shape ({_describe(TINY)})", (TINY,), show_inputs=False),
    ]
    if not hidden:
        return cases
    wide = TransformerShape(n_layers=80, d_model=8192, n_heads=64, d_head=128, d_ff=28672, vocab_size=32000)
    early = TransformerShape(n_layers=1, d_model=2, n_heads=4, d_head=8, d_ff=3, vocab_size=5)
    return cases + [
        Case(f"GPT-2 small ({_describe(GPT2_SMALL)})", (GPT2_SMALL,), show_inputs=False),
        Case(f"an 80-layer model ({_describe(wide)})", (wide,), show_inputs=False),
        Case(f"attention ahead from the first token ({_describe(early)})", (early,), show_inputs=False),
    ] + [Case(f"random shape {i + 1} ({_describe(s)})", (s,), show_inputs=False)
         for i, s in enumerate(_random_shapes(705, 3))]


# -- 7.6: arithmetic intensity ---------------------------------------------------------


def _traffic(m, k, n):
    return m * k + k * n + m * n


_INTENSITY_MISTAKES = (
    Mistake("no output", "the result has to be written back too: the bytes are bytes_per_value·(M·K + K·N + M·N)",
            lambda m, k, n, bytes_per_value=2: 2 * m * k * n / (bytes_per_value * (m * k + k * n))),
    Mistake("MACs", "you divided MACs by bytes; intensity is FLOPs per byte, and 1 MAC = 2 FLOPs",
            lambda m, k, n, bytes_per_value=2: m * k * n / (bytes_per_value * _traffic(m, k, n))),
    Mistake("bits", "you counted bits, not bytes: bytes_per_value is already in bytes",
            lambda m, k, n, bytes_per_value=2: 2 * m * k * n / (8 * bytes_per_value * _traffic(m, k, n))),
    Mistake("fixed 2 bytes", "you assumed 2 bytes per number; use the bytes_per_value you were given",
            lambda m, k, n, bytes_per_value=2: 2 * m * k * n / (2 * _traffic(m, k, n))),
    Mistake("weights only", "you counted only the (K×N) matrix as traffic; the (M×K) input is read and the (M×N) "
                            "result written too",
            lambda m, k, n, bytes_per_value=2: 2 * m * k * n / (bytes_per_value * k * n)),
    Mistake("upside down", "you divided bytes by FLOPs; intensity is FLOPs per byte",
            lambda m, k, n, bytes_per_value=2: bytes_per_value * _traffic(m, k, n) / (2 * m * k * n)),
    Mistake("values, not bytes", "you divided by the number of values moved; multiply it by bytes_per_value to "
                                 "get bytes",
            lambda m, k, n, bytes_per_value=2: 2 * m * k * n / _traffic(m, k, n)),
)


def _intensity_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("one token through a 4096×4096 float16 matrix", (1, 4096, 4096)),
        Case("a 1000-token prompt through the same matrix", (1000, 4096, 4096)),
        Case("a float32 square product", (64, 64, 64), {"bytes_per_value": 4}),
        Case("bytes_per_value=0", (2, 3, 4), {"bytes_per_value": 0}, raises=ValueError, must_mention=("0",),
             hint=_BYTES_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(706)
    m, k, n = (int(x) for x in rng.integers(1, 300, size=3))
    return cases + [
        Case("a small product", (3, 5, 7)),
        Case("4-bit weights (bytes_per_value=0.5)", (1, 512, 2048), {"bytes_per_value": 0.5}),
        Case("random sizes, float32", (m, k, n), {"bytes_per_value": 4}),
        Case("1×1 matrices", (1, 1, 1)),
        Case("bytes_per_value=-1", (2, 3, 4), {"bytes_per_value": -1}, raises=ValueError, must_mention=("-1",),
             hint=_BYTES_HINT),
    ]


# -- hidden edges, drawn from the instructor's seed ----------------------------------------------


def _matmul_edges(rng) -> list[Case]:
    m, k, n = (int(x) for x in rng.integers(1, 5000, size=3))
    return [
        Case("a single dot product: (1×k) @ (k×1)", (1, k, 1)),
        Case("an outer product: (m×1) @ (1×n)", (m, 1, n)),
        Case("sizes as NumPy integers", (np.int64(m), np.int64(k), np.int64(n))),
        # counts past 2**31: an int32 (or a float32) running total goes wrong here
        Case("a product of 10^13 MACs", (100_000, 16_384, 8_192)),
    ]


def _stage_edges(rng) -> list[Case]:
    shape = _random_shapes(rng, 1)[0]
    long = int(rng.integers(50_000, 200_000))
    return (_stage_cases(shape, 1, "one token (T=1)") + _stage_cases(WORKED, long, f"a long context (T={long})")
            + _stage_cases(shape, np.int64(int(rng.integers(2, 50))), "T as a NumPy integer"))


def _kv_edges(rng) -> list[Case]:
    shape = _random_shapes(rng, 1)[0]
    return [
        Case(f"one token ({_describe(shape)})", (shape, 1), show_inputs=False),
        Case(f"bytes_per_value=1 ({_describe(shape)})", (shape, int(rng.integers(2, 99))), {"bytes_per_value": 1},
             show_inputs=False),
        Case("a million tokens of the worked example, float32", (WORKED, 1_000_000), {"bytes_per_value": 4},
             show_inputs=False),
        Case("bytes_per_value given as an int 4", (shape, 7), {"bytes_per_value": int(4)}, show_inputs=False),
    ]


def _crossover_edges(rng) -> list[Case]:
    shapes = _random_shapes(rng, 2)
    exact = TransformerShape(n_layers=1, d_model=6, n_heads=2, d_head=3, d_ff=4, vocab_size=5)  # ratio exactly 4
    return [Case(f"random shape ({_describe(s)})", (s,), show_inputs=False) for s in shapes] + [
        Case(f"a ratio that is a whole number ({_describe(exact)})", (exact,), show_inputs=False),
    ]


def _intensity_edges(rng) -> list[Case]:
    m, k, n = (int(x) for x in rng.integers(1, 3000, size=3))
    return [
        Case("one dot product (1×k) @ (k×1)", (1, k, 1)),
        Case("sizes as NumPy integers", (np.int64(m), np.int64(k), np.int64(n))),
        Case("bytes_per_value as an int", (m, k, n), {"bytes_per_value": 1}),
        Case("a product of 10^13 MACs", (100_000, 16_384, 8_192)),
    ]


# -- the tasks ------------------------------------------------------------------------------

_COUNT = Number(integer=True)
# Counting is arithmetic: Python, math, exact fractions and decimals, NumPy's routines; the
# shape's fields, not the course's cost model (nothing from dotlab).
_ARITHMETIC = allow(PYTHON, MATH, STDLIB, NUMPY, {"fractions.*", "decimal.*"},
                    methods=METHODS | {"n_layers", "d_model", "n_heads", "d_head", "d_ff", "vocab_size", "d_attn",
                                       "n_kv_heads", "d_kv", "window"},
                    says="arithmetic on the shape's fields (shape.n_layers, shape.d_model, ...), nothing from dotlab")
_STAGE_PARAMS = ("shape", "T", "stage")

MATMUL_COUNT = Task(
    "7.1", "matmul_count", reference=_matmul_reference, cases=_matmul_cases, mistakes=_MATMUL_MISTAKES,
    returns=TupleOf((_COUNT,) * 4, ("dot_products", "length", "macs", "flops")), allowed=_ARITHMETIC,
    forbidden=_no_reference("dotlab.cost.matmul_count"), edges=_matmul_edges, params_=("m", "k", "n"), **_EXACT,
    doc="(dot_products, length, macs, flops) for (M×K) @ (K×N).",
)
PREFILL_COUNT = Task(
    "7.2", "prefill_count", reference=_table_reference(cost.prefill_cost), cases=_prefill_cases,
    mistakes=_PREFILL_MISTAKES, returns=TupleOf((_COUNT, _COUNT), ("dot_products", "length")), allowed=_ARITHMETIC,
    forbidden=_no_reference("dotlab.cost.prefill_cost", "dotlab.cost.decode_cost"), edges=_stage_edges,
    params_=_STAGE_PARAMS, **_EXACT, doc="(dot_products, length) of one stage of a prefill of T tokens.",
)
DECODE_COUNT = Task(
    "7.3", "decode_count", reference=_table_reference(cost.decode_cost), cases=_decode_cases,
    mistakes=_DECODE_MISTAKES, returns=TupleOf((_COUNT, _COUNT), ("dot_products", "length")), allowed=_ARITHMETIC,
    forbidden=_no_reference("dotlab.cost.prefill_cost", "dotlab.cost.decode_cost"), edges=_stage_edges,
    params_=_STAGE_PARAMS, **_EXACT, doc="(dot_products, length) of one stage of a decode step with T tokens.",
)
KV_CACHE_BYTES = Task(
    "7.4", "kv_cache_bytes", reference=cost.kv_cache_bytes, cases=_kv_cases, mistakes=_KV_MISTAKES,
    returns=Number(), allowed=_ARITHMETIC, forbidden=_no_reference("dotlab.cost.kv_cache_bytes"), edges=_kv_edges,
    params_=("shape", "T", "bytes_per_value"), **_EXACT, doc="bytes held by the key and value cache for T tokens.",
)
CROSSOVER_LENGTH = Task(
    "7.5", "crossover_length", reference=cost.attention_mlp_crossover, cases=_crossover_cases,
    mistakes=_CROSSOVER_MISTAKES, returns=_COUNT, allowed=_ARITHMETIC,
    forbidden=_no_reference("dotlab.cost.attention_mlp_crossover"), edges=_crossover_edges, params_=("shape",),
    **_EXACT, doc="the shortest prompt at which attention's MACs reach the MLP's.",
)
MATMUL_INTENSITY = Task(
    "7.6", "matmul_intensity", reference=roofline.matmul_intensity, cases=_intensity_cases,
    mistakes=_INTENSITY_MISTAKES, returns=Number(), allowed=_ARITHMETIC,
    forbidden=_no_reference("dotlab.roofline.matmul_intensity"), edges=_intensity_edges,
    # a ratio, not a count: the text asks for no precision, and float32 keeps ~7 digits (a
    # float32 answer is off by ~1e-8); the nearest catalogued mistake is off by 2e-4
    params_=("m", "k", "n", "bytes_per_value"), rtol=1e-6, atol=0.0,
    doc="FLOPs per byte of (M×K) @ (K×N), each operand read or written once.",
)

TASKS = {task.id: task for task in (MATMUL_COUNT, PREFILL_COUNT, DECODE_COUNT, KV_CACHE_BYTES, CROSSOVER_LENGTH,
                                    MATMUL_INTENSITY)}
CHECKS = tasks_table(*TASKS.values())
(check_matmul_count, check_prefill_count, check_decode_count, check_kv_cache_bytes, check_crossover_length,
 check_matmul_intensity) = CHECKS.values()
