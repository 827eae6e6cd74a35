"""Chapter 9: sliding-window attention, a mask that keeps only the recent keys.

With a window of ``w``, a query at position ``p`` may attend to the keys at positions
``p - w + 1`` to ``p``: itself and the ``w - 1`` before it (Beltagy et al. 2020; Mistral
7B uses ``w = 4096``, Jiang et al. 2023). Each query then meets at most ``w`` keys, so
a prompt of ``T`` tokens needs about ``T·w`` score dot products instead of ``T²``, and
the KV cache never holds more than ``w`` tokens. What is lost is direct reach, not all
reach: layer after layer, a token takes in what its neighbours took in, so after ``L``
layers information can travel ``L·(w - 1)`` positions.

Shape vocabulary: ``T`` tokens, ``w`` the window, ``L`` layers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sliding_window_mask", "window_pairs", "window_reach"]


def _size(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be a whole number, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}={value!r} must be at least {minimum}")
    return int(value)


def sliding_window_mask(n_queries: int, n_keys: int, window: int) -> np.ndarray:
    """Causal attention limited to the last ``window`` keys, True where a query may attend.

    Aligned like :func:`dotlab.causal_mask`: the queries are the last ``n_queries`` of
    ``n_keys`` tokens, so query ``i`` sits at position ``p = i + n_keys - n_queries`` and
    sees keys ``p - window + 1`` to ``p``. ``window >= n_keys`` is the causal mask.

    Parameters
    ----------
    n_queries, n_keys : int
    window : int
        Keys a query may see, itself included; at least 1.

    Returns
    -------
    numpy.ndarray of bool, shape (n_queries, n_keys)

    Raises
    ------
    ValueError, TypeError
        If a size is not a whole number, ``n_queries > n_keys``, or ``window < 1``.

    Examples
    --------
    >>> sliding_window_mask(5, 5, window=2).astype(int)
    array([[1, 0, 0, 0, 0],
           [1, 1, 0, 0, 0],
           [0, 1, 1, 0, 0],
           [0, 0, 1, 1, 0],
           [0, 0, 0, 1, 1]])
    >>> sliding_window_mask(1, 6, window=3).astype(int)   # one decode step
    array([[0, 0, 0, 1, 1, 1]])
    """
    n_queries, n_keys = _size(n_queries, "n_queries"), _size(n_keys, "n_keys")
    window = _size(window, "window")
    if n_queries > n_keys:
        raise ValueError(f"n_queries={n_queries} > n_keys={n_keys}: the queries are the last of the keys' tokens")
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)  # (T_q, 1): each query's place
    key = np.arange(n_keys)[None, :]  # (1, T_k)
    return (key <= position) & (key > position - window)


def window_pairs(T: int, window: int | None) -> int:
    """How many (query, key) pairs a causal window mask over ``T`` tokens allows.

    Query ``i`` sees ``min(i + 1, w)`` keys, so the count is ``T(T+1)/2`` while
    ``T <= w`` and ``w(w+1)/2 + (T - w)·w`` after: close to ``T·w``. ``window=None`` is
    full causal attention. (The cost model counts ``T·min(T, w)``, dense, as it counts
    full attention without discounting the causal mask.)

    Parameters
    ----------
    T : int
    window : int or None

    Returns
    -------
    int

    Examples
    --------
    >>> window_pairs(5, 2), int(sliding_window_mask(5, 5, 2).sum())
    (9, 9)
    >>> window_pairs(100_000, None), window_pairs(100_000, 4096)
    (5000050000, 401213440)
    """
    T = _size(T, "T")
    if window is None or window >= T:
        return T * (T + 1) // 2
    w = _size(window, "window")
    return w * (w + 1) // 2 + (T - w) * w


def window_reach(window: int, n_layers: int) -> int:
    """How many positions, itself included, a token's output can depend on after ``L`` layers.

    One layer lets position ``p`` read ``p - w + 1`` to ``p``; the next layer reads
    those positions' outputs, each of which reached ``w - 1`` further back. After ``L``
    layers the reach is ``L·(w - 1) + 1`` positions (before the start of the text cuts
    it short).

    Parameters
    ----------
    window : int
    n_layers : int

    Returns
    -------
    int

    Examples
    --------
    >>> window_reach(4096, 32)     # Mistral 7B: 32 layers, a window of 4096
    131041
    >>> window_reach(3, 2)
    5
    """
    window, n_layers = _size(window, "window"), _size(n_layers, "n_layers")
    return n_layers * (window - 1) + 1
