"""Chapter 7: what a transformer's dot products cost, counted stage by stage.

Shape vocabulary (the course's, used the same way everywhere): ``T`` tokens in the
context, ``L`` layers (``n_layers``), ``d_model`` the width of the residual stream, ``H``
heads (``n_heads``) of width ``d_head``, ``d_attn = H·d_head``, ``d_ff`` the MLP's hidden
width, ``V`` the vocabulary (``vocab_size``).

Three rungs of counting, each a different question:

1. **dot products**: how many times one vector meets another (events);
2. **length**: how many components each of those dot products pairs up;
3. **MACs** (multiply-accumulates) ``= dot_products × length``, and **FLOPs** ``= 2 × MACs``.

A matrix product ``(m, k) @ (k, n)`` is ``m·n`` dot products of length ``k``
(:func:`matmul_count`), and every stage below is one such product, repeated per layer
and, inside attention, per head.

Conventions, chosen to agree exactly with ``torch.utils.flop_counter.FlopCounterMode``:

- One MAC counts as 2 FLOPs, although a dot product of length ``k`` needs only ``2k - 1``
  (``k`` multiplies, ``k - 1`` adds); PyTorch's counter rounds the same way.
- Only dot products are counted. Layer norms, softmax, the ``1/sqrt(d_head)`` scale,
  the causal mask, biases, GELU, residual additions and the embedding lookup are left
  out: none of them is a dot product, and together they are a small fraction of the
  arithmetic at any realistic size.
- Attention is counted dense: all ``T × T`` query-key pairs, as a plain
  ``q @ k.transpose(-2, -1)`` computes them, with no discount for the causal mask
  (a masked score is computed and then thrown away).
- The MLP is the classic two-matrix one (GPT-2's). A gated MLP (SwiGLU, as in LLaMA)
  has a third ``d_model × d_ff`` matrix; that is not modelled.
- Grouped-query attention (``n_kv_heads < n_heads``; multi-query when it is 1) shrinks
  the K and V projections and the cache, not the scores: every query head still meets
  every key it may see (Shazeer 2019; Ainslie et al. 2023).
- A sliding window (``window = w``) lets each query see at most ``w`` keys, so a query
  meets ``min(T, w)`` keys, again counted dense: the first ``w - 1`` queries, which
  have fewer keys behind them, get no discount, as the causal mask gets none. The
  cache keeps the last ``w`` tokens (a rolling cache).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "STAGES",
    "CostTable",
    "DecodeTraffic",
    "StageCost",
    "TransformerShape",
    "WholeNumberError",
    "arithmetic_intensity",
    "attention_mlp_crossover",
    "decode_bytes_moved",
    "decode_cost",
    "kaplan_forward_flops",
    "kv_cache_bytes",
    "matmul_count",
    "matmul_weight_count",
    "prefill_cost",
]

#: The stages of a forward pass, in the order the data meets them.
STAGES = ("qkv", "scores", "mixing", "out_proj", "mlp_up", "mlp_down", "unembed")


class WholeNumberError(TypeError, ValueError):
    """A size or a count that is not a whole number, such as ``T=2.5`` or ``T="10"``.

    It is both a ``TypeError`` (the value is the wrong kind of thing) and a
    ``ValueError`` (so code that checks values catches it too), the way NumPy's
    ``AxisError`` is both a ``ValueError`` and an ``IndexError``.
    """


def _count(value, name: str) -> int:
    """``value`` as a Python int >= 1, or an error naming ``name`` and the value."""
    # bool is an int subclass, but True layers is a typo, not a size.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise WholeNumberError(
            f"{name}={value!r} must be a whole number (an int), not {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(f"{name}={value!r} must be at least 1")
    # Python ints never overflow; int64 would at T = 10^5 with L·H·T² products.
    return int(value)


def _positive_real(value, name: str, *, allow_zero: bool = False) -> float | int:
    """A finite real number > 0 (or >= 0), or an error naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} must be a finite number {bound}")
    return value


# ----------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class TransformerShape:
    """The sizes a GPT-style decoder's cost depends on, and nothing else.

    Parameters
    ----------
    n_layers : int
        ``L``, the number of blocks (attention followed by an MLP).
    d_model : int
        Width of the residual stream.
    n_heads : int
        ``H``, attention heads per layer.
    d_head : int
        Width of one head's queries, keys and values.
    d_ff : int
        Hidden width of the MLP.
    vocab_size : int
        ``V``, the number of tokens the model scores.
    n_kv_heads : int, optional
        Key/value heads per layer; defaults to ``n_heads``. Fewer is grouped-query
        attention (``n_heads / n_kv_heads`` query heads share one key/value head), 1 is
        multi-query attention. Must divide ``n_heads``.
    window : int or None, default None
        ``None`` for full attention; otherwise each query sees at most ``window`` keys
        (its own and the ``window - 1`` before it), and the cache keeps that many tokens.

    Raises
    ------
    ValueError
        If a field is less than 1, or ``n_kv_heads`` does not divide ``n_heads``; the
        message names the field and its value.
    WholeNumberError
        (a ``TypeError`` and a ``ValueError``) if a field is not an int.

    Examples
    --------
    >>> gpt2 = TransformerShape(n_layers=12, d_model=768, n_heads=12, d_head=64,
    ...                         d_ff=3072, vocab_size=50257)
    >>> gpt2.d_attn
    768
    >>> gpt2.n_kv_heads, gpt2.window  # the defaults: every head its own keys, no window
    (12, None)
    >>> TransformerShape(32, 4096, 32, 128, 14336, 32000, n_kv_heads=8).d_kv
    1024
    >>> TransformerShape(12, 768, 12, 64, 3072, vocab_size=0)
    Traceback (most recent call last):
    ...
    ValueError: vocab_size=0 must be at least 1
    """

    n_layers: int
    d_model: int
    n_heads: int
    # Its own field because H·d_head need not equal d_model: Gemma 7B has 16 heads of
    # 256 = 4096 on a 3072-wide residual stream (Gemma Team 2024, Table 1).
    d_head: int
    # GPT-2 uses 4·d_model (Radford et al. 2019); many later models do not.
    d_ff: int
    # The unembedding's row count, which may be padded: nanoGPT rounds GPT-2's 50257 up
    # to 50304 because a multiple of 64 runs faster, and the padding costs arithmetic.
    vocab_size: int
    # None means "as many as n_heads"; stored resolved, so a shape that spells out
    # n_kv_heads=n_heads equals one that leaves it out.
    n_kv_heads: int | None = None
    # None is full attention. Mistral 7B uses 4096 (Jiang et al. 2023).
    window: int | None = None

    def __post_init__(self):
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "window" and value is None:
                continue
            # A frozen dataclass refuses setattr; normalising np.int64 to int is still ours to do.
            object.__setattr__(self, field.name, _count(value, field.name))
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"n_kv_heads={self.n_kv_heads} must divide n_heads={self.n_heads}: each key/value"
                " head serves the same number of query heads"
            )

    @property
    def d_attn(self) -> int:
        """``H·d_head``: the width attention works in (Kaplan et al. 2020 call it d_attn)."""
        return self.n_heads * self.d_head

    @property
    def d_kv(self) -> int:
        """``n_kv_heads·d_head``: the width of the keys (and of the values) one token caches per layer."""
        return self.n_kv_heads * self.d_head

    def keys_seen(self, T: int) -> int:
        """How many keys one query meets in a context of ``T`` tokens: ``min(T, window)``.

        Examples
        --------
        >>> TransformerShape(1, 8, 2, 4, 32, 10, window=3).keys_seen(10)
        3
        >>> TransformerShape(1, 8, 2, 4, 32, 10).keys_seen(10)
        10
        """
        T = _count(T, "T")
        return T if self.window is None else min(T, self.window)


def _check_shape(shape) -> TransformerShape:
    if not isinstance(shape, TransformerShape):
        raise TypeError(
            f"shape={shape!r:.80} is a {type(shape).__name__}, but must be a TransformerShape;"
            " build one with TransformerShape(n_layers, d_model, n_heads, d_head, d_ff, vocab_size)"
        )
    return shape


# ------------------------------------------------------------------ rows and tables


@dataclass(frozen=True)
class StageCost:
    """The cost of one stage: how many dot products, how long, how much arithmetic.

    ``length`` is ``None`` on a sum of stages whose dot products have different lengths
    (the ``total`` row, for instance); ``macs / dot_products`` is then their mean length.
    """

    name: str
    dot_products: int
    length: int | None
    macs: int
    flops: int

    def repeated(self, times: int, name: str | None = None) -> StageCost:
        """The same dot products done ``times`` times over (per head, per layer)."""
        return StageCost(
            name or self.name,
            self.dot_products * times,
            self.length,
            self.macs * times,
            self.flops * times,
        )


def _sum(rows, name: str) -> StageCost:
    rows = list(rows)
    lengths = {row.length for row in rows}
    return StageCost(
        name,
        sum(row.dot_products for row in rows),
        lengths.pop() if len(lengths) == 1 else None,
        sum(row.macs for row in rows),
        sum(row.flops for row in rows),
    )


@dataclass(frozen=True)
class CostTable:
    """Stage-by-stage costs: index by stage name, iterate over rows, read ``.total``.

    Examples
    --------
    >>> table = prefill_cost(TransformerShape(1, 4, 2, 2, 16, 10), T=3)
    >>> [row.name for row in table]
    ['qkv', 'scores', 'mixing', 'out_proj', 'mlp_up', 'mlp_down', 'unembed']
    >>> table["scores"].dot_products, table["scores"].length
    (18, 2)
    >>> table.total.flops
    1536
    """

    title: str
    rows: tuple[StageCost, ...]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> StageCost:
        if name == "total":
            return self.total
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no stage named {name!r}; the stages are {[r.name for r in self.rows]} and 'total'")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.rows)

    @property
    def total(self) -> StageCost:
        """Every stage added up; ``length`` is None unless all stages share one length."""
        return _sum(self.rows, "total")

    def subtotal(self, *names: str) -> StageCost:
        """The named stages added up, e.g. ``subtotal("scores", "mixing")`` for attention proper."""
        if not names:
            raise ValueError("subtotal() needs at least one stage name, e.g. subtotal('mlp_up', 'mlp_down')")
        return _sum((self[name] for name in names), "+".join(names))

    def to_markdown(self) -> str:
        """A Markdown table for a page: one line per stage, then the total.

        Counts in engineering units (:func:`dotlab.outputs.engineering`: 2.42 T is 2.42
        trillion), so the table fits a page's column; FLOPs are 2 × MACs in every row,
        so the header says so once instead of a column of them.

        Examples
        --------
        >>> print(prefill_cost(TransformerShape(1, 4, 2, 2, 16, 10), T=3).to_markdown())
        | stage | dot products | length | MACs (FLOPs = 2 × MACs) | share |
        |---|---:|---:|---:|---:|
        | qkv | 36 | 4 | 144 | 18.8% |
        | scores | 18 | 2 | 36 | 4.7% |
        | mixing | 12 | 3 | 36 | 4.7% |
        | out_proj | 12 | 4 | 48 | 6.2% |
        | mlp_up | 48 | 4 | 192 | 25.0% |
        | mlp_down | 12 | 16 | 192 | 25.0% |
        | unembed | 30 | 4 | 120 | 15.6% |
        | **total** | 168 | — | 768 | 100.0% |
        >>> print(prefill_cost(TransformerShape(48, 4096, 32, 128, 16384, 50257), T=1000).to_markdown())
        ... # doctest: +ELLIPSIS
        | stage | dot products | length | MACs (FLOPs = 2 × MACs) | share |
        ...
        | **total** | 3.55\\xa0G | — | 10.3\\xa0T | 100.0% |

        A count and its unit are joined by a no-break space (``\\xa0``), so a narrow
        column never splits them.
        """
        from dotlab.outputs import engineering

        total = self.total
        lines = [
            "| stage | dot products | length | MACs (FLOPs = 2 × MACs) | share |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in (*self.rows, total):
            name = f"**{row.name}**" if row is total else row.name
            length = "—" if row.length is None else f"{row.length:,}"
            share = row.macs / total.macs
            lines.append(
                f"| {name} | {engineering(row.dot_products)} | {length} | {engineering(row.macs)} | {share:.1%} |"
            )
        return "\n".join(lines)


def matmul_count(m: int, k: int, n: int) -> StageCost:
    """Count the dot products in one matrix product ``(m, k) @ (k, n)``.

    Every entry of the ``(m, n)`` result is one dot product of a row (length ``k``) with
    a column (length ``k``).

    Parameters
    ----------
    m, k, n : int
        The shapes: ``(m, k) @ (k, n) -> (m, n)``.

    Returns
    -------
    StageCost
        Named ``"matmul"``, with ``dot_products = m·n``, ``length = k``,
        ``macs = m·n·k`` and ``flops = 2·m·n·k`` (the FlopCounterMode convention).

    Raises
    ------
    ValueError, WholeNumberError
        If a size is not a whole number >= 1.

    Examples
    --------
    >>> matmul_count(2, 3, 4)
    StageCost(name='matmul', dot_products=8, length=3, macs=24, flops=48)
    """
    m, k, n = _count(m, "m"), _count(k, "k"), _count(n, "n")
    return StageCost("matmul", m * n, k, m * n * k, 2 * m * n * k)


def _stages(s: TransformerShape, n_new: int, n_keys: int, n_logits: int) -> tuple[StageCost, ...]:
    """The seven stages when ``n_new`` positions attend to ``n_keys`` keys.

    Prefill is ``n_new = n_keys = T``; a decode step is ``n_new = 1``, ``n_keys = T``.
    Each stage is one matrix product, done once per layer or once per head per layer.
    With a window, each query meets only ``min(n_keys, window)`` of the keys.
    """
    n_keys = n_keys if s.window is None else min(n_keys, s.window)
    per_layer = {
        # x (n_new, d_model) @ W_qkv (d_model, d_attn + 2·d_kv): queries, keys and values
        # at once; grouped-query attention makes only n_kv_heads keys and values.
        "qkv": (matmul_count(n_new, s.d_model, s.d_attn + 2 * s.d_kv), 1),
        # q (n_new, d_head) @ kᵀ (d_head, n_keys), in every head.
        "scores": (matmul_count(n_new, s.d_head, n_keys), s.n_heads),
        # weights (n_new, n_keys) @ v (n_keys, d_head), in every head.
        "mixing": (matmul_count(n_new, n_keys, s.d_head), s.n_heads),
        # heads side by side (n_new, d_attn) @ W_o (d_attn, d_model).
        "out_proj": (matmul_count(n_new, s.d_attn, s.d_model), 1),
        "mlp_up": (matmul_count(n_new, s.d_model, s.d_ff), 1),
        "mlp_down": (matmul_count(n_new, s.d_ff, s.d_model), 1),
    }
    rows = [mm.repeated(per * s.n_layers, name) for name, (mm, per) in per_layer.items()]
    # The vocabulary is scored once, after the last layer: x (n_logits, d_model) @ W_uᵀ.
    rows.append(matmul_count(n_logits, s.d_model, s.vocab_size).repeated(1, "unembed"))
    return tuple(rows)


def prefill_cost(shape: TransformerShape, T: int, logits: str = "all") -> CostTable:
    """Count the dot products of one forward pass over a prompt of ``T`` tokens.

    ====================  ==========================  ==============
    stage                 dot products                length
    ====================  ==========================  ==============
    ``qkv``               ``L · T · (H + 2·n_kv)·d_head``  ``d_model``
    ``scores``            ``L · H · T · T_k``         ``d_head``
    ``mixing``            ``L · H · T · d_head``      ``T_k``
    ``out_proj``          ``L · T · d_model``         ``H·d_head``
    ``mlp_up``            ``L · T · d_ff``            ``d_model``
    ``mlp_down``          ``L · T · d_model``         ``d_ff``
    ``unembed``           ``T · V`` (or ``V``)        ``d_model``
    ====================  ==========================  ==============

    ``n_kv = shape.n_kv_heads`` (``H`` unless grouped-query) and ``T_k`` is the keys a
    query meets, ``T``, or ``min(T, window)`` with a sliding window.

    ``macs = dot_products × length`` and ``flops = 2 × macs``, the convention of PyTorch's
    ``FlopCounterMode``, which the course's tests check these counts against exactly.
    Attention is dense (no causal discount); norms, softmax, biases and GELU are not
    dot products and are left out (see the module docstring).

    Per token, leaving out ``unembed``, with full attention, this is
    ``2N + 4·L·T·d_attn`` FLOPs with
    ``N = matmul_weight_count(shape, include_unembed=False)``. Kaplan et al. (2020,
    Table 1) count ``2N + 2·L·n_ctx·d_attn`` (:func:`kaplan_forward_flops`): the same
    ``2N``, but half our attention term, because we count both attention products
    (``scores`` and ``mixing``) over every query-key pair.

    Parameters
    ----------
    shape : TransformerShape
    T : int
        Tokens in the prompt, >= 1.
    logits : {"all", "last"}, default "all"
        ``"all"`` scores the vocabulary at every position (training); ``"last"`` only
        at the last one (what generation needs).

    Returns
    -------
    CostTable
        Rows named as in :data:`STAGES`, and a ``.total``.

    Raises
    ------
    TypeError
        If ``shape`` is not a :class:`TransformerShape`.
    ValueError, WholeNumberError
        If ``T`` is not a whole number >= 1, or ``logits`` is not "all" or "last".

    Examples
    --------
    The syllabus's worked example: at T = 1000 the MLP does 16 times the arithmetic of
    attention's scores and mixing.

    >>> shape = TransformerShape(n_layers=48, d_model=4096, n_heads=32, d_head=128,
    ...                          d_ff=16384, vocab_size=50257)
    >>> table = prefill_cost(shape, T=1000)
    >>> table["scores"]
    StageCost(name='scores', dot_products=1536000000, length=128, macs=196608000000, flops=393216000000)
    >>> table.subtotal("mlp_up", "mlp_down").macs / table.subtotal("scores", "mixing").macs
    16.384
    >>> prefill_cost(shape, T=1000, logits="last")["unembed"].dot_products
    50257

    Eight key/value heads shrink only ``qkv``; a window of 256 shrinks the scores:

    >>> from dataclasses import replace
    >>> prefill_cost(replace(shape, n_kv_heads=8), T=1000)["qkv"].dot_products
    294912000
    >>> prefill_cost(replace(shape, window=256), T=1000)["scores"].dot_products
    393216000
    """
    shape, T = _check_shape(shape), _count(T, "T")
    if logits not in ("all", "last"):
        raise ValueError(
            f"logits={logits!r} must be 'all' (score the vocabulary at every position, as in"
            " training) or 'last' (only at the last position, as in generation)"
        )
    n_logits = T if logits == "all" else 1
    return CostTable(f"prefill, T={T}, logits={logits!r}", _stages(shape, T, T, n_logits))


def decode_cost(shape: TransformerShape, T: int) -> CostTable:
    """Count the dot products that produce one new token from a KV cache.

    The context, the new token included, holds ``T`` tokens. The new token's query meets
    ``T`` keys in every head of every layer (``scores``: ``L·H·T`` dot products of length
    ``d_head``); its mixing reads ``T`` values (``L·H·d_head`` dot products of length
    ``T``). The projections, the MLP and the unembedding run for one token only. With a
    window, ``min(T, window)`` keys and values take the place of ``T``.

    Every stage is exactly ``1/T`` of :func:`prefill_cost` ``(shape, T)`` with
    ``logits="all"``: dense prefill does, for each of its ``T`` positions, what one
    decode step does for the last.

    Parameters
    ----------
    shape : TransformerShape
    T : int
        Tokens in the context including the new one, >= 1.

    Returns
    -------
    CostTable

    Raises
    ------
    TypeError
        If ``shape`` is not a :class:`TransformerShape`.
    ValueError, WholeNumberError
        If ``T`` is not a whole number >= 1.

    Examples
    --------
    >>> shape = TransformerShape(48, 4096, 32, 128, 16384, 50257)
    >>> step = decode_cost(shape, T=1000)
    >>> step["scores"].dot_products   # L·H·T
    1536000
    >>> step["mixing"].length
    1000
    >>> step["unembed"].dot_products  # V
    50257
    >>> decode_cost(TransformerShape(48, 4096, 32, 128, 16384, 50257, window=256),
    ...             T=1000)["scores"].dot_products   # L·H·window
    393216
    """
    shape, T = _check_shape(shape), _count(T, "T")
    return CostTable(f"decode one token, T={T}", _stages(shape, 1, T, 1))


# ------------------------------------------------------------------- what compares


def attention_mlp_crossover(shape: TransformerShape) -> int:
    """The shortest prompt at which attention's arithmetic catches up with the MLP's.

    Per layer, for ``T`` tokens, ``scores`` and ``mixing`` cost ``H·T·T·d_head`` MACs
    each, ``2·H·d_head·T²`` together; ``mlp_up`` and ``mlp_down`` cost
    ``T·d_model·d_ff`` each, ``2·T·d_model·d_ff`` together. Dividing both by ``2·T``::

        attention >= MLP  <=>  H·d_head·T >= d_model·d_ff
                          <=>  T >= T* = d_model·d_ff / (H·d_head)

    so the answer is ``ceil(d_model·d_ff / (H·d_head))``, independent of ``L``, ``V``
    and ``n_kv_heads``. A window smaller than that answer means a query never meets
    enough keys, and attention never catches up: a ``ValueError`` says so.
    When the division is exact the two are equal at ``T*`` and attention is ahead from
    ``T* + 1`` on. The same ``T*`` holds for one decode step with ``T`` tokens of
    context (both sides lose the factor ``T``). Only ``scores`` and ``mixing`` count as
    attention here; the Q/K/V and output projections grow like ``T``, as the MLP does.

    Parameters
    ----------
    shape : TransformerShape

    Returns
    -------
    int
        The smallest ``T >= 1`` with scores + mixing MACs >= MLP MACs.

    Raises
    ------
    ValueError
        If the shape's window is too small for attention ever to catch up.

    Examples
    --------
    >>> attention_mlp_crossover(TransformerShape(48, 4096, 32, 128, 16384, 50257))
    16384
    >>> attention_mlp_crossover(TransformerShape(12, 768, 12, 64, 3072, 50257))  # GPT-2 small
    3072
    """
    shape = _check_shape(shape)
    t_star = -(-shape.d_model * shape.d_ff // shape.d_attn)  # ceiling division, exact for ints
    if shape.window is not None and shape.window < t_star:
        # Past the window attention grows like T, as the MLP does: it never catches up.
        raise ValueError(
            f"with window={shape.window} attention never catches up with the MLP: a query meets"
            f" at most {shape.window} keys, and it would need {t_star}"
        )
    return t_star


def matmul_weight_count(shape: TransformerShape, include_unembed: bool = True) -> int:
    """The number of weights that take part in dot products.

    ``L·(d_model·(2·d_attn + 2·d_kv) + 2·d_model·d_ff)`` for the blocks (W_qkv, W_o,
    W_up, W_down; ``d_kv = d_attn`` without grouped-query attention, hence
    ``4·d_model·d_attn``),
    plus ``V·d_model`` for the unembedding. Biases, norm gains, and the embedding tables
    (read by lookup, one row per token, not by dot products) are not included.
    Without the unembedding this is Kaplan et al.'s (2020) non-embedding ``N``.

    Parameters
    ----------
    shape : TransformerShape
    include_unembed : bool, default True
        Count the ``V × d_model`` unembedding (tied to the embedding or not: tying
        shares the values, it does not remove the dot products).

    Returns
    -------
    int

    Examples
    --------
    >>> matmul_weight_count(TransformerShape(12, 768, 12, 64, 3072, 50257), include_unembed=False)
    84934656
    """
    s = _check_shape(shape)
    blocks = s.n_layers * (s.d_model * (2 * s.d_attn + 2 * s.d_kv) + 2 * s.d_model * s.d_ff)
    return blocks + (s.vocab_size * s.d_model if include_unembed else 0)


def kaplan_forward_flops(shape: TransformerShape, n_ctx: int) -> int:
    """Forward FLOPs per token by Kaplan et al. (2020, Table 1): ``2N + 2·L·n_ctx·d_attn``.

    ``N`` is the non-embedding parameter count, here
    ``matmul_weight_count(shape, include_unembed=False)``. The table leaves out the
    unembedding ("de-embed"). Our :func:`prefill_cost` per token without ``unembed`` is
    ``2N + 4·L·T·d_attn``: we count both attention products, dense.

    Parameters
    ----------
    shape : TransformerShape
    n_ctx : int
        Tokens of context, >= 1.

    Returns
    -------
    int
        FLOPs per token of one forward pass.

    Examples
    --------
    >>> gpt2 = TransformerShape(12, 768, 12, 64, 3072, 50257)
    >>> kaplan_forward_flops(gpt2, n_ctx=1024)
    188743680
    """
    s, n_ctx = _check_shape(shape), _count(n_ctx, "n_ctx")
    return 2 * matmul_weight_count(s, include_unembed=False) + 2 * s.n_layers * n_ctx * s.d_attn


# ---------------------------------------------------------------------------- memory


def kv_cache_bytes(shape: TransformerShape, T: int, bytes_per_value: float = 2) -> int | float:
    """Bytes held by the key and value cache for ``T`` tokens.

    ``2 · L · T · n_kv_heads · d_head · bytes_per_value``: a key and a value vector of
    ``d_head`` numbers, per token, per key/value head, per layer. Grouped-query attention
    caches ``n_kv_heads`` heads instead of ``H``, ``H / n_kv_heads`` times less. With a
    window the cache is rolling: it holds the last ``window`` tokens, so ``T`` is capped
    at ``window``.

    Parameters
    ----------
    shape : TransformerShape
    T : int
        Tokens in the cache, >= 1.
    bytes_per_value : int or float, default 2
        2 for float16/bfloat16, 4 for float32, 0.5 for 4-bit quantised values.

    Returns
    -------
    int or float
        An int when ``bytes_per_value`` is an int.

    Examples
    --------
    >>> shape = TransformerShape(48, 4096, 32, 128, 16384, 50257)
    >>> kv_cache_bytes(shape, T=1000)
    786432000
    >>> kv_cache_bytes(shape, T=1000) / 2**20  # MiB
    750.0
    >>> from dataclasses import replace
    >>> kv_cache_bytes(replace(shape, n_kv_heads=8), T=1000) / 2**20  # 32 / 8 = 4 x less
    187.5
    >>> kv_cache_bytes(replace(shape, window=256), T=1000) / 2**20    # 256 tokens kept
    192.0
    """
    s, T = _check_shape(shape), _count(T, "T")
    bytes_per_value = _positive_real(bytes_per_value, "bytes_per_value")
    return 2 * s.n_layers * s.keys_seen(T) * s.d_kv * bytes_per_value


@dataclass(frozen=True)
class DecodeTraffic:
    """Bytes read from memory to produce one token: the weights, then the KV cache."""

    weights: int | float
    kv_cache: int | float

    @property
    def total(self) -> int | float:
        return self.weights + self.kv_cache


def decode_bytes_moved(shape: TransformerShape, T: int, bytes_per_value: float = 2) -> DecodeTraffic:
    """Estimate the bytes one decode step must read, for a batch of one sequence.

    To produce one token, every weight that takes part in a dot product is read once
    (:func:`matmul_weight_count`: the blocks and the unembedding), and so is every
    cached key and value (:func:`kv_cache_bytes` for ``T`` tokens, the new one
    included). Each of those values takes part in exactly one multiply-accumulate of
    the step, so its arithmetic intensity is exactly ``2 / bytes_per_value`` FLOPs per
    byte (1.0 at 16 bits), whatever the shape and ``T``: far below any processor's
    FLOP/s per byte/s, so memory, not arithmetic, sets decode's pace.

    This is a lower bound on traffic under stated simplifications: each value crosses
    from memory to the processor exactly once (no cache re-reads), and activations,
    biases, norm gains, the embedding row lookup and the write of the new key and value
    (``2·L·d_kv`` values) are ignored, all small beside the rest. With a batch of B
    sequences the weights would be read once for all B while each sequence reads its own
    cache; that is not modelled here.

    Parameters
    ----------
    shape : TransformerShape
    T : int
        Tokens in the context including the new one, >= 1.
    bytes_per_value : int or float, default 2
        Bytes per weight and per cached value (the same for both here).

    Returns
    -------
    DecodeTraffic
        ``weights``, ``kv_cache`` and their ``total``.

    Examples
    --------
    >>> shape = TransformerShape(48, 4096, 32, 128, 16384, 50257)
    >>> traffic = decode_bytes_moved(shape, T=1000)
    >>> traffic.weights, traffic.kv_cache
    (19739058176, 786432000)
    >>> arithmetic_intensity(decode_cost(shape, 1000).total.flops, traffic.total)
    1.0
    """
    s, T = _check_shape(shape), _count(T, "T")
    bytes_per_value = _positive_real(bytes_per_value, "bytes_per_value")
    return DecodeTraffic(
        weights=matmul_weight_count(s) * bytes_per_value,
        kv_cache=kv_cache_bytes(s, T, bytes_per_value),
    )


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    """FLOPs done per byte moved from memory: ``flops / bytes_moved``.

    On a roofline, a computation whose intensity is below the machine's ratio of peak
    FLOP/s to memory bandwidth is limited by memory; above it, by arithmetic.

    Parameters
    ----------
    flops : int or float
        Arithmetic done, >= 0.
    bytes_moved : int or float
        Bytes read and written, > 0.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``flops`` is negative or ``bytes_moved`` is not positive.

    Examples
    --------
    >>> arithmetic_intensity(2 * 4096 * 4096, 2 * 4096 * 4096)  # fp16 matrix-vector product
    1.0
    """
    flops = _positive_real(flops, "flops", allow_zero=True)
    bytes_moved = _positive_real(bytes_moved, "bytes_moved")
    return flops / bytes_moved
