"""Chapter 9: rotary position embedding (RoPE), position entering the dot product.

Su et al. (2021) rotate each pair of a query's (and a key's) components by an angle
proportional to the token's position ``p``: pair ``i`` turns by ``p·θ_i`` with
``θ_i = base^(-2i/d_head)``. A rotation keeps lengths and turns both vectors the same
way, so the dot product of a query at ``m`` with a key at ``n`` sees only the
difference of their angles, ``(m - n)·θ_i``: the score depends on the relative offset
``m - n``, never on ``m`` and ``n`` themselves.

Which components form a pair is a layout, not a different method:

- ``"interleaved"``: neighbours ``(0, 1), (2, 3), ...``, as in the paper and GPT-J;
- ``"half"``: component ``i`` with ``i + d_head/2``, as in GPT-NeoX and Hugging Face's
  Llama (``rotate_half``). Meta's original Llama code pairs neighbours; the Hugging Face
  conversion permutes the rows of ``W_Q`` and ``W_K`` so the half layout gives the same
  scores (see :func:`interleaved_to_half`).

Shape vocabulary: ``T`` tokens, ``d_head`` the width of one head's queries and keys.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LAYOUTS", "apply_rope", "interleaved_to_half", "rope_angles", "rope_frequencies"]

#: The two ways of choosing which components turn together.
LAYOUTS = ("half", "interleaved")


def _even_width(d_head) -> int:
    if isinstance(d_head, bool) or not isinstance(d_head, (int, np.integer)):
        raise TypeError(f"d_head={d_head!r} must be a whole number, not {type(d_head).__name__}")
    if d_head < 2 or d_head % 2:
        raise ValueError(f"d_head={d_head} must be even and at least 2: RoPE turns components in pairs")
    return int(d_head)


def _base(base) -> float:
    if isinstance(base, bool) or not np.isfinite(base) or base <= 1:
        raise ValueError(f"base={base!r} must be a finite number above 1")
    return float(base)


def rope_frequencies(d_head: int, base: float = 10000.0) -> np.ndarray:
    """The angle each pair turns per position: ``θ_i = base^(-2i/d_head)``.

    Pair 0 turns fastest (one radian per position); the last pair slowest, almost
    ``1/base`` radians per position. The spacing is geometric, as in the sinusoidal
    positions of Vaswani et al. (2017), from which Su et al. (2021) take it.

    Parameters
    ----------
    d_head : int
        Width of a query or key; even.
    base : float, default 10000.0
        Sets the slowest frequency. Llama 3 uses 500,000.

    Returns
    -------
    numpy.ndarray, shape (d_head // 2,)
        Radians per position, decreasing.

    Raises
    ------
    ValueError
        If ``d_head`` is odd or below 2, or ``base`` is not above 1.
    TypeError
        If ``d_head`` is not an int.

    Examples
    --------
    >>> rope_frequencies(8)
    array([1.   , 0.1  , 0.01 , 0.001])
    """
    d_head, base = _even_width(d_head), _base(base)
    return base ** (-np.arange(0, d_head, 2) / d_head)


def rope_angles(positions, d_head: int, base: float = 10000.0) -> np.ndarray:
    """The angle of every pair at every position: ``positions[:, None] * θ``.

    Parameters
    ----------
    positions : array_like, shape (T,)
        Token positions (whole numbers or not: the angle is linear in them).
    d_head : int
    base : float, default 10000.0

    Returns
    -------
    numpy.ndarray, shape (T, d_head // 2)

    Examples
    --------
    >>> rope_angles([0, 1, 2], 4)
    array([[0.  , 0.  ],
           [1.  , 0.01],
           [2.  , 0.02]])
    """
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 1:
        raise ValueError(f"positions.shape={positions.shape} must be 1-D, one position per token")
    return positions[:, None] * rope_frequencies(d_head, base)[None, :]  # (T, 1) x (1, d/2) -> (T, d/2)


def _pairs(x: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The first and second component of every pair, each (..., T, d_head/2)."""
    if layout == "interleaved":
        return x[..., 0::2], x[..., 1::2]
    half = x.shape[-1] // 2
    return x[..., :half], x[..., half:]


def apply_rope(x, positions=None, *, base: float = 10000.0, layout: str = "half") -> np.ndarray:
    """Rotate every pair of components of each row by its position's angle.

    For a pair ``(a, b)`` at angle ``φ = p·θ_i``::

        a' = a·cos φ - b·sin φ
        b' = a·sin φ + b·cos φ

    Apply it to queries and keys (never to values); then
    ``apply_rope(q, [m]) @ apply_rope(k, [n]).T`` depends on ``m - n`` only.

    Parameters
    ----------
    x : array_like, shape (..., T, d_head)
        Queries or keys, one row per token; leading axes (heads, batch) are kept.
    positions : array_like, shape (T,), optional
        Each row's position; defaults to ``0, 1, ..., T-1``.
    base : float, default 10000.0
    layout : {"half", "interleaved"}, default "half"
        Which components turn together (see the module docstring).

    Returns
    -------
    numpy.ndarray, shape (..., T, d_head)
        Float64; the same length as ``x`` row by row.

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 axes or an odd last axis, ``positions`` does not
        have one entry per row, or ``layout`` is unknown.

    Examples
    --------
    A vector at position 1 turns by 1 radian in its fast pair:

    >>> apply_rope([[1.0, 0.0, 1.0, 0.0]], positions=[1], layout="interleaved").round(3)
    array([[0.54 , 0.841, 1.   , 0.01 ]])

    Shift both positions by the same amount and the score stays:

    >>> q, k = np.array([[0.3, -1.0, 2.0, 0.5]]), np.array([[1.0, 0.2, -0.4, 0.7]])
    >>> a = apply_rope(q, [7]) @ apply_rope(k, [3]).T
    >>> b = apply_rope(q, [107]) @ apply_rope(k, [103]).T
    >>> bool(np.allclose(a, b))
    True
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} must be one of {LAYOUTS}")
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"x.shape={x.shape} must be (..., T, d_head): one row per token")
    T, d_head = x.shape[-2:]
    positions = np.arange(T) if positions is None else np.asarray(positions, dtype=float)
    if positions.shape != (T,):
        raise ValueError(f"positions.shape={positions.shape} must be ({T},): one position per row of x.shape={x.shape}")
    angles = rope_angles(positions, _even_width(int(d_head)), base)  # (T, d/2)
    cos, sin = np.cos(angles), np.sin(angles)
    a, b = _pairs(x, layout)  # each (..., T, d/2)
    out = np.empty_like(x)
    first, second = _pairs(out, layout)  # views into out, so writing them fills it
    first[...] = a * cos - b * sin
    second[...] = a * sin + b * cos
    return out


def interleaved_to_half(d_head: int) -> np.ndarray:
    """The order of components that turns the interleaved layout into the half one.

    ``x[..., order]`` puts the even components first and the odd ones after, so
    neighbours ``(2i, 2i+1)`` become ``(i, i + d_head/2)``, with the same frequency:
    ``apply_rope(x, layout="interleaved")[..., order]`` equals
    ``apply_rope(x[..., order], layout="half")``. Reordering the rows of ``W_Q`` and
    ``W_K`` this way is how checkpoints move from one layout to the other; the scores do
    not change, because ``q·k`` does not depend on the order of the components.

    Parameters
    ----------
    d_head : int

    Returns
    -------
    numpy.ndarray of int, shape (d_head,)

    Examples
    --------
    >>> interleaved_to_half(6)
    array([0, 2, 4, 1, 3, 5])
    """
    d_head = _even_width(d_head)
    return np.concatenate([np.arange(0, d_head, 2), np.arange(1, d_head, 2)])
