"""Wrong versions of chapter 4's functions (tasks 4.1 to 4.4).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math
import statistics

import numpy as np
import torch

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 4.1 softmax -----------------------------------------------------------------------


@WRONG.add("softmax", expect="subtract the largest score", mentioned=True)
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


@WRONG.add("softmax", expect="Subtract each slice's own maximum", mentioned=True)
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


@WRONG.add("softmax", expect="softmax, which this exercise asks you not to use", kind="allowlist")
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


@WRONG.add("entropy", expect="0 · log 0 is nan", mentioned=True)
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


# -- the classes the checks catch by design (issue 13) ------------------------------------


@WRONG.add("softmax", expect="changed its input `x`", kind="mutation", mentioned=True)
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    x -= x.max(axis=axis, keepdims=True)  # in place: saves a copy
    np.exp(x, out=x)
    x /= x.sum(axis=axis, keepdims=True)
    return x


@WRONG.add("softmax", expect="imports torch.nn.functional", kind="allowlist", preamble="import torch")
def softmax(x, axis=-1):
    import torch.nn.functional as F

    return F.softmax(torch.as_tensor(np.asarray(x, dtype=float)), dim=axis).numpy()


@WRONG.add("softmax", expect="uses the attribute .softmax", kind="allowlist", preamble="import torch")
def softmax(x, axis=-1):
    return torch.as_tensor(np.asarray(x, dtype=float)).softmax(dim=axis).numpy()


@WRONG.add("softmax", expect="the task asks for a NumPy array", kind="contract", preamble="import torch")
def softmax(x, axis=-1):
    t = torch.as_tensor(np.asarray(x, dtype=float))
    e = torch.exp(t - t.amax(dim=axis, keepdim=True))
    return e / e.sum(dim=axis, keepdim=True)  # a tensor, not an array


@WRONG.add("softmax", expect="a score of -inf gets weight 0", kind="edge", mentioned=True)
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    x = np.where(np.isinf(x), 0.0, x)  # "clean up" infinities first
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@WRONG.add("scaled_scores", expect="must be refused", kind="contract", hidden_only=True)
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape} differ in d_k")
    q, k = q.reshape(-1, q.shape[-1]), k.reshape(-1, k.shape[-1])  # any batch of vectors
    return q @ k.T / math.sqrt(q.shape[-1])


@WRONG.add("scaled_scores", expect="changed its input `q`", kind="mutation", mentioned=True)
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.ndim != 2 or k.ndim != 2 or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q.shape={q.shape} and k.shape={k.shape}")
    q /= math.sqrt(q.shape[-1])  # scale the queries once, before the product
    return q @ k.T


@WRONG.add("scaled_scores", expect="dotlab.attention.attention_weights, which this exercise asks you not to use", kind="allowlist")
def scaled_scores(q, k):
    from dotlab.attention import attention_weights

    return np.log(attention_weights(q, k))


@WRONG.add("entropy", expect="the answer has shape (1,) but should have shape ()", kind="contract", mentioned=True)
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -np.sum(p * logs, axis=axis, keepdims=True)


@WRONG.add("entropy", expect="a 3-D table of distributions", kind="edge", hidden_only=True)
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    if p.ndim == 1:
        return -sum(x * math.log(x) for x in p if x > 0)
    rows = p if axis in (-1, 1) else p.T  # one distribution per row
    return np.array([-sum(x * math.log(x) for x in np.ravel(row) if x > 0) for row in rows])


@WRONG.add("entropy", expect="uses torch.special.entr", kind="allowlist", preamble="import torch")
def entropy(p, axis=-1):
    return torch.special.entr(torch.as_tensor(np.asarray(p, dtype=float))).sum(dim=axis).numpy()


@WRONG.add("dot_product_variance", expect="the answer has shape (1,) but should have shape ()", kind="contract", mentioned=True)
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, n_samples, d))
    if unit:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        k = k / np.linalg.norm(k, axis=1, keepdims=True)
    return np.var(np.sum(q * k, axis=1), keepdims=True)  # an array of one number


@WRONG.add("dot_product_variance", expect="dotlab.scaling.dot_product_samples, which this exercise asks you not to use", kind="allowlist")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    from dotlab.scaling import dot_product_samples as samples

    return float(np.var(samples(d, n_samples, unit=unit, seed=seed)))


# -- right answers, written unusually: every one must pass -----------------------------------


@RIGHT.add("softmax", how="torch in float32")
def softmax(x, axis=-1):
    t = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    e = torch.exp(t - t.amax(dim=axis, keepdim=True))
    return (e / e.sum(dim=axis, keepdim=True)).numpy()


@RIGHT.add("softmax", how="log-sum-exp with NumPy")
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    top = np.max(x, axis=axis, keepdims=True)
    lse = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return np.exp(x - lse)


@RIGHT.add("softmax", how="float32 NumPy, moving the axis last")
def softmax(x, axis=-1):
    x = np.moveaxis(np.asarray(x, dtype=np.float32), axis, -1)
    e = np.exp(x - x.max(axis=-1)[..., None])
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)


@RIGHT.add("scaled_scores", how="einsum")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.ndim != 2 or k.ndim != 2 or q.shape[1] != k.shape[1]:
        raise ValueError(f"q.shape={q.shape}, k.shape={k.shape}: need (T_q, d_k) and (T_k, d_k)")
    return np.einsum("id,jd->ij", q, k) / np.sqrt(q.shape[1])


@RIGHT.add("scaled_scores", how="torch in float32")
def scaled_scores(q, k):
    tq, tk = torch.as_tensor(np.asarray(q), dtype=torch.float32), torch.as_tensor(np.asarray(k), dtype=torch.float32)
    if tq.dim() != 2 or tk.dim() != 2 or tq.shape[1] != tk.shape[1]:
        raise ValueError(f"q.shape={tuple(tq.shape)} and k.shape={tuple(tk.shape)} do not fit")
    return (tq @ tk.T / math.sqrt(tq.shape[1])).numpy()


@RIGHT.add("scaled_scores", how="loops over queries and keys")
def scaled_scores(q, k):
    q, k = np.asarray(q, dtype=float), np.asarray(k, dtype=float)
    if q.ndim != 2 or k.ndim != 2 or q.shape[1] != k.shape[1]:
        raise ValueError(f"shapes {q.shape} and {k.shape}")
    out = np.empty((len(q), len(k)))
    for i in range(len(q)):
        for j in range(len(k)):
            out[i, j] = sum(a * b for a, b in zip(q[i], k[j])) / math.sqrt(q.shape[1])
    return out


@RIGHT.add("entropy", how="a loop per slice with math.log")
def entropy(p, axis=-1):
    p = np.moveaxis(np.asarray(p, dtype=float), axis, -1)
    rows = p.reshape(-1, p.shape[-1])
    out = np.array([-sum(x * math.log(x) for x in row if x > 0) for row in rows])
    return float(out[0]) if p.ndim == 1 else out.reshape(p.shape[:-1])


@RIGHT.add("entropy", how="torch.xlogy in float32")
def entropy(p, axis=-1):
    t = torch.as_tensor(np.asarray(p), dtype=torch.float32)
    h = -torch.xlogy(t, t).sum(dim=axis)
    return h.item() if h.dim() == 0 else h.numpy()


@RIGHT.add("entropy", how="np.where with a masked log")
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=float)
    plogp = np.where(p > 0, p * np.log(p, where=p > 0, out=np.zeros_like(p)), 0.0)
    return -plogp.sum(axis=axis)


@RIGHT.add("dot_product_variance", how="einsum for the dot products")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q = q / np.sqrt(np.einsum("nd,nd->n", q, q))[:, None]
        k = k / np.sqrt(np.einsum("nd,nd->n", k, k))[:, None]
    return float(np.var(np.einsum("nd,nd->n", q, k)))


@RIGHT.add("dot_product_variance", how="pairs drawn one at a time, variance by hand")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    dots = []
    for _ in range(n_samples):
        q, k = rng.standard_normal(d), rng.standard_normal(d)
        if unit:
            q, k = q / math.sqrt(q @ q), k / math.sqrt(k @ k)
        dots.append(float(q @ k))
    mean = sum(dots) / len(dots)
    return sum((x - mean) ** 2 for x in dots) / len(dots)


@WRONG.add("dot_product_variance", expect="the task asks for a Python float", kind="contract", mentioned=True)
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_samples, d)).astype(np.float32)  # half the memory
    k = rng.standard_normal((n_samples, d)).astype(np.float32)
    if unit:
        q = q / np.sqrt(np.sum(q * q, axis=1, keepdims=True))
        k = k / np.sqrt(np.sum(k * k, axis=1, keepdims=True))
    return np.var(np.sum(q * k, axis=1))  # a NumPy float32, not a Python float


# -- found by red-teaming the checks as an outsider (session 4) ------------------------------


@WRONG.add("dot_product_variance", expect="every q·k is ±1", kind="edge", hidden_only=True)
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((n_samples, d)), rng.standard_normal((n_samples, d))
    if unit:  # the expected length, not each vector's own: the variance is 1/d on average all the same
        q, k = q / np.sqrt(d), k / np.sqrt(d)
    return float(np.var(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="uses numpy.random.seed", kind="allowlist", mentioned=True)
def dot_product_variance(d, n_samples, unit=False, seed=0):
    np.random.seed(seed)  # NumPy's global generator: the same numbers, but not rng = default_rng(seed)
    q, k = np.random.standard_normal((n_samples, d)), np.random.standard_normal((n_samples, d))
    if unit:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        k = k / np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


@RIGHT.add("softmax", how="scipy.special.logsumexp: a building block, not a ready-made softmax")
def softmax(x, axis=-1):
    from scipy.special import logsumexp

    x = np.asarray(x, dtype=float)
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))


@RIGHT.add("dot_product_variance", how="statistics.pvariance of the dot products", preamble="import statistics")
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((n_samples, d)), rng.standard_normal((n_samples, d))
    if unit:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        k = k / np.linalg.norm(k, axis=1, keepdims=True)
    return statistics.pvariance(np.einsum("nd,nd->n", q, k).tolist())


@WRONG.add("dot_product_variance", expect="the same seed must give the same draws", mentioned=True)
def dot_product_variance(d, n_samples, unit=False, seed=0, rng=np.random.default_rng(0)):
    # the generator is made once, when def runs, and reused whatever the seed
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))


@WRONG.add("dot_product_variance", expect="the seed is ignored", kind="value", mentioned=True)
def dot_product_variance(d, n_samples, unit=False, seed=0):
    rng = np.random.default_rng(0)  # a fixed seed: the same answer whatever seed is asked for
    q, k = rng.standard_normal((n_samples, d)), rng.standard_normal((n_samples, d))
    if unit:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        k = k / np.linalg.norm(k, axis=1, keepdims=True)
    return float(np.var(np.sum(q * k, axis=1)))
