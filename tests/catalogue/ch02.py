"""Wrong versions of chapter 2's functions (tasks 2.1 to 2.6).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

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


@WRONG.add("cosine_similarity", expect="a zero row inside a matrix", hidden_only=True)
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


@WRONG.add("top_k", expect="leaves them in no particular order", hidden_only=True)
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


@WRONG.add("top_k", expect="should raise ValueError (queries of length 3", hidden_only=True)
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
