"""Checks for chapter 2's assignment: cosine similarity, search and int8 quantisation.

Task ids match the chapter, the exercise notebook and the pytest markers:
2.1 ``cosine_similarity``, 2.2 ``normalise``, 2.3 ``top_k``, 2.4 ``quantise_int8``,
2.5 ``int8_dot``, 2.6 ``recall_at_k``. Each ``check_*`` function runs the visible cases,
or with ``hidden=True`` the fuller set the grader uses, and raises
:class:`~dotlab.checks.CheckFailure` naming the likely mistake.
"""

from __future__ import annotations

import numpy as np

import math

from dotlab import quantisation, search
from dotlab.checks._core import Case, CheckFailure, Forbidden, Mistake, _run_learner, _show, run_checks
from dotlab.checks.contract import (MATH, NUMPY, PYTHON, STDLIB, TORCH, ArrayOf, Number, OneOf, PythonFloat, Task,
                                    TupleOf, allow, judge_allowlist, judge_contract, tasks_table)

# What every task of this chapter may use: NumPy or tensors written out, no library
# cosine, normalisation, top-k or quantiser, nothing from dotlab.
_NO_LIBRARY = {"!scipy.*", "!torch.nn.*", "!torch.topk", "!.topk", "!torch.kthvalue", "!torch.ao.*",
               "!torch.quantization.*", "!torch.cosine_similarity",
               # PyTorch's own quantisers, top-level ones too: the same codes, nothing built
               "!torch.quantize_per_tensor", "!torch.quantize_per_channel", "!torch.quantize_per_tensor_dynamic",
               "!torch.fake_quantize_per_tensor_affine", "!torch.fake_quantize_per_channel_affine", "!.int_repr"}


def _allowed(says: str, *extra: str):
    return allow(PYTHON, MATH, STDLIB, NUMPY, TORCH, _NO_LIBRARY, set(extra), matmul=True, methods=None, says=says)

_ZERO_HINT = "A zero vector has no direction: check each length and raise ValueError saying which vector is zero."


def _no_reference(*names: str) -> tuple[Forbidden, ...]:
    """Forbid the course's own version, in its module and wherever dotlab re-exports it."""
    import dotlab

    targets = [f"dotlab.{'search' if hasattr(search, name) else 'quantisation'}.{name}" for name in names]
    targets += [f"dotlab.{name}" for name in names if hasattr(dotlab, name)]
    return tuple(Forbidden(t, "the course's reference implementation is not your answer") for t in targets)


# -- helpers the mistakes share ---------------------------------------------------------

def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _table(a, b) -> np.ndarray:
    """a·b for two vectors, or the (n, m) table of row-by-row dot products."""
    return _f(a) @ _f(b).T


def _lengths(x, axis=-1) -> np.ndarray:
    return np.linalg.norm(_f(x), axis=axis)


def _outer(u, v, op=np.multiply) -> np.ndarray:
    """op(u_i, v_j) laid out like _table(a, b): a number, or an (n, m) table."""
    u, v = np.asarray(u), np.asarray(v)
    return op(u, v) if u.ndim == 0 or v.ndim == 0 else op(u[:, None], v[None, :])


def _row_by_row(a, b):
    """Cosine of row i of a with row i of b, for as many rows as both have."""
    a, b = search.normalise(a), search.normalise(b)
    n = min(len(a), len(b)) if a.ndim == 2 and b.ndim == 2 else None
    return np.sum(a[:n] * b[:n], axis=-1)


# -- 2.1: cosine similarity ---------------------------------------------------------------

_COSINE_MISTAKES = (
    Mistake("dot", "you returned the dot product; the cosine divides it by both lengths, |a| |b|",
            lambda a, b: _table(a, b)),
    Mistake("squared lengths", "you divided by |a|²|b|² (the dot products of each vector with itself); divide by the lengths |a| |b|",
            lambda a, b: _table(a, b) / _outer(_lengths(a) ** 2, _lengths(b) ** 2)),
    Mistake("only a", "you divided by |a| only; the cosine divides by both lengths",
            lambda a, b: _table(a, b) / _outer(_lengths(a), np.ones_like(_lengths(b)))),
    Mistake("only b", "you divided by |b| only; the cosine divides by both lengths",
            lambda a, b: _table(a, b) / _outer(np.ones_like(_lengths(a)), _lengths(b))),
    Mistake("sum of lengths", "you divided by |a| + |b|; the cosine divides by the product |a| |b|",
            lambda a, b: _table(a, b) / _outer(_lengths(a), _lengths(b), np.add)),
    Mistake("whole-matrix norm", "you divided by the length of the whole matrix; each row is a vector and needs its own length "
            "(np.linalg.norm(a, axis=1, keepdims=True))",
            lambda a, b: _table(a, b) / (np.linalg.norm(_f(a)) * np.linalg.norm(_f(b)))),
    Mistake("column lengths", "you normalised the columns (axis=0); each row is a vector, so divide each row by its own length (axis=1)",
            lambda a, b: (_f(a) / np.linalg.norm(_f(a), axis=0)) @ (_f(b) / np.linalg.norm(_f(b), axis=0)).T),
    Mistake("angle", "you returned the angle; the cosine is what goes into arccos, not what comes out",
            lambda a, b: np.arccos(np.clip(search.cosine_similarity(a, b), -1, 1))),
    Mistake("row by row", "you paired row i of a with row i of b only; the answer is the table of every row of a against every row of b, "
            "shape (n, m): a @ b.T after normalising the rows",
            lambda a, b: _row_by_row(a, b)),
)


def _cosine_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("two vectors at 45 degrees", ([1, 0], [2, 2])),
        Case("an apple against a pear in the 3-D toy", ([4, 1, 0], [3, 2, 0.5])),
        Case("every row of a against every row of b: a (2, 3) table",
             ([[1, 0, 0], [0, 3, 4]], [[2, 0, 0], [0, 1, 0], [1, 1, 1]])),
        Case("a zero vector has no direction", ([0, 0, 0], [1, 2, 3]), raises=ValueError, hint=_ZERO_HINT),
        Case("a zero row inside a matrix", ([[1.0, 2.0], [0.0, 0.0]], [[1.0, 1.0]]), raises=ValueError, hint=_ZERO_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(201)
    return cases + [
        Case("opposed vectors: -1", ([1.0, -2.0], [-3.0, 6.0])),
        Case("perpendicular vectors: 0", ([1.0, 2.0, 0.0], [-2.0, 1.0, 5.0])),
        Case("random 50-dimensional vectors", (rng.normal(size=50), rng.normal(size=50)), show_inputs=False),
        Case("a (5, 20) matrix against a (4, 20) matrix", (rng.normal(size=(5, 20)), rng.normal(size=(4, 20)) * 7), show_inputs=False),
        Case("rows of very different lengths", ([[100.0, 0.0], [0.01, 0.01]], [[1.0, 1.0], [-3.0, 0.5], [0.0, 2.0]])),
        Case("one row against one row: a (1, 1) table", ([[1.0, 2.0, 2.0]], [[2.0, 0.0, 1.0]])),
        Case("the second vector is zero", ([1.0, 2.0], [0.0, 0.0]), raises=ValueError, hint=_ZERO_HINT),
        Case("vectors of different lengths", ([1.0, 2.0, 3.0], [1.0, 2.0]), raises=ValueError, must_mention=("3", "2")),
    ]


def _cosine_reference(a, b):
    """Apart from dotlab.search: every pair's cosine from exact sums."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.ndim != b.ndim or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape}, b.shape={b.shape}")
    rows_a, rows_b = np.atleast_2d(a), np.atleast_2d(b)
    lengths_a = [math.sqrt(math.fsum(x * x)) for x in rows_a]
    lengths_b = [math.sqrt(math.fsum(y * y)) for y in rows_b]
    if 0.0 in lengths_a or 0.0 in lengths_b:
        raise ValueError("a zero vector has no direction")
    table = np.array([[math.fsum(x * y) / (la * lb) for y, lb in zip(rows_b, lengths_b)]
                      for x, la in zip(rows_a, lengths_a)])
    return float(table[0, 0]) if a.ndim == 1 else table


def _cosine_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(2, 8))
    v = rng.normal(size=d)
    return [
        Case("parallel vectors: 1", (v, float(rng.uniform(0.5, 5)) * v)),
        Case("anti-parallel vectors: -1", (v, -float(rng.uniform(0.5, 5)) * v)),
        Case("one component each", ([float(rng.uniform(1, 3))], [-float(rng.uniform(1, 3))])),
        Case("whole numbers", (rng.integers(1, 9, size=(2, d)), rng.integers(-9, 0, size=(3, d)))),
        Case("rows from 1e-3 to 1e3 long", (rng.normal(size=(3, d)) * np.array([[1e-3], [1.0], [1e3]]),
                                           rng.normal(size=(2, d))), show_inputs=False),
        Case("a zero row in the second matrix", (rng.normal(size=(2, d)), np.r_[rng.normal(size=(1, d)), np.zeros((1, d))]),
             raises=ValueError, hint=_ZERO_HINT),
    ]


COSINE_SIMILARITY = Task(
    "2.1", "cosine_similarity", reference=_cosine_reference, cases=_cosine_cases, mistakes=_COSINE_MISTAKES,
    returns=OneOf((PythonFloat(), ArrayOf("f"))), ranks={"a": (1, 2), "b": (1, 2)},
    allowed=_allowed("the dot product divided by both lengths, with NumPy or tensors; no library cosine, "
                     "nothing from dotlab"),
    forbidden=_no_reference("cosine_similarity", "normalise"), edges=_cosine_edges,
    variants=("int", "float32", "strided"), rtol=1e-5, atol=1e-6,
    doc="cosine of two vectors, or the table of cosines of two matrices' rows.",
)


# -- 2.2: normalise -----------------------------------------------------------------------

_NORMALISE_MISTAKES = (
    Mistake("squared length", "you divided by the squared length x·x; divide by the length sqrt(x·x)",
            lambda x: _f(x) / np.sum(_f(x) ** 2, axis=-1, keepdims=True)),
    Mistake("sum", "you divided by the sum of the components; the length is sqrt of the sum of squares",
            lambda x: _f(x) / np.sum(_f(x), axis=-1, keepdims=True)),
    Mistake("l1", "you divided by the sum of absolute values (the L1 length); use the Euclidean length",
            lambda x: _f(x) / np.sum(np.abs(_f(x)), axis=-1, keepdims=True)),
    Mistake("max", "you divided by the largest component; the result must have length 1, not a largest entry of 1",
            lambda x: _f(x) / np.max(np.abs(_f(x)), axis=-1, keepdims=True)),
    Mistake("whole matrix", "you divided by the length of the whole matrix; each row is a vector and needs its own length "
            "(keepdims=True and axis=1)",
            lambda x: _f(x) / np.linalg.norm(_f(x))),
    Mistake("columns", "you normalised the columns (axis=0); each row is a vector: divide each row by its own length",
            lambda x: _f(x) / np.linalg.norm(_f(x), axis=0, keepdims=True)),
    Mistake("lengths", "you returned the lengths; return the vectors divided by their lengths",
            lambda x: _lengths(x)),
)


def _normalise_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("a 3-4-5 triangle", ([3, 4],)),
        # an array, not a list: a normalise that divides in place changes it
        Case("each row of a matrix on its own", (np.array([[3.0, 4.0], [0.0, -2.0], [1.0, 1.0]]),)),
        Case("the zero vector", ([0, 0, 0],), raises=ValueError, hint=_ZERO_HINT),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(202)
    return cases + [
        Case("a vector that is already unit length", ([0.0, 1.0, 0.0],)),
        Case("negative components", ([-2.0, -1.0, 2.0],)),
        Case("a (6, 10) matrix of rows of different lengths", (rng.normal(size=(6, 10)) * rng.uniform(0.1, 10, size=(6, 1)),),
             show_inputs=False),
        Case("a single row", ([[5.0, 0.0, 12.0]],)),
        Case("a zero row inside a matrix", ([[1.0, 1.0], [0.0, 0.0]],), raises=ValueError, hint=_ZERO_HINT),
    ]


def _normalise_reference(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"x.shape={x.shape}")
    rows = np.atleast_2d(x)
    lengths = np.array([math.sqrt(math.fsum(r * r)) for r in rows])
    if np.any(lengths == 0):
        raise ValueError("a zero vector has no direction")
    out = rows / lengths[:, None]
    return out[0] if x.ndim == 1 else out


def _normalise_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(2, 8))
    return [
        Case("a very short vector (length about 1e-8): still a direction", (rng.normal(size=d) * 1e-8,),
             show_inputs=False),
        Case("one negative component", ([-float(rng.uniform(1, 9))],)),
        Case("whole numbers", (rng.integers(1, 9, size=(3, d)),)),
        Case("rows from 1e-3 to 1e3 long", (rng.normal(size=(3, d)) * np.array([[1e-3], [1.0], [1e3]]),),
             show_inputs=False),
    ]


NORMALISE = Task(
    "2.2", "normalise", reference=_normalise_reference, cases=_normalise_cases, mistakes=_NORMALISE_MISTAKES,
    returns=ArrayOf("f"), ranks={"x": (1, 2)},
    allowed=_allowed("each vector divided by its own length, with NumPy or tensors; nothing from dotlab"),
    forbidden=_no_reference("normalise"), edges=_normalise_edges, variants=("int", "float32", "strided"),
    rtol=1e-5, atol=1e-7,
    doc="scale a vector, or each row of a matrix, to length 1.",
)


# -- 2.3: top-k ---------------------------------------------------------------------------

def _scores(corpus, queries):
    return _f(queries) @ _f(corpus).T  # (n, N)


def _pack(scores, indices):
    return np.stack([np.asarray(scores, float), np.asarray(indices, float)])


def _gather(scores, idx):
    return _pack(np.take_along_axis(scores, idx, axis=1), idx)


_TOP_K_MISTAKES = (
    Mistake("worst", "np.argsort sorts from smallest to largest: you returned the k *worst* matches. "
            "Take the last k (or sort -scores) and put the best first",
            lambda c, q, k: _gather(_scores(c, q), np.argsort(_scores(c, q), axis=1)[:, :k])),
    Mistake("ascending", "these are the right k, but in ascending order: the best match must come first "
            "(reverse them, e.g. [:, ::-1])",
            lambda c, q, k: _gather(_scores(c, q), np.argsort(_scores(c, q), axis=1)[:, -k:])),
    Mistake("unsorted partition", "np.argpartition finds the k best but leaves them in no particular order: "
            "sort those k by score, best first",
            lambda c, q, k: _gather(_scores(c, q), np.argpartition(-_scores(c, q), k - 1, axis=1)[:, :k])),
    Mistake("unsorted partition, end", "np.argpartition finds the k best but leaves them in no particular order: "
            "sort those k by score, best first",
            lambda c, q, k: _gather(_scores(c, q), np.argpartition(_scores(c, q), -k, axis=1)[:, -k:])),
    Mistake("cosine", "you ranked by cosine; this top_k ranks by the raw dot product (normalise the vectors "
            "beforehand if you want cosine)",
            lambda c, q, k: _pack(*search.top_k(c, q, k, metric="cosine"))),
    Mistake("transposed", "your answer is transposed: scores and indices have one row per query, shape (n, k)",
            lambda c, q, k: np.swapaxes(_pack(*search.top_k(c, q, k)), 1, 2)),
    Mistake("indices only", "return both the scores and the indices, as (scores, indices)",
            lambda c, q, k: search.top_k(c, q, k)[1]),
    Mistake("scores only", "return both the scores and the indices, as (scores, indices)",
            lambda c, q, k: search.top_k(c, q, k)[0]),
    Mistake("swapped", "you returned (indices, scores); the order is (scores, indices)",
            lambda c, q, k: _pack(*search.top_k(c, q, k)[::-1])),
    Mistake("one short", "you returned k - 1 results per query: check the slice takes exactly k",
            lambda c, q, k: _pack(*search.top_k(c, q, k - 1))),
    Mistake("one extra", "you returned k + 1 results per query: check the slice takes exactly k",
            lambda c, q, k: _pack(*search.top_k(c, q, k + 1))),
)

_K_HINT = "Check 1 <= k <= N yourself and raise ValueError(f'k={k} but the corpus has only N={len(corpus)} rows')."


def _top_k_cases(hidden: bool) -> list[Case]:
    corpus = [[1.0, 0.0], [0.0, 1.0], [3.0, 2.5], [-1.0, 0.0], [0.5, 0.6]]
    cases = [
        Case("five stored vectors, two queries, k=2", (corpus, [[1.0, 0.2], [-1.0, 0.5]], 2)),
        _UNSORTED,
        Case("k = N: every row, ranked", (corpus, [[0.3, 1.0]], 5)),
        Case("k larger than the corpus", (corpus, [[1.0, 0.0]], 6), raises=ValueError, must_mention=("6", "5"), hint=_K_HINT),
        Case("queries of length 3 against vectors of length 2", (corpus, [[1.0, 0.0, 0.0]], 1), raises=ValueError,
             must_mention=("3", "2")),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(203)
    return cases + [
        Case("k = 1", (corpus, [[0.1, -1.0], [1.0, 1.0], [-2.0, 0.1]], 1)),
        Case("a corpus of 200 random vectors, 5 queries, k=10",
             (rng.normal(size=(200, 16)), rng.normal(size=(5, 16)), 10), show_inputs=False),
        Case("a corpus of 300 vectors, k = 150: half of them, best first",
             (rng.normal(size=(300, 12)), rng.normal(size=(2, 12)), 150), show_inputs=False),
        Case("a corpus of 1,000 vectors with very different lengths, k=3",
             (rng.normal(size=(1000, 8)) * rng.uniform(0.1, 5, size=(1000, 1)), rng.normal(size=(3, 8)), 3), show_inputs=False),
        Case("k = 0", (corpus, [[1.0, 0.0]], 0), raises=ValueError, hint="k must be at least 1."),
    ]


def _top_k_reference(corpus, queries, k):
    corpus, queries = np.asarray(corpus, dtype=np.float64), np.asarray(queries, dtype=np.float64)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1] or not 1 <= k <= len(corpus):
        raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}, k={k}")
    scores = [[math.fsum(q * c) for c in corpus] for q in queries]
    order = [sorted(range(len(row)), key=lambda j: -row[j])[:k] for row in scores]
    return (np.array([[row[j] for j in best] for row, best in zip(scores, order)]), np.array(order))


def _unsorted_partition_case() -> Case:
    """A corpus whose k best ``np.argpartition(-scores, k - 1)[:, :k]`` returns out of order.

    NumPy's selection leaves small selections sorted by accident; on 300 rows with k = 150
    it does not. Found by search, so the visible check shows the unsorted answer the page
    warns about, whatever NumPy's selection does on this machine.
    """
    rng = np.random.default_rng(2003)
    for _ in range(200):
        corpus, query, k = rng.normal(size=(300, 4)), rng.normal(size=(1, 4)), 150
        scores = query @ corpus.T
        first = np.take_along_axis(scores, np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
        if np.any(np.diff(first) > 0) and len(np.unique(scores)) == scores.size:
            return Case("300 stored vectors, k = 150: the best first, in order", (corpus, query, k), show_inputs=False)
    raise RuntimeError("no case found where np.argpartition leaves the k best unsorted")


_UNSORTED = _unsorted_partition_case()


def _top_k_edges(rng: np.random.Generator) -> list[Case]:
    N, d = int(rng.integers(5, 30)), int(rng.integers(2, 6))
    corpus = rng.normal(size=(N, d))
    return [
        Case("one stored vector, k = 1", (rng.normal(size=(1, d)), rng.normal(size=(2, d)), 1)),
        Case("k = N", (corpus, rng.normal(size=(2, d)), N), show_inputs=False),
        Case("k = 1 over a random corpus", (corpus, rng.normal(size=(3, d)), 1), show_inputs=False),
        Case("whole-number vectors", (rng.permutation(np.arange(-N, N))[:N, None] * np.ones((1, d)),
                                      np.arange(1, d + 1)[None, :] * 1.0, 3), show_inputs=False),
        Case("k = N + 1", (corpus, rng.normal(size=(1, d)), N + 1), raises=ValueError, must_mention=(str(N + 1),),
             hint=_K_HINT),
        # rows repeated: their scores tie exactly, and either of two tied rows is as right as the other
        Case("tied scores (repeated rows), k cutting through a tie", _tied_corpus(rng, d), show_inputs=False),
    ]


def _tied_corpus(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray, int]:
    rows = rng.normal(size=(4, d))
    corpus = rows[rng.permutation(np.repeat(np.arange(4), 3))]  # every row three times, shuffled
    queries = rng.normal(size=(2, d))
    return corpus, queries, 5  # 3 + 2: the second-best row's copies are split by k


_TOP_K_TOL = (1e-5, 1e-5)  # the chapter's promise, relative 1e-5: float32 scores pass


def _top_k_equivalent(case: Case, answer, expected):
    """The learner's indices where they are as right as the reference's: ties and float32.

    Two corpus rows whose scores agree to within the tolerance may come in either order (and
    either may be the k-th): the indices are judged by the exact scores they point at, which
    must be the k best, best first; the scores returned are still compared with those.
    """
    corpus, queries, k = case.args
    try:
        scores, idx = answer
        idx = np.asarray(idx)
        exact = _scores(corpus, queries)  # (n, N)
        want_scores = np.asarray(expected[0], dtype=float)
        if idx.shape != want_scores.shape or idx.dtype.kind not in "iu" or np.any(idx < 0) or np.any(idx >= exact.shape[1]):
            return expected
        if any(len(set(row.tolist())) != len(row) for row in idx):
            return expected
        if not np.allclose(np.take_along_axis(exact, idx, axis=1), want_scores, rtol=_TOP_K_TOL[0], atol=_TOP_K_TOL[1]):
            return expected
    except (TypeError, ValueError):
        return expected
    return (expected[0], idx)


TOP_K = Task(
    "2.3", "top_k", reference=_top_k_reference, cases=_top_k_cases, mistakes=_TOP_K_MISTAKES,
    returns=TupleOf((ArrayOf("f"), ArrayOf("iu")), ("scores", "indices")), ranks={"corpus": (2,), "queries": (2,)},
    array_params_=("corpus", "queries"),
    allowed=_allowed("one matrix product, then np.argpartition/np.argsort; no library top-k (torch.topk), "
                     "nothing from dotlab"),
    forbidden=_no_reference("top_k"), edges=_top_k_edges, variants=("strided",), rtol=_TOP_K_TOL[0],
    atol=_TOP_K_TOL[1], equivalent=_top_k_equivalent,
    doc="the k best rows of the corpus for each query, by dot product, best first.",
)


# -- 2.4: int8 quantisation ----------------------------------------------------------------

def _peak(x):
    return np.max(np.abs(_f(x)), axis=-1, keepdims=True)


def _squeeze(scale, x):
    scale = np.asarray(scale)[..., 0]
    return float(scale) if _f(x).ndim == 1 else scale


def _cast_int8(values):
    with np.errstate(invalid="ignore"):
        return np.asarray(values).astype(np.int8)


_CODES_MISTAKES = (
    Mistake("truncated", ".astype(np.int8) cuts the fraction off (toward zero); round to the nearest whole number "
            "first with np.rint or np.round",
            lambda x: _cast_int8(_f(x) / (_peak(x) / 127))),
    Mistake("128", "the largest component must map to 127: with max|x|/128 it maps to 128, which int8 cannot hold "
            "(it wraps to -128)",
            lambda x: _cast_int8(np.rint(_f(x) / (_peak(x) / 128)))),
    Mistake("global scale", "you used one scale for the whole matrix; each vector (row) gets its own scale, "
            "max|row|/127",
            lambda x: _cast_int8(np.rint(_f(x) / (np.max(np.abs(_f(x))) / 127)))),
    Mistake("no division", "you multiplied by 127 without dividing by the largest |component| first: "
            "codes = round(x / scale) with scale = max|x|/127",
            lambda x: _cast_int8(np.rint(np.clip(_f(x) * 127, -127, 127)))),
    Mistake("signed peak", "the scale must use the largest *absolute* value, max|x|: a large negative "
            "component counts too",
            lambda x: _cast_int8(np.clip(np.rint(_f(x) / (np.max(_f(x), axis=-1, keepdims=True) / 127)), -127, 127))),
)

_SCALE_MISTAKES = (
    Mistake("inverse", "the scale is what you multiply the codes by to get x back: max|x|/127, not 127/max|x|",
            lambda x: _squeeze(127 / _peak(x), x)),
    Mistake("128", "the scale is max|x|/127, so that the largest component maps to 127",
            lambda x: _squeeze(_peak(x) / 128, x)),
    Mistake("peak", "the scale is max|x|/127 (one code step), not max|x| itself",
            lambda x: _squeeze(_peak(x), x)),
    Mistake("global scale", "you used one scale for the whole matrix; return one scale per vector (row), max|row|/127",
            lambda x: np.max(np.abs(_f(x))) / 127),
    Mistake("signed peak", "the scale must use the largest *absolute* value, max|x|: a large negative "
            "component counts too",
            lambda x: _squeeze(np.max(_f(x), axis=-1, keepdims=True) / 127, x)),
)


def _quantise_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("one vector", ([0.5, -1.0, 0.25],)),
        # an array, not a list: the assignment says no function may change its inputs (x /= scale would)
        Case("two vectors with very different sizes: one scale each", (np.array([[0.02, -0.01, 0.015], [40.0, 10.0, -25.0]]),)),
        Case("a component that is NaN", ([1.0, float("nan"), 2.0],), raises=ValueError,
             hint="Check np.all(np.isfinite(x)) and raise ValueError: a NaN would poison the scale."),
        Case("an infinite component", ([[1.0, 2.0], [float("inf"), 0.0]],), raises=ValueError),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(204)
    return cases + [
        Case("the largest component is negative", ([0.3, -2.0, 1.1, 0.05],)),
        Case("a single component", ([-7.5],)),
        Case("a (5, 32) matrix of rows of different sizes", (rng.normal(size=(5, 32)) * rng.uniform(0.01, 100, size=(5, 1)),),
             show_inputs=False),
        Case("rows whose largest component is negative", ([[-4.0, 1.0, 2.0], [0.5, -0.25, -1.5]],)),
    ]


def _learner_runs(fn, cases: list[Case], forbidden) -> list:
    """Call the learner's function once per case (under the tripwires), keeping each outcome.

    quantise_int8 returns two things, graded separately; calling it once and replaying its
    answers to two rounds of run_checks works the same whether the function is a plain
    Python function or the grader's stand-in for one that runs elsewhere.
    """
    runs = []
    for case in cases:
        outcome, tripped = _run_learner(fn, case, forbidden)
        if tripped:
            raise CheckFailure(f"quantise_int8 called {tripped[0].forbidden.target}, which this exercise asks you not to "
                               f"use: {tripped[0].forbidden.why}")
        runs.append(outcome)
    return runs


def _replay(runs: list, part: int):
    """A function that gives back the recorded answers in order: part 0 (codes) or 1 (scale)."""
    queue = list(runs)

    def replay(*args, **kwargs):
        outcome = queue.pop(0)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value[part]

    return replay


def _check_two_results(runs: list) -> None:
    """Before comparing values: two results, and codes that really are int8."""
    for outcome in runs:
        if outcome.error is not None:
            continue  # run_checks reports it, with the usual advice
        result = outcome.value
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailure(f"quantise_int8 should return two things, (codes, scale), but it returned {_show(result)}")
        codes = result[0]
        if not isinstance(codes, np.ndarray) or codes.dtype != np.int8:
            kind = codes.dtype if isinstance(codes, np.ndarray) else type(codes).__name__
            raise CheckFailure(f"the codes quantise_int8 returned hold {kind}, not int8: the point is one byte per "
                               "component, so convert the rounded values with .astype(np.int8)")


def _quantise_reference(x):
    """Apart from dotlab.quantisation: per row, scale = max|x| / 127 and codes rounded half to even."""
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("x holds NaN or infinity")
    rows = np.atleast_2d(x)
    scales = np.array([max(abs(v) for v in row) / 127 for row in rows.tolist()])
    codes = np.array([[round(v / s) if s else 0 for v in row] for row, s in zip(rows.tolist(), scales)], dtype=np.int8)
    return (codes[0], float(scales[0])) if x.ndim == 1 else (codes, scales)


def _quantise_edges(rng: np.random.Generator) -> list[Case]:
    d = int(rng.integers(3, 9))
    v = rng.normal(size=d)
    return [
        # 1.7, not 2: the old largest would then map to exactly 63.5, a tie that two right
        # ways of computing x / scale round differently
        Case("the largest |component| twice, once negative", (np.r_[v, np.abs(v).max() * np.array([1.0, -1.0]) * 1.7],)),
        Case("tiny components (1e-30)", (v * 1e-30,), show_inputs=False),
        Case("huge components (1e30)", (v * 1e30,), show_inputs=False),
        Case("one row", (v[None, :],)),
        Case("a single negative component", ([-float(rng.uniform(1, 9))],)),
        Case("an infinite component", (np.r_[v, -np.inf],), raises=ValueError),
    ]


def _codes_equivalent(case: Case, answer, expected):
    """The learner's codes where they differ from the reference's only at a rounding tie.

    A component whose x / scale is a half-integer (-0.01 / (0.02 / 127) = -63.5) is as near
    to -63 as to -64: round-half-to-even, round-half-up and float32 arithmetic each pick
    one, and each is "the nearest whole number" the task asks for.
    """
    try:
        x = _f(case.args[0])
        codes, want = np.asarray(answer), np.asarray(expected)
        if codes.shape != want.shape:
            return expected
        with np.errstate(all="ignore"):
            t = x / (_peak(x) / 127) if x.ndim == 2 else x / (np.max(np.abs(x)) / 127)
        tie = np.abs(np.abs(t - np.floor(t)) - 0.5) < 1e-6
        ok = (codes == want) | (tie & ((codes == np.floor(t)) | (codes == np.ceil(t))))
    except (TypeError, ValueError, IndexError):
        return expected
    return codes.astype(np.int8) if np.all(ok) else expected


def _check_quantise(task: Task, fn, hidden: bool) -> int:
    """quantise_int8's answer is two things, each judged with its own mistakes."""
    __tracebackhide__ = True
    if not callable(fn):
        raise CheckFailure(f"quantise_int8 should be a function, but it is {_show(fn)} of type {type(fn).__name__}")
    cases = task.all_cases(hidden)
    runs = _learner_runs(fn, cases, task.forbidden)
    _check_two_results(runs)
    for case, run in zip(cases, runs):
        judge_contract(task, fn, case, run)
    run_checks(_replay(runs, 0), fn_name="quantise_int8", reference=lambda x: task.reference(x)[0],
               cases=[Case(f"{c.label}: the codes", c.args, raises=c.raises, must_mention=c.must_mention,
                           show_inputs=c.show_inputs, hint=c.hint) for c in cases],
               mistakes=_CODES_MISTAKES, rtol=0, atol=0, quiet=True, params=(), equivalent=_codes_equivalent)
    answered = [run for case, run in zip(cases, runs) if case.raises is None]
    run_checks(_replay(answered, 1), fn_name="quantise_int8", reference=lambda x: task.reference(x)[1],
               cases=[Case(f"{c.label}: the scale", c.args, show_inputs=c.show_inputs) for c in cases if c.raises is None],
               mistakes=_SCALE_MISTAKES, rtol=1e-6, atol=0, quiet=True, params=())
    judge_allowlist(task, fn)
    return len(cases)


QUANTISE_INT8 = Task(
    "2.4", "quantise_int8", reference=_quantise_reference, cases=_quantise_cases, mistakes=_CODES_MISTAKES,
    returns=TupleOf((ArrayOf(dtype="int8"), OneOf((Number(), ArrayOf("f")))), ("codes", "scale")),
    array_params_=("x",),
    allowed=_allowed("max|x| / 127, np.round and .astype(np.int8); no library quantiser, nothing from dotlab"),
    forbidden=_no_reference("quantise_int8"), edges=_quantise_edges, variants=("strided",),
    check_with=_check_quantise,
    doc="symmetric int8 codes and one scale per vector, x ≈ codes * scale.",
)


# -- 2.5: the int8 dot product -------------------------------------------------------------

def _i8(values) -> np.ndarray:
    return np.array(values, dtype=np.int8)


def _int_dot(qa, qb, dtype):
    return float(np.asarray(qa).astype(dtype) @ np.asarray(qb).astype(dtype))


_INT8_DOT_MISTAKES = (
    Mistake("int8 accumulation", "the sum wrapped around: NumPy computes int8 @ int8 in int8, which holds only -128..127, "
            "and one product 127·127 is already 16,129. Convert the codes with .astype(np.int32) before multiplying",
            lambda qa, sa, qb, sb: float(np.asarray(qa) @ np.asarray(qb)) * sa * sb),
    Mistake("int8 products", "each product qa[i]·qb[i] was computed in int8 and wrapped around (127·127 = 16,129 does not "
            "fit in int8): convert the codes with .astype(np.int32) before multiplying",
            lambda qa, sa, qb, sb: float(np.sum(np.asarray(qa) * np.asarray(qb), dtype=np.int64)) * sa * sb),
    Mistake("int16", "int16 holds only up to 32,767, and three products of 127·127 already pass it: accumulate in int32",
            lambda qa, sa, qb, sb: _int_dot(qa, qb, np.int16) * sa * sb),
    Mistake("no scales", "you returned the integer sum of code products; multiply it by both scales to get back to the "
            "vectors' units",
            lambda qa, sa, qb, sb: _int_dot(qa, qb, np.int64)),
    Mistake("one scale", "multiply by both scales, scale_a and scale_b",
            lambda qa, sa, qb, sb: _int_dot(qa, qb, np.int64) * sa),
    Mistake("other scale", "multiply by both scales, scale_a and scale_b",
            lambda qa, sa, qb, sb: _int_dot(qa, qb, np.int64) * sb),
    Mistake("divided", "x ≈ codes · scale, so a·b ≈ (qa·qb) · scale_a · scale_b: multiply by the scales, do not divide",
            lambda qa, sa, qb, sb: _int_dot(qa, qb, np.int64) / (sa * sb)),
)


def _int8_dot_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("small codes, two scales", (_i8([10, -20, 30]), 0.1, _i8([1, 2, 3]), 0.5)),
        Case("each product fits in int8, the sum 100 + 90 + 80 = 270 does not", (_i8([100, 90, 80]), 0.1, _i8([1, 1, 1]), 0.5)),
        Case("four components at the top of the range: 4 · 127 · 127 = 64,516 before scaling",
             (_i8([127, 127, 127, 127]), 0.01, _i8([127, 127, 127, 127]), 0.02)),
        Case("codes of different lengths", (_i8([1, 2, 3]), 1.0, _i8([1, 2]), 1.0), raises=ValueError, must_mention=("3", "2")),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(205)
    a, b = rng.normal(size=384), rng.normal(size=384)
    (qa, sa), (qb, sb) = quantisation.quantise_int8(a), quantisation.quantise_int8(b)
    return cases + [
        Case("opposed extremes: 127 against -127", (_i8([127, -127, 127]), 1.0, _i8([-127, 127, -127]), 1.0)),
        Case("two 384-component vectors quantised with quantise_int8", (qa, sa, qb, sb), show_inputs=False),
        Case("a single component", (_i8([-5]), 0.5, _i8([7]), 2.0)),
        Case("two components, each product 127·127", (_i8([127, -127]), 0.5, _i8([127, -127]), 0.25)),
        Case("codes of different lengths, the longer second", (_i8([1]), 1.0, _i8([1, 2, 3, 4]), 1.0), raises=ValueError,
             must_mention=("1", "4")),
    ]


def _int8_dot_reference(qa, scale_a, qb, scale_b):
    qa, qb = np.asarray(qa), np.asarray(qb)
    if qa.ndim != 1 or qb.ndim != 1 or len(qa) != len(qb):
        raise ValueError(f"qa.shape={qa.shape}, qb.shape={qb.shape}")
    return sum(int(x) * int(y) for x, y in zip(qa.tolist(), qb.tolist())) * scale_a * scale_b  # exact integers


def _int8_dot_edges(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(1000, 3000))
    return [
        Case(f"{n} components all at 127: a sum past int16 and float32's exact range",
             (_i8(np.full(n, 127)), 0.01, _i8(np.full(n, 127)), 0.02), show_inputs=False),
        Case("-128 against -128: the one code past 127", (_i8([-128, -128, 5]), 0.5, _i8([-128, -128, -7]), 0.25)),
        Case("codes of zero", (_i8(np.zeros(5)), 1.0, _i8(rng.integers(-127, 128, size=5)), 1.0)),
        Case("random codes with small scales", (_i8(rng.integers(-127, 128, size=64)), float(rng.uniform(1e-4, 1e-2)),
                                               _i8(rng.integers(-127, 128, size=64)), float(rng.uniform(1e-4, 1e-2))),
             show_inputs=False),
    ]


INT8_DOT = Task(
    "2.5", "int8_dot", reference=_int8_dot_reference, cases=_int8_dot_cases, mistakes=_INT8_DOT_MISTAKES,
    returns=Number(), ranks={"qa": (1,), "qb": (1,)},
    allowed=_allowed("the codes' products summed in int32 (or wider), times both scales; nothing from dotlab"),
    forbidden=_no_reference("int8_dot", "int8_scores"), edges=_int8_dot_edges, variants=("strided",),
    rtol=1e-6, atol=1e-12,
    doc="the dot product of two int8-quantised vectors, accumulated in int32.",
)


# -- 2.6: recall@k -------------------------------------------------------------------------

def _hits(found, exact):
    return np.array([len(set(f) & set(e)) for f, e in zip(np.asarray(found).tolist(), np.asarray(exact).tolist())], float)


_RECALL_MISTAKES = (
    Mistake("integer division", "hits // k is integer division: it rounds each query's share down to 0 or 1. "
            "Divide with / (true division)",
            lambda found, exact: float(np.mean(_hits(found, exact).astype(int) // np.asarray(exact).shape[1]))),
    Mistake("positional", "you compared position by position; recall counts how many true neighbours appear *anywhere* "
            "in the found list (order does not matter)",
            lambda found, exact: float(np.mean(np.asarray(found) == np.asarray(exact)))),
    Mistake("per query", "you returned one recall per query; average them into one number",
            lambda found, exact: _hits(found, exact) / np.asarray(exact).shape[1]),
    Mistake("count", "you counted the neighbours found; divide by k (and average over queries) to get a share",
            lambda found, exact: float(_hits(found, exact).sum())),
    Mistake("count per query", "you averaged the number found per query; divide by k to get a share",
            lambda found, exact: float(_hits(found, exact).mean())),
    Mistake("jaccard", "you divided by the size of the union (the Jaccard index); recall@k divides the overlap by k",
            lambda found, exact: float(np.mean([len(set(f) & set(e)) / len(set(f) | set(e))
                                                for f, e in zip(np.asarray(found).tolist(), np.asarray(exact).tolist())]))),
    Mistake("union", "you counted the union of the two lists; recall counts only the true neighbours that were found",
            lambda found, exact: float(np.mean([len(set(f) | set(e)) for f, e in zip(np.asarray(found).tolist(),
                                                                                      np.asarray(exact).tolist())])
                                       / np.asarray(exact).shape[1])),
)


def _recall_cases(hidden: bool) -> list[Case]:
    cases = [
        Case("the same neighbours in another order: nothing lost", ([[1, 2, 3]], [[3, 2, 1]])),
        Case("two queries: one finds 2 of 3, the other none", ([[1, 2, 3], [4, 5, 6]], [[2, 1, 9], [7, 8, 9]])),
        Case("found and exact of different shapes", ([[1, 2]], [[1, 2, 3]]), raises=ValueError, must_mention=("2", "3")),
    ]
    if not hidden:
        return cases
    rng = np.random.default_rng(206)
    exact = np.array([rng.permutation(100)[:10] for _ in range(20)])
    found = exact.copy()
    for row in found[:15]:  # swap out a few neighbours in most queries
        row[rng.integers(0, 10, size=rng.integers(1, 4))] = rng.integers(100, 200)
    return cases + [
        Case("k = 1", ([[4], [7], [1]], [[4], [2], [1]])),
        Case("20 queries, k = 10, a few neighbours lost", (found, exact), show_inputs=False),
        Case("half found, shuffled", ([[9, 8, 1, 2]], [[1, 2, 3, 4]])),
        Case("a different number of queries", ([[1, 2], [3, 4]], [[1, 2]]), raises=ValueError),
    ]


def _recall_reference(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape or found.ndim != 2:
        raise ValueError(f"found.shape={found.shape}, exact.shape={exact.shape}")
    n, k = exact.shape
    return sum(len(set(f) & set(e)) for f, e in zip(found.tolist(), exact.tolist())) / (n * k)


def _recall_edges(rng: np.random.Generator) -> list[Case]:
    n, k = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    exact = np.array([rng.permutation(50)[:k] for _ in range(n)])
    return [
        Case("every neighbour found, in reverse order", (exact[:, ::-1].copy(), exact)),
        Case("none found", (exact + 100, exact)),
        Case("k = 1, one query", ([[int(exact[0, 0])]], [[int(exact[0, 0])]])),
        Case("ids as lists", ((exact[:, ::-1] + np.arange(k) % 2 * 100).tolist(), exact.tolist())),
    ]


RECALL_AT_K = Task(
    "2.6", "recall_at_k", reference=_recall_reference, cases=_recall_cases, mistakes=_RECALL_MISTAKES,
    returns=Number(), array_params_=(),  # no ranks: the task text asks only for equal shapes
    allowed=_allowed("sets or comparisons of the ids, averaged; nothing from dotlab"),
    forbidden=_no_reference("recall_at_k"), edges=_recall_edges, rtol=1e-9, atol=1e-12,
    doc="the share of the exact top-k that the approximate top-k kept.",
)

TASKS = {task.id: task for task in (COSINE_SIMILARITY, NORMALISE, TOP_K, QUANTISE_INT8, INT8_DOT, RECALL_AT_K)}
CHECKS = tasks_table(*TASKS.values())
(check_cosine_similarity, check_normalise, check_top_k, check_quantise_int8, check_int8_dot,
 check_recall_at_k) = CHECKS.values()
