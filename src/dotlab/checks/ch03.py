"""Checks for chapter 3's assignment: layers, matrix products and what they cost.

Task ids match the chapter, the exercise notebook and the pytest markers:
3.1 ``linear``, 3.2 ``matmul_from_dots``, 3.3 ``matmul_count``, 3.4 ``embedding_lookup``.
Each ``check_*`` function runs the visible cases, or with ``hidden=True`` the fuller set
the grader uses, and raises :class:`~dotlab.checks.CheckFailure` naming the likely
mistake. Each task is declared once as a :class:`~dotlab.checks.contract.Task`; the
references are written apart from :mod:`dotlab.layers` and :mod:`dotlab.cost`.
"""

from __future__ import annotations

import numpy as np

import math

from dotlab import cost, layers
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, _run_learner
from dotlab.checks.contract import (MATH, NUMPY, NUMPY_BASICS, PYTHON, STDLIB, TORCH, ArrayOf, Number, Task, TupleOf,
                                    allow, tasks_table)


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _not_yours(*targets: str) -> tuple[Forbidden, ...]:
    return tuple(Forbidden(t, "the course's reference implementation is not your answer") for t in targets)


# -- 3.1: a linear layer ------------------------------------------------------------------

def _bias(bias):
    return 0.0 if bias is None else _f(bias)


_LINEAR_MISTAKES = (
    Mistake("no transpose", "you multiplied by W instead of Wᵀ: weight has nn.Linear's layout (d_out, d_in), one row per "
            "output neuron, so the layer is x @ weight.T",
            lambda x, weight, bias=None: _f(x) @ _f(weight) + _bias(bias)),
    Mistake("no bias", "you left out the bias: add bias[j] to output j",
            lambda x, weight, bias=None: _f(x) @ _f(weight).T),
    Mistake("minus bias", "you subtracted the bias; the layer adds it: x @ weight.T + bias",
            lambda x, weight, bias=None: _f(x) @ _f(weight).T - _bias(bias)),
    Mistake("relu", "a linear layer has no nonlinearity: return x @ weight.T + bias without ReLU (the activation comes after, "
            "as a separate step)",
            lambda x, weight, bias=None: np.maximum(_f(x) @ _f(weight).T + _bias(bias), 0.0)),
    Mistake("bias first", "you added the bias to the input before multiplying; it is added to the outputs, after",
            lambda x, weight, bias=None: (_f(x) + _bias(bias)) @ _f(weight).T),
    Mistake("nan bias", "bias=None means the layer has no bias: add the bias only when one is given (if bias is not None)",
            lambda x, weight, bias=None: _f(x) @ _f(weight).T + (np.nan if bias is None else _f(bias))),
    Mistake("sum of outputs", "you added the outputs together; each neuron (row of weight) gives its own output",
            lambda x, weight, bias=None: np.sum(_f(x) @ _f(weight).T + _bias(bias), axis=-1)),
)

_SHAPE_HINT = ("Compare x.shape[-1] with weight.shape[1] yourself and raise "
               "ValueError(f'x.shape={x.shape} does not fit weight.shape={weight.shape}').")


def _linear_cases(hidden: bool) -> list[Case]:
    W = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]
    cases = [
        Case("one input, two neurons with biases", ([1.0, 2.0, 3.0], W, [0.5, -1.0])),
        # arrays, not lists: a layer that works in place on its input changes them
        Case("a batch of two inputs: X Wᵀ + b", (np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]), np.array(W),
                                                 np.array([0.5, -1.0]))),
        Case("a square weight matrix", ([1.0, 2.0], [[0.0, 1.0], [3.0, -1.0]], [0.0, 0.25])),
        Case("an input of length 3 for a layer with d_in = 4", ([1.0, 2.0, 3.0], np.ones((2, 4)), [0.0, 0.0]),
             raises=ValueError, must_mention=("3", "4"), hint=_SHAPE_HINT),
        Case("no bias (bias=None)", ([[1.0, -1.0, 2.0]], W, None)),
        Case("a bias of length 1 for 2 neurons", ([1.0, 2.0, 3.0], W, [1.0]), raises=ValueError,
             hint="NumPy would quietly add the one number to every output: check bias.shape == (weight.shape[0],)."),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(301)
    return cases + [
        Case("a batch of 16 random inputs, 5 neurons of width 7",
             (rng.normal(size=(16, 7)), rng.normal(size=(5, 7)), rng.normal(size=5)), show_inputs=False),
        Case("one neuron", ([2.0, 3.0], [[1.0, -1.0]], [10.0])),
        Case("a square layer applied to a batch", ([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0])),
        Case("a batch whose rows have 2 features for a layer with d_in = 3", ([[1.0, 2.0], [3.0, 4.0]], W, [0.0, 0.0]),
             raises=ValueError, hint=_SHAPE_HINT),
    ]


def _linear_reference(x, weight, bias=None):
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = np.einsum("...i,oi->...o", x, weight)
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias.shape={bias.shape}")
        out = out + bias
    return out


def _linear_edges(rng: np.random.Generator) -> list[Case]:
    d_in, d_out = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    W, b = rng.normal(size=(d_out, d_in)), rng.normal(size=d_out)
    return [
        Case("a batch of one: shape (1, d_in)", (rng.normal(size=(1, d_in)), W, b)),
        Case("d_in = 1", (rng.normal(size=(3, 1)), rng.normal(size=(d_out, 1)), b)),
        Case("no bias, one input", (rng.normal(size=d_in), W, None)),
        Case("whole numbers", (rng.integers(-3, 4, size=(2, d_in)), rng.integers(-3, 4, size=(d_out, d_in)),
                               rng.integers(-3, 4, size=d_out))),
        Case("a zero weight matrix: the outputs are the bias", (rng.normal(size=(2, d_in)), np.zeros((d_out, d_in)), b)),
        # an output array typed after x (np.zeros_like(x), dtype=x.dtype) cuts the fractions off here
        Case("whole-number inputs, fractional weights", (rng.integers(-3, 4, size=(2, d_in)), W, b)),
    ]


_NO_LAYERS = {"!torch.nn.*", "!torch.linalg.*", "!scipy.*"}

LINEAR = Task(
    "3.1", "linear", reference=_linear_reference, cases=_linear_cases, mistakes=_LINEAR_MISTAKES,
    # whole-number inputs may give whole-number outputs: the text asks for no dtype
    returns=ArrayOf("fiu"), ranks={"x": (1, 2), "weight": (2,)}, array_params_=("x", "weight", "bias"),
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LAYERS, {".dot", ".matmul"}, matmul=True, methods=None,
                  says="x @ weight.T + bias with NumPy or tensors; no library layer, nothing from dotlab"),
    forbidden=_not_yours("dotlab.layers.linear"), edges=_linear_edges, variants=("int", "float32", "strided"),
    error_hints=(("mismatch in its core dimension", "weight has nn.Linear's layout (d_out, d_in), one row per output "
                  "neuron: the layer is x @ weight.T, not x @ weight"),),
    rtol=1e-5, atol=1e-5,  # written down: float32 passes (a product of d_in terms loses about 6e-8 · d_in)
    doc="a fully connected layer x @ weight.T + bias (nn.Linear's layout).",
)


# -- 3.2: a matrix product from dot products ------------------------------------------------

_MATMUL_MISTAKES = (
    Mistake("elementwise", "you multiplied entry by entry (A * B); a matrix product takes dot products of rows of A "
            "with columns of B",
            lambda A, B: _f(A) * _f(B)),
    Mistake("rows of B", "you paired rows of A with rows of B; entry [i, j] is row i of A dotted with *column* j of B, "
            "B[:, j]",
            lambda A, B: _f(A) @ _f(B).T),
    Mistake("swapped", "you computed B @ A; the order matters, entry [i, j] is row i of A with column j of B",
            lambda A, B: _f(B) @ _f(A)),
    Mistake("transposed", "your result is transposed: entry [i, j] belongs in row i (from A) and column j (from B)",
            lambda A, B: (_f(A) @ _f(B)).T),
    Mistake("short", "each dot product missed its last term: the inner loop must run over all K positions, range(K)",
            lambda A, B: _f(A)[:, :-1] @ _f(B)[:-1, :]),
    Mistake("columns of A", "you paired columns of A with columns of B (Aᵀ B); take the rows of A",
            lambda A, B: _f(A).T @ _f(B)),
)

_NO_LIBRARY_MATMUL = tuple(
    Forbidden(t, "build every entry from a dot product of a row and a column yourself")
    for t in ("numpy.matmul", "numpy.dot", "numpy.einsum", "numpy.tensordot", "numpy.inner", "numpy.vdot")
) + _not_yours("dotlab.layers.matmul_from_dots")


def _matmul_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("two square matrices", ([[1, 2], [3, 4]], [[5, 6], [7, 8]])),
        Case("the worked example as a (1, 3) @ (3, 1) product", ([[2, 3, 1]], [[4], [-1], [5]])),
        Case("(2, 3) @ (3, 4)", ([[1, 0, 2], [-1, 3, 1]], [[3, 1, 0, 2], [2, 1, 1, 0], [1, 0, -1, 4]])),
        Case("(2, 3) @ (2, 3): the inner sizes differ", ([[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]]), raises=ValueError,
             must_mention=("3", "2"), hint="Compare A.shape[1] with B.shape[0] and raise ValueError naming both shapes."),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(302)
    return cases + [
        Case("(4, 6) @ (6, 3) random", (rng.normal(size=(4, 6)), rng.normal(size=(6, 3))), show_inputs=False),
        Case("an outer product: K = 1", ([[1.0], [2.0], [3.0]], [[4.0, 5.0]])),
        Case("(1, 1) @ (1, 1)", ([[3.0]], [[-2.0]])),
        Case("a batch through a layer's weights: X Wᵀ", (rng.normal(size=(5, 4)), rng.normal(size=(3, 4)).T), show_inputs=False),
        Case("(3, 2) @ (3, 2): the inner sizes differ", (np.ones((3, 2)), np.ones((3, 2))), raises=ValueError),
    ]


def _matmul_reference(A, B):
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    return np.array([[math.fsum(A[i] * B[:, j]) for j in range(B.shape[1])] for i in range(A.shape[0])])


def _matmul_edges(rng: np.random.Generator) -> list[Case]:
    m, k, n = (int(v) for v in rng.integers(2, 6, size=3))
    return [
        Case("a row times a column: (1, K) @ (K, 1)", (rng.normal(size=(1, k)), rng.normal(size=(k, 1)))),
        Case("a column times a row: K = 1", (rng.normal(size=(m, 1)), rng.normal(size=(1, n)))),
        Case("a zero matrix", (np.zeros((m, k)), rng.normal(size=(k, n)))),
        Case("whole numbers", (rng.integers(-5, 6, size=(m, k)), rng.integers(-5, 6, size=(k, n)))),
        Case("a tall times a wide matrix", (rng.normal(size=(7, 2)), rng.normal(size=(2, 6))), show_inputs=False),
        # a result typed after A (np.zeros((M, N), dtype=A.dtype)) cuts the fractions off here
        Case("whole numbers times fractions", (rng.integers(-5, 6, size=(m, k)), rng.normal(size=(k, n)))),
    ]


_NO_PRODUCT = {"!numpy.dot", "!numpy.matmul", "!numpy.einsum", "!numpy.tensordot", "!numpy.inner", "!numpy.vdot",
               "!numpy.outer", "!numpy.kron", "!numpy.linalg.*", "!scipy.*",
               # PyTorch is allowed (the text forbids products, not a library), less its products
               "!torch.matmul", "!torch.mm", "!torch.bmm", "!torch.mv", "!torch.dot", "!torch.vdot", "!torch.inner",
               "!torch.outer", "!torch.ger", "!torch.einsum", "!torch.tensordot", "!torch.kron", "!torch.chain_matmul",
               "!torch.addmm", "!torch.addmv", "!torch.addbmm", "!torch.baddbmm", "!torch.addr", "!torch.matrix_power",
               "!torch.linalg.*", "!torch.nn.*", "!torch.functional.*", "!torch.special.*", "!torch.sparse.*",
               "!.addmm", "!.addmv", "!.addbmm", "!.baddbmm", "!.addr", "!.ger", "!.kron", "!.matrix_power"}

MATMUL_FROM_DOTS = Task(
    "3.2", "matmul_from_dots", reference=_matmul_reference, cases=_matmul_cases, mistakes=_MATMUL_MISTAKES,
    returns=ArrayOf("fiu"), ranks={"A": (2,), "B": (2,)},  # whole numbers in, whole numbers out is right
    # loops: the text asks for one dot product per entry, "with loops over i and j"
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY_BASICS, NUMPY, TORCH, _NO_PRODUCT, methods=None, loops=True,
                  says="one dot product per entry, from * and a sum (np.sum or a loop): no @, np.dot, np.matmul, "
                       "np.einsum or other library product"),
    forbidden=_NO_LIBRARY_MATMUL, edges=_matmul_edges, variants=("int", "float32", "strided"),
    rtol=1e-5, atol=1e-5,
    doc="A @ B built entry by entry from dot products.",
)


# -- 3.3: counting a matrix product --------------------------------------------------------

def _count(m, k, n) -> tuple[int, int, int, int]:
    """Counted apart from dotlab.cost: m·n dot products of length k, two FLOPs per MAC."""
    for name, size in (("m", m), ("k", k), ("n", n)):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{name}={size!r} must be a whole number >= 1")
    return m * n, k, m * n * k, 2 * m * n * k


_COUNT_MISTAKES = (
    Mistake("flops = macs", "one multiply-accumulate is two FLOPs (a multiply and an add): flops = 2 · macs",
            lambda m, k, n: (m * n, k, m * n * k, m * n * k)),
    Mistake("exact additions", "the course counts 2 FLOPs per MAC, flops = 2·m·n·k (the convention of PyTorch's "
            "FlopCounterMode), not m·n·(2k - 1)",
            lambda m, k, n: (m * n, k, m * n * k, m * n * (2 * k - 1))),
    Mistake("dot products m·k", "there is one dot product per *output* entry: the result is (m, n), so m·n of them",
            lambda m, k, n: (m * k, n, m * n * k, 2 * m * n * k)),
    Mistake("length n", "each dot product pairs a row of A (length k) with a column of B (length k): its length is k",
            lambda m, k, n: (m * n, n, m * n * k, 2 * m * n * k)),
    Mistake("macs m·n", "each of the m·n dot products takes k multiply-accumulates: macs = m·n·k",
            lambda m, k, n: (m * n, k, m * n, 2 * m * n)),
    Mistake("macs m·k + k·n", "you added the sizes of the inputs; the work is m·n dot products of length k, m·n·k MACs",
            lambda m, k, n: (m * n, k, m * k + k * n, 2 * (m * k + k * n))),
)


def _count_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("(2, 3) @ (3, 4)", (2, 3, 4)),
        Case("one dot product of length 8,192: (1, 8192) @ (8192, 1)", (1, 8192, 1)),
        Case("a size of zero", (0, 3, 4), raises=ValueError, must_mention=("0",),
             hint="Every size must be a whole number >= 1: raise ValueError naming the bad size."),
        Case("a size of 2.5", (2.5, 3, 4), raises=ValueError, must_mention=("2.5",),
             hint="Sizes count rows and columns: check isinstance(m, int) and raise ValueError for anything else."),
    ]
    if not hidden:
        return cases
    return cases + [
        Case("(1, 1) @ (1, 1)", (1, 1, 1)),
        Case("a batch of 512 token vectors through a 768 -> 3072 layer", (512, 768, 3072)),
        Case("(4096, 4096) @ (4096, 4096)", (4096, 4096, 4096)),
        Case("a matrix-vector product (8, 5) @ (5, 1)", (8, 5, 1)),
        Case("a negative size", (2, -3, 4), raises=ValueError, must_mention=("-3",)),
    ]


def _count_edges(rng: np.random.Generator) -> list[Case]:
    m, k, n = (int(v) for v in rng.integers(1, 50, size=3))
    return [
        Case("sizes from the instructor's draw", (m, k, n)),
        Case("a huge product: (100000, 100000) @ (100000, 100000)", (100_000, 100_000, 100_000)),
        # past 2**53 a float holds no odd whole number: counts made with floats come out rounded
        Case("counts past 2**53: (300007, 400009) @ (400009, 500009)", (300_007, 400_009, 500_009)),
        Case("a size of 3.0: a float, even a whole one", (m, 3.0, n), raises=ValueError, must_mention=("3.0",),
             hint="Sizes count rows and columns: check isinstance(m, int); 3.0 is a float."),
    ]


MATMUL_COUNT = Task(
    "3.3", "matmul_count", reference=_count, cases=_count_cases, mistakes=_COUNT_MISTAKES,
    returns=TupleOf((Number(integer=True),) * 4, ("dot_products", "length", "macs", "flops")),
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, says="arithmetic on the sizes; nothing from dotlab"),
    forbidden=_not_yours("dotlab.cost.matmul_count"), edges=_count_edges, rtol=0, atol=0,
    doc="(dot_products, length, macs, flops) for (m, k) @ (k, n).",
)


# -- 3.4: embedding lookup as a one-hot product --------------------------------------------

def _one_hot(ids, V):
    return (np.asarray(ids)[:, None] == np.arange(V)).astype(float)


_EMBED_MISTAKES = (
    Mistake("one-based", "token ids start at 0: id 0 is row 0 of the embedding matrix (no -1 or +1)",
            lambda ids, E: np.eye(len(E))[np.asarray(ids) - 1] @ _f(E)),
    Mistake("one-hot only", "you returned the one-hot matrix; multiply it by the embedding matrix to get the token vectors",
            lambda ids, E: _one_hot(ids, len(E))),
    Mistake("transposed", "your result is transposed: one row per token, shape (T, d_model)",
            lambda ids, E: (_one_hot(ids, len(E)) @ _f(E)).T),
    Mistake("columns", "you picked columns of the embedding matrix; each token's vector is a *row*, E[id]",
            lambda ids, E: _f(E)[:, np.asarray(ids)].T),
    Mistake("summed", "you added the token vectors together; each token keeps its own row, shape (T, d_model)",
            lambda ids, E: np.sum(_one_hot(ids, len(E)) @ _f(E), axis=0)),
)

_RANGE_HINT = ("An id must be between 0 and V - 1. NumPy reads a negative index from the end of the table, and np.eye "
               "does too, so check the ids yourself and raise ValueError naming the bad id.")


def _embed_cases(hidden: bool) -> list[Case]:
    E = [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    cases = [
        Case("three tokens from a vocabulary of V = 3", ([2, 0, 2], E)),
        Case("a single token", ([1], E)),
        Case("id 3 in a vocabulary of V = 3", ([0, 3], E), raises=ValueError, must_mention=("3",), hint=_RANGE_HINT),
        Case("id -1 (NumPy would read the last row)", ([0, -1], E), raises=ValueError, must_mention=("-1",), hint=_RANGE_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(304)
    return cases + [
        Case("10 tokens from a vocabulary of 50, d_model = 8",
             (rng.integers(0, 50, size=10), rng.normal(size=(50, 8))), show_inputs=False),
        Case("every token of a vocabulary of 4, in reverse", ([3, 2, 1, 0], np.arange(12.0).reshape(4, 3))),
        Case("the same token five times", ([1, 1, 1, 1, 1], E)),
        Case("id 50 in a vocabulary of 50", ([49, 50], np.ones((50, 4))), raises=ValueError, must_mention=("50",), hint=_RANGE_HINT),
    ]


def _embedding_reference(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=np.float64)
    if ids.ndim != 1 or E.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={E.shape}")
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids outside 0..{len(E) - 1}")
    return E[ids]  # the reference may index the table; the learner's answer may not


def _embedding_edges(rng: np.random.Generator) -> list[Case]:
    V, d = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    E = rng.normal(size=(V, d))
    return [
        Case("a vocabulary of one token", ([0, 0], rng.normal(size=(1, d)))),
        Case("the last id, V - 1", ([V - 1], E)),
        Case("every id once, shuffled", (rng.permutation(V).tolist(), E)),
        Case("ids as a NumPy int32 array", (rng.integers(0, V, size=5).astype(np.int32), E)),
        Case("a whole-number embedding", (rng.integers(0, V, size=4).tolist(), rng.integers(-9, 10, size=(V, d)))),
        Case(f"id {V} in a vocabulary of V = {V}", ([0, V], E), raises=ValueError, must_mention=(str(V),),
             hint=_RANGE_HINT),
    ]


def _multiplies(fn) -> int:
    """Whether the answer is a product, not a lookup: a property no allowlist can see whole.

    Row 2 of this E is -0.0 throughout. A one-hot product sums 0 × every other row with
    1 × row 2, and +0.0 + -0.0 is +0.0 (IEEE 754), so its rows for id 2 hold +0.0; a lookup
    in any spelling (E[ids], np.take, operator.getitem, list(E)[i], np.compress...)
    copies -0.0. Every product tried (np.matmul, einsum, torch, float32, int or bool one-hots,
    loops) gives +0.0. It returns how many checks it made.
    """
    __tracebackhide__ = True
    E = np.array([[1.0, 2.0, 3.0], [4.0, 0.5, 6.0], [-0.0, -0.0, -0.0], [7.0, 8.0, 9.0], [0.25, 1.5, 2.5]])
    case = Case("a row of -0.0 in E (row 2)", ([2, 0, 2], E))
    outcome, tripped = _run_learner(fn, case, EMBEDDING_LOOKUP.forbidden)
    if tripped or outcome.error is not None:
        return 0  # the cases above have judged errors and tripwires already
    try:
        rows = np.asarray(outcome.value, dtype=np.float64)[[0, 2]]
    except (TypeError, ValueError, IndexError):
        return 0
    if rows.shape == (2, 3) and np.all(rows == 0) and np.any(np.signbit(rows)):
        raise CheckFailure(
            "embedding_lookup([2, 0, 2], E) copied row 2 of E instead of multiplying by the one-hot matrix: that row "
            "is -0.0, and a one-hot product adds 0 × every other row to it, which makes +0.0; your answer kept -0.0, "
            "as E[ids], np.take or any other lookup does. Build the (T, V) one-hot matrix and multiply it by E.",
            mistake="(looked rows up instead of multiplying)", case=case.label)
    return 1


EMBEDDING_LOOKUP = Task(
    "3.4", "embedding_lookup", reference=_embedding_reference, cases=_embed_cases, mistakes=_EMBED_MISTAKES,
    returns=ArrayOf("fiu"), ranks={"token_ids": (1,), "embedding": (2,)}, array_params_=("embedding",),
    # torch.nn.functional.one_hot builds the one-hot matrix the text asks for; F.embedding stays refused
    allowed=allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, {"torch.nn.functional.one_hot", "!torch.nn.*", "!numpy.take",
                                                       "!numpy.take_along_axis",
                                                       "!numpy.choose", "!torch.index_select", "!torch.gather",
                                                       "!torch.take", "!.take", "!.index_select", "!.gather",
                                                       "!scipy.*"},
                  matmul=True, methods=None, tables=(1,),
                  says="build the one-hot matrix and multiply it by the embedding; do not index the embedding"),
    forbidden=_not_yours("dotlab.layers.embedding_lookup", "dotlab.layers.one_hot"), edges=_embedding_edges,
    variants=("float32", "strided"), rtol=1e-5, atol=1e-7, after=lambda fn, hidden: _multiplies(fn),
    doc="token vectors as one_hot(ids) @ E.",
)

TASKS = {task.id: task for task in (LINEAR, MATMUL_FROM_DOTS, MATMUL_COUNT, EMBEDDING_LOOKUP)}
CHECKS = tasks_table(*TASKS.values())
check_linear, check_matmul_from_dots, check_matmul_count, check_embedding_lookup = CHECKS.values()
