"""Chapter 5: attention, tokens comparing themselves to tokens.

Shape vocabulary: ``T_q`` queries and ``T_k`` keys (both ``T`` in self-attention),
queries and keys of length ``d`` (``d_head`` inside a multi-head layer), values of
length ``d_v``; ``H`` heads; ``d_model`` the width of a token's vector. Any leading
axes (batch, heads) are written ``...`` and broadcast as in ``numpy.matmul``.

One attention step, for every query at once (Vaswani et al. 2017, eq. 1)::

    S = Q Kᵀ · scale         # (..., T_q, d) x (..., d, T_k) -> (..., T_q, T_k) scores
    A = softmax(S) by rows   # masked keys get weight 0
    Y = A V                  # (..., T_q, T_k) x (..., T_k, d_v) -> (..., T_q, d_v)

A mask is boolean with True meaning "this key takes part", the convention of
``torch.nn.functional.scaled_dot_product_attention`` (``torch.nn.MultiheadAttention``
uses the opposite one). A query whose keys are all masked has nothing to average; its
weights and output are all zero, as in PyTorch, never NaN.
"""

from __future__ import annotations

import contextlib
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dotlab._validate import as_array
from dotlab.scaling import _scale

__all__ = [
    "attention_weights",
    "causal_mask",
    "merge_heads",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "split_heads",
]

# -- masks ------------------------------------------------------------------------------


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive whole number")
    return int(value)


def causal_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """Which keys each query may attend to in a decoder: itself and everything before.

    The mask is aligned at the bottom right, so the *last* query sees every key. That
    is what decoding with a KV cache needs: the ``n_queries`` new tokens are the last
    ones of a context of ``n_keys`` tokens, and query ``i`` sits at position
    ``i + n_keys - n_queries``. (``torch``'s ``is_causal=True`` aligns at the top left
    instead; the two agree only when ``n_queries == n_keys``.) With more queries than
    keys, the first ``n_queries - n_keys`` rows see nothing.

    Parameters
    ----------
    n_queries, n_keys : int

    Returns
    -------
    numpy.ndarray of bool, shape (n_queries, n_keys)
        ``mask[i, j]`` is True where query ``i`` may attend to key ``j``.

    Raises
    ------
    ValueError
        If a count is not a positive whole number.

    Examples
    --------
    >>> causal_mask(3, 3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    >>> causal_mask(1, 4).astype(int)   # one new token, four in the cache: it sees all
    array([[1, 1, 1, 1]])
    >>> causal_mask(2, 4).astype(int)
    array([[1, 1, 1, 0],
           [1, 1, 1, 1]])
    """
    n_queries, n_keys = _count(n_queries, "n_queries"), _count(n_keys, "n_keys")
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)  # each query's place in the context
    return np.arange(n_keys)[None, :] <= position


def _as_mask(mask, scores_shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask that broadcasts to the score table, or an error saying why not."""
    arr = np.asarray(mask)
    if arr.dtype != np.bool_:
        raise TypeError(
            f"mask must be boolean (True = this key takes part), but mask.dtype={arr.dtype}. "
            "An additive mask of 0 and -inf converts with `mask == 0`."
        )
    try:
        fits = np.broadcast_shapes(arr.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"mask.shape={arr.shape} does not broadcast to the scores' shape {tuple(scores_shape)} "
            "(..., T_q, T_k): one entry per query and key"
        )
    return arr


# -- running many small matrix products at once -------------------------------------------

_BLAS = None  # a threadpoolctl controller, made on first use


def _one_blas_thread():
    """Run BLAS on one thread while many small matrix products run side by side.

    OpenBLAS splits even a small product across all its threads, and the hand-offs cost
    more than the arithmetic; on a machine whose cores are busy with anything else,
    threads wait for each other and a 0.1 s computation can take 5 s. Where the work is
    cut into blocks, one BLAS thread per block is faster, and the blocks themselves are
    what runs in parallel (FlashAttention's choice too).
    """
    global _BLAS
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # not installed: run as configured
        return contextlib.nullcontext()
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


# Row blocks hold about this many bytes of scores; below this many scores in total,
# threads cost more than they save.
_BLOCK_BYTES = 2**20
_PARALLEL_SCORES = 2**20


def _workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- single-head attention ----------------------------------------------------------------


def _check_qkv(q, k, v=None):
    q, k = as_array(q, "q"), as_array(k, "k")
    arrays = [("q", q, "(..., T_q, d)"), ("k", k, "(..., T_k, d)")]
    if v is not None:
        v = as_array(v, "v")
        arrays.append(("v", v, "(..., T_k, d_v)"))
    for name, arr, shape in arrays:
        if arr.ndim < 2:
            raise ValueError(f"{name} must have shape {shape}, but {name}.shape={arr.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q.shape={q.shape} and k.shape={k.shape} must match on the last axis (d): "
            "a score is a dot product of a query with a key"
        )
    if v is not None and v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"k.shape={k.shape} and v.shape={v.shape} must match on the second-to-last axis (T_k): "
            "every key has exactly one value"
        )
    return q, k, v


def _masked_exp(q, k, mask, scale):
    """Unnormalised weights ``exp(S - rowmax)`` (0 where masked), and their row sums.

    Shared by :func:`attention_weights` and :func:`scaled_dot_product_attention`, and
    written for speed: the T_q x T_k table is made once and then updated in place.
    """
    d = q.shape[-1]
    # Scaling q (T_q x d numbers) is cheaper than scaling the T_q x T_k scores.
    e = (q * q.dtype.type(_scale(scale, d))) @ np.swapaxes(k, -1, -2)  # (..., T_q, d) x (..., d, T_k)
    if mask is not None:
        mask = _as_mask(mask, e.shape)
        if mask.shape != e.shape:
            e = np.array(np.broadcast_to(e, np.broadcast_shapes(e.shape, mask.shape)))
        np.copyto(e, -np.inf, where=~mask)
    top = e.max(axis=-1, keepdims=True)
    if mask is not None:
        top[np.isneginf(top)] = 0.0  # a row with every key masked: exp(-inf - 0) = 0, no NaN
    e -= top  # the softmax shift (see dotlab.softmax): every exp is at most 1
    np.exp(e, out=e)
    total = e.sum(axis=-1, keepdims=True)
    total[total == 0] = 1.0  # only fully masked rows sum to 0; their weights stay 0
    return e, total


def attention_weights(q, k, mask=None, scale: float | None = None) -> np.ndarray:
    """The attention weights ``softmax(Q Kᵀ · scale)``, row by row, masked keys at 0.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d)
    k : array_like, shape (..., T_k, d)
    mask : array_like of bool, optional
        Broadcasts to ``(..., T_q, T_k)``; True where a query may attend to a key.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d)``.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, T_k)
        Each row sums to 1, or is all 0 where every key of that row is masked.

    Examples
    --------
    >>> q = [[1.0, 0.0], [0.0, 1.0]]
    >>> k = [[1.0, 0.0], [0.0, 1.0]]
    >>> attention_weights(q, k, scale=1.0).round(3)
    array([[0.731, 0.269],
           [0.269, 0.731]])
    >>> attention_weights(q, k, mask=causal_mask(2, 2), scale=1.0).round(3)
    array([[1.   , 0.   ],
           [0.269, 0.731]])
    """
    q, k, _ = _check_qkv(q, k)
    e, total = _masked_exp(q, k, mask, scale)
    e /= total
    return e


def scaled_dot_product_attention(q, k, v, mask=None, scale: float | None = None) -> np.ndarray:
    """Scaled dot-product attention: each query's weighted average of the values.

    ``Y = softmax(Q Kᵀ · scale) V``, with the softmax taken over keys (each row of the
    score table), masked keys excluded, and ``scale = 1/sqrt(d)`` unless given. Agrees
    with ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
    scale=scale)``, including a row whose keys are all masked: its output is all 0.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d)
    k : array_like, shape (..., T_k, d)
    v : array_like, shape (..., T_k, d_v)
    mask : array_like of bool, optional
        Broadcasts to ``(..., T_q, T_k)``; True where a query may attend to a key.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d)``.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, d_v)
        float32 if every input is float32, otherwise float64.

    Raises
    ------
    ValueError
        If the shapes do not line up (the message names them), or an input holds NaN.
    TypeError
        If the mask is not boolean.

    Examples
    --------
    >>> q = [[1.0, 0.0]]
    >>> k = [[1.0, 0.0], [0.0, 1.0]]
    >>> v = [[10.0], [20.0]]
    >>> scaled_dot_product_attention(q, k, v, scale=1.0).round(3)   # 0.731·10 + 0.269·20
    array([[12.689]])
    >>> scaled_dot_product_attention(q, k, v, mask=[[False, False]])  # nothing to attend to
    array([[0.]])
    """
    q, k, v = _check_qkv(q, k, v)
    T_q, T_k, d_v = q.shape[-2], k.shape[-2], v.shape[-1]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if mask is not None:
        mask = _as_mask(mask, (*batch, T_q, T_k))
        batch = np.broadcast_shapes(batch, mask.shape[:-2])
        mask = np.broadcast_to(mask, (*batch, T_q, T_k))  # a view: no copy per head
    q, k, v = (np.broadcast_to(x, (*batch, *x.shape[-2:])) for x in (q, k, v))
    out = np.empty((*batch, T_q, d_v), dtype=np.result_type(q, k, v))
    # Each query's softmax needs only its own row of scores, so the table is built a
    # block of rows at a time: ~1 MiB of scores, small enough to stay in the CPU's cache
    # through the max, exp, sum and mixing passes (the whole table would go to main
    # memory and back on every pass), and the blocks run in parallel.
    rows = max(1, min(T_q, _BLOCK_BYTES // (T_k * out.itemsize)))
    blocks = [(b, i) for b in np.ndindex(batch) for i in range(0, T_q, rows)]

    def attend(block):
        b, i = block
        e, total = _masked_exp(q[b][i:i + rows], k[b], None if mask is None else mask[b][i:i + rows], scale)
        # Normalise after mixing: dividing the outputs is cheaper than dividing the weights.
        o = e @ v[b]  # (rows, T_k) x (T_k, d_v) -> (rows, d_v)
        o /= total
        out[b][i:i + rows] = o

    if len(blocks) == 1 or int(np.prod(batch)) * T_q * T_k < _PARALLEL_SCORES:
        for block in blocks:
            attend(block)
    else:
        with _one_blas_thread(), ThreadPoolExecutor(_workers()) as pool:
            list(pool.map(attend, blocks))
    return out


# -- multi-head attention --------------------------------------------------------------


def split_heads(x, n_heads: int) -> np.ndarray:
    """Cut each token's vector into ``n_heads`` pieces, one per head.

    Parameters
    ----------
    x : array_like, shape (..., T, d_model)
    n_heads : int
        Must divide ``d_model``; each head gets ``d_head = d_model // n_heads``
        consecutive components.

    Returns
    -------
    numpy.ndarray, shape (..., n_heads, T, d_head)
        Heads come before tokens, so each head's ``(T, d_head)`` block is a matrix that
        attention can work on by itself.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(2, 4)      # T = 2 tokens, d_model = 4
    >>> split_heads(x, 2)                     # head 0 gets components 0-1, head 1 gets 2-3
    array([[[0., 1.],
            [4., 5.]],
    <BLANKLINE>
           [[2., 3.],
            [6., 7.]]])
    """
    x = as_array(x, "x")
    n_heads = _count(n_heads, "n_heads")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (..., T, d_model), but x.shape={x.shape}")
    *batch, T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} must divide d_model={d_model} (x.shape={x.shape}) into equal heads")
    heads = x.reshape(*batch, T, n_heads, d_model // n_heads)  # (..., T, H, d_head)
    return np.swapaxes(heads, -2, -3)  # (..., H, T, d_head)


def merge_heads(x) -> np.ndarray:
    """Undo :func:`split_heads`: put each token's pieces back side by side.

    Parameters
    ----------
    x : array_like, shape (..., H, T, d_head)

    Returns
    -------
    numpy.ndarray, shape (..., T, H * d_head)

    Examples
    --------
    >>> x = np.arange(8.0).reshape(2, 4)
    >>> np.array_equal(merge_heads(split_heads(x, 2)), x)
    True
    """
    x = as_array(x, "x")
    if x.ndim < 3:
        raise ValueError(f"x must have shape (..., H, T, d_head), but x.shape={x.shape}")
    *batch, H, T, d_head = x.shape
    return np.swapaxes(x, -2, -3).reshape(*batch, T, H * d_head)  # (..., T, H, d_head) -> (..., T, H*d_head)


def _weight(w, name: str, rows: int) -> np.ndarray:
    w = as_array(w, name, ndim=2)
    if w.shape[0] != rows:
        raise ValueError(f"{name}.shape={w.shape} must have {rows} rows to multiply vectors of length {rows}")
    return w


def _bias(b, name: str, width: int):
    if b is None:
        return 0.0
    b = as_array(b, name, ndim=1)
    if b.shape[0] != width:
        raise ValueError(f"{name}.shape={b.shape} must have length {width}")
    return b


def multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads: int, *, mask=None, context=None,
                         b_q=None, b_k=None, b_v=None, b_o=None) -> np.ndarray:
    """Multi-head attention: project, split into heads, attend in each, merge, project.

    ``Q = X W_Q``, ``K = C W_K``, ``V = C W_V`` (``C = X`` for self-attention); each of
    the ``H`` heads attends with its own slice of ``d_head`` components, and the heads'
    outputs, side by side again, are mixed by ``W_O`` (Vaswani et al. 2017, sec. 3.2.2).

    Parameters
    ----------
    x : array_like, shape (..., T_q, d_model)
        The tokens that ask (queries).
    w_q, w_k : array_like, shape (d_model, H * d_head)
    w_v : array_like, shape (d_model, H * d_v)
    w_o : array_like, shape (H * d_v, d_out)
    n_heads : int
    mask : array_like of bool, optional
        Broadcasts to ``(..., H, T_q, T_k)``; True where a query may attend to a key.
        A ``(T_q, T_k)`` mask applies to every head.
    context : array_like, shape (..., T_k, d_model), optional
        The tokens that answer (keys and values); default ``x`` (self-attention).
    b_q, b_k, b_v, b_o : array_like, optional
        Biases added after each projection.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, d_out)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(5, 8))                       # T = 5 tokens, d_model = 8
    >>> w_q, w_k, w_v, w_o = rng.normal(size=(4, 8, 8))
    >>> multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads=2, mask=causal_mask(5, 5)).shape
    (5, 8)
    """
    x = as_array(x, "x")
    c = x if context is None else as_array(context, "context")
    if x.ndim < 2 or c.ndim < 2 or x.shape[-1] != c.shape[-1]:
        raise ValueError(f"x.shape={x.shape} and context.shape={c.shape} must both be (..., T, d_model) with one d_model")
    d_model = x.shape[-1]
    w_q, w_k, w_v = (_weight(w, n, d_model) for w, n in ((w_q, "w_q"), (w_k, "w_k"), (w_v, "w_v")))
    if w_q.shape != w_k.shape:
        raise ValueError(f"w_q.shape={w_q.shape} and w_k.shape={w_k.shape} must match: queries meet keys by dot product")
    w_o = _weight(w_o, "w_o", w_v.shape[1])
    # 1. project: one matrix product per role, all heads at once
    q = x @ w_q + _bias(b_q, "b_q", w_q.shape[1])  # (..., T_q, d_model) x (d_model, H*d_head)
    k = c @ w_k + _bias(b_k, "b_k", w_k.shape[1])  # (..., T_k, H*d_head)
    v = c @ w_v + _bias(b_v, "b_v", w_v.shape[1])  # (..., T_k, H*d_v)
    # 2. split: each head sees its own d_head components
    q, k, v = (split_heads(t, n_heads) for t in (q, k, v))  # (..., H, T, d_head)
    # 3. attend, in every head at once (the head axis is one more batch axis)
    # A (T_q, T_k) mask broadcasts over heads; a per-example one must be (B, 1, T_q, T_k).
    y = scaled_dot_product_attention(q, k, v, mask=mask)  # (..., H, T_q, d_v)
    # 4. merge and 5. mix the heads
    return merge_heads(y) @ w_o + _bias(b_o, "b_o", w_o.shape[1])  # (..., T_q, H*d_v) x (H*d_v, d_out)
