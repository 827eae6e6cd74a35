"""Chapter 8: one forward pass of a GPT-2-style model in NumPy, every dot product named.

Shape vocabulary: ``T`` tokens, ``d_model`` the residual stream, ``H`` heads of ``d_head``
(``d_attn = H·d_head``), ``d_ff`` the MLP's hidden width, ``V`` the vocabulary, ``L``
layers. Weights are stored the way ``x @ W`` wants them, ``(d_in, d_out)``: Hugging
Face's ``Conv1D`` layout (:mod:`dotlab.checkpoints` fills them from tinygpt or GPT-2;
:func:`random_weights` makes random ones for tests).

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

Every one of those products goes through :meth:`dotlab.ledger.Ledger.matmul` when a
ledger is passed, which counts the dot products it actually performs from the operands' shapes; the tests
prove the count equals :func:`dotlab.cost.prefill_cost` and :func:`~dotlab.cost.decode_cost`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

from dotlab.attention import causal_mask, merge_heads, split_heads
from dotlab.cost import TransformerShape
from dotlab.ledger import Ledger
from dotlab.ledger import matmul as _mm
from dotlab.softmax import softmax

__all__ = [
    "BlockWeights",
    "GPTWeights",
    "block",
    "causal_self_attention",
    "final_states",
    "forward",
    "gelu",
    "layer_norm",
    "mlp",
    "random_weights",
]


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


def causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, n_heads: int, *,
                          ledger: Ledger | None = None,
                          layer: int | None = None,
                          cache=None) -> np.ndarray:
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
        raise ValueError(f"x must be (T, d_model), one row per token, "
                         f"but x.shape={x.shape}")
    if np.shape(w_qkv)[0] != x.shape[1] or np.shape(w_qkv)[1] % 3:
        raise ValueError(f"w_qkv.shape={np.shape(w_qkv)} must be "
                         f"(d_model, 3·d_attn) with d_model={x.shape[1]} "
                         f"(x.shape={x.shape})")
    d_attn = np.shape(w_qkv)[1] // 3
    n_heads = _heads(n_heads, d_attn, "d_attn")
    d_head = d_attn // n_heads
    # 1. project: queries, keys and values of the new tokens in one product
    # (T, d_model) x (d_model, 3·d_attn)
    qkv = _mm(ledger, x, w_qkv, "qkv", layer) + b_qkv
    # each (H, T, d_head)
    q, k, v = (split_heads(part, n_heads)
               for part in np.split(qkv, 3, axis=-1))
    # 2. remember: with a cache, the keys and values of every earlier
    # token join in
    if cache is not None:
        k, v = cache.extend(layer, k, v)  # (H, T_total, d_head)
    # 3. score every new query against every key, in every head
    # (chapter 5); scale as in chapter 4
    # (H, T, d_head) x (H, d_head, T_total)
    scores = _mm(ledger, q, np.swapaxes(k, -1, -2), "scores", layer)
    scores = scores * scores.dtype.type(1 / math.sqrt(d_head))
    # bottom-right aligned: new query i sits at position T_total - T + i
    # and sees keys 0..that
    visible = causal_mask(q.shape[-2], k.shape[-2])
    scores = np.where(visible, scores, -np.inf)
    weights = softmax(scores, axis=-1)  # (H, T, T_total), rows sum to 1
    # 4. mix the values, 5. put the heads side by side and project back
    # (H, T, T_total) x (H, T_total, d_head) -> (H, T, d_head)
    y = _mm(ledger, weights, v, "mixing", layer)
    # (T, d_attn) x (d_attn, d_model)
    return _mm(ledger, merge_heads(y), w_o, "out_proj", layer) + b_o


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


def block(x, weights: BlockWeights, n_heads: int, eps: float = 1e-5, *,
          ledger: Ledger | None = None, layer: int | None = None,
          cache=None) -> np.ndarray:
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
    x = x + causal_self_attention(layer_norm(x, w.ln1_g, w.ln1_b, eps),
                                  w.w_qkv, w.b_qkv, w.w_o, w.b_o, n_heads,
                                  ledger=ledger, layer=layer, cache=cache)
    return x + mlp(layer_norm(x, w.ln2_g, w.ln2_b, eps),
                   w.w_up, w.b_up, w.w_down, w.b_down,
                   ledger=ledger, layer=layer)


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


def final_states(weights: GPTWeights, ids, *, ledger: Ledger | None = None,
                 cache=None) -> np.ndarray:
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
        raise ValueError(f"a context of {start} + {ids.size} tokens is "
                         f"longer than the model's "
                         f"n_positions={weights.n_positions} learned "
                         f"positions")
    # 1. embed: two row lookups, a one-hot times a matrix (chapter 3), so
    # no dot products counted; x is (T, d_model)
    x = weights.wte[ids] + weights.wpe[start:start + ids.size]
    # 2. the blocks, each adding to the residual stream
    for layer, w in enumerate(weights.blocks):
        x = block(x, w, weights.n_heads, weights.eps, ledger=ledger,
                  layer=layer, cache=cache)
    # 3. the final norm: what leaves the last block is rescaled before it
    # meets the vocabulary
    return layer_norm(x, weights.lnf_g, weights.lnf_b, weights.eps)


def forward(weights: GPTWeights, ids, *, ledger: Ledger | None = None,
            cache=None, logits: str = "all") -> np.ndarray:
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
    # score the vocabulary with the tied embedding: logits = W_U h, one dot
    # product per token (chapter 6)
    if logits == "last":
        # (1, d_model) x (d_model, V) -> (V,)
        return _mm(ledger, h[-1:], weights.wte.T, "unembed")[0]
    # (T, d_model) x (d_model, V)
    return _mm(ledger, h, weights.wte.T, "unembed")
