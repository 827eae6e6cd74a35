"""Checks for chapter 1's assignment: the dot product, length, angle and projection.

Task ids match the chapter, the exercise notebook and the pytest markers:
1.1 ``dot_loop``, 1.2 ``dot``, 1.3 ``norm``, 1.4 ``angle_between``, 1.5 ``project``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake. Every task is declared once as a :class:`~dotlab.checks.contract.Task` (the
worked example of that module's "how to declare a task"): its contract, its allowlist,
its edge cases and its tolerance; the ``check_*`` functions and ``CHECKS`` derive from them.

The references here are written apart from :mod:`dotlab.vectors` (exact sums with
``math.fsum``), so a bug in the package does not become the grade.
"""

from __future__ import annotations

import math

import numpy as np

from dotlab import vectors
from dotlab.checks._core import Case, Forbidden, Mistake
from dotlab.checks.contract import MATH, NUMPY, AnyError, NUMPY_BASICS, PYTHON, STDLIB, TORCH, ArrayOf, Number, PythonFloat, Task, allow, tasks_table

# -- independent references ----------------------------------------------------------------


def _vector(x, name: str) -> list[float]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr.tolist()


def _pair(a, b) -> tuple[list[float], list[float]]:
    a, b = _vector(a, "a"), _vector(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
    return a, b


def _dot(a, b) -> float:
    a, b = _pair(a, b)
    return math.fsum(x * y for x, y in zip(a, b))


def _norm(a) -> float:
    a = _vector(a, "a")
    return math.hypot(*a) if a else 0.0


def _angle(a, b, degrees=False) -> float:
    # θ = 2 atan2(|â - b̂|, |â + b̂|): exact for parallel and opposed vectors, where
    # acos of a rounded cosine is off by up to sqrt(machine epsilon)
    a, b = _pair(a, b)
    na, nb = math.hypot(*a), math.hypot(*b)
    if na == 0 or nb == 0:
        raise ValueError("a zero vector has no direction")
    ua, ub = [x / na for x in a], [y / nb for y in b]
    theta = 2 * math.atan2(math.hypot(*(x - y for x, y in zip(ua, ub))), math.hypot(*(x + y for x, y in zip(ua, ub))))
    return math.degrees(theta) if degrees else theta


def _project(a, onto) -> np.ndarray:
    a, onto = _pair(a, onto)
    length_sq = math.fsum(y * y for y in onto)
    if length_sq == 0:
        raise ValueError("onto is the zero vector")
    coefficient = math.fsum(x * y for x, y in zip(a, onto)) / length_sq
    return np.array([coefficient * y for y in onto])


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
        # the components avoid the digits of the lengths, so a message that prints the
        # vectors without stating their lengths does not pass for one that does
        Case("vectors of different lengths", ([5, 7, 9], [4, 6]), raises=ValueError, must_mention=("3", "2"), hint=_LENGTH_HINT),
        Case("a length-1 vector against a length-3 one", ([2.0], [4.0, 5.0, 6.0]), raises=ValueError, must_mention=("1", "3"), hint=_LENGTH_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(101)
    # 400, not 1000: a recursive loop (a[0] * b[0] + dot_loop(a[1:], b[1:])) is a right
    # answer, and Python's recursion limit (1000 frames, the checks' own included) is not the task
    long_a, long_b = rng.normal(size=400), rng.normal(size=400)
    return cases + [
        Case("vectors of length 1", ([7.0], [-3.0])),
        Case("NumPy arrays of floats", (np.array([0.5, 0.25, -2.0, 8.0]), np.array([4.0, -8.0, 0.5, 0.125]))),
        Case("length-400 random vectors", (long_a, long_b), show_inputs=False),
        Case("vectors of different lengths, the longer second", ([1, 3], [5, 6, 7, 8]), raises=ValueError, must_mention=("2", "4"), hint=_LENGTH_HINT),
    ]


_NO_LIBRARY_DOT = tuple(
    Forbidden(target, "build the sum of products yourself with a loop")
    for target in ("numpy.dot", "numpy.inner", "numpy.vdot", "numpy.matmul", "numpy.einsum", "numpy.tensordot")
)
_NO_REFERENCE = tuple(
    Forbidden(target, "the course's reference implementation is not your answer")
    for target in ("dotlab.dot", "dotlab.dot_loop", "dotlab.vectors.dot", "dotlab.vectors.dot_loop")
)


# loops and array_products: "a loop, * and +" on the components, so neither a sum without a loop
# nor one whole-array product (np.asarray(a) * np.asarray(b), then a loop to add) is the task
_PLAIN_PYTHON = allow(PYTHON, MATH, STDLIB, NUMPY_BASICS, loops=True, array_products=False,
                      methods={"shape", "ndim", "size", "dtype", "tolist", "item", "astype", "append", "format",
                               "copy", "ravel", "flatten", "reshape"},
                      says="a plain Python loop that multiplies each pair and adds the products "
                           "(no @, np.dot, np.sum, np.inner, np.einsum or .sum())")
_ANY_LIBRARY = allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {".dot", ".inner", ".matmul", ".vdot"}, matmul=True,
                     methods=None, says="anything from NumPy, except the course's own dotlab functions")


def _dot_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(3, 9))
    v = rng.normal(size=d)
    c = float(rng.uniform(0.5, 4))
    return [
        Case("one component each", ([float(rng.normal())], [float(rng.normal())])),
        Case("parallel vectors", (v, c * v)),
        Case("anti-parallel vectors", (v, -c * v)),
        Case("a zero vector", (np.zeros(d), v)),
        Case("whole numbers", (rng.integers(-9, 10, size=d).tolist(), rng.integers(-9, 10, size=d).tolist())),
        Case("magnitudes from 1e-3 to 1e3", (v * np.logspace(-3, 3, d), rng.normal(size=d))),
    ]


DOT_LOOP = Task(
    "1.1", "dot_loop", reference=_dot, cases=_dot_cases, mistakes=_DOT_MISTAKES, returns=Number(),
    allowed=_PLAIN_PYTHON, forbidden=_NO_LIBRARY_DOT + _NO_REFERENCE, edges=_dot_edges,
    variants=("int", "float32", "strided"), array_params_=("a", "b"),
    doc="a dot product computed with a plain Python loop.",
)
DOT = Task(
    "1.2", "dot", reference=_dot, cases=_dot_cases, mistakes=_DOT_MISTAKES, returns=PythonFloat(),
    ranks={"a": (1,), "b": (1,)}, allowed=_ANY_LIBRARY, forbidden=_NO_REFERENCE, edges=_dot_edges,
    variants=("int", "float32", "strided"), doc="a vectorised dot product, returned as a Python float.",
)


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
        Case("negative components, as an array", (np.array([-1.0, -2.0, 2.0]),)),
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


def _norm_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(3, 9))
    return [
        Case("one negative component", ([-float(rng.uniform(1, 9))],)),
        Case("the zero vector", (np.zeros(d),)),
        Case("whole numbers", (rng.integers(-9, 10, size=d).tolist(),)),
        Case("components from 1e-3 to 1e3", (rng.normal(size=d) * np.logspace(-3, 3, d),), show_inputs=False),
        Case("one component far larger than the rest", (np.r_[1e6, rng.normal(size=d - 1)],)),
    ]


NORM = Task(
    "1.3", "norm", reference=_norm, cases=_norm_cases, mistakes=_NORM_MISTAKES, returns=Number(),
    ranks={"a": (1,)}, forbidden=tuple(Forbidden(t, "compute the square root of a·a yourself")
                                       for t in ("numpy.linalg.norm", "dotlab.norm", "dotlab.vectors.norm")),
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"!numpy.linalg.*", "!torch.norm", "!torch.linalg.*",
                                                       ".dot", ".inner", ".vdot", ".matmul"},
                  matmul=True, methods=None, says="NumPy or math, but not np.linalg.norm, math.hypot or dotlab"),
    edges=_norm_edges, variants=("int", "float32", "strided"),
    doc="the Euclidean length sqrt(a · a) of a 1-D vector.",
)


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

# Angles are compared to within 1e-3 radian, whatever unit they are asked in: near 0 and π a
# rounded cosine moves θ by up to sqrt(epsilon), 3e-4 rad in float32, which is 0.02 degree
_DEGREES_TOL = (1e-5, math.degrees(1e-3))

_ZERO_HINT = "A zero vector has no direction: check each length and raise ValueError naming which vector is zero."


def _angle_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("perpendicular vectors: π/2", ([1, 0], [0, 2])),
        Case("45 degrees, asked for in degrees", ([1, 0], [1, 1]), {"degrees": True}, tol=_DEGREES_TOL),
        # a·a / (|a| |a|) rounds to 1.0000000000000002 here, and to -1.0000000000000002 against
        # the opposite: arccos of either is NaN unless clipped to [-1, 1]
        Case("a vector with itself: 0", ([-0.92, -0.46, 0.22], [-0.92, -0.46, 0.22])),
        Case("a vector against its opposite: π", ([-0.92, -0.46, 0.22], [0.92, 0.46, -0.22])),
        Case("a zero vector has no direction", ([0, 0], [1, 1]), raises=ValueError, hint=_ZERO_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(107)
    return cases + [
        Case("opposed vectors: π", ([1.0, 2.0], [-2.0, -4.0])),
        Case("a vector with a multiple of itself, in degrees", ([3.0, -1.0, 2.0], [6.0, -2.0, 4.0]), {"degrees": True}, tol=_DEGREES_TOL),
        Case("120 degrees", ([1.0, 0.0], [-0.5, math.sqrt(3) / 2]), {"degrees": True}, tol=_DEGREES_TOL),
        Case("random 50-dimensional vectors", (rng.normal(size=50), rng.normal(size=50)), show_inputs=False),
        Case("the second vector is zero", ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]), raises=ValueError, hint=_ZERO_HINT),
        Case("vectors of different lengths", ([1.0, 2.0], [1.0, 2.0, 3.0]), raises=ValueError, must_mention=("2", "3")),
        # NumPy broadcasts a length-1 vector against any other: a * b "works" and hides the mismatch
        Case("a length-1 vector against a length-3 one", ([2.0], [1.0, 2.0, 3.0]), raises=ValueError,
             must_mention=("1", "3"), hint=_LENGTH_HINT),
    ]


def _rounding_past_one(rng: np.random.Generator, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """A vector and a multiple of it whose naive cosine rounds past +1 (or below -1)."""
    for _ in range(2000):
        v = np.round(rng.normal(size=int(rng.integers(2, 6))), 2)
        w = sign * float(rng.integers(1, 4)) * v
        naive = float(v @ w) / (math.sqrt(float(v @ v)) * math.sqrt(float(w @ w)))
        if abs(naive) > 1.0 and np.any(v):
            return v, w
    return np.array([-0.92, -0.46, 0.22]), sign * np.array([-0.92, -0.46, 0.22])


def _angle_edges(rng: np.random.Generator) -> list[Case]:
    v, same = _rounding_past_one(rng, 1.0)
    u, opposite = _rounding_past_one(rng, -1.0)
    d = int(rng.integers(3, 8))
    x = rng.normal(size=d)
    y = rng.normal(size=d)
    y -= (x @ y) / (x @ x) * x  # perpendicular to x
    return [
        Case("parallel vectors whose cosine rounds past 1", (v, same)),
        Case("anti-parallel vectors whose cosine rounds below -1", (u, opposite)),
        Case("anti-parallel vectors, in degrees", (u, opposite), {"degrees": True}, tol=_DEGREES_TOL),
        Case("perpendicular vectors", (x, y)),
        Case("one component each, opposed", ([float(rng.uniform(1, 5))], [-float(rng.uniform(1, 5))])),
        Case("whole numbers", (rng.integers(-9, 10, size=d).tolist(), (rng.integers(1, 10, size=d)).tolist())),
        # an angle is never negative: b turned clockwise from a is as far from a as counter-clockwise
        Case("in 2-D, the second vector turned clockwise from the first", _clockwise(rng)),
        Case("in 2-D, turned clockwise by more than 90 degrees, in degrees", _clockwise(rng, wide=True),
             {"degrees": True}, tol=_DEGREES_TOL),
        Case("a very short vector (length about 1e-8): short is not zero", (x * 1e-8, y + x), show_inputs=False),
    ]


def _clockwise(rng: np.random.Generator, wide: bool = False) -> tuple[list[float], list[float]]:
    """Two 2-D vectors, the second turned clockwise (a negative cross product) from the first."""
    phi = float(rng.uniform(0, 2 * math.pi))
    turn = float(rng.uniform(100, 170) if wide else rng.uniform(20, 80))
    r1, r2 = float(rng.uniform(0.5, 3)), float(rng.uniform(0.5, 3))
    psi = phi - math.radians(turn)
    return [r1 * math.cos(phi), r1 * math.sin(phi)], [r2 * math.cos(psi), r2 * math.sin(psi)]


ANGLE = Task(
    "1.4", "angle_between", reference=_angle, cases=_angle_cases, mistakes=_ANGLE_MISTAKES, returns=Number(),
    # the assignment's rule, stated in its introduction: a matrix where a vector belongs is refused
    ranks={"a": (1,), "b": (1,)}, rank_error=AnyError,
    forbidden=tuple(Forbidden(t, "derive the angle from the dot product yourself")
                    for t in ("dotlab.angle_between", "dotlab.vectors.angle_between")),
    allowed=_ANY_LIBRARY, edges=_angle_edges, variants=("int", "float32", "strided"), array_params_=("a", "b"),
    # near 0 and π a rounded cosine moves θ by up to sqrt(epsilon): 1e-8 rad in float64,
    # 3e-4 rad in float32, so angles (radians or degrees) are compared to within 1e-3
    rtol=1e-5, atol=1e-3, float32_atol=1e-3,
    error_hints=(("math domain error", "rounding pushed cos θ a hair past ±1: clip it to [-1, 1] before math.acos"),),
    doc="the angle θ from a·b = |a| |b| cos θ, in radians unless degrees=True.",
)


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
        # arrays, not lists: a projection that divides its input in place changes them
        Case("onto a longer vector along x", (np.array([3.0, 4.0]), np.array([2.0, 0.0]))),
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


def _project_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(3, 8))
    v = rng.normal(size=d)
    return [
        Case("onto itself: the projection is the vector", (v, v.copy())),
        Case("onto an anti-parallel vector", (v, -float(rng.uniform(0.5, 3)) * v)),
        Case("onto a very short vector (length about 1e-8)", (rng.normal(size=d), v * 1e-8), show_inputs=False),
        Case("one component each", ([float(rng.normal())], [float(rng.uniform(1, 3))])),
        Case("whole numbers", (rng.integers(-9, 10, size=d).tolist(), rng.integers(1, 10, size=d).tolist())),
    ]


PROJECT = Task(
    "1.5", "project", reference=_project, cases=_project_cases, mistakes=_PROJECT_MISTAKES,
    returns=ArrayOf("f"), ranks={"a": (1,), "onto": (1,)}, rank_error=AnyError,
    forbidden=tuple(Forbidden(t, "build the projection from dot products yourself")
                                          for t in ("dotlab.project", "dotlab.vectors.project")),
    allowed=_ANY_LIBRARY, edges=_project_edges, variants=("int", "float32", "strided"), array_params_=("a", "onto"),
    doc="the vector projection of a onto the direction of onto, as a NumPy array.",
)

TASKS = {task.id: task for task in (DOT_LOOP, DOT, NORM, ANGLE, PROJECT)}
CHECKS = tasks_table(*TASKS.values())
check_dot_loop, check_dot, check_norm, check_angle_between, check_project = CHECKS.values()
