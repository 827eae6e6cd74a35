"""Chapter 9: grouped-query attention, fewer keys and values than queries.

Multi-head attention gives each of its ``H`` heads its own queries, keys and values.
Multi-query attention (Shazeer 2019) keeps ``H`` query heads but one key/value head that
all of them share; grouped-query attention (Ainslie et al. 2023) sits in between, with
``n_kv_heads`` key/value heads, each shared by a group of ``H / n_kv_heads``
consecutive query heads. Every query head still scores every key it may see, so the
number of score dot products does not change; what shrinks is the K and V projections
and the KV cache, ``H / n_kv_heads`` times.

Query head ``h`` reads key/value head ``h // (H / n_kv_heads)``: consecutive query heads
share, the convention of ``torch.nn.functional.scaled_dot_product_attention(...,
enable_gqa=True)`` and of Hugging Face's ``repeat_kv``.

Shape vocabulary: ``H`` query heads, ``G = n_kv_heads`` key/value heads, ``T_q`` queries,
``T_k`` keys, ``d`` the width of queries and keys, ``d_v`` of values.
"""

from __future__ import annotations

import numpy as np

from dotlab.attention import scaled_dot_product_attention

__all__ = ["grouped_query_attention", "kv_head_of"]


def kv_head_of(n_heads: int, n_kv_heads: int) -> np.ndarray:
    """Which key/value head each query head reads.

    Parameters
    ----------
    n_heads : int
        ``H``, query heads.
    n_kv_heads : int
        ``G``, key/value heads; must divide ``H``.

    Returns
    -------
    numpy.ndarray of int, shape (H,)
        Entry ``h`` is ``h // (H / G)``.

    Raises
    ------
    ValueError
        If ``n_kv_heads`` is not a divisor of ``n_heads`` (both named).

    Examples
    --------
    >>> kv_head_of(8, 2)      # grouped: heads 0-3 share key/value head 0
    array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> kv_head_of(4, 1)      # multi-query: one key/value head for all
    array([0, 0, 0, 0])
    """
    for name, value in (("n_heads", n_heads), ("n_kv_heads", n_kv_heads)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r} must be a whole number >= 1")
    if n_heads % n_kv_heads:
        raise ValueError(f"n_kv_heads={n_kv_heads} must divide n_heads={n_heads}: every group the same size")
    return np.arange(n_heads) // (n_heads // n_kv_heads)


def grouped_query_attention(q, k, v, mask=None, scale=None) -> np.ndarray:
    """Attention in which groups of query heads share one key/value head.

    Equivalent to repeating each key/value head ``H / G`` times and running ordinary
    multi-head attention, but without the copies: the query heads of one group are
    stacked and meet their shared keys in one product.

    Parameters
    ----------
    q : array_like, shape (..., H, T_q, d)
    k : array_like, shape (..., G, T_k, d)
    v : array_like, shape (..., G, T_k, d_v)
    mask : array_like of bool, shape (T_q, T_k), optional
        True where a query may attend, as in :func:`dotlab.scaled_dot_product_attention`.
    scale : float, optional
        Defaults to ``1/sqrt(d)``.

    Returns
    -------
    numpy.ndarray, shape (..., H, T_q, d_v)

    Raises
    ------
    ValueError
        If the head axes do not divide (``G`` must divide ``H``), or ``k`` and ``v``
        disagree; the message names the shapes.

    Examples
    --------
    Two query heads share one key/value head: each scores the same keys its own way.

    >>> q = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])   # (H=2, T_q=1, d=2)
    >>> k = np.array([[[9.0, 0.0], [0.0, 9.0]]])     # (G=1, T_k=2, d=2)
    >>> v = np.array([[[1.0], [2.0]]])               # (G=1, T_k=2, d_v=1)
    >>> grouped_query_attention(q, k, v).round(3)    # head 0 picks key 0, head 1 key 1
    array([[[1.002]],
    <BLANKLINE>
           [[1.998]]])
    """
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
        raise ValueError(
            f"q.shape={q.shape}, k.shape={k.shape}, v.shape={v.shape} must each be (..., heads, T, width)"
        )
    H, G = q.shape[-3], k.shape[-3]
    if v.shape[-3] != G or v.shape[-2] != k.shape[-2]:
        raise ValueError(f"k.shape={k.shape} and v.shape={v.shape} must have the same heads and tokens")
    if H % G:
        raise ValueError(
            f"q has {H} heads and k has {G} (q.shape={q.shape}, k.shape={k.shape}): "
            f"the key/value heads must divide the query heads"
        )
    lead, T_q, d = q.shape[:-3], q.shape[-2], q.shape[-1]
    # (..., H, T_q, d) -> (..., G, H/G, T_q, d): each group's query heads next to each other.
    grouped = q.reshape(*lead, G, H // G, T_q, d)
    # Keys and values gain a length-1 axis, so one head serves its whole group by broadcasting.
    out = scaled_dot_product_attention(grouped, k[..., None, :, :], v[..., None, :, :], mask=mask, scale=scale)
    return out.reshape(*lead, H, T_q, v.shape[-1])  # (..., G, H/G, T_q, d_v) -> (..., H, T_q, d_v)
