"""Wrong versions of chapter 1's functions (tasks 1.1 to 1.5).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import functools
import math
import operator
from fractions import Fraction

import numpy as np
import torch

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

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


@WRONG.add("dot_loop", expect="zip() quietly stops at the shorter vector", mentioned=True)
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


@WRONG.add("dot_loop", expect="numpy.dot, which this exercise asks you not to use", kind="allowlist", mentioned=True)
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(np.dot(a, b))


@WRONG.add("dot_loop", expect="numpy.dot, which this exercise asks you not to use", kind="allowlist")
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


@WRONG.add("dot", expect="NumPy may broadcast a length-1 vector", mentioned=True)
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


@WRONG.add("dot", expect="dotlab.dot, which this exercise asks you not to use", kind="allowlist")
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


@WRONG.add("norm", expect="should raise ValueError", kind="contract", mentioned=True)
def norm(a):
    a = np.asarray(a, float)
    return math.sqrt(float(np.sum(a * a)))


@WRONG.add("norm", expect="numpy.linalg.norm, which this exercise asks you not to use", kind="allowlist", mentioned=True)
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


@WRONG.add("angle_between", expect="clip it to [-1, 1]", kind="edge", mentioned=True)
def angle_between(a, b, degrees=False):
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = math.acos(float(np.dot(a, b)) / (na * nb))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="clip it to [-1, 1]", kind="edge", mentioned=True)
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


# -- the classes the checks catch by design (issue 13) ------------------------------------


@WRONG.add("dot_loop", expect="uses the @ operator", kind="allowlist", mentioned=True)
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(np.asarray(a, float) @ np.asarray(b, float))


@WRONG.add("dot_loop", expect="uses numpy.sum", kind="allowlist", mentioned=True)
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(np.sum(np.asarray(a, float) * np.asarray(b, float)))


@WRONG.add("dot_loop", expect="uses the attribute .dot", kind="allowlist")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(np.asarray(a, float).dot(b))


def pairwise(a, b):
    return np.einsum("i,i->", np.asarray(a, float), np.asarray(b, float))


@WRONG.add("dot_loop", expect="numpy.einsum, which this exercise asks you not to use", kind="allowlist", helpers=(pairwise,))
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return float(pairwise(a, b))


@WRONG.add("dot_loop", expect="imports dotlab.checks.ch01", kind="allowlist")
def dot_loop(a, b):
    from dotlab.checks import ch01

    return ch01.TASKS["1.1"].reference(a, b)


@WRONG.add("dot", expect="the task asks for a Python float", kind="contract", mentioned=True)
def dot(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} must be equal 1-D shapes")
    return np.sum(a * b)


@WRONG.add("dot", expect="must be refused", kind="contract", hidden_only=True)
def dot(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    return float(np.sum(a * b))


@WRONG.add("norm", expect="changed its input `a`", kind="mutation", mentioned=True)
def norm(a):
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    a.sort()  # add the small squares first: a little more accurate
    return math.sqrt(float(a @ a))


@WRONG.add("norm", expect="returned -5.0, expected 5.0 (a single component)", kind="edge", hidden_only=True)
def norm(a):
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    scale = max(a)  # keeps the squares from overflowing
    if scale == 0:
        return 0.0
    return scale * math.sqrt(float((a / scale) @ (a / scale)))


@WRONG.add("norm", expect="uses math.hypot", kind="allowlist")
def norm(a):
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
    return math.hypot(*a)


@WRONG.add("angle_between", expect="a vector against its opposite: π", kind="edge", mentioned=True)
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = math.sqrt(a @ a), math.sqrt(b @ b)
    if na == 0 or nb == 0:
        raise ValueError("a zero vector has no direction")
    theta = math.acos(min(1.0, float(a @ b) / (na * nb)))  # only the top can overflow?
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="angle_between, which this exercise asks you not to use", kind="allowlist")
def angle_between(a, b, degrees=False):
    from dotlab.vectors import angle_between as reference

    return reference(a, b, degrees=degrees)


@WRONG.add("project", expect="changed its input `onto`", kind="mutation", mentioned=True)
def project(a, onto):
    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
    if a.shape != onto.shape:
        raise ValueError(f"a.shape={a.shape} and onto.shape={onto.shape} must match")
    length_sq = float(onto @ onto)
    if length_sq == 0:
        raise ValueError("cannot project onto the zero vector")
    onto *= float(a @ onto) / length_sq
    return onto


@WRONG.add("project", expect="the task asks for a NumPy array", kind="contract", mentioned=True)
def project(a, onto):
    if len(a) != len(onto):
        raise ValueError(f"a has length {len(a)} but onto has length {len(onto)}")
    length_sq = sum(y * y for y in onto)
    if length_sq == 0:
        raise ValueError("cannot project onto the zero vector")
    coefficient = sum(x * y for x, y in zip(a, onto)) / length_sq
    return [coefficient * y for y in onto]


@WRONG.add("project", expect="onto a very short vector", kind="edge", hidden_only=True)
def project(a, onto):
    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
    if a.shape != onto.shape:
        raise ValueError(f"a.shape={a.shape} and onto.shape={onto.shape} must match")
    length_sq = float(onto @ onto)
    if length_sq < 1e-12:  # "zero" for floating point
        raise ValueError("cannot project onto the zero vector")
    return float(a @ onto) / length_sq * onto


# -- right answers, written unusually: every one must pass -----------------------------------


@RIGHT.add("dot_loop", how="an index loop")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"a has {len(a)} components, b has {len(b)}")
    total = 0
    for i in range(len(a)):
        total = total + a[i] * b[i]
    return total


@RIGHT.add("dot_loop", how="map and operator.mul, exact sum")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} != {len(b)}")
    return math.fsum(map(operator.mul, a, b))


@RIGHT.add("dot_loop", how="functools.reduce over zip")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"len(a)={len(a)}, len(b)={len(b)}")
    return functools.reduce(lambda acc, pair: acc + pair[0] * pair[1], zip(a, b), 0.0)


@RIGHT.add("dot_loop", how="a loop in float32")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
    total = np.float32(0)
    for x, y in zip(a, b):
        total += np.float32(x) * np.float32(y)
    return total


@RIGHT.add("dot", how="einsum")
def dot(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) != len(b):
        raise ValueError(f"need two 1-D vectors of one length, got {a.shape} and {b.shape}")
    return float(np.einsum("i,i->", a, b))


@RIGHT.add("dot", how="torch")
def dot(a, b):
    ta, tb = torch.as_tensor(np.asarray(a, dtype=float)), torch.as_tensor(np.asarray(b, dtype=float))
    if ta.dim() != 1 or tb.dim() != 1 or ta.shape != tb.shape:
        raise ValueError(f"shapes {tuple(ta.shape)} and {tuple(tb.shape)}: need equal 1-D vectors")
    return torch.dot(ta, tb).item()


@RIGHT.add("dot", how="float32 and the .dot method")
def dot(a, b):
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a.shape={a.shape}, b.shape={b.shape}")
    return float(a.dot(b))


@RIGHT.add("norm", how="a generator and math.sqrt")
def norm(a):
    if np.ndim(a) != 1:
        raise ValueError(f"expected a 1-D vector, got shape {np.shape(a)}")
    return math.sqrt(sum(float(x) ** 2 for x in a))


@RIGHT.add("norm", how="torch in float32")
def norm(a):
    t = torch.as_tensor(np.asarray(a), dtype=torch.float32)
    if t.dim() != 1:
        raise ValueError(f"expected a 1-D vector, got shape {tuple(t.shape)}")
    return float(torch.sqrt(torch.sum(t * t)))


@RIGHT.add("norm", how="einsum, returned as a NumPy scalar")
def norm(a):
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"a.shape={a.shape} is not a vector")
    return np.sqrt(np.einsum("i,i", a, a))


@RIGHT.add("angle_between", how="atan2 of the cross and dot parts (no clipping needed)")
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na, nb = np.sqrt(a @ a), np.sqrt(b @ b)
    if na == 0 or nb == 0:
        raise ValueError("a zero vector has no direction")
    ua, ub = a / na, b / nb
    theta = 2 * math.atan2(float(np.sqrt((ua - ub) @ (ua - ub))), float(np.sqrt((ua + ub) @ (ua + ub))))
    return math.degrees(theta) if degrees else theta


@RIGHT.add("angle_between", how="torch with clamp")
def angle_between(a, b, degrees=False):
    ta, tb = torch.as_tensor(np.asarray(a, dtype=float)), torch.as_tensor(np.asarray(b, dtype=float))
    if ta.shape != tb.shape:
        raise ValueError(f"shapes {tuple(ta.shape)} and {tuple(tb.shape)} differ")
    na, nb = torch.sqrt(ta @ ta), torch.sqrt(tb @ tb)
    if na == 0 or nb == 0:
        raise ValueError("a zero vector has no direction")
    theta = torch.arccos(torch.clamp((ta @ tb) / (na * nb), -1.0, 1.0)).item()
    return math.degrees(theta) if degrees else theta


@RIGHT.add("angle_between", how="np.clip and np.degrees, NumPy scalars")
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"{a.shape} vs {b.shape}")
    if not a.any() or not b.any():
        raise ValueError("zero vector")
    theta = np.arccos(np.clip(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)), -1, 1))
    return np.degrees(theta) if degrees else theta


@RIGHT.add("project", how="a new array from a copy")
def project(a, onto):
    a, onto = np.array(a, dtype=float), np.array(onto, dtype=float)
    if a.ndim != 1 or a.shape != onto.shape:
        raise ValueError(f"a.shape={a.shape}, onto.shape={onto.shape}")
    if not onto.any():
        raise ValueError("onto is the zero vector")
    onto *= np.dot(a, onto) / np.dot(onto, onto)  # in place, but on its own copy
    return onto


@RIGHT.add("project", how="torch, back to NumPy")
def project(a, onto):
    ta, to = torch.as_tensor(np.asarray(a, dtype=float)), torch.as_tensor(np.asarray(onto, dtype=float))
    if ta.dim() != 1 or ta.shape != to.shape:
        raise ValueError(f"shapes {tuple(ta.shape)} and {tuple(to.shape)}: two vectors of one length")
    if not torch.any(to != 0):
        raise ValueError("cannot project onto the zero vector")
    return ((ta @ to) / (to @ to) * to).numpy()


@RIGHT.add("project", how="float32 all the way")
def project(a, onto):
    a, onto = np.asarray(a, dtype=np.float32), np.asarray(onto, dtype=np.float32)
    if a.shape != onto.shape:
        raise ValueError(f"a.shape={a.shape} and onto.shape={onto.shape}")
    length_sq = onto @ onto
    if length_sq == 0:
        raise ValueError("onto is zero")
    return (a @ onto) / length_sq * onto


# -- found by red-teaming the checks as an outsider (session 4) ------------------------------


@WRONG.add("dot", expect="does not mention 3 and 2", kind="contract")
def dot(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"cannot take the dot product of {a} and {b}")  # the vectors, not their lengths
    return float(a @ b)


@WRONG.add("angle_between", expect="the second vector turned clockwise", kind="edge", hidden_only=True)
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"{a.shape} vs {b.shape}")
    if not a.any() or not b.any():
        raise ValueError("zero vector")
    if len(a) == 2:  # the signed angle of 2-D geometry: negative when b turns clockwise
        theta = math.atan2(a[0] * b[1] - a[1] * b[0], a @ b)
    else:
        theta = math.acos(max(-1.0, min(1.0, a @ b / math.sqrt((a @ a) * (b @ b)))))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="must be refused", kind="contract", hidden_only=True)
def angle_between(a, b, degrees=False):
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)  # a matrix quietly becomes a vector
    if a.shape != b.shape:
        raise ValueError(f"{a.shape} vs {b.shape}")
    na, nb = math.sqrt(a @ a), math.sqrt(b @ b)
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = math.acos(max(-1.0, min(1.0, (a @ b) / (na * nb))))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="short is not zero", kind="edge", hidden_only=True)
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"{a.shape} vs {b.shape}")
    na, nb = math.sqrt(a @ a), math.sqrt(b @ b)
    if na < 1e-6 or nb < 1e-6:  # "about zero" is not zero
        raise ValueError("zero vector")
    theta = math.acos(max(-1.0, min(1.0, (a @ b) / (na * nb))))
    return math.degrees(theta) if degrees else theta


@WRONG.add("angle_between", expect="a length-1 vector against a length-3 one", kind="edge", hidden_only=True)
def angle_between(a, b, degrees=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    na, nb = np.sqrt(np.sum(a * a)), np.sqrt(np.sum(b * b))
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    theta = np.arccos(np.clip(np.sum(a * b) / (na * nb), -1, 1))  # a * b broadcasts a length-1 a
    return float(np.degrees(theta) if degrees else theta)


@WRONG.add("project", expect="must be refused", kind="contract", hidden_only=True)
def project(a, onto):
    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
    if a.shape != onto.shape:
        raise ValueError(f"{a.shape} vs {onto.shape}")
    if not onto.any():
        raise ValueError("zero vector")
    return np.sum(a * onto) / np.sum(onto * onto) * onto  # a matrix gives a matrix, silently


@RIGHT.add("dot_loop", how="recursion on the tails")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
    if len(a) == 0:
        return 0.0
    return a[0] * b[0] + dot_loop(a[1:], b[1:])


class Accumulator:
    def __init__(self):
        self.total = 0.0

    def add(self, x):
        self.total += x


@RIGHT.add("dot_loop", how="an accumulator class of the learner's own", helpers=(Accumulator,))
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"sizes {len(a)} and {len(b)}")
    acc = Accumulator()
    for x, y in zip(a, b):
        acc.add(x * y)
    return acc.total


class Vec:
    def __init__(self, xs):
        self.xs = list(xs)

    def dot(self, other):
        if len(self.xs) != len(other.xs):
            raise ValueError(f"lengths {len(self.xs)} and {len(other.xs)}")
        total = 0
        for x, y in zip(self.xs, other.xs):
            total += x * y
        return total


@RIGHT.add("dot_loop", how="a vector class whose own .dot loops", helpers=(Vec,))
def dot_loop(a, b):
    return Vec(a).dot(Vec(b))


@RIGHT.add("angle_between", how="float32 tensors, in degrees too", preamble="import torch")
def angle_between(a, b, degrees=False):
    ta = torch.as_tensor(np.asarray(a), dtype=torch.float32)
    tb = torch.as_tensor(np.asarray(b), dtype=torch.float32)
    if ta.dim() != 1 or ta.shape != tb.shape:
        raise ValueError(f"shapes {tuple(ta.shape)} and {tuple(tb.shape)}")
    if not ta.any() or not tb.any():
        raise ValueError("zero vector")
    c = torch.dot(ta, tb) / (torch.sqrt(torch.dot(ta, ta)) * torch.sqrt(torch.dot(tb, tb)))
    theta = torch.arccos(torch.clamp(c, -1.0, 1.0)).item()
    return math.degrees(theta) if degrees else theta


@RIGHT.add("dot_loop", how="a match statement and exact Fractions", preamble="from fractions import Fraction")
def dot_loop(a, b):
    match (len(a), len(b)):
        case (n, m) if n != m:
            raise ValueError(f"a has length {n} but b has length {m}")
    total = Fraction(0)
    for x, y in zip(a, b):
        total += Fraction(float(x)) * Fraction(float(y))
    return float(total)


@WRONG.add("dot_loop", expect="multiplies whole arrays at once", kind="allowlist", mentioned=True)
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    return sum(np.array(a) * np.array(b))  # NumPy multiplies every pair in one go: no loop of your own


@RIGHT.add("dot_loop", how="np.float64 scalars in an index loop")
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)} differ")
    a = np.asarray(a, dtype=float)
    total = np.float64(0)
    for i in range(len(a)):
        total += np.float64(a[i]) * b[i]
    return total
