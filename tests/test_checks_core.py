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


# -- the contract, by design (issue 13) ------------------------------------------------------

from dotlab.checks import contract  # noqa: E402
from dotlab.checks._allow import learner_refusal  # noqa: E402
from dotlab.checks._core import LearnerProxy, copy_input, locate  # noqa: E402


def _halve(x):
    return np.asarray(x, float) / 2


def test_a_changed_input_is_named_even_when_the_answer_is_right():
    def halve_in_place(x):
        x /= 2
        return x

    cases = [Case("a vector", (np.array([2.0, 4.0]),))]
    with pytest.raises(CheckFailure, match="changed its input `x`"):
        run_checks(halve_in_place, fn_name="halve", reference=_halve, cases=cases, quiet=True)
    assert cases[0].args[0].tolist() == [2.0, 4.0]  # the check's own input is untouched


def test_the_reference_answers_on_pristine_inputs():
    seen = []

    def reference(x):
        seen.append(np.array(x))
        return _halve(x)

    def spoil(x):
        x[...] = 0
        return _halve(x)  # wrong only because it spoiled its own copy first

    with pytest.raises(CheckFailure, match="returned"):
        run_checks(spoil, fn_name="halve", reference=reference, cases=[Case("v", (np.array([2.0, 4.0]),))], quiet=True)
    assert seen[0].tolist() == [2.0, 4.0]


def test_copies_keep_a_strided_layout():
    view = np.arange(10.0)[::2]
    copied = copy_input(view)
    assert not copied.flags.c_contiguous and copied.tolist() == view.tolist() and copied is not view


def test_a_message_locates_the_first_and_largest_difference():
    got, want = np.zeros((3, 4)), np.zeros((3, 4))
    got[1, 2], got[2, 3] = 0.5, 7.0
    text = locate(got, want, 1e-9, 1e-12)
    assert "2 of 12 entries differ" in text and "first at [1, 2]: yours 0.5" in text and "largest at [2, 3]: yours 7" in text
    with pytest.raises(CheckFailure, match=r"the first at \[1, 2\]"):
        run_checks(lambda x: got, fn_name="f", reference=lambda x: want, cases=[Case("big", (0,))], quiet=True)


def test_the_return_contract_is_checked_on_right_values():
    int_sum = lambda a: np.int64(sum(a))  # noqa: E731
    with pytest.raises(CheckFailure, match="returned a NumPy int64 scalar .* the task asks for a Python float"):
        run_checks(int_sum, fn_name="total", reference=lambda a: float(sum(a)), cases=[Case("ints", ([1, 2],))],
                   returns=contract.PythonFloat(), quiet=True)
    with pytest.raises(CheckFailure, match="an array of dtype float64 .* booleans"):
        run_checks(lambda n: np.ones(n), fn_name="mask", reference=lambda n: np.ones(n, bool), cases=[Case("n", (3,))],
                   returns=contract.ArrayOf("b"), quiet=True)


def test_check_failures_show_only_their_message_in_a_notebook():
    assert CheckFailure("norm returned 3")._render_traceback_() == ["CheckFailure: norm returned 3"]


class _Cells(LearnerProxy):
    def __init__(self, *cells):
        self.learner_sources = list(cells)


ALLOW = contract.allow(contract.PYTHON, contract.MATH, {"numpy.asarray"}, says="a loop")


@pytest.mark.parametrize("cells, construct", [
    (["import numpy as np\ndef f(a, b):\n    return np.dot(a, b)"], "line 2: `np.dot` uses numpy.dot"),
    (["def f(a, b):\n    x = 0\n    return a @ b"], "line 3: `a @ b` uses the @ operator"),
    (["def f(a, b):\n    return a.dot(b)"], "uses the attribute .dot"),
    (["import numpy as np\ndef g(a):\n    return np.sum(a)", "def f(a, b):\n    return g(a)"], "your helper `g`, line 2"),
    (["from dotlab.attention import _masked_exp as m\ndef f(a, b):\n    return m(a)"], "uses dotlab.attention._masked_exp"),
    (["import dotlab.checks._core as c\nh = c.copy_input\ndef f(a, b):\n    return h(a)"], "the global `h`"),
    (["def f(a, b):\n    return getattr(a, 'dot')(b)"], "calls the builtin getattr"),
    (["def f(a, b):\n    return undefined(a)"], "`undefined` is not defined"),
])
def test_the_allowlist_refuses_what_nobody_listed(cells, construct):
    refused = learner_refusal(_Cells(*cells), "f", ALLOW)
    assert refused and construct in refused, refused


def test_the_allowlist_lets_plain_code_and_its_helpers_through():
    cells = ["import math\nimport numpy as np\n", "def g(x):\n    return [float(v) for v in np.asarray(x)]",
             "def f(a, b):\n    total = 0.0\n    for x, y in zip(g(a), g(b)):\n        total += x * y\n"
             "    return math.fsum([total])"]
    assert learner_refusal(_Cells(*cells), "f", ALLOW) is None


def test_a_table_may_not_be_indexed_by_a_computed_index():
    rule = contract.allow(contract.PYTHON, {"numpy.*"}, matmul=True, tables=(1,), says="one-hot @ E")
    indexed = "import numpy as np\ndef f(ids, E):\n    E = np.asarray(E)\n    return E[ids]"
    one_hot = ("import numpy as np\ndef f(ids, table):\n    oh = np.zeros((len(ids), len(table)))\n"
               "    for i, t in enumerate(ids):\n        oh[i, t] = 1\n    return oh @ np.asarray(table)[:, :]")
    assert "looks rows up in the table" in learner_refusal(_Cells(indexed), "f", rule)
    assert learner_refusal(_Cells(one_hot), "f", rule) is None


def test_hidden_cases_follow_the_instructors_seed(monkeypatch):
    from dotlab.checks import ch01

    try:
        contract.configure(seed=1)
        first = [c.args for c in ch01.TASKS["1.4"].all_cases(hidden=True)]
        again = [c.args for c in ch01.TASKS["1.4"].all_cases(hidden=True)]
        contract.configure(seed=2)
        other = [c.args for c in ch01.TASKS["1.4"].all_cases(hidden=True)]
    finally:
        contract.configure(seed=None)
    assert repr(first) == repr(again)  # reproducible from the seed
    assert repr(first) != repr(other)  # and not knowable without it
    visible = [c.label for c in ch01.TASKS["1.4"].all_cases(hidden=False)]
    assert len(visible) == len(set(visible))


@pytest.mark.parametrize("chapters", [("ch01", "ch02", "ch03", "ch04"), ("ch05", "ch06", "ch07", "ch08")])
def test_the_catalogues_hold_every_class_of_mistake_and_of_right_answer(chapters):
    """Issue 13's classes, several entries each in both halves of the course: the contract ignored, an
    input mutated, a construct outside the allowlist, an edge of the domain; mistakes the page
    warns about (the visible check must catch them) and mistakes only the hidden cases catch."""
    import importlib
    from collections import Counter

    wrong, right = [], []
    for chapter in chapters:
        catalogue = importlib.import_module(f"catalogue.{chapter}")
        wrong += catalogue.WRONG.entries
        right += catalogue.RIGHT.entries
    kinds = Counter(w.kind for w in wrong)
    for kind in ("contract", "mutation", "allowlist", "edge"):
        assert kinds[kind] >= 5, (kind, kinds)
    assert sum(w.mentioned for w in wrong) >= 5 and sum(w.hidden_only for w in wrong) >= 5
    how = " ".join(r.how for r in right)
    for style in ("float32", "torch", "einsum", "loop", "list"):
        assert style in how, style


@pytest.mark.parametrize("seed", [3, 2718281828])
def test_right_answers_pass_and_mistakes_fail_whatever_the_instructors_seed(seed, capsys):
    """The grader draws the hidden edges from c.Checks.seed, not pytest's 0: every right answer
    and solution of chapters 1-4 must pass, and every mistake fail, under another seed too."""
    import importlib

    from check_contract import solution_functions

    try:
        contract.configure(seed=seed)
        for chapter in ("ch01", "ch02", "ch03", "ch04"):
            checks_module = importlib.import_module(f"dotlab.checks.{chapter}")
            catalogue = importlib.import_module(f"catalogue.{chapter}")
            checks = {task.name: check for task, check in zip(checks_module.TASKS.values(),
                                                               checks_module.CHECKS.values())}
            solutions = solution_functions(chapter)
            for target, fn in [(r.target, r.fn) for r in catalogue.RIGHT.entries] + [(n, solutions[n]) for n in checks]:
                checks[target](fn, hidden=True)
            for wrong in catalogue.WRONG.entries:
                with pytest.raises(CheckFailure):
                    checks[wrong.target](wrong.fn, hidden=True)
    finally:
        contract.configure(seed=None)
    capsys.readouterr()


# -- the checks' references, written apart from the package, agree with it ---------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from strategies import matrices, nonzero, vector_pairs  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(vector_pairs())
def test_chapter_1_references_agree_with_dotlab_vectors(pair):
    from dotlab import vectors
    from dotlab.checks import ch01

    a, b = pair
    assert ch01._dot(a, b) == pytest.approx(vectors.dot(a, b), rel=1e-9, abs=1e-6)
    assert ch01._norm(a) == pytest.approx(vectors.norm(a), rel=1e-12, abs=1e-12)
    if nonzero(a) and nonzero(b):
        assert ch01._angle(a, b) == pytest.approx(vectors.angle_between(a, b), abs=2e-7)
        np.testing.assert_allclose(ch01._project(a, b), vectors.project(a, b), rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(matrices(), st.sampled_from([0, -1]))
def test_chapter_4_references_agree_with_dotlab(x, axis):
    from dotlab.checks import ch04
    from dotlab.softmax import entropy, softmax
    from dotlab.scaling import scaled_scores

    np.testing.assert_allclose(ch04._softmax_reference(x, axis=axis), softmax(x, axis=axis), rtol=1e-9, atol=1e-300)
    p = softmax(x, axis=axis)
    np.testing.assert_allclose(ch04._entropy_reference(p, axis=axis), entropy(p, axis=axis), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ch04._scores_reference(x, x), scaled_scores(x, x), rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(matrices(), matrices())
def test_chapter_2_and_3_references_agree_with_dotlab(a, b):
    from dotlab import layers, search
    from dotlab.checks import ch02, ch03

    if a.shape[1] == b.shape[1] and all(nonzero(r) for r in a) and all(nonzero(r) for r in b):
        np.testing.assert_allclose(ch02._cosine_reference(a, b), search.cosine_similarity(a, b), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ch02._normalise_reference(a), search.normalise(a), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ch03._linear_reference(a, b), layers.linear(a, b), rtol=1e-9, atol=1e-6)
    if a.shape[1] == b.shape[0]:
        np.testing.assert_allclose(ch03._matmul_reference(a, b), a @ b, rtol=1e-9, atol=1e-6)


def test_a_mistake_the_learners_right_answers_contradict_is_not_named():
    """Right on the long vector, wrong only on the one-element case, where "added the
    components" happens to give the same number: the learner did not make that mistake
    (it would have been wrong on the long vector too), so no mistake is named."""
    def reference(a, b):
        return float(sum(x * y for x, y in zip(a, b)))

    def learner(a, b):
        return float(a[0] + b[0]) if len(a) == 1 else reference(a, b)

    added = Mistake("added", "you added the components", lambda a, b: float(sum(a) + sum(b)))
    cases = [Case("length 3", ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])), Case("length 1", ([2.0], [3.0]))]
    with pytest.raises(CheckFailure) as failure:
        run_checks(learner, fn_name="f", reference=reference, cases=cases, mistakes=(added,))
    assert "Likely mistake" not in str(failure.value) and failure.value.mistake is None
    # the same mistake made everywhere is named
    with pytest.raises(CheckFailure) as failure:
        run_checks(lambda a, b: float(sum(a) + sum(b)), fn_name="f", reference=reference, cases=cases,
                   mistakes=(added,))
    assert "you added the components" in str(failure.value) and failure.value.mistake == "added"


@pytest.mark.parametrize("chain, module", [
    ("np.f2py.sys.modules['tracemalloc'].reset_peak()", "sys"),
    ("np.f2py.os.system('true')", "os"),
    ("np.ctypeslib.ctypes.CDLL(None)", "ctypes"),
])
def test_a_module_a_library_hands_on_is_not_the_library(chain, module):
    """Under "numpy.*" every NumPy routine is allowed, not the standard modules NumPy keeps as
    attributes: they reach the interpreter (sys.modules, os.system, ctypes)."""
    every_numpy = contract.allow(contract.PYTHON, contract.NUMPY, methods=None, matmul=True, says="NumPy")
    refused = learner_refusal(_Cells(f"import numpy as np\ndef f(a, b):\n    {chain}\n    return np.dot(a, b)"),
                              "f", every_numpy)
    assert refused and f"reaches the module {module} through" in refused, refused
    assert learner_refusal(_Cells("import numpy as np\ndef f(a, b):\n    return np.linalg.norm(a) * np.lib.stride_tricks"
                                  ".as_strided(b).sum()"), "f", every_numpy) is None
