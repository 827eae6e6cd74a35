"""Wrong versions of chapter 2's functions (tasks 2.1 to 2.6).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np
import torch

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 2.1 cosine_similarity -------------------------------------------------------------


@WRONG.add("cosine_similarity", expect="you returned the dot product")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    if not np.all(np.linalg.norm(a, axis=-1)) or not np.all(np.linalg.norm(b, axis=-1)):
        raise ValueError("zero vector")
    return a @ b.T


@WRONG.add("cosine_similarity", expect="divided by |a|²|b|²")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na = np.sum(a * a, axis=-1, keepdims=True)
    nb = np.sum(b * b, axis=-1, keepdims=True)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("zero vector")
    return (a / na) @ (b / nb).T


@WRONG.add("cosine_similarity", expect="length of the whole matrix")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("zero vector")
    return a @ b.T / (na * nb)


@WRONG.add("cosine_similarity", expect="normalised the columns")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na, nb = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
    if a.ndim == 1 and (np.linalg.norm(a) == 0 or np.linalg.norm(b) == 0):
        raise ValueError("zero vector")
    if a.ndim == 1:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return (a / na) @ (b / nb).T


@WRONG.add("cosine_similarity", expect="row i of a with row i of b only")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na = np.linalg.norm(a, axis=-1, keepdims=True)
    nb = np.linalg.norm(b, axis=-1, keepdims=True)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("zero vector")
    return np.sum((a / na)[: len(b)] * (b / nb)[: len(a)], axis=-1)


@WRONG.add("cosine_similarity", expect="should raise ValueError (a zero vector has no direction)")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.linalg.norm(a, axis=-1, keepdims=True)
        b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.nan_to_num(a @ b.T)


@WRONG.add("cosine_similarity", expect="a zero row inside a matrix", mentioned=True)
def cosine_similarity(a, b):
    # only checks whole vectors for zero, not each row of a matrix
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    if not a.any() or not b.any():
        raise ValueError("zero vector")
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.linalg.norm(a, axis=-1, keepdims=True)
        b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return a @ b.T


@WRONG.add("cosine_similarity", expect="you returned the angle")
def cosine_similarity(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    na = np.linalg.norm(a, axis=-1, keepdims=True)
    nb = np.linalg.norm(b, axis=-1, keepdims=True)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("zero vector")
    return np.arccos(np.clip((a / na) @ (b / nb).T, -1, 1))


# -- 2.2 normalise ---------------------------------------------------------------------


@WRONG.add("normalise", expect="squared length")
def normalise(x):
    x = np.asarray(x, float)
    length_sq = np.sum(x * x, axis=-1, keepdims=True)
    if np.any(length_sq == 0):
        raise ValueError("cannot normalise a zero vector")
    return x / length_sq


@WRONG.add("normalise", expect="largest component")
def normalise(x):
    x = np.asarray(x, float)
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    if np.any(peak == 0):
        raise ValueError("cannot normalise a zero vector")
    return x / peak


@WRONG.add("normalise", expect="length of the whole matrix")
def normalise(x):
    x = np.asarray(x, float)
    length = math.sqrt(float(np.sum(x * x)))
    if length == 0:
        raise ValueError("cannot normalise a zero vector")
    return x / length


@WRONG.add("normalise", expect="normalised the columns")
def normalise(x):
    x = np.asarray(x, float)
    length = np.linalg.norm(x, axis=0, keepdims=True) if x.ndim == 2 else np.linalg.norm(x)
    if np.any(length == 0):
        raise ValueError("cannot normalise a zero vector")
    return x / length


@WRONG.add("normalise", expect="L1 length")
def normalise(x):
    x = np.asarray(x, float)
    length = np.sum(np.abs(x), axis=-1, keepdims=True)
    if np.any(length == 0):
        raise ValueError("cannot normalise a zero vector")
    return x / length


@WRONG.add("normalise", expect="should raise ValueError")
def normalise(x):
    x = np.asarray(x, float)
    length = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(length == 0, 1.0, length)


@WRONG.add("normalise", expect="called dotlab.search.normalise")
def normalise(x):
    from dotlab.search import normalise as reference

    return reference(x)


# -- 2.3 top_k -------------------------------------------------------------------------


@WRONG.add("top_k", expect="the k *worst* matches")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = queries @ corpus.T
    idx = np.argsort(scores, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@WRONG.add("top_k", expect="in ascending order")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = queries @ corpus.T
    idx = np.argsort(scores, axis=1)[:, -k:]
    return np.take_along_axis(scores, idx, axis=1), idx


@WRONG.add("top_k", expect="leaves them in no particular order", mentioned=True)
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = queries @ corpus.T
    idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@WRONG.add("top_k", expect="should raise ValueError (k larger than the corpus)")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    scores = queries @ corpus.T
    idx = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@WRONG.add("top_k", expect="ranked by cosine")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    corpus = corpus / np.linalg.norm(corpus, axis=1, keepdims=True)
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = queries @ corpus.T
    idx = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@WRONG.add("top_k", expect="return both the scores and the indices")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    return np.argsort(-(queries @ corpus.T), axis=1)[:, :k]


@WRONG.add("top_k", expect="you returned (indices, scores)")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = queries @ corpus.T
    idx = np.argsort(-scores, axis=1)[:, :k]
    return idx, np.take_along_axis(scores, idx, axis=1)


@WRONG.add("top_k", expect="transposed")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = corpus @ queries.T  # (N, n): one column per query
    idx = np.argsort(-scores, axis=0)[:k]
    return np.take_along_axis(scores, idx, axis=0), idx


@WRONG.add("top_k", expect="should raise ValueError (queries of length 3", mentioned=True)
def top_k(corpus, queries, k):
    # NumPy would refuse mismatched lengths anyway... except with a message about matmul
    corpus, queries = np.asarray(corpus, float), np.asarray(queries, float)
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    d = min(corpus.shape[1], queries.shape[1])
    scores = queries[:, :d] @ corpus[:, :d].T
    idx = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


# -- 2.4 quantise_int8 -----------------------------------------------------------------


@WRONG.add("quantise_int8", expect="cuts the fraction off")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x), axis=-1, keepdims=True) / 127
    codes = (x / scale).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("quantise_int8", expect="it maps to 128")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x), axis=-1, keepdims=True) / 128
    with np.errstate(invalid="ignore"):
        codes = np.round(x / scale).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("quantise_int8", expect="one scale for the whole matrix")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x)) / 127
    codes = np.round(x / scale).astype(np.int8)
    return codes, (scale if x.ndim == 1 else np.full(len(x), scale))


@WRONG.add("quantise_int8", expect="not 127/max|x|")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    factor = 127 / np.max(np.abs(x), axis=-1, keepdims=True)
    codes = np.round(x * factor).astype(np.int8)
    return codes, (float(factor[0]) if x.ndim == 1 else factor[:, 0])


@WRONG.add("quantise_int8", expect="not int8")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x), axis=-1, keepdims=True) / 127
    codes = np.round(x / scale)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("quantise_int8", expect="should return two things")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x), axis=-1, keepdims=True) / 127
    return np.round(x / scale).astype(np.int8)


@WRONG.add("quantise_int8", expect="largest *absolute* value")
def quantise_int8(x):
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(x, axis=-1, keepdims=True) / 127
    codes = np.clip(np.round(x / scale), -127, 127).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("quantise_int8", expect="should raise ValueError (a component that is NaN")
def quantise_int8(x):
    x = np.asarray(x, float)
    scale = np.max(np.abs(x), axis=-1, keepdims=True) / 127
    with np.errstate(invalid="ignore"):
        codes = np.round(x / scale).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


# -- 2.5 int8_dot ----------------------------------------------------------------------


@WRONG.add("int8_dot", expect="NumPy computes int8 @ int8 in int8")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(qa @ qb) * scale_a * scale_b


@WRONG.add("int8_dot", expect="computed in int8 and wrapped around")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(np.sum(qa * qb)) * scale_a * scale_b


@WRONG.add("int8_dot", expect="int16 holds only up to 32,767")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(qa.astype(np.int16) @ qb.astype(np.int16)) * scale_a * scale_b


@WRONG.add("int8_dot", expect="multiply it by both scales")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(qa.astype(np.int32) @ qb.astype(np.int32))


@WRONG.add("int8_dot", expect="do not divide")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(qa.astype(np.int32) @ qb.astype(np.int32)) / (scale_a * scale_b)


@WRONG.add("int8_dot", expect="multiply by both scales, scale_a and scale_b")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError(f"qa has length {len(qa)} but qb has length {len(qb)}")
    return float(qa.astype(np.int32) @ qb.astype(np.int32)) * scale_a


@WRONG.add("int8_dot", expect="does not mention")
def int8_dot(qa, scale_a, qb, scale_b):
    if len(qa) != len(qb):
        raise ValueError("the codes do not match")
    return float(qa.astype(np.int32) @ qb.astype(np.int32)) * scale_a * scale_b


# -- 2.6 recall_at_k -------------------------------------------------------------------


@WRONG.add("recall_at_k", expect="compared position by position")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    return float(np.mean(found == exact))


@WRONG.add("recall_at_k", expect="one recall per query")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    k = exact.shape[1]
    return np.array([len(set(f) & set(e)) / k for f, e in zip(found.tolist(), exact.tolist())])


@WRONG.add("recall_at_k", expect="divide by k to get a share")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    return float(np.mean([len(set(f) & set(e)) for f, e in zip(found.tolist(), exact.tolist())]))


@WRONG.add("recall_at_k", expect="Jaccard index")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    scores = [len(set(f) & set(e)) / len(set(f) | set(e)) for f, e in zip(found.tolist(), exact.tolist())]
    return float(np.mean(scores))


@WRONG.add("recall_at_k", expect="should raise ValueError")
def recall_at_k(found, exact):
    hits = [len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]
    return sum(hits) / len(hits)


@WRONG.add("recall_at_k", expect="returned None")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    k = exact.shape[1]
    recall = np.mean([len(set(f) & set(e)) / k for f, e in zip(found.tolist(), exact.tolist())])


# -- the classes the checks catch by design (issue 13) ------------------------------------


@WRONG.add("cosine_similarity", expect="must be refused", kind="contract", hidden_only=True)
def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    la, lb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    if np.any(la == 0) or np.any(lb == 0):
        raise ValueError("a zero vector has no direction")
    table = (a / la).reshape(-1, a.shape[-1]) @ (b / lb).reshape(-1, b.shape[-1]).T
    return float(table[0, 0]) if a.ndim == 1 else table


@WRONG.add("cosine_similarity", expect="returned a list", kind="contract", mentioned=True)
def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != b.ndim or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    la, lb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    if np.any(la == 0) or np.any(lb == 0):
        raise ValueError("a zero vector has no direction")
    return ((a / la) @ (b / lb).T).tolist()  # a list (or a bare float for vectors)


@WRONG.add("cosine_similarity", expect="uses torch.nn.functional.cosine_similarity", kind="allowlist",
           preamble="import torch")
def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim not in (1, 2) or a.ndim != b.ndim or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} differ")
    if not np.all(np.any(a, axis=-1)) or not np.all(np.any(b, axis=-1)):
        raise ValueError("a zero vector has no direction")
    ta, tb = torch.as_tensor(np.atleast_2d(a)), torch.as_tensor(np.atleast_2d(b))
    table = torch.nn.functional.cosine_similarity(ta[:, None, :], tb[None, :, :], dim=-1).numpy()
    return float(table[0, 0]) if a.ndim == 1 else table


@WRONG.add("normalise", expect="changed its input `x`", kind="mutation", mentioned=True)
def normalise(x):
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"x.shape={x.shape}")
    length = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
    if np.any(length == 0):
        raise ValueError("cannot normalise a zero vector")
    x /= length
    return x


@WRONG.add("normalise", expect="a very short vector", kind="edge", hidden_only=True)
def normalise(x):
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"x.shape={x.shape}")
    length = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
    if np.any(length < 1e-6):  # "zero", give or take rounding
        raise ValueError("cannot normalise a zero vector")
    return x / length


@WRONG.add("normalise", expect="uses torch.nn.functional.normalize", kind="allowlist", preamble="import torch")
def normalise(x):
    t = torch.as_tensor(np.asarray(x, dtype=float))
    if t.dim() not in (1, 2) or not torch.all(torch.any(t != 0, dim=-1)):
        raise ValueError(f"x of shape {tuple(t.shape)} has a zero vector or is not a vector or matrix")
    return torch.nn.functional.normalize(t, dim=-1).numpy()


@WRONG.add("top_k", expect="uses the attribute .topk", kind="allowlist", preamble="import torch")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, dtype=float), np.asarray(queries, dtype=float)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1]:
        raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}")
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    best = torch.as_tensor(queries @ corpus.T).topk(k, dim=1)
    return best.values.numpy(), best.indices.numpy()


@WRONG.add("top_k", expect="the task asks for a tuple", kind="contract", mentioned=True)
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, dtype=float), np.asarray(queries, dtype=float)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1]:
        raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}")
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but the corpus has N={len(corpus)} rows")
    scores = queries @ corpus.T
    idx = np.argsort(-scores, axis=1)[:, :k]
    return [np.take_along_axis(scores, idx, axis=1), idx.astype(float)]  # a list, and float indices


@WRONG.add("quantise_int8", expect="changed its input `x`", kind="mutation", mentioned=True)
def quantise_int8(x):
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    scale = peak / 127
    x /= scale  # in place: x is not needed any more
    codes = np.round(x).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("quantise_int8", expect="an infinite component", kind="edge", mentioned=True)
def quantise_int8(x):
    x = np.asarray(x, dtype=float)
    if np.any(np.isnan(x)):  # NaN is the only bad number?
        raise ValueError("x contains NaN")
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    scale = peak / 127
    codes = np.round(x / scale).astype(np.int8)
    return codes, (float(scale[0]) if x.ndim == 1 else scale[:, 0])


@WRONG.add("int8_dot", expect="dotlab.quantisation.int8_scores, which this exercise asks you not to use",
           kind="allowlist")
def int8_dot(qa, scale_a, qb, scale_b):
    from dotlab.quantisation import int8_scores

    if np.ndim(qa) != 1 or np.ndim(qb) != 1 or len(qa) != len(qb):
        raise ValueError(f"qa.shape={np.shape(qa)} and qb.shape={np.shape(qb)}")
    return float(int8_scores(np.asarray(qa)[None], np.asarray([scale_a]), np.asarray(qb)[None],
                             np.asarray([scale_b]))[0, 0])


@WRONG.add("int8_dot", expect="must be refused", kind="contract", hidden_only=True)
def int8_dot(qa, scale_a, qb, scale_b):
    qa, qb = np.ravel(qa), np.ravel(qb)  # any shape of codes
    if len(qa) != len(qb):
        raise ValueError(f"qa has {len(qa)} codes and qb has {len(qb)}")
    return float(qa.astype(np.int32) @ qb.astype(np.int32)) * scale_a * scale_b


@WRONG.add("recall_at_k", expect="integer division", kind="value")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} and exact.shape={exact.shape} differ")
    k = exact.shape[1]
    shares = [len(set(f) & set(e)) // k for f, e in zip(found.tolist(), exact.tolist())]
    return sum(shares) / len(shares)


# Right, not wrong: the task asks only for equal shapes, so one query given as a vector (or a
# stack of tables) may be answered; the checks no longer refuse other ranks (red-teaming, session 4)
@RIGHT.add("recall_at_k", how="np.atleast_2d: one query as a vector is fine too")
def recall_at_k(found, exact):
    found, exact = np.atleast_2d(found), np.atleast_2d(exact)
    if found.shape[-1] != exact.shape[-1] or found.shape[0] != exact.shape[0]:
        raise ValueError(f"found.shape={found.shape} and exact.shape={exact.shape} differ")
    found, exact = found.reshape(-1, found.shape[-1]), exact.reshape(-1, exact.shape[-1])
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found.tolist(), exact.tolist())]))


# -- right answers, written unusually: every one must pass -----------------------------------


@RIGHT.add("cosine_similarity", how="einsum with lengths from np.linalg.norm")
def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim not in (1, 2) or a.ndim != b.ndim or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} do not match")
    la, lb = np.sqrt(np.einsum("...d,...d->...", a, a)), np.sqrt(np.einsum("...d,...d->...", b, b))
    if np.any(la == 0) or np.any(lb == 0):
        raise ValueError("a zero vector has no direction")
    if a.ndim == 1:
        return float(a @ b / (la * lb))
    return np.einsum("id,jd->ij", a, b) / np.outer(la, lb)


@RIGHT.add("cosine_similarity", how="torch in float32, loops over rows")
def cosine_similarity(a, b):
    ta, tb = torch.as_tensor(np.asarray(a), dtype=torch.float32), torch.as_tensor(np.asarray(b), dtype=torch.float32)
    if ta.dim() not in (1, 2) or ta.dim() != tb.dim() or ta.shape[-1] != tb.shape[-1]:
        raise ValueError(f"a.shape={tuple(ta.shape)} and b.shape={tuple(tb.shape)} do not match")
    rows_a, rows_b = ta.reshape(-1, ta.shape[-1]), tb.reshape(-1, tb.shape[-1])
    table = torch.empty(len(rows_a), len(rows_b))
    for i, x in enumerate(rows_a):
        for j, y in enumerate(rows_b):
            nx, ny = torch.sqrt(x @ x), torch.sqrt(y @ y)
            if nx == 0 or ny == 0:
                raise ValueError("a zero vector has no direction")
            table[i, j] = (x @ y) / (nx * ny)
    return table.item() if ta.dim() == 1 else table.numpy()


@RIGHT.add("normalise", how="np.linalg.norm, float32")
def normalise(x):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"x.shape={x.shape}: a vector or a matrix of rows")
    length = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(length == 0):
        raise ValueError("a zero vector has no direction")
    return x / length


@RIGHT.add("normalise", how="a copy divided in place")
def normalise(x):
    out = np.array(x, dtype=float)  # a copy: dividing it in place leaves x alone
    if out.ndim not in (1, 2):
        raise ValueError(f"x.shape={out.shape}")
    length = np.sqrt((out ** 2).sum(axis=-1, keepdims=True))
    if (length == 0).any():
        raise ValueError("cannot normalise a zero vector")
    out /= length
    return out


@RIGHT.add("top_k", how="np.argsort of all the scores, stable")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, dtype=float), np.asarray(queries, dtype=float)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1]:
        raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}")
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} must be between 1 and N={len(corpus)}")
    scores = np.einsum("nd,Nd->nN", queries, corpus)
    idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@RIGHT.add("top_k", how="sorted() per query in plain Python")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, dtype=float), np.asarray(queries, dtype=float)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1]:
        raise ValueError(f"corpus.shape={corpus.shape}, queries.shape={queries.shape}")
    if not 1 <= k <= len(corpus):
        raise ValueError(f"k={k} but N={len(corpus)}")
    all_scores = queries @ corpus.T
    best = [sorted(range(len(corpus)), key=lambda j, row=row: row[j], reverse=True)[:k] for row in all_scores]
    return np.array([[row[j] for j in b] for row, b in zip(all_scores, best)]), np.array(best)


@RIGHT.add("quantise_int8", how="np.rint, one row at a time")
def quantise_int8(x):
    x = np.asarray(x, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("x has NaN or infinity")
    rows = np.atleast_2d(x)
    codes, scales = np.empty(rows.shape, dtype=np.int8), np.empty(len(rows))
    for i, row in enumerate(rows):
        scales[i] = np.abs(row).max() / 127
        codes[i] = np.rint(row / scales[i]).astype(np.int8)
    return (codes[0], float(scales[0])) if x.ndim == 1 else (codes, scales)


@RIGHT.add("quantise_int8", how="torch, back to NumPy")
def quantise_int8(x):
    t = torch.as_tensor(np.asarray(x, dtype=float))
    if not torch.isfinite(t).all():
        raise ValueError("x has NaN or infinity")
    scale = t.abs().amax(dim=-1, keepdim=True) / 127
    codes = torch.round(t / scale).to(torch.int8).numpy()
    return codes, (scale.item() if t.dim() == 1 else scale[:, 0].numpy())


@RIGHT.add("int8_dot", how="Python ints")
def int8_dot(qa, scale_a, qb, scale_b):
    if np.ndim(qa) != 1 or np.ndim(qb) != 1 or len(qa) != len(qb):
        raise ValueError(f"qa.shape={np.shape(qa)} and qb.shape={np.shape(qb)}")
    return sum(int(a) * int(b) for a, b in zip(qa, qb)) * scale_a * scale_b


@RIGHT.add("int8_dot", how="int64 and np.dot")
def int8_dot(qa, scale_a, qb, scale_b):
    qa, qb = np.asarray(qa), np.asarray(qb)
    if qa.ndim != 1 or qb.ndim != 1 or qa.shape != qb.shape:
        raise ValueError(f"qa.shape={qa.shape}, qb.shape={qb.shape}")
    return np.dot(qa.astype(np.int64), qb.astype(np.int64)) * (scale_a * scale_b)


@RIGHT.add("recall_at_k", how="np.isin and a mean")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.ndim != 2 or found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} and exact.shape={exact.shape} must match")
    return float(np.mean([np.isin(e, f).mean() for f, e in zip(found, exact)]))


@RIGHT.add("recall_at_k", how="counting with loops")
def recall_at_k(found, exact):
    if np.shape(found) != np.shape(exact) or np.ndim(found) != 2:
        raise ValueError(f"found has shape {np.shape(found)}, exact has shape {np.shape(exact)}")
    hits = 0
    for f_row, e_row in zip(found, exact):
        for e in e_row:
            if e in list(f_row):
                hits += 1
    return hits / (len(exact) * len(exact[0]))


# -- found by red-teaming the checks as an outsider (session 4): right answers once refused --


@RIGHT.add("cosine_similarity", how="the .dot method (np.dot is allowed, so its method is too)")
def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim not in (1, 2) or a.ndim != b.ndim or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a.shape={a.shape}, b.shape={b.shape}")
    na = np.sqrt((a * a).sum(axis=-1, keepdims=True))
    nb = np.sqrt((b * b).sum(axis=-1, keepdims=True))
    if (na == 0).any() or (nb == 0).any():
        raise ValueError("a zero vector has no direction")
    table = (a / na).dot((b / nb).T)
    return float(table) if a.ndim == 1 else table


@RIGHT.add("top_k", how="float32 scores by einsum, ties and near-ties in float32's own order")
def top_k(corpus, queries, k):
    corpus, queries = np.asarray(corpus, np.float32), np.asarray(queries, np.float32)
    if corpus.ndim != 2 or queries.ndim != 2 or corpus.shape[1] != queries.shape[1]:
        raise ValueError(f"corpus {corpus.shape}, queries {queries.shape}")
    if not 1 <= k <= corpus.shape[0]:
        raise ValueError(f"k={k} not in 1..{corpus.shape[0]}")
    scores = np.einsum("nd,Nd->nN", queries, corpus)
    idx = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, idx, axis=1), idx


@RIGHT.add("quantise_int8", how="float32 and np.rint: a half-integer may round the other way")
def quantise_int8(x):
    x = np.asarray(x, dtype=np.float32)
    if np.isnan(x).any() or np.isinf(x).any():
        raise ValueError("x contains NaN or infinity")
    scale = np.abs(x).max(axis=-1) / np.float32(127)
    codes = np.clip(np.rint(x / np.expand_dims(scale, -1)), -127, 127).astype(np.int8)
    return codes, scale


@RIGHT.add("quantise_int8", how="round half up, floor(x + 0.5): as near as half to even")
def quantise_int8(x):
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    scale = np.max(np.abs(x), axis=-1) / 127
    s = scale[..., None] if x.ndim == 2 else scale
    return np.floor(x / s + 0.5).astype(np.int8), scale


@RIGHT.add("int8_dot", how="int32 codes and the .dot method")
def int8_dot(qa, scale_a, qb, scale_b):
    qa, qb = np.asarray(qa, dtype=np.int32), np.asarray(qb, dtype=np.int32)
    if qa.ndim != 1 or qb.ndim != 1 or qa.shape != qb.shape:
        raise ValueError(f"qa.shape={qa.shape}, qb.shape={qb.shape}")
    return float(qa.dot(qb)) * scale_a * scale_b


@RIGHT.add("recall_at_k", how="np.intersect1d, row by row (any rank the shapes allow)")
def recall_at_k(found, exact):
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape:
        raise ValueError(f"found.shape={found.shape} but exact.shape={exact.shape}")
    return float(np.mean([np.intersect1d(f, e).size / e.size for f, e in zip(found, exact)]))


@WRONG.add("quantise_int8", expect="which this exercise asks you not to use", kind="allowlist",
           preamble="import torch")
def quantise_int8(x):
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity")
    rows = np.atleast_2d(x)
    scales = np.abs(rows).max(axis=1) / 127
    codes = np.stack([torch.quantize_per_tensor(torch.as_tensor(r, dtype=torch.float32), float(s), 0, torch.qint8)
                      .int_repr().numpy() for r, s in zip(rows, scales)])  # PyTorch's quantiser: nothing built
    return (codes[0], float(scales[0])) if x.ndim == 1 else (codes, scales)
