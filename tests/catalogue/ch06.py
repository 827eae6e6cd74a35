"""Learners' versions of chapter 6's functions (tasks 6.1 to 6.5): wrong ones, then right ones.

Each function redefines the exercise's name on purpose: its source is pasted into a
notebook cell exactly as a learner would have written it. Only ``math`` and ``np`` are
available there.
"""
# ruff: noqa: F811  (every entry reuses the exercise's function name)

import math

import numpy as np

from catalogue import Catalogue

WRONG = Catalogue()
RIGHT = Catalogue()

# -- 6.1 vocab_logits ------------------------------------------------------------------


@WRONG.add("vocab_logits", expect="you returned probabilities")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    scores = h @ W_U.T
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@WRONG.add("vocab_logits", expect="W_U @ h")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return W_U.T @ h  # each column of W_U against h


@WRONG.add("vocab_logits", expect="cosine similarity")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return (W_U @ h) / (np.linalg.norm(W_U, axis=1) * np.linalg.norm(h))


@WRONG.add("vocab_logits", expect="best token's id")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return int(np.argmax(W_U @ h))


@WRONG.add("vocab_logits", expect="h @ W_U.T, which works for both", mentioned=True)
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return W_U @ h  # right for one vector, not for a stack of them


@WRONG.add("vocab_logits", expect="should raise ValueError")
def vocab_logits(h, W_U):
    # zip() stops at the shorter of row and h, so a mismatch goes unnoticed
    return np.array([sum(w * x for w, x in zip(row, h)) for row in W_U])


@WRONG.add("vocab_logits", expect="log-probabilities")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    scores = W_U @ h
    return scores - scores.max() - np.log(np.exp(scores - scores.max()).sum())


@WRONG.add("vocab_logits", expect="dotlab.vocab", kind="allowlist")
def vocab_logits(h, W_U):
    import dotlab.vocab

    return dotlab.vocab.vocab_logits(h, W_U)


@WRONG.add("vocab_logits", expect="not implemented yet")
def vocab_logits(h, W_U):
    # YOUR CODE HERE
    raise NotImplementedError()


# -- 6.2 softmax_temperature -----------------------------------------------------------


@WRONG.add("softmax_temperature", expect="multiplied the logits by the temperature")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, float) * temperature
    e = np.exp(x - x.max())
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="overflows to inf")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    e = np.exp(np.asarray(logits, float) / temperature)
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="divided the probabilities by τ")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, float)
    e = np.exp(x - x.max())
    return e / e.sum() / temperature


@WRONG.add("softmax_temperature", expect="without dividing by its sum")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, float)
    return np.exp((x - x.max()) / temperature)


@WRONG.add("softmax_temperature", expect="the temperature had no effect")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, float)
    e = np.exp(x - x.max())
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="should raise ValueError")
def softmax_temperature(logits, temperature):
    x = np.asarray(logits, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.exp((x - x.max()) / temperature)
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="does not mention")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError("the temperature must be positive")
    x = np.asarray(logits, float)
    e = np.exp((x - x.max()) / temperature)
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="scipy.special.softmax", kind="allowlist")
def softmax_temperature(logits, temperature):
    from scipy.special import softmax

    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    return softmax(np.asarray(logits, float) / temperature)


# -- 6.3 top_k_sample ------------------------------------------------------------------


@WRONG.add("top_k_sample", expect="k *smallest* logits")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(logits)[:k]  # argsort is ascending: these are the smallest
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="kept k + 1 tokens")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(logits)[-k - 1:]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="listed best first")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    top = np.argsort(-logits)[:k]  # candidates, best first
    e = np.exp(logits[top] - logits[top].max())
    rng = np.random.default_rng(seed)
    return int(rng.choice(top, p=e / e.sum()))


@WRONG.add("top_k_sample", expect="position in your sorted list")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    top = np.sort(logits)[::-1][:k]
    e = np.exp(top - top.max())
    rng = np.random.default_rng(seed)
    return int(rng.choice(k, p=e / e.sum()))


@WRONG.add("top_k_sample", expect="legacy global generator")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits)[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    np.random.seed(seed)
    return int(np.random.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="do not add up to 1")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    probs[np.argsort(-logits)[k:]] = 0.0  # dropped, but the rest not renormalised
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="most probable token every time")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    return int(np.argmax(logits))


@WRONG.add("top_k_sample", expect="equal chances")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    probs = np.zeros(len(logits))
    probs[np.argsort(-logits)[:k]] = 1.0 / k
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="every token could be drawn")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    e = np.exp(logits - logits.max())
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=e / e.sum()))


@WRONG.add("top_k_sample", expect="should raise ValueError")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    keep = np.argsort(logits)[-k:]  # with k=0 this is [-0:], every token
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="the same seed must give the same token", mentioned=True)
def top_k_sample(logits, k, seed):
    global _rng
    if "_rng" not in globals():  # one generator for the whole session, made from the first seed
        _rng = np.random.default_rng(seed)
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits)[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    return int(_rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="the same seed must give the same token", mentioned=True)
def top_k_sample(logits, k, seed, rng=np.random.default_rng(0)):  # made once, when def runs
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits)[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    return int(rng.choice(len(logits), p=probs))


@WRONG.add("top_k_sample", expect="exp() of a large logit overflows to inf", kind="edge", hidden_only=True)
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits)[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep])  # no maximum subtracted
    probs[keep] = e / e.sum()
    return int(np.random.default_rng(seed).choice(len(logits), p=probs))


# -- 6.4 top_p_sample ------------------------------------------------------------------


@WRONG.add("top_p_sample", expect="carries the running total up to p")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    keep = order[np.cumsum(probs[order]) <= p]  # drops the token that crosses p
    if len(keep) == 0:
        keep = order[:1]
    kept = np.zeros(len(probs))
    kept[keep] = probs[keep] / probs[keep].sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="from the *least* probable token")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(probs)  # ascending
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    keep = order[:n]
    kept = np.zeros(len(probs))
    kept[keep] = probs[keep] / probs[keep].sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="*own* probability is at least p")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    keep = probs >= p
    if not keep.any():
        keep = probs == probs.max()
    kept = np.where(keep, probs, 0.0)
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(probs), p=kept / kept.sum()))


@WRONG.add("top_p_sample", expect="listed best first")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    nucleus = order[:n]
    rng = np.random.default_rng(seed)
    return int(rng.choice(nucleus, p=probs[nucleus] / probs[nucleus].sum()))


@WRONG.add("top_p_sample", expect="legacy global generator")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    np.random.seed(seed)
    return int(np.random.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="should raise ValueError")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="do not add up to 1")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    probs[order[n:]] = 0.0  # the tail dropped, the nucleus not renormalised
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(probs), p=probs))


@WRONG.add("top_p_sample", expect="every token could be drawn")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=e / e.sum()))


@WRONG.add("top_p_sample", expect="the same seed must give the same token", mentioned=True)
def top_p_sample(logits, p, seed):
    global _generator
    if "_generator" not in globals():  # made once, then reused whatever the seed
        _generator = np.random.default_rng(seed)
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    return int(_generator.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="the same seed must give the same token", mentioned=True)
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    rng = np.random.default_rng()  # the seed forgotten
    return int(rng.choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="you kept one more", kind="edge")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs)
    running = np.cumsum(probs[order])
    n = min(int(np.sum(running <= p)) + 1, len(probs))  # a total equal to p does not stop it
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    return int(np.random.default_rng(seed).choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="you kept one more", kind="edge")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    keep, total = [], 0.0
    for token in sorted(range(len(probs)), key=lambda t: -probs[t]):
        if total > p:
            break
        keep.append(token)
        total += probs[token]
    kept = np.zeros(len(probs))
    kept[keep] = probs[keep] / probs[keep].sum()
    return int(np.random.default_rng(seed).choice(len(probs), p=kept))


@WRONG.add("top_p_sample", expect="exp() of a large logit overflows to inf", kind="edge", hidden_only=True)
def top_p_sample(logits, p, seed):
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(np.asarray(logits, float))
    probs = e / e.sum()
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    return int(np.random.default_rng(seed).choice(len(probs), p=kept))


# -- 6.5 decode_step -------------------------------------------------------------------


@WRONG.add("decode_step", expect="attends to itself too")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q = x @ W_q
    scores = K_cache @ q / math.sqrt(len(q))  # only the cached tokens
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V_cache


@WRONG.add("decode_step", expect="1/sqrt(d_head) scale")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    scores = K @ q
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V


@WRONG.add("decode_step", expect="divided the scores by d_head")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    scores = K @ q / len(q)
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V


@WRONG.add("decode_step", expect="raw scores")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    return (K @ q / math.sqrt(len(q))) @ V


@WRONG.add("decode_step", expect="you mixed the keys")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k = x @ W_q, x @ W_k
    K = np.vstack([K_cache, k])
    scores = K @ q / math.sqrt(len(q))
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ K


@WRONG.add("decode_step", expect="swapped W_q and W_k")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_k, x @ W_q, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    scores = K @ q / math.sqrt(len(q))
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V


@WRONG.add("decode_step", expect="attended only to itself")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    score = q @ k / math.sqrt(len(q))  # one key: its weight is always 1
    w = np.exp(score - score)
    return w * v


@WRONG.add("decode_step", expect="does not mention")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    scores = K @ q / math.sqrt(len(q))
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V  # numpy's shape error, which does not say what went wrong


@WRONG.add("decode_step", expect="scale by 1/sqrt(d_head)")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    scores = K @ q / math.sqrt(len(x))
    w = np.exp(scores - scores.max())
    return (w / w.sum()) @ V


# -- classes by design: contract, mutation, edges -------------------------------------------


@WRONG.add("vocab_logits", expect="the task asks for a NumPy array", kind="contract")
def vocab_logits(h, W_U):
    if len(h) != len(W_U[0]):
        raise ValueError(f"h has length {len(h)} but W_U rows have length {len(W_U[0])}")
    return [float(np.dot(row, h)) for row in W_U]  # a list


@WRONG.add("vocab_logits", expect="one token in the vocabulary (V = 1)", kind="edge", hidden_only=True)
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, float), np.asarray(W_U, float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return np.squeeze(h @ W_U.T)  # one position as (1, d_model) loses its row


@WRONG.add("softmax_temperature", expect="changed its input `logits`", kind="mutation", hidden_only=True)
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, dtype=float)
    x /= temperature  # the caller's array, when it is one already
    e = np.exp(x - x.max())
    return e / e.sum()


@WRONG.add("softmax_temperature", expect="a -inf logit (a banned token)", kind="edge", mentioned=True)
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, dtype=float) / temperature
    e = np.exp(x - x[0])  # any one logit keeps exp from overflowing... unless it is -inf
    return e / e.sum()


@WRONG.add("top_k_sample", expect="the task asks for a whole number", kind="contract", mentioned=True)
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits)[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    return float(np.random.default_rng(seed).choice(len(logits), p=probs))  # 3.0 is not a token id


@WRONG.add("top_k_sample", expect="changed its input `logits`", kind="mutation", hidden_only=True)
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    cut = np.sort(logits)[-k]
    logits[logits < cut] = -np.inf  # masks the caller's logits
    e = np.exp(logits - logits.max())
    return int(np.random.default_rng(seed).choice(len(logits), p=e / e.sum()))


@WRONG.add("top_p_sample", expect="dotlab.vocab", kind="allowlist")
def top_p_sample(logits, p, seed):
    import dotlab.vocab as vocab

    return vocab.sample_token(logits, np.random.default_rng(seed), top_p=p)


@WRONG.add("decode_step", expect="changed its input `K_cache`", kind="mutation")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K = np.vstack([K_cache, k])
    V = np.vstack([V_cache, v])
    if len(K_cache):
        K_cache[-1] = k  # "update the cache": overwrites the caller's last cached key
    s = K @ q / math.sqrt(len(q))
    w = np.exp(s - s.max())
    return w / w.sum() @ V


@WRONG.add("decode_step", expect="the first token: empty caches", kind="edge", mentioned=True)
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    s = K @ q / math.sqrt(len(q))
    w = np.exp(s - s[:-1].max())  # the largest cached score: there is none for the first token
    return w / w.sum() @ V


@WRONG.add("decode_step", expect="scaled_dot_product_attention, which", kind="allowlist")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    from dotlab.attention import scaled_dot_product_attention

    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    return scaled_dot_product_attention(q[None], K, V)[0]


# -- right answers, written unusually ----------------------------------------------------------


@RIGHT.add("vocab_logits", how="h @ W_U.T for one or many positions")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h), np.asarray(W_U)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return h @ W_U.T


@RIGHT.add("vocab_logits", how="einsum in float32")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, dtype=np.float32), np.asarray(W_U, dtype=np.float32)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"h has length {h.shape[-1]} but W_U rows have length {W_U.shape[1]}")
    return np.einsum("vd,...d->...v", W_U, h)


@RIGHT.add("vocab_logits", how="a loop of row dot products")
def vocab_logits(h, W_U):
    h, W_U = np.asarray(h, dtype=float), np.asarray(W_U, dtype=float)
    if h.shape[-1] != W_U.shape[1]:
        raise ValueError(f"len(h)={h.shape[-1]} but W_U.shape[1]={W_U.shape[1]}")
    rows = h.reshape(-1, h.shape[-1])
    out = np.array([[np.dot(w, x) for w in W_U] for x in rows])
    return out.reshape(h.shape[:-1] + (len(W_U),))


@RIGHT.add("softmax_temperature", how="NumPy, max subtracted")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = np.asarray(logits, dtype=float) / temperature
    e = np.exp(x - x.max())
    return e / e.sum()


@RIGHT.add("softmax_temperature", how="float32, log-sum-exp")
def softmax_temperature(logits, temperature):
    if not temperature > 0:
        raise ValueError(f"the temperature must be positive, got {temperature}")
    x = np.asarray(logits, dtype=np.float32) / np.float32(temperature)
    top = x.max()
    return np.exp(x - top - np.log(np.sum(np.exp(x - top))))


@RIGHT.add("softmax_temperature", how="torch tensors by hand, returned as NumPy")
def softmax_temperature(logits, temperature):
    import torch

    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    x = torch.as_tensor(np.asarray(logits, dtype=float)) / temperature
    e = torch.exp(x - x.max())
    return (e / e.sum()).numpy()


@RIGHT.add("top_k_sample", how="argsort and a zeroed tail")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, dtype=float)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits, kind="stable")[:k]
    probs = np.zeros(len(logits))
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    return int(np.random.default_rng(seed).choice(len(logits), p=probs))


@RIGHT.add("top_k_sample", how="argpartition (unsorted kept set) and -inf masking")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, dtype=float)
    if k < 1 or k > logits.size:
        raise ValueError(f"k={k} is not between 1 and V={logits.size}")
    kept = np.full(logits.size, -np.inf)
    idx = np.argpartition(-logits, k - 1)[:k]
    kept[idx] = logits[idx]
    e = np.exp(kept - kept.max())
    return int(np.random.default_rng(seed).choice(logits.size, p=e / e.sum()))


@RIGHT.add("top_k_sample", how="float32 probabilities")
def top_k_sample(logits, k, seed):
    logits = np.asarray(logits, dtype=np.float32)
    if not 1 <= k <= len(logits):
        raise ValueError(f"k={k} must be between 1 and {len(logits)}")
    keep = np.argsort(-logits, kind="stable")[:k]
    probs = np.zeros(len(logits), dtype=np.float32)
    e = np.exp(logits[keep] - logits[keep].max())
    probs[keep] = e / e.sum()
    return int(np.random.default_rng(seed).choice(len(logits), p=probs))


@RIGHT.add("top_p_sample", how="cumsum and searchsorted")
def top_p_sample(logits, p, seed):
    logits = np.asarray(logits, dtype=float)
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    order = np.argsort(-probs, kind="stable")
    n = min(int(np.searchsorted(np.cumsum(probs[order]), p)) + 1, len(probs))
    kept = np.zeros(len(probs))
    kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    return int(np.random.default_rng(seed).choice(len(probs), p=kept))


@RIGHT.add("top_p_sample", how="Python lists and a loop that stops once the total reaches p")
def top_p_sample(logits, p, seed):
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    values = [float(x) for x in logits]
    top = max(values)
    weights = [math.exp(x - top) for x in values]
    total = sum(weights)
    probs = [w / total for w in weights]
    keep, running = [], 0.0
    for token in sorted(range(len(probs)), key=lambda t: -probs[t]):
        keep.append(token)
        running += probs[token]
        if running >= p:
            break
    mass = sum(probs[t] for t in keep)
    kept = [probs[t] / mass if t in keep else 0.0 for t in range(len(probs))]
    return int(np.random.default_rng(seed).choice(len(probs), p=kept))


@RIGHT.add("decode_step", how="vstack and a stable softmax")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    s = K @ q / np.sqrt(len(q))
    w = np.exp(s - s.max())
    return w / w.sum() @ V


@RIGHT.add("decode_step", how="float32 and einsum")
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache has {len(K_cache)} rows, V_cache {len(V_cache)}")
    x, K_cache, V_cache, W_q, W_k, W_v = (np.asarray(a, dtype=np.float32) for a in (x, K_cache, V_cache, W_q, W_k, W_v))
    q = np.einsum("d,dh->h", x, W_q)
    K = np.concatenate([K_cache.reshape(-1, W_k.shape[1]), np.einsum("d,dh->h", x, W_k)[None]])
    V = np.concatenate([V_cache.reshape(-1, W_v.shape[1]), np.einsum("d,dh->h", x, W_v)[None]])
    s = np.einsum("th,h->t", K, q) / np.float32(math.sqrt(q.size))
    w = np.exp(s - s.max())
    return np.einsum("t,th->h", w / w.sum(), V)


# -- found by trying the checks as an outsider would (session 4) ---------------------------------
# Tokens tied at the cut: the texts do not say which of them a sampler keeps, so every
# tie-break is right (a case whose token depends on it is not asked), and keeping every
# tied token is wrong. Underflow and overflow built into the edge cases, not left to a draw.


@WRONG.add("top_p_sample", expect="tokens tied at the cut went in together", kind="edge", hidden_only=True)
def top_p_sample(logits, p, seed):
    if not 0 < p <= 1:
        raise ValueError(f"p={p} must be in (0, 1]")
    z = np.asarray(logits, dtype=float)
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    ranked = np.sort(probs)[::-1]
    n = int(np.searchsorted(np.cumsum(ranked), p)) + 1
    keep = probs >= ranked[min(n, len(ranked)) - 1]  # a threshold: every tied token passes it
    probs = np.where(keep, probs, 0.0)
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs / probs.sum()))


@WRONG.add("softmax_temperature", expect="after the exponential", kind="edge", hidden_only=True)
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive")
    z = np.asarray(logits, dtype=float)
    p = np.exp(z - z.max())
    p = (p / p.sum()) ** (1 / temperature)  # the same in exact arithmetic; exp() already gave 0
    return p / p.sum()


@WRONG.add("decode_step", expect="scores of a thousand (exp overflows)", kind="edge", hidden_only=True)
def decode_step(x, K_cache, V_cache, W_q, W_k, W_v):
    if len(K_cache) != len(V_cache):
        raise ValueError(f"K_cache holds {len(K_cache)} tokens but V_cache holds {len(V_cache)}")
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    e = np.exp(K @ q / math.sqrt(len(q)))  # no maximum subtracted
    return e @ V / e.sum()


@RIGHT.add("top_p_sample", how="ascending argsort reversed (ties broken the other way)")
def top_p_sample(logits, p, seed):
    if not 0 < p <= 1:
        raise ValueError(f"p={p} outside (0, 1]")
    z = np.asarray(logits, dtype=float)
    probs = np.exp(z - z.max())
    probs = probs / probs.sum()
    order = np.argsort(probs)[::-1]  # equal probabilities: the higher token id first
    n = min(int(np.searchsorted(np.cumsum(probs[order]), p)) + 1, len(z))
    kept = np.zeros(len(z))
    kept[order[:n]] = probs[order[:n]]
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=kept / kept.sum()))


@RIGHT.add("top_k_sample", how="torch.topk (its own tie order)")
def top_k_sample(logits, k, seed):
    import torch

    t = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    if not 1 <= k <= t.numel():
        raise ValueError(f"k={k} out of range for {t.numel()} tokens")
    values, ids = torch.topk(t, int(k))
    probs = torch.zeros_like(t)
    probs[ids] = torch.exp(values - values.max()) / torch.exp(values - values.max()).sum()
    rng = np.random.default_rng(seed)
    return int(rng.choice(len(logits), p=probs.numpy()))


@RIGHT.add("softmax_temperature", how="log-sum-exp")
def softmax_temperature(logits, temperature):
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be > 0")
    z = np.asarray(logits, dtype=float) / temperature
    return np.exp(z - np.logaddexp.reduce(z))
