"""Chapter 5's checks: the reference passes, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here.
"""

import numpy as np
import pytest

from catalogue.ch05 import WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch05

# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# The task id of each function, as in the chapter and the exercise: pytest -m "task(id='5.2')"
TASKS = {check.__name__.removeprefix("check_"): task for task, check in ch05.CHECKS.items()}
CHECKS = {name: ch05.CHECKS[task] for name, task in TASKS.items()}


# The solutions, self-contained as in the notebook: dotlab's own versions are forbidden
# while a learner's function runs (and call each other).
def causal_mask(n_queries, n_keys):
    position = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    return np.arange(n_keys)[None, :] <= position


def attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return (e @ v) / np.where(total == 0, 1.0, total)


def split_heads(x, n_heads):
    x = np.asarray(x, dtype=float)
    T, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
    return x.reshape(T, n_heads, d_model // n_heads).transpose(1, 0, 2)


def merge_heads(x):
    x = np.asarray(x, dtype=float)
    n_heads, T, d_head = x.shape
    return x.transpose(1, 0, 2).reshape(T, n_heads * d_head)


def tiled_attention(q, k, v, block_size=64):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    q = q / np.sqrt(q.shape[-1])
    out = np.empty((len(q), v.shape[1]))
    for i in range(0, len(q), block_size):
        qb = q[i:i + block_size]
        m = np.full((len(qb), 1), -np.inf)
        l = np.zeros((len(qb), 1))
        acc = np.zeros((len(qb), v.shape[1]))
        for j in range(0, len(k), block_size):
            s = qb @ k[j:j + block_size].T
            m_new = np.maximum(m, s.max(axis=1, keepdims=True))
            p, r = np.exp(s - m_new), np.exp(m - m_new)
            l = l * r + p.sum(axis=1, keepdims=True)
            acc = acc * r + p @ v[j:j + block_size]
            m = m_new
        out[i:i + block_size] = acc / l
    return out


REFERENCES = {f.__name__: f for f in (causal_mask, attention, split_heads, merge_heads, tiled_attention)}

globals().update(contract_tests(ch05, WRONG, REFERENCES, min_visible=2))


def test_dotlab_references_pass_outside_the_tripwires():
    """dotlab's own functions give the answers the checks expect (they are the references)."""
    from dotlab.attention import causal_mask as mask, merge_heads as merge, split_heads as split
    from dotlab.tiled import tiled_attention as tiled

    assert np.array_equal(mask(3, 5), causal_mask(3, 5))
    x = np.arange(24.0).reshape(4, 6)
    assert np.array_equal(split(x, 3), split_heads(x, 3)) and np.array_equal(merge(split(x, 3)), x)
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 9, 4))
    np.testing.assert_allclose(tiled(q, k, v, block_size=4), tiled_attention(q, k, v, block_size=4))


@pytest.mark.parametrize("name, bound", [
    ("torch_sdpa", "torch.nn.functional.scaled_dot_product_attention"),
    ("reference", "dotlab.attention.scaled_dot_product_attention"),
])
def test_delegation_through_a_name_imported_earlier_is_caught(name, bound):
    """`from torch.nn.functional import scaled_dot_product_attention` in an earlier cell
    binds the original, out of a tripwire's reach: the check looks the name up."""
    import importlib

    module, attr = bound.rsplit(".", 1)
    namespace = {"np": np, name: getattr(importlib.import_module(module), attr)}
    exec(f"def attention(q, k, v, mask=None):\n    return np.asarray({name}(q, k, v))\n", namespace)
    with pytest.raises(CheckFailure, match=f"uses `{name}`, which is"):
        ch05.check_attention(namespace["attention"])


def test_plain_attention_dressed_as_tiled_fails_on_memory():
    """Same numbers, but the whole score table: only the memory measurement can tell."""
    def tiled_attention(q, k, v, block_size=64):
        return attention(q, k, v)

    def query_blocks_only(q, k, v, block_size=64):
        return np.concatenate([attention(q[i:i + block_size], k, v) for i in range(0, len(q), block_size)])

    for fake in (tiled_attention, query_blocks_only):
        with pytest.raises(CheckFailure, match=r"held \d+\.\d MiB at its peak; the whole 256 x 4096 score table is 8 MiB"):
            ch05.check_tiled_attention(fake)


def test_tiling_keys_only_is_enough():
    """An online softmax over key blocks with every query at once is still online."""
    def keys_only(q, k, v, block_size=64):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        q = q / np.sqrt(q.shape[-1])
        m, l, acc = np.full((len(q), 1), -np.inf), np.zeros((len(q), 1)), np.zeros((len(q), v.shape[1]))
        for j in range(0, len(k), block_size):
            s = q @ k[j:j + block_size].T
            m_new = np.maximum(m, s.max(axis=1, keepdims=True))
            p, r = np.exp(s - m_new), np.exp(m - m_new)
            l, acc, m = l * r + p.sum(axis=1, keepdims=True), acc * r + p @ v[j:j + block_size], m_new
        return acc / l

    ch05.check_tiled_attention(keys_only, hidden=True)


def test_checks_restore_what_they_disarm():
    import importlib

    import torch.nn.functional as F

    import dotlab
    from dotlab import attention as module

    tiled = importlib.import_module("dotlab.tiled")

    def now():
        return (F.scaled_dot_product_attention, dotlab.scaled_dot_product_attention, dotlab.causal_mask,
                module.scaled_dot_product_attention, module.split_heads, tiled.tiled_attention)

    before = now()
    for wrong in WRONG.entries:
        with pytest.raises(CheckFailure):
            CHECKS[wrong.target](wrong.fn, hidden=True)
    assert now() == before
