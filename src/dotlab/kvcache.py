"""Chapter 6: the KV cache, or why the next token costs T dot products and not T².

Shape vocabulary: ``T`` tokens in the context (the new one included), ``L`` layers, ``H``
heads of ``d_head``, ``d_model`` the residual stream.

When a model generates, each step adds one token to the context. A token's key and
value in a layer depend only on that token and the ones before it (the causal mask sees
to it), so they are the same at every later step. Keep them, and a step only has to
compute the new token's query, key and value, and score that one query against the
``T`` cached keys: ``H·T`` dot products per layer instead of the ``H·T²`` of reading the
whole context again. The logits are the same either way; the tests prove it to float
rounding. The price is memory: ``2·L·T·H·d_head`` numbers
(:func:`dotlab.cost.kv_cache_bytes`).
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

from dotlab._validate import as_array
from dotlab.cost import STAGES, CostTable, StageCost, TransformerShape, decode_cost, kv_cache_bytes, prefill_cost
from dotlab.forward import GPTWeights, forward
from dotlab.ledger import Ledger
from dotlab.softmax import softmax

__all__ = ["CachedDecoder", "KVCache", "Recompute", "generation_cost", "head_decode_step"]


def head_decode_step(x, K_cache, V_cache, W_q, W_k, W_v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One attention head, one new token, with the earlier tokens' keys and values cached.

    1. project the new token: ``q = x W_q``, ``k = x W_k``, ``v = x W_v``;
    2. append ``k`` and ``v`` to the caches (the new token attends to itself too);
    3. score ``q`` against all ``T`` keys, scale by ``1/sqrt(d_head)``, softmax;
    4. mix the ``T`` values with those weights.

    No mask is needed: every cached token comes before the new one.

    Parameters
    ----------
    x : array_like, shape (d_model,)
        The new token's (normalised) vector.
    K_cache, V_cache : array_like, shape (T - 1, d_head)
        Keys and values of the tokens before it; ``(0, d_head)`` for the first token.
    W_q, W_k, W_v : array_like, shape (d_model, d_head)

    Returns
    -------
    out : numpy.ndarray, shape (d_head,)
        The head's output for the new token.
    K, V : numpy.ndarray, shape (T, d_head)
        The caches with the new token's key and value appended.

    Raises
    ------
    ValueError
        If the caches hold different numbers of tokens, or a shape does not fit.

    Examples
    --------
    >>> W = np.eye(2)
    >>> out, K, V = head_decode_step([1.0, 0.0], np.zeros((0, 2)), np.zeros((0, 2)), W, W, W)
    >>> out, K.shape   # alone in the context, the token takes its own value
    (array([1., 0.]), (1, 2))
    """
    x = as_array(x, "x", ndim=1)
    K_cache = as_array(K_cache, "K_cache", ndim=2, allow_empty=True)
    V_cache = as_array(V_cache, "V_cache", ndim=2, allow_empty=True)
    W_q, W_k, W_v = (as_array(w, name, ndim=2) for w, name in ((W_q, "W_q"), (W_k, "W_k"), (W_v, "W_v")))
    if K_cache.shape[0] != V_cache.shape[0]:
        raise ValueError(f"K_cache holds {K_cache.shape[0]} tokens but V_cache holds {V_cache.shape[0]}: "
                         "every cached key has exactly one value")
    for name, w in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v)):
        if w.shape[0] != x.shape[0]:
            raise ValueError(f"{name}.shape={w.shape} must have d_model={x.shape[0]} rows to project x.shape={x.shape}")
    if W_k.shape[1] != K_cache.shape[1] or W_v.shape[1] != V_cache.shape[1] or W_q.shape[1] != W_k.shape[1]:
        raise ValueError(f"W_q.shape={W_q.shape}, W_k.shape={W_k.shape}, K_cache.shape={K_cache.shape}, "
                         f"W_v.shape={W_v.shape} and V_cache.shape={V_cache.shape} must agree on d_head")
    q, k, v = x @ W_q, x @ W_k, x @ W_v  # (d_model,) x (d_model, d_head) -> (d_head,), three times
    K = np.vstack([K_cache, k[None, :]])  # (T, d_head): the new key joins the cache
    V = np.vstack([V_cache, v[None, :]])  # (T, d_head)
    weights = softmax(K @ q / math.sqrt(q.shape[0]))  # (T, d_head) x (d_head,) -> (T,): T dot products
    return weights @ V, K, V  # (T,) x (T, d_head) -> (d_head,)


class KVCache:
    """Every layer's keys and values for the tokens read so far.

    :func:`dotlab.forward.forward` fills it: each layer calls :meth:`extend` with the
    new tokens' keys and values and attends with everything the cache then holds.

    Examples
    --------
    >>> from dotlab.forward import forward, random_weights
    >>> w = random_weights(TransformerShape(2, 16, 4, 4, 64, 30), n_positions=8)
    >>> cache = KVCache(n_layers=2)
    >>> _ = forward(w, [1, 2, 3], cache=cache)
    >>> cache.length, cache.keys[0].shape    # (H, T, d_head) in every layer
    (3, (4, 3, 4))
    >>> cache.nbytes == kv_cache_bytes(w.shape, T=3, bytes_per_value=8)   # float64
    True
    """

    def __init__(self, n_layers: int):
        if isinstance(n_layers, bool) or not isinstance(n_layers, numbers.Integral) or n_layers < 1:
            raise ValueError(f"n_layers={n_layers!r} must be a positive whole number")
        self.keys: list[np.ndarray | None] = [None] * int(n_layers)
        self.values: list[np.ndarray | None] = [None] * int(n_layers)

    @property
    def length(self) -> int:
        """Tokens whose keys and values every layer holds."""
        last = self.keys[-1]  # the last layer is extended last: a token counts once all layers have it
        return 0 if last is None else int(last.shape[-2])

    def __len__(self) -> int:
        return self.length

    def extend(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Append the new tokens' keys and values ``(H, T_new, d_head)`` to ``layer``; return all of them."""
        if layer is None or not 0 <= layer < len(self.keys):
            raise ValueError(f"layer={layer!r} must be an index from 0 to {len(self.keys) - 1}")
        if self.keys[layer] is None:
            self.keys[layer], self.values[layer] = k, v
        else:
            self.keys[layer] = np.concatenate([self.keys[layer], k], axis=-2)  # along the token axis
            self.values[layer] = np.concatenate([self.values[layer], v], axis=-2)
        return self.keys[layer], self.values[layer]

    @property
    def nbytes(self) -> int:
        """Bytes the cached keys and values take: ``2·L·T·H·d_head`` numbers."""
        return int(sum(a.nbytes for a in self.keys + self.values if a is not None))


class Recompute:
    """``next_logits(ids)`` the slow way: a whole forward pass over the context, every step.

    Examples
    --------
    >>> from dotlab.forward import random_weights
    >>> w = random_weights(TransformerShape(1, 8, 2, 4, 32, 10), n_positions=8)
    >>> Recompute(w)([1, 2, 3]).shape
    (10,)
    """

    def __init__(self, weights: GPTWeights, ledger: Ledger | None = None):
        self.weights, self.ledger = weights, ledger

    def __call__(self, ids: Sequence[int]) -> np.ndarray:
        return forward(self.weights, list(ids), ledger=self.ledger, logits="last")


class CachedDecoder:
    """``next_logits(ids)`` with a KV cache: only the tokens not seen before are computed.

    Called with a context that extends the previous one (as the generation loop does),
    it feeds just the new tokens through the model, their queries meeting the cached
    keys. Called with a context that does not, it starts over with an empty cache.

    Examples
    --------
    >>> from dotlab.forward import random_weights
    >>> w = random_weights(TransformerShape(1, 8, 2, 4, 32, 10), n_positions=8)
    >>> decoder = CachedDecoder(w)
    >>> a = decoder([1, 2, 3])        # a prefill of three tokens
    >>> b = decoder([1, 2, 3, 7])     # one decode step: token 7 only
    >>> bool(np.allclose(b, Recompute(w)([1, 2, 3, 7])))
    True
    """

    def __init__(self, weights: GPTWeights, ledger: Ledger | None = None):
        self.weights, self.ledger = weights, ledger
        self.reset()

    def reset(self) -> None:
        self.cache = KVCache(len(self.weights.blocks))
        self.seen: list[int] = []
        self.last_logits: np.ndarray | None = None

    def __call__(self, ids: Sequence[int]) -> np.ndarray:
        ids = [int(t) for t in ids]
        if ids[: len(self.seen)] != self.seen or not ids:
            self.reset()  # not a continuation: the cached keys belong to another context
        new = ids[len(self.seen):]
        if not new:
            return self.last_logits  # the same context again
        self.last_logits = forward(self.weights, new, ledger=self.ledger, cache=self.cache, logits="last")
        self.seen = ids
        return self.last_logits


def _add(tables: list[CostTable], title: str) -> CostTable:
    rows = []
    for stage in STAGES:
        parts = [t[stage] for t in tables]
        lengths = {p.length for p in parts}
        rows.append(StageCost(stage, sum(p.dot_products for p in parts), lengths.pop() if len(lengths) == 1 else None,
                              sum(p.macs for p in parts), sum(p.flops for p in parts)))
    return CostTable(title, tuple(rows))


def generation_cost(shape: TransformerShape, prompt_length: int, n_new: int, *, cached: bool = True) -> CostTable:
    """Dot products to generate ``n_new`` tokens after a prompt, with or without a KV cache.

    Without a cache, step ``t`` is a whole prefill of ``prompt_length + t`` tokens
    (logits for the last position only). With one, the first step is that prefill of the
    prompt, and each later step is one :func:`dotlab.cost.decode_cost` with the context
    one token longer. The last token generated is never fed back in.

    Examples
    --------
    >>> s = TransformerShape(12, 768, 12, 64, 3072, 50257)   # GPT-2 small
    >>> slow = generation_cost(s, 100, 50, cached=False).total.dot_products
    >>> fast = generation_cost(s, 100, 50).total.dot_products
    >>> round(slow / fast, 1)
    37.1
    """
    for name, value, low in (("prompt_length", prompt_length, 1), ("n_new", n_new, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name}={value!r} must be a whole number >= {low}")
    if cached:
        tables = [prefill_cost(shape, prompt_length, logits="last")]
        tables += [decode_cost(shape, prompt_length + t) for t in range(1, n_new)]
    else:
        tables = [prefill_cost(shape, prompt_length + t, logits="last") for t in range(n_new)]
    return _add(tables, f"{n_new} tokens after a {prompt_length}-token prompt, {'with' if cached else 'without'} a KV cache")
