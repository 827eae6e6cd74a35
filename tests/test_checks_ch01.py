"""Chapter 1's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 1 follows them.
"""

import math

import numpy as np

from catalogue.ch01 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import ch01

globals().update(contract_tests(ch01, WRONG, RIGHT))


def test_the_angle_edges_really_round_past_one():
    """The edge cases exist because the naive cosine leaves [-1, 1] on them: check it does."""
    rng = np.random.default_rng(5)
    for sign in (1.0, -1.0):
        v, w = ch01._rounding_past_one(rng, sign)
        naive = float(v @ w) / (math.sqrt(float(v @ v)) * math.sqrt(float(w @ w)))
        assert abs(naive) > 1.0


def test_the_grader_sees_the_contract_and_the_allowlist_as_pytest_does():
    """In the sandbox the function is a stand-in: the inputs after the call come back from the
    worker, and the allowlist reads the notebook's cells, helpers included."""
    import textwrap

    from dotlab.grading.plan import checks_namespace, parse_test_cell
    from dotlab.grading.release import COURSE_ROOT
    from dotlab.grading.sandbox import Settings, Step, grade_notebook

    imports = "import math\nimport numpy as np\nfrom dotlab.checks import ch01\n"
    cells = [imports, textwrap.dedent('''
        def total(pairs):
            return np.sum([x * y for x, y in pairs])

        def dot_loop(a, b):
            if len(a) != len(b):
                raise ValueError(f"{len(a)} != {len(b)}")
            return float(total(zip(a, b)))
        '''), textwrap.dedent('''
        def project(a, onto):
            a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
            if a.shape != onto.shape:
                raise ValueError(f"{a.shape} and {onto.shape}")
            length_sq = float(onto @ onto)
            if length_sq == 0:
                raise ValueError("onto is zero")
            onto *= float(a @ onto) / length_sq
            return onto
        ''')]
    cells.append(RIGHT.for_target("angle_between")[0].source)  # unusual, and right
    namespace = checks_namespace([imports])
    steps = [Step(i, source) for i, source in enumerate(cells)]
    steps += [Step(4, calls=parse_test_cell("ch01.check_dot_loop(dot_loop, hidden=True)", namespace)),
              Step(5, calls=parse_test_cell("ch01.check_project(project, hidden=True)", namespace)),
              Step(6, calls=parse_test_cell("ch01.check_angle_between(angle_between, hidden=True)", namespace))]
    verdicts, _ = grade_notebook(steps, Settings(timeout=10, secret=[COURSE_ROOT / "solutions"]))
    loop, project, angle = (" ".join(o.get("evalue", "") for o in verdicts[i]) for i in (4, 5, 6))
    assert "your helper `total`, line 2: `np.sum` uses numpy.sum" in loop
    assert "changed its input `onto`" in project
    assert not angle and "\u2714 angle_between" in verdicts[6][0]["text"]
