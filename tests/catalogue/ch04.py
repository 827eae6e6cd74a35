"""Wrong versions of chapter 4's functions (tasks 4.1 to 4.4).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

# -- 4.1 softmax -----------------------------------------------------------------------


@WRONG.add("softmax", expect="subtract the largest score")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


@WRONG.add("softmax", expect="normalised over the whole array")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max())
    return e / e.sum()


@WRONG.add("softmax", expect="keepdims=True")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis)


@WRONG.add("softmax", expect="Subtract each slice's own maximum", hidden_only=True)
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x))  # one shift for everything: enough to stop overflow...
    return e / e.sum(axis=axis, keepdims=True)


@WRONG.add("softmax", expect="subtracted the minimum")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@WRONG.add("softmax", expect="without dividing by its sum")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    return np.exp(x - x.max(axis=axis, keepdims=True))


@WRONG.add("softmax", expect="called scipy.special.softmax")
def softmax(x, axis=-1):
    import scipy.special

    return scipy.special.softmax(x, axis=axis)


@WRONG.add("softmax", expect="dotlab.softmax")
def softmax(x, axis=-1, reference=__import__("dotlab.softmax", fromlist=["softmax"]).softmax):
    return reference(x, axis=axis)  # bound before the check runs, out of the tripwire's reach


# -- 4.2 scaled_scores -------------------------------------------------------------------


@WRONG.add("scaled_scores", expect="without dividing by sqrt(d_k)")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    return q @ k.T


@WRONG.add("scaled_scores", expect="divided by d_k; divide by its square root")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    return q @ k.T / q.shape[-1]


@WRONG.add("scaled_scores", expect="square root of the number of keys")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    return q @ k.T / math.sqrt(len(k))


@WRONG.add("scaled_scores", expect="Q Kᵀ, not K Qᵀ")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    return k @ q.T / math.sqrt(q.shape[-1])


@WRONG.add("scaled_scores", expect="multiplied by sqrt(d_k)")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    return q @ k.T * np.sqrt(q.shape[-1])


@WRONG.add("scaled_scores", expect="should raise ValueError")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    d = min(q.shape[-1], k.shape[-1])  # "make it work" by trimming
    return q[:, :d] @ k[:, :d].T / math.sqrt(d)


@WRONG.add("scaled_scores", expect="does not mention")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError("the vectors do not match")
    return q @ k.T / math.sqrt(q.shape[-1])


# -- 4.3 entropy -------------------------------------------------------------------------


@WRONG.add("entropy", expect="0 · log 0 is nan")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    return -np.sum(p * np.log(p), axis=axis)


@WRONG.add("entropy", expect="log base 2")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=axis)


@WRONG.add("entropy", expect="is never negative")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return np.sum(p * np.log(safe), axis=axis)


@WRONG.add("entropy", expect="one entropy per slice")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return -float(np.sum(p * np.log(safe)))


@WRONG.add("entropy", expect="averaged p·log p")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return -np.mean(p * np.log(safe), axis=axis)


@WRONG.add("entropy", expect="without weighting each term by p")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.log(safe), axis=axis)


@WRONG.add("entropy", expect="one entropy per slice")
def entropy(p, axis=-1):
    total = 0.0
    for x in np.asarray(p, dtype=float).ravel():
        total -= x * math.log(x) if x > 0 else 0.0
    return total  # a loop over everything: right for one distribution, not for a table


# -- 4.4 dot_product_variance --------------------------------------------------------------


@WRONG.add("dot_product_variance", expect="standard deviation")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.std(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="variance of the single products")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(q * k))


@WRONG.add("dot_product_variance", expect="divided the dot products by sqrt(d)")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1) / math.sqrt(d)))


@WRONG.add("dot_product_variance", expect="divide each vector by its own length")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    return float(np.var(np.sum(q * k, axis=1)))  # unit=True is never looked at


@WRONG.add("dot_product_variance", expect="np.linalg.norm(q, axis=1, keepdims=True)")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q = q / np.linalg.norm(q, axis=1)
        k = k / np.linalg.norm(k, axis=1)
    return float(np.var(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="not only one of them")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="rng.random() draws from [0, 1)")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.random((n_samples, d))
    k = rng.random((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="uniform components on [-1, 1]")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1, 1, (n_samples, d))
    k = rng.uniform(-1, 1, (n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))
