"""Chapter 5's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 5 follows them.
"""

import numpy as np
import pytest
from torch.nn.functional import scaled_dot_product_attention as torch_sdpa

from catalogue.ch05 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.attention import scaled_dot_product_attention as course_sdpa
from dotlab.checks import CheckFailure, ch05

# Learner code in the catalogue overflows and divides by zero on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

globals().update(contract_tests(ch05, WRONG, RIGHT, min_visible=2))

RIGHT_ATTENTION = RIGHT.for_target("attention")[0].fn


def test_dotlab_references_agree_with_a_right_answer():
    """dotlab's own functions give the answers the checks expect (they are the references)."""
    from dotlab.attention import causal_mask as mask, merge_heads as merge, split_heads as split
    from dotlab.tiled import tiled_attention as tiled

    right = {}
    for r in RIGHT.entries:  # the first right answer of each function: float64, as the references
        right.setdefault(r.target, r.fn)
    assert np.array_equal(mask(3, 5), right["causal_mask"](3, 5))
    x = np.arange(24.0).reshape(4, 6)
    assert np.array_equal(split(x, 3), right["split_heads"](x, 3)) and np.array_equal(merge(split(x, 3)), x)
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 9, 4))
    np.testing.assert_allclose(tiled(q, k, v, block_size=4), right["tiled_attention"](q, k, v, block_size=4))


# A learner who imported these in an earlier cell holds the originals under a global name
# that no runtime tripwire replaces; the allowlist reads the name off the source.
def attention_by_torch(q, k, v, mask=None):
    import torch

    m = None if mask is None else torch.as_tensor(np.asarray(mask))
    return torch_sdpa(*(torch.as_tensor(np.asarray(a, dtype=float)) for a in (q, k, v)), attn_mask=m).numpy()


def attention_by_the_course(q, k, v, mask=None):
    return course_sdpa(q, k, v, mask=mask)


@pytest.mark.parametrize("fn, bound", [
    (attention_by_torch, "torch.nn.functional.scaled_dot_product_attention"),
    (attention_by_the_course, "dotlab.attention.scaled_dot_product_attention"),
])
def test_delegation_through_a_name_imported_earlier_is_caught(fn, bound):
    with pytest.raises(CheckFailure, match=f"uses {bound}"):
        ch05.check_attention(fn)


def test_tiling_keys_only_is_enough():
    """An online softmax over key blocks with every query at once is still online."""
    ch05.check_tiled_attention(RIGHT.for_target("tiled_attention")[0].fn, hidden=True)


def test_the_memory_check_is_measured_not_guessed():
    """The peak of a whole-table version is at least the table, of a tiled one far below it."""
    from dotlab.checks._measure import peak_memory

    args, kwargs = ch05._memory_case()
    table = 256 * 4096 * 8
    _, whole = peak_memory(_whole_table, args, kwargs,
                           fn_name="tiled_attention", label="test")
    _, tiled = peak_memory(RIGHT.for_target("tiled_attention")[0].fn, args, kwargs, fn_name="tiled_attention",
                           label="test")
    assert whole >= table > 8 * tiled


def _whole_table(q, k, v, block_size=64):
    s = q @ k.T / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True) @ v


def test_a_function_that_stops_the_tracer_is_refused():
    import tracemalloc

    def sneaky(q, k, v, block_size=64):
        tracemalloc.stop()
        return _whole_table(q, k, v)

    with pytest.raises(CheckFailure, match="stopped Python's memory tracer"):
        ch05._check_memory(sneaky)


def test_a_slip_no_catalogued_mistake_explains_is_located():
    """Tiled attention whose last key is dropped by an off-by-one: located, entry by entry."""
    def tiled_attention(q, k, v, block_size=64):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        return RIGHT.for_target("tiled_attention")[0].fn(q, k[:-1], v[:-1], block_size)

    with pytest.raises(CheckFailure) as failure:
        ch05.check_tiled_attention(tiled_attention)
    message = str(failure.value)
    assert "entries differ; the first at [" in message and "the largest at [" in message, message


def test_a_row_maximum_taken_before_the_mask_is_caught_whatever_the_seed():
    """Each row's maximum over every key, masked ones included, underflows only when the
    kept keys score far below a masked one: an edge case builds that for every seed."""
    from dotlab.checks.contract import configure

    def attention(q, k, v, mask=None):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        scores = q @ k.T / np.sqrt(q.shape[-1])
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))  # the masked keys' scores count here
        if mask is not None:
            e = e * mask
        total = e.sum(axis=-1, keepdims=True)
        return e / np.where(total == 0, 1.0, total) @ v

    for seed in (0, 7, 14):
        configure(seed=seed)
        try:
            with pytest.raises(CheckFailure, match="maximum over every key, masked ones included"):
                ch05.check_attention(attention, hidden=True)
        finally:
            configure(seed=None)


def test_resetting_the_tracers_peak_is_refused_however_the_tracer_is_reached():
    """The tracer's controls are tripwires while the call is measured: reaching tracemalloc
    through a module a library hands on, and swallowing the tripwire's error, still fails,
    under the mistake the instructor's report counts."""
    def sneaky(q, k, v, block_size=64):
        out = _whole_table(q, k, v)
        try:
            np.f2py.sys.modules["tracemalloc"].reset_peak()
        except AssertionError:
            pass
        return out

    with pytest.raises(CheckFailure, match="reset, cleared or stopped") as failure:
        ch05._check_memory(sneaky)
    assert failure.value.mistake == "memory tracer touched"
    with pytest.raises(CheckFailure, match="score table is 8 MiB") as failure:
        ch05._check_memory(_whole_table)
    assert failure.value.mistake == ch05.HOLDS_THE_TABLE.name


def test_no_mask_means_no_mask_even_for_self_attention():
    """A function that masks causally whenever q and k have as many rows (a decoder's habit)
    fails a hidden case with as many queries as keys and no mask."""
    def attention(q, k, v, mask=None):
        q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
        scores = q @ k.T / np.sqrt(q.shape[-1])
        if mask is None and len(q) == len(k) and len(q) > 1:
            mask = np.tril(np.ones(scores.shape, dtype=bool))
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        top = scores.max(axis=-1, keepdims=True)
        e = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
        total = e.sum(axis=-1, keepdims=True)
        return e / np.where(total == 0, 1.0, total) @ v

    ch05.check_attention(attention)  # the visible cases cannot tell
    with pytest.raises(CheckFailure, match="every query sees every key"):
        ch05.check_attention(attention, hidden=True)
