"""Chapter 8's checks: the reference passes, and every catalogued mistake is named.

The references are dotlab.forward's attention and block; the instructor's solutions must
pass too, and the block task can be solved with the helpers the notebook imports.
"""

import json

import numpy as np
import pytest

from catalogue.ch08 import RIGHT, WRONG
from check_contract import contract_tests, solution_functions
from dotlab.checks import CheckFailure, ch08
from dotlab.forward import BlockWeights, block, causal_self_attention, gelu, layer_norm
from dotlab.grading.release import COURSE_ROOT



def _block(x, w, n_heads):
    """Written out here from bound helpers: the checks disarm dotlab.forward.block and mlp."""
    x = x + causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"]), w["w_qkv"], w["b_qkv"], w["w_o"], w["b_o"], n_heads)
    return x + gelu(layer_norm(x, w["ln2_g"], w["ln2_b"]) @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]


# Bound here, at import: the checks disarm dotlab.forward's routines while a learner's
# function runs.
REFERENCES = {"gpt2_attention": causal_self_attention, "gpt2_block": _block}

globals().update(contract_tests(ch08, WRONG, RIGHT, min_wrong=7))


def test_the_written_out_block_is_dotlabs():
    rng = np.random.default_rng(0)
    w = ch08._random_block(rng, 8, 16)
    x = rng.normal(size=(5, 8))
    np.testing.assert_allclose(_block(x, w, 2), block(x, BlockWeights(**w), 2), atol=1e-12)


MISTAKES = {
    "gpt2_attention": (ch08._ATTENTION_MISTAKES, ch08._attention_cases),
    "gpt2_block": (ch08._BLOCK_MISTAKES, ch08._block_cases),
}


def test_every_mistake_the_checks_know_has_a_catalogue_entry():
    expects = [w.expect for w in WRONG.entries]
    for name, (mistakes, _) in MISTAKES.items():
        for mistake in mistakes:
            if mistake.name in ("unscaled", "no qkv bias", "diagonal masked", "zeroed scores"):
                continue  # named in test_attention_slips_without_a_catalogue_entry_are_named below
            assert any(e in mistake.hint for e in expects), (name, mistake.name)


@pytest.mark.parametrize("name", MISTAKES)
def test_the_mistakes_are_told_apart_on_the_visible_cases(name):
    mistakes, make_cases = MISTAKES[name]
    cases = [c for c in make_cases(False) if c.raises is None]

    def answers(fn):
        # an unstable softmax overflows on the visible case with large scores: that is its answer
        with np.errstate(all="ignore"):
            return tuple(np.array(fn(*c.args, **c.kwargs), dtype=float).round(7).tobytes() for c in cases)

    seen = {answers(REFERENCES[name]): "the reference"}
    for mistake in mistakes:
        key = answers(mistake.predict)
        assert key not in seen, f"{mistake.name!r} and {seen.get(key)!r} look alike"
        seen[key] = mistake.name


def test_attention_slips_without_a_catalogue_entry_are_named():
    def unscaled(x, w_qkv, b_qkv, w_o, b_o, n_heads):
        return ch08._attention_variant(x, w_qkv, b_qkv, w_o, b_o, n_heads, scale="none")

    def no_bias(x, w_qkv, b_qkv, w_o, b_o, n_heads):
        return ch08._attention_variant(x, w_qkv, b_qkv, w_o, b_o, n_heads, bias=False)

    with pytest.raises(CheckFailure, match="left out the 1/sqrt"):
        ch08.check_gpt2_attention(unscaled)
    with pytest.raises(CheckFailure, match="left out b_qkv"):
        ch08.check_gpt2_attention(no_bias)

    def diagonal_masked(x, w_qkv, b_qkv, w_o, b_o, n_heads):  # np.triu(..., k=0) as the blocked entries
        return ch08._attention_variant(x, w_qkv, b_qkv, w_o, b_o, n_heads, mask="strict")

    def zeroed(x, w_qkv, b_qkv, w_o, b_o, n_heads):  # future scores set to 0, not -inf
        return ch08._attention_variant(x, w_qkv, b_qkv, w_o, b_o, n_heads, mask="zeroed")

    with np.errstate(all="ignore"), pytest.raises(CheckFailure, match="hides each token from itself"):
        ch08.check_gpt2_attention(diagonal_masked)
    with pytest.raises(CheckFailure, match="exp\\(0\\) = 1 still gives them weight"):
        ch08.check_gpt2_attention(zeroed)


def test_the_block_can_be_built_from_the_notebooks_helpers():
    """What task 8.2 allows (layer_norm, gelu, causal_self_attention) is enough."""
    ch08.check_gpt2_block(solution_functions("ch08")["gpt2_block"], hidden=True)
    assert "causal_self_attention(" in json.dumps(json.loads((COURSE_ROOT / "solutions" / "ch08" / "ch08.ipynb").read_text()))


def test_a_non_function_is_refused():
    for check in CHECKS.values():
        with pytest.raises(CheckFailure, match="should be a function"):
            check(42)


def test_a_slip_no_catalogued_mistake_explains_is_located():
    """A wrong block no mistake predicts (layer norm's epsilon of 1e-2) is told where its
    output differs, entry and value, not only the shape both arrays share."""
    def gpt2_block(x, w, n_heads):
        x = x + causal_self_attention(layer_norm(x, w["ln1_g"], w["ln1_b"], 1e-2), w["w_qkv"], w["b_qkv"], w["w_o"],
                                      w["b_o"], n_heads)
        m = layer_norm(x, w["ln2_g"], w["ln2_b"], 1e-2)
        return x + gelu(m @ w["w_up"] + w["b_up"]) @ w["w_down"] + w["b_down"]

    with pytest.raises(CheckFailure) as failure:
        ch08.check_gpt2_block(gpt2_block)
    message = str(failure.value)
    assert "entries differ; the first at [" in message and "yours " in message and "expected " in message, message
