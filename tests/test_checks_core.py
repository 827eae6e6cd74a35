"""The checks machinery itself: what counts as an answer, and what does not."""

import numpy as np
import pytest

from dotlab.checks import Case, CheckFailure, Forbidden, Mistake, run_checks


def _square(x):
    return float(x) ** 2


CASES = [Case("three", (3,)), Case("minus two", (-2,))]


def test_right_answer_passes_and_reports(capsys):
    assert run_checks(_square, fn_name="square", reference=_square, cases=CASES) is None
    assert "square: all 2 checks passed" in capsys.readouterr().out


def test_wrong_answer_names_inputs_expected_and_mistake():
    doubled = Mistake("doubled", "you doubled instead of squaring", lambda x: 2 * x)
    with pytest.raises(CheckFailure, match=r"square\(3\) returned 6.0, expected 9.0 \(three\). Likely mistake: you doubled"):
        run_checks(lambda x: 2 * x, fn_name="square", reference=_square, cases=CASES, mistakes=(doubled,))


def test_an_object_that_equals_everything_is_not_an_answer():
    class Liar:
        def __eq__(self, other):
            return True

        __hash__ = None

    with pytest.raises(CheckFailure, match="not a number"):
        run_checks(lambda x: Liar(), fn_name="square", reference=_square, cases=CASES, quiet=True)


def test_none_means_a_forgotten_return():
    with pytest.raises(CheckFailure, match="forget the `return`"):
        run_checks(lambda x: None, fn_name="square", reference=_square, cases=CASES, quiet=True)


def test_shape_mismatch_is_named():
    with pytest.raises(CheckFailure, match=r"shape \(2,\) but should have shape \(\)"):
        run_checks(lambda x: [x, x], fn_name="square", reference=_square, cases=CASES, quiet=True)


def test_nan_never_passes():
    with pytest.raises(CheckFailure, match="returned nan"):
        run_checks(lambda x: float("nan"), fn_name="square", reference=_square, cases=CASES, quiet=True)


def test_refusal_must_be_the_right_error_with_the_values_named():
    case = [Case("negative", (-1,), raises=ValueError, must_mention=("-1",))]

    def silent(x):
        return 0.0

    def vague(x):
        raise ValueError("bad")

    def wrong_type(x):
        raise KeyError(x)

    def good(x):
        raise ValueError(f"x={x} must be positive")

    with pytest.raises(CheckFailure, match="should raise ValueError .* but it returned 0.0"):
        run_checks(silent, fn_name="f", reference=_square, cases=case, quiet=True)
    with pytest.raises(CheckFailure, match="does not mention -1"):
        run_checks(vague, fn_name="f", reference=_square, cases=case, quiet=True)
    with pytest.raises(CheckFailure, match="raised KeyError"):
        run_checks(wrong_type, fn_name="f", reference=_square, cases=case, quiet=True)
    run_checks(good, fn_name="f", reference=_square, cases=case, quiet=True)


def test_a_forbidden_call_fails_even_when_caught_and_is_restored():
    original = np.sqrt
    forbidden = (Forbidden("numpy.sqrt", "take the root yourself"),)

    def sneaky(x):
        try:
            return float(np.sqrt(x)) ** 4
        except Exception:
            return float(x) ** 2

    with pytest.raises(CheckFailure, match="called numpy.sqrt.*take the root yourself"):
        run_checks(sneaky, fn_name="square", reference=_square, cases=CASES, forbidden=forbidden, quiet=True)
    assert np.sqrt is original


def test_not_a_function():
    with pytest.raises(CheckFailure, match="should be a function"):
        run_checks(9, fn_name="square", reference=_square, cases=CASES)


def test_unimplemented_stub():
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="not implemented yet"):
        run_checks(stub, fn_name="square", reference=_square, cases=CASES)
