"""Tripwires that hold across threads and re-executed code, and say so when they cannot.

Each learner function below reaches a forbidden routine in a way that walks around or
switches off the sandbox's tripwires (tests/test_sandbox.py has the plain ways): the
reference's source compiled again under another file name, a reloaded module after
``sys.setprofile(None)``, a call from another thread (``threading`` and ``_thread``), the
tripwire object found with ``gc`` and emptied, during the call or beforehand at top level.
Every one fails its own cell, and every suspect construct is reported as an
:class:`~dotlab.grading.sandbox.Event` naming the cell, for the instructor's grading
record. An honest function graded in the same notebook passes with nothing reported.

The checks here forbid their routines directly (no task allowlist), so what is tested is
the sandbox's run-time layer alone; the static allowlist on the learner's source
(:mod:`dotlab.checks._allow`) refuses these constructs before anything runs.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from dotlab.checks import Case, Forbidden, run_checks
from dotlab.grading.plan import CheckCall
from dotlab.grading.release import COURSE_ROOT
from dotlab.grading.sandbox import Settings, Step, grade_notebook

FORBIDDEN = (Forbidden("numpy.dot", "write the loop yourself"), Forbidden("dotlab.vectors.dot", "write it yourself"))


def _check(fn, hidden=False):
    cases = [Case("two numbers", ([1.0, 2.0], [3.0, 4.0])), Case("three", ([2.0, 3.0, 1.0], [4.0, -1.0, 5.0]))]
    run_checks(fn, fn_name="f", reference=lambda a, b: float(np.asarray(a) @ np.asarray(b)), cases=cases,
               forbidden=FORBIDDEN, quiet=False)


SETUP = "import numpy as np\nimport dotlab.vectors\n"
ATTACKS = {
    "re-executed source": """
        import inspect
        _ns = {}
        exec(compile(inspect.getsource(dotlab.vectors), "somewhere_else.py", "exec"), _ns)
        def f(a, b):
            return _ns["dot"](a, b)
    """,
    "pasted and renamed": """
        import inspect
        _src = inspect.getsource(dotlab.vectors).replace("def dot(", "def my_product(")
        _ns = {}
        exec(compile(_src, "my_notes.py", "exec"), _ns)
        def f(a, b):
            return _ns["my_product"](a, b)
    """,
    "setprofile(None), then reload": """
        import importlib, sys
        def f(a, b):
            sys.setprofile(None)
            return importlib.reload(dotlab.vectors).dot(a, b)
    """,
    "a threading.Thread": """
        import importlib, threading
        _fresh = importlib.reload(dotlab.vectors).dot
        def f(a, b):
            out = []
            worker = threading.Thread(target=lambda: out.append(_fresh(a, b)))
            worker.start()
            worker.join()
            return out[0]
    """,
    "a _thread": """
        import _thread, importlib, time
        _fresh = importlib.reload(dotlab.vectors).dot
        def f(a, b):
            out = []
            _thread.start_new_thread(lambda: out.append(_fresh(a, b)), ())
            for _ in range(500):
                if out:
                    break
                time.sleep(0.01)
            return out[0]
    """,
    "gc during the call": """
        import gc
        def f(a, b):
            for o in gc.get_objects():
                if type(o).__name__ == "Tripwires":
                    o.armed.clear()
            return float(np.dot(a, b))
    """,
    "gc at top level": """
        import gc
        for _o in gc.get_objects():
            if type(_o).__name__ == "Tripwires":
                for _names in _o.names.values():
                    _names.clear()
        def f(a, b):
            return float(np.dot(a, b))
    """,
}
HONEST = """
    def f(a, b):
        return float(sum(x * y for x, y in zip(a, b)))
"""


def _grade(body: str):
    # the forbidden routines are wrapped before any cell runs, as the grading plan asks (sandbox.forbidden_targets)
    check = CheckCall(_check, "f", forbidden=tuple(f.target for f in FORBIDDEN))
    steps = [Step(0, SETUP), Step(1, textwrap.dedent(body)), Step(2, calls=[check])]
    events = []
    verdicts, _ = grade_notebook(steps, Settings(timeout=10, secret=[COURSE_ROOT / "solutions"]), events)
    errors = [o["evalue"] for o in verdicts[2] if o["output_type"] == "error"]
    return errors, events


def test_an_honest_function_passes_and_nothing_is_reported():
    errors, events = _grade(HONEST)
    assert errors == [] and events == []


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_way_around_the_tripwires_fails_its_cell(attack):
    errors, events = _grade(ATTACKS[attack])
    assert len(errors) == 1, (attack, errors)
    assert ("which this exercise asks you not to use" in errors[0]
            or "switch off the grader's watch on the routines this exercise forbids" in errors[0]), errors[0]


@pytest.mark.parametrize("attack, construct, cell", [
    ("setprofile(None), then reload", "sys.setprofile", 2),
    ("gc during the call", "gc.get_objects", 2),
    ("gc at top level", "gc.get_objects", 1),
])
def test_the_construct_is_reported_with_its_cell(attack, construct, cell):
    _, events = _grade(ATTACKS[attack])
    assert any(e.cell == cell and e.what == "suspect construct" and e.detail == construct for e in events), events
