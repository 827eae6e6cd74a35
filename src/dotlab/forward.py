"""Chapter 8: one forward pass of a GPT-2-style model in NumPy, every dot product named.

Shape vocabulary: ``T`` tokens, ``d_model`` the residual stream, ``H`` heads of ``d_head``
(``d_attn = H·d_head``), ``d_ff`` the MLP's hidden width, ``V`` the vocabulary, ``L``
layers. Weights are stored the way ``x @ W`` wants them, ``(d_in, d_out)``: Hugging
Face's ``Conv1D`` layout. PyTorch's ``nn.Linear`` (the course's tinygpt) keeps
``(d_out, d_in)``, so those are transposed on loading.

The pass (GPT-2, Radford et al. 2019; the layout of nanoGPT), with the stage of the
cost model (:mod:`dotlab.cost`) that each matrix product belongs to::

    x = wte[ids] + wpe[positions]          # (T, d_model): row lookups, no dot products
    for each of the L blocks:
        q, k, v = ln_1(x) @ W_qkv          # qkv       (T, d_model) x (d_model, 3·d_attn)
        S = q_h @ k_hᵀ / sqrt(d_head)      # scores    (H, T, d_head) x (H, d_head, T), causal
        y_h = softmax(S) @ v_h             # mixing    (H, T, T) x (H, T, d_head)
        x = x + merge(y) @ W_o             # out_proj  (T, d_attn) x (d_attn, d_model)
        u = gelu(ln_2(x) @ W_up)           # mlp_up    (T, d_model) x (d_model, d_ff)
        x = x + u @ W_down                 # mlp_down  (T, d_ff) x (d_ff, d_model)
    logits = ln_f(x) @ wteᵀ                # unembed   (T, d_model) x (d_model, V), tied

Every one of those products goes through :meth:`Ledger.matmul` when a ledger is passed,
which counts the dot products it actually performs from the operands' shapes; the tests
prove the count equals :func:`dotlab.cost.prefill_cost` and :func:`~dotlab.cost.decode_cost`.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from dotlab.attention import causal_mask, merge_heads, split_heads
from dotlab.cost import STAGES, CostTable, StageCost, TransformerShape
from dotlab.softmax import softmax

__all__ = [
    "BlockWeights",
    "GPTWeights",
    "Ledger",
    "WeightsNotAvailable",
    "block",
    "causal_self_attention",
    "final_states",
    "forward",
    "from_hf_gpt2",
    "from_state_dict",
    "from_tinygpt",
    "gelu",
    "gpt2_available",
    "layer_norm",
    "load_gpt2",
    "mlp",
    "random_weights",
]


# -- the ledger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One matrix product the pass performed: its stage, layer and dot products."""

    stage: str
    layer: int | None  # None for the unembedding, which happens once, after the last layer
    dot_products: int
    length: int


@dataclass
class Ledger:
    """A record of every dot product a forward pass performs, by stage.

    The forward pass hands each matrix product to :meth:`matmul`, which does it and
    writes down what it did: every entry of the result is one dot product, as long as
    the axis the two operands share. Nothing is predicted; the count comes from the
    arrays that were actually multiplied.

    Examples
    --------
    >>> ledger = Ledger()
    >>> _ = ledger.matmul(np.ones((3, 4)), np.ones((4, 5)), "mlp_up")
    >>> ledger.entries
    [Entry(stage='mlp_up', layer=None, dot_products=15, length=4)]
    >>> ledger.table()["mlp_up"]
    StageCost(name='mlp_up', dot_products=15, length=4, macs=60, flops=120)
    """

    entries: list[Entry] = field(default_factory=list)

    def matmul(self, a: np.ndarray, b: np.ndarray, stage: str, layer: int | None = None) -> np.ndarray:
        """``a @ b``, recorded under ``stage`` (one of :data:`dotlab.cost.STAGES`)."""
        if stage not in STAGES:
            raise ValueError(f"stage={stage!r} is not one of the cost model's stages {STAGES}")
        out = np.matmul(a, b)
        # (..., m, k) @ (..., k, n) -> (..., m, n): each output number is one dot product of length k
        self.entries.append(Entry(stage, layer, int(out.size), int(np.shape(a)[-1])))
        return out

    def table(self, title: str = "ledger") -> CostTable:
        """The entries added up by stage, in the cost model's format (rows in STAGES order)."""
        rows = []
        for stage in STAGES:
            mine = [e for e in self.entries if e.stage == stage]
            lengths = {e.length for e in mine}
            macs = sum(e.dot_products * e.length for e in mine)
            rows.append(StageCost(stage, sum(e.dot_products for e in mine),
                                  lengths.pop() if len(lengths) == 1 else None, macs, 2 * macs))
        return CostTable(title, tuple(rows))

    def clear(self) -> None:
        self.entries.clear()


def _mm(ledger: Ledger | None, a, b, stage: str, layer: int | None = None) -> np.ndarray:
    return a @ b if ledger is None else ledger.matmul(a, b, stage, layer)


# -- the pieces ------------------------------------------------------------------------------


def layer_norm(x, gain, bias, eps: float = 1e-5) -> np.ndarray:
    """Normalise each token's vector to mean 0 and variance 1, then scale and shift.

    ``(x - mean) / sqrt(var + eps) * gain + bias`` over the last axis, with the
    population variance, as ``torch.nn.LayerNorm`` computes it (Ba et al. 2016).

    Examples
    --------
    >>> layer_norm(np.array([[1.0, 2.0, 3.0]]), np.ones(3), np.zeros(3), eps=0.0).round(4)
    array([[-1.2247,  0.    ,  1.2247]])
    """
    x = np.asarray(x)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def gelu(x) -> np.ndarray:
    """GELU in the tanh form GPT-2 uses (Hendrycks & Gimpel 2016, section 2).

    ``0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))``: close to ReLU for large ``|x|``,
    smooth near 0. PyTorch calls it ``gelu(x, approximate="tanh")``, Hugging Face ``gelu_new``.

    Examples
    --------
    >>> gelu(np.array([-3.0, 0.0, 1.0, 3.0])).round(4)
    array([-0.0036,  0.    ,  0.8412,  2.9964])
    """
    x = np.asarray(x)
    c = x.dtype.type(math.sqrt(2 / math.pi)) if x.dtype.kind == "f" else math.sqrt(2 / math.pi)
    return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))


def _heads(n_heads, width: int, what: str) -> int:
    if isinstance(n_heads, bool) or not isinstance(n_heads, numbers.Integral) or n_heads < 1:
        raise ValueError(f"n_heads={n_heads!r} must be a positive whole number")
    if width % n_heads:
        raise ValueError(f"n_heads={n_heads} must divide {what}={width} into equal heads")
    return int(n_heads)


def causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads: int, *, ledger: Ledger | None = None,
                          layer: int | None = None, cache=None) -> np.ndarray:
    """GPT-2's multi-head causal self-attention, from its fused Q/K/V weights.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, d_model)
        The (normalised) new tokens.
    w_qkv : numpy.ndarray, shape (d_model, 3·d_attn)
        Queries, keys and values side by side in that order (GPT-2's ``c_attn``).
    b_qkv : numpy.ndarray, shape (3·d_attn,)
    w_o : numpy.ndarray, shape (d_attn, d_model)
    b_o : numpy.ndarray, shape (d_model,)
    n_heads : int
    ledger : Ledger, optional
        Records the four matrix products (``qkv``, ``scores``, ``mixing``, ``out_proj``).
    layer : int, optional
        The layer index, for the ledger and the cache.
    cache : dotlab.kvcache.KVCache, optional
        Earlier tokens' keys and values: the new keys and values are appended to it, and
        the new queries attend to all of them.

    Returns
    -------
    numpy.ndarray, shape (T, d_model)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(5, 8))
    >>> out = causal_self_attention(x, rng.normal(size=(8, 24)), np.zeros(24), rng.normal(size=(8, 8)), np.zeros(8), 2)
    >>> out.shape
    (5, 8)
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be (T, d_model), one row per token, but x.shape={x.shape}")
    if np.shape(w_qkv)[0] != x.shape[1] or np.shape(w_qkv)[1] % 3:
        raise ValueError(f"w_qkv.shape={np.shape(w_qkv)} must be (d_model, 3·d_attn) with d_model={x.shape[1]} (x.shape={x.shape})")
    d_attn = np.shape(w_qkv)[1] // 3
    n_heads = _heads(n_heads, d_attn, "d_attn")
    d_head = d_attn // n_heads
    # 1. project: queries, keys and values of the new tokens in one product
    qkv = _mm(ledger, x, w_qkv, "qkv", layer) + b_qkv  # (T, d_model) x (d_model, 3·d_attn)
    q, k, v = (split_heads(part, n_heads) for part in np.split(qkv, 3, axis=-1))  # each (H, T, d_head)
    # 2. remember: with a cache, the keys and values of every earlier token join in
    if cache is not None:
        k, v = cache.extend(layer, k, v)  # (H, T_total, d_head)
    # 3. score every new query against every key, in every head (chapter 5); scale as in chapter 4
    scores = _mm(ledger, q, np.swapaxes(k, -1, -2), "scores", layer)  # (H, T, d_head) x (H, d_head, T_total)
    scores = scores * scores.dtype.type(1 / math.sqrt(d_head))
    # bottom-right aligned: new query i sits at position T_total - T + i and sees keys 0..that
    scores = np.where(causal_mask(q.shape[-2], k.shape[-2]), scores, -np.inf)
    weights = softmax(scores, axis=-1)  # (H, T, T_total), rows sum to 1
    # 4. mix the values, 5. put the heads side by side and project back
    y = _mm(ledger, weights, v, "mixing", layer)  # (H, T, T_total) x (H, T_total, d_head) -> (H, T, d_head)
    return _mm(ledger, merge_heads(y), w_o, "out_proj", layer) + b_o  # (T, d_attn) x (d_attn, d_model)


def mlp(x, w_up, b_up, w_down, b_down, *, ledger: Ledger | None = None, layer: int | None = None) -> np.ndarray:
    """The position-wise MLP: ``gelu(x W_up + b_up) W_down + b_down``.

    ``d_ff`` neurons read each token (one dot product each, chapter 3), and ``d_model``
    more write the answer back.

    Examples
    --------
    >>> mlp(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4), np.ones((4, 3)), np.zeros(3)).round(3)
    array([[11.985, 11.985, 11.985],
           [11.985, 11.985, 11.985]])
    """
    u = gelu(_mm(ledger, x, w_up, "mlp_up", layer) + b_up)  # (T, d_model) x (d_model, d_ff)
    return _mm(ledger, u, w_down, "mlp_down", layer) + b_down  # (T, d_ff) x (d_ff, d_model)


# -- the weights -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockWeights:
    """One block's weights as plain arrays, each named after the stage it serves.

    Matrices are ``(d_in, d_out)``. In GPT-2's names: ``ln1_*`` is ``ln_1``, ``w_qkv`` is
    ``attn.c_attn``, ``w_o`` is ``attn.c_proj``, ``ln2_*`` is ``ln_2``, ``w_up`` is
    ``mlp.c_fc`` and ``w_down`` is ``mlp.c_proj``.
    """

    ln1_g: np.ndarray  # (d_model,)
    ln1_b: np.ndarray  # (d_model,)
    w_qkv: np.ndarray  # (d_model, 3·d_attn)
    b_qkv: np.ndarray  # (3·d_attn,)
    w_o: np.ndarray  # (d_attn, d_model)
    b_o: np.ndarray  # (d_model,)
    ln2_g: np.ndarray  # (d_model,)
    ln2_b: np.ndarray  # (d_model,)
    w_up: np.ndarray  # (d_model, d_ff)
    b_up: np.ndarray  # (d_ff,)
    w_down: np.ndarray  # (d_ff, d_model)
    b_down: np.ndarray  # (d_model,)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def block(x, weights: BlockWeights, n_heads: int, eps: float = 1e-5, *, ledger: Ledger | None = None,
          layer: int | None = None, cache=None) -> np.ndarray:
    """One pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Each half reads a normalised copy of the residual stream and *adds* its answer to
    it; the stream itself is never normalised inside a block (GPT-2, section 2.3).

    Examples
    --------
    >>> w = random_weights(TransformerShape(1, 8, 2, 4, 32, 10), n_positions=4, seed=0)
    >>> block(np.ones((3, 8)), w.blocks[0], n_heads=2).shape
    (3, 8)
    """
    w = weights
    x = x + causal_self_attention(layer_norm(x, w.ln1_g, w.ln1_b, eps), w.w_qkv, w.b_qkv, w.w_o, w.b_o, n_heads,
                                  ledger=ledger, layer=layer, cache=cache)
    return x + mlp(layer_norm(x, w.ln2_g, w.ln2_b, eps), w.w_up, w.b_up, w.w_down, w.b_down, ledger=ledger, layer=layer)


@dataclass(frozen=True)
class GPTWeights:
    """A whole GPT-2-style model as plain NumPy arrays (no PyTorch needed to run it)."""

    wte: np.ndarray  # (V, d_model): token embeddings, and (tied) the unembedding W_U
    wpe: np.ndarray  # (n_positions, d_model): learned position embeddings
    blocks: tuple[BlockWeights, ...]
    lnf_g: np.ndarray  # (d_model,)
    lnf_b: np.ndarray  # (d_model,)
    n_heads: int
    eps: float = 1e-5  # GPT-2's layer norm epsilon

    @property
    def shape(self) -> TransformerShape:
        """The sizes the cost model needs, read off the arrays."""
        V, d_model = self.wte.shape
        b = self.blocks[0]
        d_attn = b.w_o.shape[0]
        return TransformerShape(n_layers=len(self.blocks), d_model=d_model, n_heads=self.n_heads,
                                d_head=d_attn // self.n_heads, d_ff=b.w_up.shape[1], vocab_size=V)

    @property
    def n_positions(self) -> int:
        """The longest context the learned position table covers."""
        return self.wpe.shape[0]

    def n_parameters(self) -> int:
        """Numbers in the model; the tied unembedding is counted once."""
        arrays = [self.wte, self.wpe, self.lnf_g, self.lnf_b]
        arrays += [a for b in self.blocks for a in b.as_dict().values()]
        return int(sum(a.size for a in arrays))


def random_weights(shape: TransformerShape, n_positions: int, *, seed: int = 0, std: float = 0.02,
                   dtype=np.float64) -> GPTWeights:
    """Random GPT-2-style weights of a given shape, for tests and experiments.

    Examples
    --------
    >>> w = random_weights(TransformerShape(2, 16, 4, 4, 64, 30), n_positions=8)
    >>> w.shape == TransformerShape(2, 16, 4, 4, 64, 30), w.n_positions
    (True, 8)
    """
    rng = np.random.default_rng(seed)
    s = shape

    def normal(*size):
        return (std * rng.standard_normal(size)).astype(dtype)

    def near_one(n):
        return (1 + 0.1 * rng.standard_normal(n)).astype(dtype)

    blocks = tuple(
        BlockWeights(near_one(s.d_model), normal(s.d_model), normal(s.d_model, 3 * s.d_attn), normal(3 * s.d_attn),
                     normal(s.d_attn, s.d_model), normal(s.d_model), near_one(s.d_model), normal(s.d_model),
                     normal(s.d_model, s.d_ff), normal(s.d_ff), normal(s.d_ff, s.d_model), normal(s.d_model))
        for _ in range(s.n_layers)
    )
    return GPTWeights(normal(s.vocab_size, s.d_model), normal(n_positions, s.d_model), blocks,
                      near_one(s.d_model), normal(s.d_model), s.n_heads)


# -- the pass --------------------------------------------------------------------------------


def _token_ids(ids, V: int) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"ids must be a non-empty 1-D sequence of token ids, but got shape {arr.shape} and dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= V:
        raise ValueError(f"token ids must lie in 0..{V - 1} (V={V}), got {arr.min()}..{arr.max()}")
    return arr


def final_states(weights: GPTWeights, ids, *, ledger: Ledger | None = None, cache=None) -> np.ndarray:
    """Everything but the vocabulary: the final hidden states ``h`` that the logits score.

    Embeddings, the ``L`` blocks and the final layer norm; :func:`forward` is this
    followed by ``h @ wteᵀ``. Arguments as in :func:`forward`.

    Returns
    -------
    numpy.ndarray, shape (T, d_model)

    Examples
    --------
    >>> w = random_weights(TransformerShape(2, 16, 4, 4, 64, 30), n_positions=8)
    >>> h = final_states(w, [1, 2, 3])
    >>> bool(np.allclose(h @ w.wte.T, forward(w, [1, 2, 3])))
    True
    """
    ids = _token_ids(ids, weights.wte.shape[0])
    start = 0 if cache is None else cache.length
    if start + ids.size > weights.n_positions:
        raise ValueError(f"a context of {start} + {ids.size} tokens is longer than the model's "
                         f"n_positions={weights.n_positions} learned positions")
    # 1. embed: two row lookups, a one-hot times a matrix (chapter 3), so no dot products counted
    x = weights.wte[ids] + weights.wpe[start:start + ids.size]  # (T, d_model)
    # 2. the blocks, each adding to the residual stream
    for layer, w in enumerate(weights.blocks):
        x = block(x, w, weights.n_heads, weights.eps, ledger=ledger, layer=layer, cache=cache)
    # 3. the final norm: what leaves the last block is rescaled before it meets the vocabulary
    return layer_norm(x, weights.lnf_g, weights.lnf_b, weights.eps)


def forward(weights: GPTWeights, ids, *, ledger: Ledger | None = None, cache=None, logits: str = "all") -> np.ndarray:
    """Run the model over token ids and return the logits: one forward pass.

    Parameters
    ----------
    weights : GPTWeights
    ids : sequence of int, length T
        The tokens to read. With a ``cache`` they are the *new* tokens only, placed after
        the ``cache.length`` tokens it already holds.
    ledger : Ledger, optional
        Receives every dot product of the pass, by stage.
    cache : dotlab.kvcache.KVCache, optional
        Earlier tokens' keys and values, extended in place with the new tokens'.
    logits : {"all", "last"}, default "all"
        Score the vocabulary at every new position ``(T, V)``, or only at the last ``(V,)``
        (all that generation needs).

    Returns
    -------
    numpy.ndarray, shape (T, V) or (V,)

    Raises
    ------
    ValueError
        For ids outside the vocabulary, or a context longer than the position table.

    Examples
    --------
    >>> w = random_weights(TransformerShape(2, 16, 4, 4, 64, 30), n_positions=8)
    >>> ledger = Ledger()
    >>> forward(w, [1, 2, 3], ledger=ledger).shape
    (3, 30)
    >>> ledger.table()["scores"].dot_products   # L·H·T·T
    72
    """
    if logits not in ("all", "last"):
        raise ValueError(f"logits={logits!r} must be 'all' or 'last'")
    h = final_states(weights, ids, ledger=ledger, cache=cache)
    # score the vocabulary with the tied embedding: logits = W_U h, one dot product per token (chapter 6)
    if logits == "last":
        return _mm(ledger, h[-1:], weights.wte.T, "unembed")[0]  # (1, d_model) x (d_model, V) -> (V,)
    return _mm(ledger, h, weights.wte.T, "unembed")  # (T, d_model) x (d_model, V)


# -- loading weights -------------------------------------------------------------------------

_BLOCK_KEYS = {  # our name: (GPT-2's name inside a block, is it a matrix)
    "ln1_g": ("ln_1.weight", False), "ln1_b": ("ln_1.bias", False),
    "w_qkv": ("attn.c_attn.weight", True), "b_qkv": ("attn.c_attn.bias", False),
    "w_o": ("attn.c_proj.weight", True), "b_o": ("attn.c_proj.bias", False),
    "ln2_g": ("ln_2.weight", False), "ln2_b": ("ln_2.bias", False),
    "w_up": ("mlp.c_fc.weight", True), "b_up": ("mlp.c_fc.bias", False),
    "w_down": ("mlp.c_proj.weight", True), "b_down": ("mlp.c_proj.bias", False),
}


def _numpy(tensor, dtype) -> np.ndarray:
    if hasattr(tensor, "detach"):  # a torch tensor; float() first, as NumPy has no bfloat16
        tensor = tensor.detach().float().cpu().numpy()
    return np.asarray(tensor, dtype=dtype)


def from_state_dict(state_dict, n_heads: int, *, layout: str, eps: float = 1e-5, dtype=np.float64) -> GPTWeights:
    """Plain arrays from a GPT-2-style state dict (names ``transformer.h.0.attn.c_attn.weight``, ...).

    Parameters
    ----------
    state_dict : mapping of str to tensor or array
    n_heads : int
    layout : {"conv1d", "linear"}
        How the projection matrices are stored: ``"conv1d"`` is Hugging Face GPT-2's
        ``(d_in, d_out)``, kept as is; ``"linear"`` is ``nn.Linear``'s ``(d_out, d_in)``,
        transposed.
    eps : float
        The layer norms' epsilon.
    dtype : numpy dtype, default float64

    Examples
    --------
    >>> import torch
    >>> from dotlab.tinygpt import load
    >>> model, _ = load()
    >>> w = from_state_dict(model.state_dict(), model.config.n_heads, layout="linear")
    >>> w.blocks[0].w_qkv.shape   # (d_model, 3·d_attn), ready for x @ W
    (96, 288)
    """
    if layout not in ("conv1d", "linear"):
        raise ValueError(f"layout={layout!r} must be 'conv1d' ((d_in, d_out), Hugging Face GPT-2) or 'linear' ((d_out, d_in))")
    sd = {k.removeprefix("transformer."): v for k, v in state_dict.items()}

    def get(name, matrix=False):
        if name not in sd:
            raise KeyError(f"the state dict has no {name!r}; is it a GPT-2-style model? (first keys: {list(sd)[:4]})")
        a = _numpy(sd[name], dtype)
        return a.T.copy() if matrix and layout == "linear" else a

    n_layers = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("h."))
    blocks = tuple(BlockWeights(**{ours: get(f"h.{i}.{theirs}", matrix) for ours, (theirs, matrix) in _BLOCK_KEYS.items()})
                   for i in range(n_layers))
    weights = GPTWeights(get("wte.weight"), get("wpe.weight"), blocks, get("ln_f.weight"), get("ln_f.bias"),
                         int(n_heads), float(eps))
    weights.shape  # noqa: B018 - checks the sizes fit together (raises if not)
    return weights


def from_tinygpt(model, dtype=np.float64) -> GPTWeights:
    """The course's tinygpt (``dotlab.tinygpt.load()[0]``) as plain arrays.

    Examples
    --------
    >>> from dotlab.tinygpt import load
    >>> w = from_tinygpt(load()[0])
    >>> w.shape
    TransformerShape(n_layers=3, d_model=96, n_heads=4, d_head=24, d_ff=384, vocab_size=125)
    """
    c = model.config
    return from_state_dict(model.state_dict(), c.n_heads, layout="linear", eps=c.layer_norm_eps, dtype=dtype)


def from_hf_gpt2(model, dtype=np.float64) -> GPTWeights:
    """A Hugging Face ``GPT2LMHeadModel`` (or ``GPT2Model``) as plain arrays.

    Raises
    ------
    ValueError
        If the configuration asks for something this forward pass does not do (another
        activation, unscaled or layer-scaled attention scores).
    """
    c = model.config
    if c.activation_function not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"activation_function={c.activation_function!r}: this forward pass uses GPT-2's tanh GELU")
    if not c.scale_attn_weights or c.scale_attn_by_inverse_layer_idx:
        raise ValueError("this forward pass scales attention scores by 1/sqrt(d_head) only, as GPT-2 does")
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith("lm_head.")}  # tied to wte
    return from_state_dict(sd, c.n_head, layout="conv1d", eps=c.layer_norm_epsilon, dtype=dtype)


# -- GPT-2's real weights, if this machine already has them ----------------------------------

GPT2_REPOS = ("openai-community/gpt2", "gpt2")  # the current name, and the one older caches use

HOW_TO_GET_GPT2 = (
    "GPT-2's weights (about 550 MB) are not on this machine. To get them once, with a network "
    "connection, run\n\n    hf download openai-community/gpt2\n\n(the `hf` command comes with huggingface_hub), "
    "or in Python\n\n    from transformers import AutoTokenizer, GPT2LMHeadModel\n"
    "    GPT2LMHeadModel.from_pretrained('openai-community/gpt2')\n"
    "    AutoTokenizer.from_pretrained('openai-community/gpt2')\n\n"
    "They land in the Hugging Face cache (~/.cache/huggingface/hub), where this code finds them "
    "without ever going online."
)


class WeightsNotAvailable(FileNotFoundError):
    """The weights asked for are not on this machine; the message says how to get them."""


def _is_dir(source) -> bool:
    return isinstance(source, (str, os.PathLike)) and Path(source).is_dir()


def _cached_repo(source, cache_dir) -> str | None:
    """The repository id whose config and weights are in the local cache, or None.

    Only looks: ``try_to_load_from_cache`` reads the cache folder and never downloads.
    """
    from huggingface_hub import try_to_load_from_cache

    repos = GPT2_REPOS if source is None else (str(source),)
    for repo in repos:
        try:
            config = try_to_load_from_cache(repo, "config.json", cache_dir=cache_dir)
            weights = [try_to_load_from_cache(repo, name, cache_dir=cache_dir)
                       for name in ("model.safetensors", "pytorch_model.bin")]
        except ValueError:  # not a repository id (a folder that does not exist, say)
            continue
        if isinstance(config, str) and any(isinstance(w, str) for w in weights):
            return repo
    return None


def gpt2_available(source=None, *, cache_dir=None) -> bool:
    """Whether GPT-2's weights can be loaded without a download.

    Parameters
    ----------
    source : str or path, optional
        A folder written by ``save_pretrained``, or a repository id; by default GPT-2
        small under either of its names on the Hub.
    cache_dir : str or path, optional
        The Hugging Face cache to look in; by default the standard one.

    Examples
    --------
    >>> gpt2_available("/no/such/folder", cache_dir="/no/such/cache")
    False
    """
    if source is not None and _is_dir(source):
        folder = Path(source)
        return (folder / "config.json").is_file() and any(
            (folder / name).is_file() for name in ("model.safetensors", "pytorch_model.bin"))
    return _cached_repo(source, cache_dir) is not None


def load_gpt2(source=None, *, cache_dir=None, dtype=np.float32):
    """GPT-2's weights as :class:`GPTWeights`, and its tokenizer, from local files only.

    Parameters
    ----------
    source, cache_dir
        As in :func:`gpt2_available`.
    dtype : numpy dtype, default float32
        GPT-2's own precision; float64 doubles the memory (about 1 GB for GPT-2 small).

    Returns
    -------
    weights : GPTWeights
    tokenizer : transformers tokenizer or None
        None when the folder holds no tokenizer files (a model saved on its own).

    Raises
    ------
    WeightsNotAvailable
        If the weights are not on this machine; the message says how to get them.
    """
    if source is not None and _is_dir(source):
        if not gpt2_available(source):
            raise WeightsNotAvailable(f"{source} holds no GPT-2 config.json and weights. " + HOW_TO_GET_GPT2)
        name = str(source)
    else:
        name = _cached_repo(source, cache_dir)
        if name is None:
            raise WeightsNotAvailable(HOW_TO_GET_GPT2)
    from transformers import AutoTokenizer, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a page shows what it computes, not a loader's progress bar
    try:
        model = GPT2LMHeadModel.from_pretrained(name, cache_dir=cache_dir, local_files_only=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(name, cache_dir=cache_dir, local_files_only=True)
        except (OSError, ValueError):
            tokenizer = None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    weights = from_hf_gpt2(model, dtype=dtype)
    if tokenizer is not None and len(tokenizer) != weights.wte.shape[0]:
        tokenizer = None  # no vocabulary files next to the weights: a placeholder, not GPT-2's tokenizer
    return weights, tokenizer
