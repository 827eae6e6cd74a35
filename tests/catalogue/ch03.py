"""Wrong versions of chapter 3's functions (tasks 3.1 to 3.4).

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math
import operator

import numpy as np
import torch

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

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


@WRONG.add("linear", expect="a bias of length 1 for 2 neurons", mentioned=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, float), np.asarray(weight, float)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ weight.T
    return out if bias is None else out + np.asarray(bias, float)  # NumPy broadcasts a (1,) bias


@WRONG.add("linear", expect="bias=None means the layer has no bias", mentioned=True)
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


@WRONG.add("matmul_count", expect="should raise ValueError (a size of 2.5)", mentioned=True)
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


@WRONG.add("embedding_lookup", expect="NumPy reads a negative index from the end", mentioned=True)
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


# -- the classes the checks catch by design (issue 13) ------------------------------------


@WRONG.add("linear", expect="changed its input `x`", kind="mutation", mentioned=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias.shape={bias.shape}")
    out = x @ weight.T
    if bias is not None:
        out += bias
    x[...] = 0.0  # "free" the input
    return out


@WRONG.add("linear", expect="uses torch.nn.functional.linear", kind="allowlist", preamble="import torch")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    if bias is not None and np.shape(bias) != (weight.shape[0],):
        raise ValueError(f"bias.shape={np.shape(bias)}")
    b = None if bias is None else torch.as_tensor(np.asarray(bias, dtype=float))
    return torch.nn.functional.linear(torch.as_tensor(x), torch.as_tensor(weight), b).numpy()


@WRONG.add("linear", expect="must be refused", kind="contract", hidden_only=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = x @ np.swapaxes(weight, -1, -2)
    if bias is not None:
        bias = np.asarray(bias, dtype=float)
        if bias.shape != (weight.shape[-2],):
            raise ValueError(f"bias.shape={bias.shape}")
        out = out + bias
    return out


@WRONG.add("matmul_from_dots", expect="uses the @ operator", kind="allowlist", mentioned=True)
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.zeros((A.shape[0], B.shape[1]))
    for i in range(A.shape[0]):
        C[i] = A[i] @ B  # a whole row at once
    return C


@WRONG.add("matmul_from_dots", expect="uses the attribute .dot", kind="allowlist", mentioned=True)
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    return A.dot(B)


@WRONG.add("matmul_from_dots", expect="uses numpy.outer", kind="allowlist")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    return sum(np.outer(A[:, k], B[k, :]) for k in range(A.shape[1]))


@WRONG.add("matmul_from_dots", expect="the task asks for a NumPy array", kind="contract")
def matmul_from_dots(A, B):
    if len(A[0]) != len(B):
        raise ValueError(f"A has {len(A[0])} columns but B has {len(B)} rows")
    return [[sum(a * b for a, b in zip(row, col)) for col in zip(*B)] for row in A]


@WRONG.add("matmul_count", expect="a size of 3.0", kind="edge", hidden_only=True)
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if size < 1 or size != int(size):
            raise ValueError(f"{name}={size!r} must be a whole number >= 1")
    return m * n, k, m * n * k, 2 * m * n * k


@WRONG.add("matmul_count", expect="returned a list", kind="contract", mentioned=True)
def matmul_count(m, k, n):
    for name, size in (("m", m), ("k", k), ("n", n)):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"{name}={size!r} must be a whole number >= 1")
    return [m * n, k, m * n * k, 2 * m * n * k]


@WRONG.add("matmul_count", expect="dotlab.cost.matmul_count, which this exercise asks you not to use", kind="allowlist")
def matmul_count(m, k, n):
    from dotlab import cost

    c = cost.matmul_count(m, k, n)
    return c.dot_products, c.length, c.macs, c.flops


@WRONG.add("embedding_lookup", expect="looks rows up in the table directly", kind="allowlist", mentioned=True)
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=float)
    if ids.ndim != 1 or E.ndim != 2:
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={E.shape}")
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids {ids.tolist()} outside 0..{len(E) - 1}")
    return E[ids]


@WRONG.add("embedding_lookup", expect="looks rows up in the table directly", kind="allowlist")
def embedding_lookup(token_ids, embedding):
    if np.ndim(token_ids) != 1:
        raise ValueError(f"token_ids must be 1-D, got shape {np.shape(token_ids)}")
    ids, table = list(token_ids), np.asarray(embedding, dtype=float)
    if table.ndim != 2 or any(i < 0 or i >= len(table) for i in ids):
        raise ValueError(f"ids {ids} outside 0..{len(table) - 1}")
    rows = []
    for t in ids:
        rows.append(table[t])  # one row at a time
    return np.array(rows)


@WRONG.add("embedding_lookup", expect="uses numpy.take", kind="allowlist")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=float)
    if ids.ndim != 1 or E.ndim != 2:
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={E.shape}")
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids {ids.tolist()} outside 0..{len(E) - 1}")
    return np.take(E, ids, axis=0)


@WRONG.add("embedding_lookup", expect="must be refused", kind="contract", hidden_only=True)
def embedding_lookup(token_ids, embedding):
    ids, E = np.atleast_1d(np.asarray(token_ids)), np.asarray(embedding, dtype=float)
    if np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids {ids.tolist()} outside 0..{len(E) - 1}")
    one_hot = (ids.reshape(-1, 1) == np.arange(len(E))).astype(float)
    return one_hot @ E.reshape(len(E), -1)


# -- right answers, written unusually: every one must pass -----------------------------------


@RIGHT.add("linear", how="einsum")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape} does not fit weight.shape={weight.shape}")
    out = np.einsum("...i,oi->...o", x, weight)
    if bias is None:
        return out
    bias = np.asarray(bias, dtype=float)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"bias.shape={bias.shape} should be ({weight.shape[0]},)")
    return out + bias


@RIGHT.add("linear", how="torch tensors in float32, by hand")
def linear(x, weight, bias=None):
    tx, tw = torch.as_tensor(np.asarray(x), dtype=torch.float32), torch.as_tensor(np.asarray(weight), dtype=torch.float32)
    if tw.dim() != 2 or tx.dim() not in (1, 2) or tx.shape[-1] != tw.shape[1]:
        raise ValueError(f"x.shape={tuple(tx.shape)} does not fit weight.shape={tuple(tw.shape)}")
    out = tx @ tw.T
    if bias is not None:
        tb = torch.as_tensor(np.asarray(bias), dtype=torch.float32)
        if tuple(tb.shape) != (tw.shape[0],):
            raise ValueError(f"bias.shape={tuple(tb.shape)}")
        out = out + tb
    return out.numpy()


@RIGHT.add("matmul_from_dots", how="plain Python lists inside, an array out")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float).tolist(), np.asarray(B, dtype=float)
    if B.ndim != 2 or np.ndim(A) != 2 or len(A[0]) != B.shape[0]:
        raise ValueError(f"A.shape={np.shape(A)} and B.shape={B.shape} do not fit")
    columns = B.T.tolist()
    return np.array([[math.fsum(a * b for a, b in zip(row, col)) for col in columns] for row in A])


@RIGHT.add("matmul_from_dots", how="np.multiply and np.sum per entry, in float32")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=np.float32), np.asarray(B, dtype=np.float32)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape} and B.shape={B.shape} do not fit")
    C = np.empty((A.shape[0], B.shape[1]), dtype=np.float32)
    for i, row in enumerate(A):
        for j, col in enumerate(B.T):
            C[i, j] = np.sum(np.multiply(row, col))
    return C


@RIGHT.add("matmul_count", how="NumPy integers")
def matmul_count(m, k, n):
    for name, size in zip("mkn", (m, k, n)):
        if type(size) is not int or size < 1:
            raise ValueError(f"{name}={size!r} is not a whole number >= 1")
    macs = np.int64(m) * k * n
    return np.int64(m * n), np.int64(k), macs, 2 * macs


@RIGHT.add("matmul_count", how="a dict's values, as a tuple")
def matmul_count(m, k, n):
    sizes = {"m": m, "k": k, "n": n}
    bad = {name: v for name, v in sizes.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1}
    if bad:
        raise ValueError(f"sizes must be whole numbers >= 1: {bad}")
    counts = {"dot_products": m * n, "length": k}
    counts["macs"] = counts["dot_products"] * counts["length"]
    counts["flops"] = 2 * counts["macs"]
    return tuple(counts.values())


@RIGHT.add("embedding_lookup", how="one-hot from comparing ids with arange")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=float)
    if ids.ndim != 1 or E.ndim != 2:
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={E.shape}")
    bad = ids[(ids < 0) | (ids >= len(E))]
    if bad.size:
        raise ValueError(f"ids {bad.tolist()} are outside 0..{len(E) - 1}")
    return (ids[:, None] == np.arange(len(E))[None, :]).astype(float) @ E


@RIGHT.add("embedding_lookup", how="rows of the identity, then torch in float32")
def embedding_lookup(token_ids, embedding):
    ids = np.asarray(token_ids)
    E = torch.as_tensor(np.asarray(embedding), dtype=torch.float32)
    if ids.ndim != 1 or E.dim() != 2:
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={tuple(E.shape)}")
    for i in ids.tolist():
        if not 0 <= i < E.shape[0]:
            raise ValueError(f"id {i} is outside 0..{E.shape[0] - 1}")
    one_hot = torch.as_tensor(np.eye(E.shape[0])[ids], dtype=torch.float32)
    return (one_hot @ E).numpy()


# -- found by red-teaming the checks as an outsider (session 4) ------------------------------


@WRONG.add("matmul_from_dots", expect="has no loop", kind="allowlist")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape}, B.shape={B.shape}")
    return (A[:, :, None] * B[None, :, :]).sum(axis=1)  # every entry at once: no dot product per entry


@WRONG.add("matmul_from_dots", expect="uses operator.matmul", kind="allowlist", preamble="import operator")
def matmul_from_dots(A, B):
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape}, B.shape={B.shape}")
    return np.array([[operator.matmul(A[i], B[:, j]) for j in range(B.shape[1])] for i in range(A.shape[0])])


@WRONG.add("linear", expect="whole-number inputs, fractional weights", kind="edge", hidden_only=True)
def linear(x, weight, bias=None):
    x, weight = np.asarray(x), np.asarray(weight)
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape}, weight.shape={weight.shape}")
    if bias is not None and np.shape(bias) != (weight.shape[0],):
        raise ValueError(f"bias shape {np.shape(bias)}")
    out = np.zeros(x.shape[:-1] + (weight.shape[0],), dtype=x.dtype)  # whole numbers in: fractions cut off
    out[...] = x @ weight.T + (0 if bias is None else np.asarray(bias))
    return out


@WRONG.add("matmul_count", expect="expected exactly", kind="edge", hidden_only=True)
def matmul_count(m, k, n):
    for size in (m, k, n):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size {size!r} must be a whole number >= 1")
    macs = np.prod([m, n, k], dtype=float)  # exact only up to 2**53
    return m * n, k, int(macs), int(2 * macs)


@WRONG.add("embedding_lookup", expect="instead of multiplying by the one-hot matrix", kind="allowlist", mentioned=True)
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=float)
    if ids.ndim != 1 or E.ndim != 2 or np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids {ids.tolist()} outside 0..{len(E) - 1}")
    rows = list(E)  # a list of E's rows, then a lookup by another name
    return np.array([rows[i] for i in ids]).reshape(len(ids), E.shape[1])


@WRONG.add("embedding_lookup", expect="numpy.ndarray.take", kind="allowlist", mentioned=True)
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding, dtype=float)
    if ids.ndim != 1 or E.ndim != 2 or np.any(ids < 0) or np.any(ids >= len(E)):
        raise ValueError(f"ids {ids.tolist()} outside 0..{len(E) - 1}")
    return np.ndarray.take(E, ids, axis=0)


@RIGHT.add("linear", how="whole numbers in, whole numbers out")
def linear(x, weight, bias=None):
    x, weight = np.asarray(x), np.asarray(weight)
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x.shape={x.shape}, weight.shape={weight.shape}")
    y = x @ weight.T
    if bias is None:
        return y
    bias = np.asarray(bias)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"bias.shape={bias.shape}, expected ({weight.shape[0]},)")
    return y + bias


@RIGHT.add("matmul_from_dots", how="a list of lists of sums, whole numbers kept whole")
def matmul_from_dots(A, B):
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={A.shape}, B.shape={B.shape}")
    rows = [[sum(a * b for a, b in zip(A[i], B[:, j])) for j in range(B.shape[1])] for i in range(A.shape[0])]
    return np.array(rows).reshape(A.shape[0], B.shape[1])


@RIGHT.add("embedding_lookup", how="an int one-hot times an int embedding, with .dot")
def embedding_lookup(token_ids, embedding):
    ids, E = np.asarray(token_ids), np.asarray(embedding)
    if ids.ndim != 1 or E.ndim != 2:
        raise ValueError(f"token_ids.shape={ids.shape}, embedding.shape={E.shape}")
    V = E.shape[0]
    for t in ids:
        if not 0 <= t < V:
            raise ValueError(f"token id {t} is outside 0..{V - 1}")
    one_hot = (ids[:, None] == np.arange(V)).astype(int)
    return one_hot.dot(E)


@RIGHT.add("matmul_from_dots", how="tensors, one (row * column).sum() per entry")
def matmul_from_dots(A, B):
    A = torch.as_tensor(np.asarray(A, dtype=np.float64))
    B = torch.as_tensor(np.asarray(B, dtype=np.float64))
    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A.shape={tuple(A.shape)}, B.shape={tuple(B.shape)}")
    C = torch.empty(A.shape[0], B.shape[1], dtype=torch.float64)
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            C[i, j] = (A[i] * B[:, j]).sum()
    return C.numpy()


@RIGHT.add("embedding_lookup", how="torch.nn.functional.one_hot, then a product")
def embedding_lookup(token_ids, embedding):
    ids = torch.as_tensor(np.asarray(token_ids), dtype=torch.long)
    E = torch.as_tensor(np.asarray(embedding, dtype=np.float64))
    if ids.dim() != 1 or E.dim() != 2:
        raise ValueError(f"token_ids.shape={tuple(ids.shape)}, embedding.shape={tuple(E.shape)}")
    V = E.shape[0]
    if ((ids < 0) | (ids >= V)).any():
        raise ValueError(f"ids {ids.tolist()} must be in 0..{V - 1}")
    return (torch.nn.functional.one_hot(ids, V).to(E.dtype) @ E).numpy()
