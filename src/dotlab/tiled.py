"""Chapter 5: attention in tiles, with an online softmax, never storing the T×T table.

Plain attention builds the whole ``(T_q, T_k)`` score table before its softmax. At
``T = 16,384`` in float32 that table is 1 GiB per head. But a softmax-weighted average
can be accumulated one block of keys at a time, if we keep, for every query, three
running quantities (Milakov & Gimelshein 2018; Dao et al. 2022, Algorithm 1):

- ``m``: the largest score seen so far,
- ``l``: the sum of ``exp(score - m)`` so far,
- ``acc``: the sum of ``exp(score - m) · value`` so far.

When a new block raises the maximum from ``m`` to ``m'``, everything accumulated so
far was computed relative to the old maximum, so it is multiplied by
``exp(m - m')`` and stays exact. At the end, ``acc / l`` is the softmax-weighted
average: the same numbers as plain attention, up to float rounding. Only one
``(block, block)`` tile of scores exists at a time.

Shape vocabulary as in :mod:`dotlab.attention`.
"""

from __future__ import annotations

import numbers

import numpy as np

from dotlab.attention import _as_mask, _check_qkv, _one_blas_thread
from dotlab.scaling import _scale

__all__ = ["tiled_attention"]


def _block(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"block_size={value!r} must be a positive whole number of tokens")
    return int(value)


def _causal_tile(i0: int, i1: int, j0: int, j1: int, offset: int) -> np.ndarray:
    """The piece of :func:`dotlab.attention.causal_mask` for queries i0:i1, keys j0:j1."""
    return np.arange(j0, j1)[None, :] <= np.arange(i0, i1)[:, None] + offset


def tiled_attention(q, k, v, mask=None, scale: float | None = None, *, causal: bool = False,
                    block_size: int = 256) -> np.ndarray:
    """Scaled dot-product attention computed tile by tile with an online softmax.

    Same result as :func:`dotlab.attention.scaled_dot_product_attention`, to float
    rounding, while holding at most one ``(block_size, block_size)`` tile of scores.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d)
    k : array_like, shape (..., T_k, d)
    v : array_like, shape (..., T_k, d_v)
    mask : array_like of bool, optional
        Broadcasts to ``(..., T_q, T_k)``; True where a query may attend to a key. It is
        read tile by tile (a broadcast view costs no memory), but a full boolean table
        is itself ``T_q·T_k`` bytes: prefer ``causal=True`` for a causal mask.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d)``.
    causal : bool, default False
        Apply :func:`dotlab.attention.causal_mask` (bottom-right aligned), computed per
        tile; tiles wholly above the diagonal are skipped, which halves the work.
    block_size : int, default 256
        Queries and keys per tile.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, d_v)
        A query whose keys are all masked gets an all-zero output.

    Examples
    --------
    >>> from dotlab.attention import scaled_dot_product_attention, causal_mask
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.normal(size=(3, 10, 4))
    >>> plain = scaled_dot_product_attention(q, k, v, mask=causal_mask(10, 10))
    >>> np.allclose(tiled_attention(q, k, v, causal=True, block_size=3), plain)
    True
    """
    q, k, v = _check_qkv(q, k, v)
    bs = _block(block_size)
    *_, T_q, d = q.shape
    T_k, d_v = v.shape[-2], v.shape[-1]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if mask is not None:
        mask = _as_mask(mask, (*batch, T_q, T_k))
        batch = np.broadcast_shapes(batch, mask.shape[:-2])
        mask = np.broadcast_to(mask, (*batch, T_q, T_k))  # a view: no T_q x T_k copy
    dtype = np.result_type(q, k, v)
    q = q * dtype.type(_scale(scale, d))  # scale once, T_q x d numbers
    kt = np.swapaxes(k, -1, -2)  # (..., d, T_k), a view
    offset = T_k - T_q  # causal alignment, as in causal_mask
    out = np.empty((*batch, T_q, d_v), dtype=dtype)
    with _one_blas_thread():
        _tiles(q, kt, v, mask, causal, offset, bs, out)
    return out


def _tiles(q, kt, v, mask, causal, offset, bs, out):
    """The online softmax over tiles, writing each query block's rows into ``out``."""
    *batch, T_q, d_v = out.shape
    T_k, dtype = kt.shape[-1], out.dtype
    for i0 in range(0, T_q, bs):
        i1 = min(i0 + bs, T_q)
        m = np.full((*batch, i1 - i0, 1), -np.inf, dtype=dtype)  # running max score
        l = np.zeros((*batch, i1 - i0, 1), dtype=dtype)  # running sum of exp(score - m)
        acc = np.zeros((*batch, i1 - i0, d_v), dtype=dtype)  # running sum of exp(score - m) * value
        last_key = T_k if not causal else min(T_k, i1 + offset)  # later keys: no query here sees them
        for j0 in range(0, max(last_key, 0), bs):
            j1 = min(j0 + bs, T_k)
            s = q[..., i0:i1, :] @ kt[..., :, j0:j1]  # (..., bq, d) x (..., d, bk) -> (..., bq, bk)
            if causal:
                s = np.where(_causal_tile(i0, i1, j0, j1, offset), s, -np.inf)
            if mask is not None:
                s = np.where(mask[..., i0:i1, j0:j1], s, -np.inf)
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            shift = np.where(np.isneginf(m_new), 0, m_new)  # rows with no key yet: exp(-inf) = 0, no NaN
            p = np.exp(s - shift)  # (..., bq, bk), masked scores -> 0
            rescale = np.exp(m - shift)  # old sums were relative to the old max
            l = l * rescale + p.sum(axis=-1, keepdims=True)
            acc = acc * rescale + p @ v[..., j0:j1, :]  # (..., bq, bk) x (..., bk, d_v)
            m = m_new
        l[l == 0] = 1  # fully masked rows: acc is 0, and stays 0
        out[..., i0:i1, :] = acc / l
