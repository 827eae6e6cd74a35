"""Checks for chapter 1's assignment: the dot product, length, angle and projection.

Task ids match the chapter, the exercise notebook and the pytest markers:
1.1 ``dot_loop``, 1.2 ``dot``, 1.3 ``norm``, 1.4 ``angle_between``, 1.5 ``project``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake.
"""

from __future__ import annotations

import math

import numpy as np

from dotlab import vectors
from dotlab.checks._core import Case, Forbidden, Mistake, run_checks

# -- 1.1 and 1.2: the dot product ------------------------------------------------------

_DOT_MISTAKES = (
    Mistake("elementwise", "you returned the element-wise products a*b; the dot product adds them up into one number",
            lambda a, b: np.multiply(a, b)),
    Mistake("skip last", "the last pair of components is missing: check your range(...) goes all the way to len(a)",
            lambda a, b: np.dot(a[:-1], b[:-1])),
    Mistake("skip first", "the first pair of components is missing: indices start at 0",
            lambda a, b: np.dot(a[1:], b[1:])),
    Mistake("added", "you added the components (a[i] + b[i]) where the dot product multiplies them",
            lambda a, b: np.sum(np.add(a, b))),
    Mistake("product of sums", "you multiplied sum(a) by sum(b); the dot product multiplies pair by pair, then adds",
            lambda a, b: np.sum(a) * np.sum(b)),
    Mistake("abs", "you took absolute values: the sign is the point (negative means the vectors are opposed)",
            lambda a, b: np.sum(np.abs(np.multiply(a, b)))),
    Mistake("start at one", "your running total starts at 1; a sum starts at 0",
            lambda a, b: 1 + np.dot(a, b)),
    Mistake("product of products", "you multiplied the pairwise products together; they should be added",
            lambda a, b: np.prod(np.multiply(a, b))),
    Mistake("reversed", "you paired a[i] with b[-1 - i]; pair component i of a with component i of b",
            lambda a, b: np.dot(a, np.asarray(b)[::-1])),
    Mistake("squared", "you returned the square of the dot product",
            lambda a, b: np.dot(a, b) ** 2),
)

_LENGTH_HINT = (
    "Note that zip() quietly stops at the shorter vector, and NumPy may broadcast a length-1 vector: "
    "compare the lengths first and raise ValueError(f'a has length {len(a)} but b has length {len(b)}')."
)


def _dot_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("the worked example: 2*4 + 3*(-1) + 1*5", ([2, 3, 1], [4, -1, 5])),
        Case("perpendicular vectors", ([1, 0], [0, 1])),
        Case("opposed vectors", ([1.5, -2.0, 0.5], [-3.0, 4.0, -1.0])),
        Case("vectors of different lengths", ([1, 2, 3], [1, 2]), raises=ValueError, must_mention=("3", "2"), hint=_LENGTH_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(101)
    long_a, long_b = rng.normal(size=1000), rng.normal(size=1000)
    return cases + [
        Case("vectors of length 1", ([7.0], [-3.0])),
        Case("NumPy arrays of floats", (np.array([0.5, 0.25, -2.0, 8.0]), np.array([4.0, -8.0, 0.5, 0.125]))),
        Case("length-1000 random vectors", (long_a, long_b), show_inputs=False),
        Case("a length-1 vector against a length-3 one", ([2.0], [1.0, 2.0, 3.0]), raises=ValueError, must_mention=("1", "3"), hint=_LENGTH_HINT),
        Case("vectors of different lengths, the longer second", ([1, 2], [1, 2, 3, 4]), raises=ValueError, must_mention=("2", "4"), hint=_LENGTH_HINT),
    ]


_NO_LIBRARY_DOT = tuple(
    Forbidden(target, "build the sum of products yourself with a loop")
    for target in ("numpy.dot", "numpy.inner", "numpy.vdot", "numpy.matmul", "numpy.einsum", "numpy.tensordot")
)
_NO_REFERENCE = tuple(
    Forbidden(target, "the course's reference implementation is not your answer")
    for target in ("dotlab.dot", "dotlab.dot_loop", "dotlab.vectors.dot", "dotlab.vectors.dot_loop")
)


def check_dot_loop(fn, hidden: bool = False) -> None:
    """Task 1.1: a dot product computed with a plain Python loop."""
    run_checks(fn, fn_name="dot_loop", reference=vectors.dot, cases=_dot_cases(hidden),
                      mistakes=_DOT_MISTAKES, forbidden=_NO_LIBRARY_DOT + _NO_REFERENCE)


def check_dot(fn, hidden: bool = False) -> None:
    """Task 1.2: a vectorised dot product (NumPy allowed, the reference is not)."""
    run_checks(fn, fn_name="dot", reference=vectors.dot, cases=_dot_cases(hidden),
                      mistakes=_DOT_MISTAKES, forbidden=_NO_REFERENCE)


# -- 1.3: the length of a vector -------------------------------------------------------

_NORM_MISTAKES = (
    Mistake("squared", "you returned the squared length a·a; take its square root",
            lambda a: np.dot(a, a)),
    Mistake("l1", "you added the absolute values (the L1 length); the Euclidean length is sqrt(sum of squares)",
            lambda a: np.sum(np.abs(a))),
    Mistake("sum", "you added the components themselves; square them first, then take the square root of the sum",
            lambda a: np.sum(a)),
    Mistake("rms", "you divided by the number of components (that is the root-mean-square, not the length)",
            lambda a: np.sqrt(np.mean(np.square(a)))),
    Mistake("max", "you returned the largest absolute component, not the length",
            lambda a: np.max(np.abs(a))),
    Mistake("sqrt sum", "you took the square root of the plain sum; square each component first",
            lambda a: np.sqrt(np.sum(a))),
)


def _norm_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("a 3-4-5 right triangle", ([3, 4],)),
        Case("negative components", ([-1, -2, 2],)),
        Case("a matrix instead of a vector", ([[3, 4], [1, 2]],), raises=ValueError, must_mention=("(2, 2)",),
             hint="Check a.ndim == 1 and name the shape you got: raise ValueError(f'expected a 1-D vector, got shape {a.shape}')."),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(103)
    return cases + [
        Case("the zero vector (its length is 0)", ([0.0, 0.0, 0.0],)),
        Case("a single component", ([-5.0],)),
        Case("length-500 random vector", (rng.normal(size=500),), show_inputs=False),
        Case("a 1x3 matrix", ([[1.0, 2.0, 2.0]],), raises=ValueError, must_mention=("(1, 3)",)),
    ]


def check_norm(fn, hidden: bool = False) -> None:
    """Task 1.3: the Euclidean length ``sqrt(a · a)``."""
    forbidden = tuple(Forbidden(t, "compute the square root of a·a yourself")
                      for t in ("numpy.linalg.norm", "dotlab.norm", "dotlab.vectors.norm"))
    run_checks(fn, fn_name="norm", reference=vectors.norm, cases=_norm_cases(hidden),
                      mistakes=_NORM_MISTAKES, forbidden=forbidden)


# -- 1.4: the angle between two vectors ------------------------------------------------

def _cos(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


_ANGLE_MISTAKES = (
    Mistake("unclipped", "rounding pushed cos θ a hair past ±1 and arccos returned NaN: clip it to [-1, 1] first",
            lambda a, b, degrees=False: np.arccos(_cos(a, b)) * (180 / np.pi if degrees else 1.0)),
    Mistake("cosine", "you returned cos θ; the angle is arccos of it",
            lambda a, b, degrees=False: _cos(a, b)),
    Mistake("degrees", "you returned degrees when radians were asked for (degrees=False is the default)",
            lambda a, b, degrees=False: math.degrees(vectors.angle_between(a, b))),
    Mistake("radians", "with degrees=True the answer should be in degrees: multiply radians by 180/π",
            lambda a, b, degrees=False: vectors.angle_between(a, b)),
    Mistake("arcsin", "you used arcsin; cos θ = a·b / (|a| |b|), so θ = arccos(...)",
            lambda a, b, degrees=False: np.arcsin(np.clip(_cos(a, b), -1, 1)) * (180 / np.pi if degrees else 1.0)),
    Mistake("squared norms", "you divided by |a|²|b|²; divide by the lengths |a| |b|, not their squares",
            lambda a, b, degrees=False: np.arccos(np.clip(np.dot(a, b) / (np.dot(a, a) * np.dot(b, b)), -1, 1)) * (180 / np.pi if degrees else 1.0)),
)

_ZERO_HINT = "A zero vector has no direction: check each length and raise ValueError naming which vector is zero."


def _angle_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("perpendicular vectors: π/2", ([1, 0], [0, 2])),
        Case("45 degrees, asked for in degrees", ([1, 0], [1, 1]), {"degrees": True}),
        Case("a zero vector has no direction", ([0, 0], [1, 1]), raises=ValueError, hint=_ZERO_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(107)
    return cases + [
        Case("opposed vectors: π", ([1.0, 2.0], [-2.0, -4.0])),
        # a·a / (|a| |a|) rounds to 1.0000000000000002 for this vector: arccos would give NaN
        Case("a vector with itself: exactly 0", ([-0.92, -0.46, 0.22], [-0.92, -0.46, 0.22])),
        Case("a vector with a multiple of itself, in degrees", ([3.0, -1.0, 2.0], [6.0, -2.0, 4.0]), {"degrees": True}),
        Case("120 degrees", ([1.0, 0.0], [-0.5, math.sqrt(3) / 2]), {"degrees": True}),
        Case("random 50-dimensional vectors", (rng.normal(size=50), rng.normal(size=50)), show_inputs=False),
        Case("the second vector is zero", ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]), raises=ValueError, hint=_ZERO_HINT),
        Case("vectors of different lengths", ([1.0, 2.0], [1.0, 2.0, 3.0]), raises=ValueError, must_mention=("2", "3")),
    ]


def check_angle_between(fn, hidden: bool = False) -> None:
    """Task 1.4: θ from ``a·b = |a| |b| cos θ``, in radians unless ``degrees=True``."""
    forbidden = tuple(Forbidden(t, "derive the angle from the dot product yourself")
                      for t in ("dotlab.angle_between", "dotlab.vectors.angle_between"))
    hints = (("math domain error", "rounding pushed cos θ a hair past ±1: clip it to [-1, 1] before math.acos"),)
    run_checks(fn, fn_name="angle_between", reference=vectors.angle_between, cases=_angle_cases(hidden),
                      mistakes=_ANGLE_MISTAKES, forbidden=forbidden, error_hints=hints)


# -- 1.5: projection -------------------------------------------------------------------

def _coef(a, onto):
    return np.dot(a, onto) / np.dot(onto, onto)


_PROJECT_MISTAKES = (
    Mistake("one norm", "you divided by |onto|; the projection divides by |onto|² (onto is not a unit vector)",
            lambda a, onto: np.dot(a, onto) / np.linalg.norm(onto) * np.asarray(onto, float)),
    Mistake("no division", "you forgot to divide by onto·onto: that only works when onto has length 1",
            lambda a, onto: np.dot(a, onto) * np.asarray(onto, float)),
    Mistake("scalar", "you returned the signed length a·onto/|onto| (a number); the projection is a vector along onto",
            lambda a, onto: np.dot(a, onto) / np.linalg.norm(onto)),
    Mistake("coefficient", "you returned the coefficient a·onto / onto·onto; multiply it by onto to get the vector",
            lambda a, onto: _coef(a, onto)),
    Mistake("swapped", "you swapped the roles: this is the shadow of onto on a, not the shadow of a on onto",
            lambda a, onto: np.dot(a, onto) / np.dot(a, a) * np.asarray(a, float)),
    Mistake("rejection", "you returned a minus its projection (the part perpendicular to onto)",
            lambda a, onto: np.asarray(a, float) - _coef(a, onto) * np.asarray(onto, float)),
)


def _project_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("onto the x axis", ([2, 3], [1, 0])),
        Case("onto a longer vector along x", ([3, 4], [2, 0])),
        Case("onto the zero vector", ([1, 2], [0, 0]), raises=ValueError, hint=_ZERO_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(109)
    return cases + [
        Case("pointing away: the projection flips", ([-1.0, 1.0], [2.0, 0.0])),
        Case("perpendicular: the zero vector", ([0.0, 5.0, 0.0], [3.0, 0.0, 4.0])),
        Case("a diagonal direction", ([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])),
        Case("random 20-dimensional vectors", (rng.normal(size=20), rng.normal(size=20)), show_inputs=False),
        Case("vectors of different lengths", ([1.0, 2.0, 3.0], [1.0, 2.0]), raises=ValueError, must_mention=("3", "2")),
    ]


def check_project(fn, hidden: bool = False) -> None:
    """Task 1.5: the vector projection of ``a`` onto ``onto``."""
    forbidden = tuple(Forbidden(t, "build the projection from dot products yourself")
                      for t in ("dotlab.project", "dotlab.vectors.project"))
    run_checks(fn, fn_name="project", reference=vectors.project, cases=_project_cases(hidden),
                      mistakes=_PROJECT_MISTAKES, forbidden=forbidden)


CHECKS = {
    "1.1": check_dot_loop,
    "1.2": check_dot,
    "1.3": check_norm,
    "1.4": check_angle_between,
    "1.5": check_project,
}
