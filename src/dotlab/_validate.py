"""Turning what a caller passed into arrays, with errors that say what was wrong.

Every public function in dotlab starts here, so a learner who passes a string, a ragged
list, a NaN or two vectors of different lengths is told exactly that, with the shapes
and values involved, instead of meeting a NumPy broadcasting error three calls deep.
"""

from __future__ import annotations

import numpy as np


def _describe(x) -> str:
    """A short, readable rendering of a value for an error message."""
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def as_array(x, name: str, *, ndim: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """Return ``x`` as a finite float array, or raise an error that names the problem.

    Integers and booleans become float64; float32 stays float32, so callers who chose
    single precision keep it.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nesting, for instance
        raise TypeError(f"{name}={_describe(x)} cannot be read as an array of numbers: {exc}") from None
    if arr.dtype.kind in "c":
        raise TypeError(f"{name} holds complex numbers (dtype {arr.dtype}); this course works with real vectors")
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}={_describe(x)} must hold numbers, but its elements have dtype {arr.dtype}"
            " (strings or mixed objects?)"
        )
    if ndim is not None and arr.ndim != ndim:
        kind = {0: "a scalar", 1: "a 1-D vector", 2: "a 2-D matrix"}.get(ndim, f"{ndim}-D")
        raise ValueError(f"{name} must be {kind}, but {name}.shape={arr.shape} has {arr.ndim} dimension(s)")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty ({name}.shape={arr.shape}); there is nothing to multiply")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[:3].tolist()
        raise ValueError(f"{name} contains NaN or infinity (at index {bad}); a dot product of it would be meaningless")
    return arr


def same_length(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("a", "b")) -> None:
    """Raise if two vectors cannot be paired component by component."""
    if a.shape[-1] != b.shape[-1]:
        na, nb = names
        raise ValueError(
            f"{na}.shape={a.shape} and {nb}.shape={b.shape} must match on the last axis: "
            f"a dot product pairs component i of {na} with component i of {nb}"
        )


def nonzero(length: float, name: str) -> None:
    """A zero vector has no direction: angles and projections onto it are undefined."""
    if length == 0.0:
        raise ValueError(f"{name} is the zero vector: it has no direction, so its angle or cosine is undefined")
