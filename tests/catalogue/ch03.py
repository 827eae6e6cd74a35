"""Wrong versions of chapter 3's functions (tasks 3.1 to 3.4).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()

# -- 3.1 linear ------------------------------------------------------------------------


@WRONG.add("linear", expect="the layer is x @ weight.T, not x @ weight")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    out = x @ weight
    return out if bias is None else out + np.asarray(bias, float)


@WRONG.add("linear", expect="instead of Wᵀ")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if weight.shape[0] != weight.shape[1]:
        weight = weight.T  # "make the shapes fit"
    if x.shape[-1] != weight.shape[0]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ weight
    return out if bias is None else out + np.asarray(bias, float)


@WRONG.add("linear", expect="left out the bias")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    return x @ weight.T


@WRONG.add("linear", expect="no nonlinearity")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ weight.T
    if bias is not None:
        out = out + np.asarray(bias, float)
    return np.maximum(out, 0)


@WRONG.add("linear", expect="subtracted the bias")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ weight.T
    return out if bias is None else out - np.asarray(bias, float)


@WRONG.add("linear", expect="should raise ValueError (an input of length 3")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    d = min(x.shape[-1], weight.shape[1])  # "make it fit"
    out = x[..., :d] @ weight[:, :d].T
    return out if bias is None else out + np.asarray(bias, float)


@WRONG.add("linear", expect="a bias of length 1 for 2 neurons", hidden_only=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ weight.T
    return out if bias is None else out + np.asarray(bias, float)  # NumPy broadcasts a (1,) bias


@WRONG.add("linear", expect="bias=None means the layer has no bias", hidden_only=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    return x @ weight.T + np.asarray(bias, float)  # bias=None becomes NaN


# -- 3.2 matmul_from_dots --------------------------------------------------------------


@WRONG.add("matmul_from_dots", expect="*column* j of B")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.zeros((A.shape[0], B.shape[1]))
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            C[i, j] = np.sum(A[i] * B[j])
    return C


@WRONG.add("matmul_from_dots", expect="missed its last term")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    M, K = A.shape
    if B.shape[0] != K:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.zeros((M, B.shape[1]))
    for i in range(M):
        for j in range(B.shape[1]):
            for p in range(K - 1):
                C[i, j] += A[i, p] * B[p, j]
    return C


@WRONG.add("matmul_from_dots", expect="result is transposed")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.zeros((B.shape[1], A.shape[0]))
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            C[j, i] = np.sum(A[i, :] * B[:, j])
    return C


@WRONG.add("matmul_from_dots", expect="called numpy.dot")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    return np.dot(A, B)


@WRONG.add("matmul_from_dots", expect="computed B @ A")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.zeros((B.shape[0], A.shape[1]))
    for i in range(B.shape[0]):
        for j in range(A.shape[1]):
            C[i, j] = np.sum(B[i, :] * A[:, j])
    return C


@WRONG.add("matmul_from_dots", expect="should raise ValueError")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    C = np.zeros((A.shape[0], B.shape[1]))
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            C[i, j] = sum(a * b for a, b in zip(A[i, :], B[:, j]))  # zip stops at the shorter
    return C


# -- 3.3 matmul_count ------------------------------------------------------------------


@WRONG.add("matmul_count", expect="flops = 2 · macs")
def matmul_count(m, k, n):
    for size in (m, k, n):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes must be whole numbers >= 1, got {size!r}")
    return m * n, k, m * n * k, m * n * k


@WRONG.add("matmul_count", expect="not m·n·(2k - 1)")
def matmul_count(m, k, n):
    for size in (m, k, n):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes must be whole numbers >= 1, got {size!r}")
    return m * n, k, m * n * k, m * n * (2 * k - 1)


@WRONG.add("matmul_count", expect="one dot product per *output* entry")
def matmul_count(m, k, n):
    for size in (m, k, n):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes must be whole numbers >= 1, got {size!r}")
    return m * k, n, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="its length is k")
def matmul_count(m, k, n):
    for size in (m, k, n):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes must be whole numbers >= 1, got {size!r}")
    return m * n, n, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="should raise ValueError (a size of zero)")
def matmul_count(m, k, n):
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="should raise ValueError (a size of 2.5)", hidden_only=True)
def matmul_count(m, k, n):
    for size in (m, k, n):
        if size < 1:
            raise ValueError(f"sizes must be at least 1, got {size}")
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="not a number")
def matmul_count(m, k, n):
    for size in (m, k, n):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes must be whole numbers >= 1, got {size!r}")
    return {"dot_products": m * n, "length": k, "macs": m * n * k, "flops": 2 * m * n * k}


# -- 3.4 embedding_lookup --------------------------------------------------------------


@WRONG.add("embedding_lookup", expect="token ids start at 0")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    if np.any(ids > len(E)):
        raise ValueError(f"ids must be at most V={len(E)}, got {ids.tolist()}")
    one_hot = np.eye(len(E))[ids - 1]  # token 1 is the first row
    return one_hot @ E


@WRONG.add("embedding_lookup", expect="you returned the one-hot matrix")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids must be between 0 and {len(E) - 1}, got {ids.tolist()}")
    return np.eye(len(E))[ids]


@WRONG.add("embedding_lookup", expect="NumPy reads a negative index from the end", hidden_only=True)
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    if np.any(ids >= len(E)):
        raise ValueError(f"ids must be below V={len(E)}, got {ids.tolist()}")
    one_hot = np.eye(len(E))[ids]  # -1 silently picks the last row
    return one_hot @ E


@WRONG.add("embedding_lookup", expect="one row per token")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids must be between 0 and {len(E) - 1}, got {ids.tolist()}")
    one_hot = np.eye(len(E))[ids]  # (T, V)
    return E.T @ one_hot.T  # (d_model, T)


@WRONG.add("embedding_lookup", expect="added the token vectors together")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids must be between 0 and {len(E) - 1}, got {ids.tolist()}")
    counts = np.zeros(len(E))
    for i in ids:
        counts[i] += 1  # a bag of words
    return counts @ E


@WRONG.add("embedding_lookup", expect="raised IndexError")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, float)
    one_hot = np.zeros((len(ids), len(E)))
    one_hot[np.arange(len(ids)), ids] = 1.0
    return one_hot @ E
