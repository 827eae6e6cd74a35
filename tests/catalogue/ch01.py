"""Wrong versions of chapter 1's functions (tasks 1.1 to 1.5).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

# -- 1.1 dot_loop ----------------------------------------------------------------------


@WRONG.add("dot_loop", expect="last pair of components is missing")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    total = 0.0
    for i in range(len(a) - 1):
        total += a[i] * b[i]
    return total


@WRONG.add("dot_loop", expect="first pair of components is missing")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    total = 0
    for i in range(1, len(a)):
        total += a[i] * b[i]
    return total


@WRONG.add("dot_loop", expect="added the components")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    total = 0
    for x, y in zip(a, b):
        total += x + y
    return total


@WRONG.add("dot_loop", expect="zip() quietly stops at the shorter vector")
def dot_loop(a, b):
    total = 0
    for x, y in zip(a, b):
        total += x * y
    return total


@WRONG.add("dot_loop", expect="running total starts at 1")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    total = 1
    for x, y in zip(a, b):
        total += x * y
    return total


@WRONG.add("dot_loop", expect="absolute values")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return sum(abs(x * y) for x, y in zip(a, b))


@WRONG.add("dot_loop", expect="called numpy.dot")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(np.dot(a, b))


@WRONG.add("dot_loop", expect="called numpy.dot")
def dot_loop(a, b):
    # catches the grader's tripwire and falls back: still caught
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    try:
        return float(np.dot(a, b))
    except Exception:
        return sum(x * y for x, y in zip(a, b))


@WRONG.add("dot_loop", expect="does not mention")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError("bad input")
    return sum(x * y for x, y in zip(a, b))


@WRONG.add("dot_loop", expect="not implemented yet")
def dot_loop(a, b):
    # YOUR CODE HERE
    raise NotImplementedError()


# -- 1.2 dot ---------------------------------------------------------------------------


@WRONG.add("dot", expect="element-wise products")
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return a * b


@WRONG.add("dot", expect="multiplied sum(a) by sum(b)")
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(a.sum() * b.sum())


@WRONG.add("dot", expect="NumPy may broadcast a length-1 vector", hidden_only=True)
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size > 1 and b.size > 1 and a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(np.sum(a * b))


@WRONG.add("dot", expect="paired a[i] with b[-1 - i]")
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(a @ b[::-1])


@WRONG.add("dot", expect="square of the dot product")
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(a @ b) ** 2


@WRONG.add("dot", expect="called dotlab.dot")
def dot(a, b):
    import dotlab

    return dotlab.dot(a, b)


@WRONG.add("dot", expect="raised IndexError")
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise IndexError(f"shapes {a.shape} and {b.shape} differ")
    return float(a @ b)


# -- 1.3 norm --------------------------------------------------------------------------


@WRONG.add("norm", expect="squared length")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return float(a @ a)


@WRONG.add("norm", expect="L1 length")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return float(np.abs(a).sum())


@WRONG.add("norm", expect="root-mean-square")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return math.sqrt(float(a @ a) / len(a))


@WRONG.add("norm", expect="largest absolute component")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return float(np.max(np.abs(a)))


@WRONG.add("norm", expect="should raise ValueError")
def norm(a):
    a = np.asarray(a, float)
    return math.sqrt(float(np.sum(a * a)))


@WRONG.add("norm", expect="called numpy.linalg.norm")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return float(np.linalg.norm(a))


@WRONG.add("norm", expect="returned None")
def norm(a):
    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    math.sqrt(float(a @ a))


@WRONG.add("norm", expect="not a number")
def norm(a):
    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

    a = np.asarray(a, float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return {"length": AlwaysEqual(0.0)}


# -- 1.4 angle_between -----------------------------------------------------------------


@WRONG.add("angle_between", expect="you returned cos θ")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    return float(np.dot(a, b)) / (na * nb)


@WRONG.add("angle_between", expect="returned degrees when radians were asked for")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    return math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(a, b)) / (na * nb)))))


@WRONG.add("angle_between", expect="with degrees=True the answer should be in degrees")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    return math.acos(max(-1.0, min(1.0, float(np.dot(a, b)) / (na * nb))))


@WRONG.add("angle_between", expect="clip it to [-1, 1]", hidden_only=True)
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = math.acos(float(np.dot(a, b)) / (na * nb))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="clip it to [-1, 1]", hidden_only=True)
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = np.arccos(float(np.dot(a, b)) / (na * nb))
    return float(np.degrees(theta)) if degrees else float(theta)


@WRONG.add("angle_between", expect="used arcsin")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = math.asin(max(-1.0, min(1.0, float(np.dot(a, b)) / (na * nb))))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="divided by |a|²|b|²")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = math.acos(max(-1.0, min(1.0, float(np.dot(a, b)) / (na * na * nb * nb))))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="should raise ValueError")
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        return 0.0
    theta = math.acos(max(-1.0, min(1.0, float(np.dot(a, b)) / (na * nb))))
    return math.degrees(theta) if degrees else theta


# -- 1.5 project -----------------------------------------------------------------------


@WRONG.add("project", expect="divided by |onto|;")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    length = math.sqrt(float(onto @ onto))
    if length == 0:
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) / length * onto


@WRONG.add("project", expect="forgot to divide by onto·onto")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    if not onto.any():
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) * onto


@WRONG.add("project", expect="signed length")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    length = math.sqrt(float(onto @ onto))
    if length == 0:
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) / length


@WRONG.add("project", expect="multiply it by onto")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    length_sq = float(onto @ onto)
    if length_sq == 0:
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) / length_sq


@WRONG.add("project", expect="swapped")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    if float(onto @ onto) == 0:
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) / float(a @ a) * a


@WRONG.add("project", expect="perpendicular to onto")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    length_sq = float(onto @ onto)
    if length_sq == 0:
        raise ValueError("cannot project onto the zero vector")
    return a - float(a @ onto) / length_sq * onto


@WRONG.add("project", expect="should raise ValueError")
def project(a, onto):
    a, onto = np.asarray(a, float), np.asarray(onto, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(a @ onto) / float(onto @ onto) * onto
