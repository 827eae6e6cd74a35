"""The grader and the sandbox speak one protocol, and nothing a learner returns runs in the grader.

The first tests read :mod:`dotlab.grading.protocol` on its own: replies are checked field
by field, answers cross as plain data, exceptions that stop a program are never rebuilt
as one. The last ones grade a notebook in the real sandbox whose functions return
objects that raise ``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit`` or a
``BaseException`` of their own from every special method the grader could touch: each
costs its own cell, and the honest function graded after them still passes.
"""

from __future__ import annotations

import numpy as np
import pytest

from dotlab.checks import Case, run_checks
from dotlab.grading import protocol
from dotlab.grading.plan import CheckCall
from dotlab.grading.release import COURSE_ROOT
from dotlab.grading.sandbox import Settings, Step, grade_notebook


# -- the messages -----------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    protocol.Ready(), protocol.Ready(("numpy.nope (AttributeError: no)",)), protocol.CellDone(2, ("gc.get_objects",)),
    protocol.WorkerExit(9), protocol.WorkerExit(None),
    protocol.WorkerReady({"dot": protocol.NameInfo(True, True), "x": protocol.NameInfo(True, False, {"k": "int", "v": 5}),
                          "y": protocol.NameInfo(False)}),
    protocol.Result({"k": "value", "value": {"k": "none"}}, ("numpy.dot",), {"peak_memory": 10}, ("threading",)),
])
def test_every_reply_survives_the_wire(message):
    import json

    assert protocol.parse_reply(json.loads(json.dumps(protocol.to_wire(message)))) == message


@pytest.mark.parametrize("wire", [
    [], "ready", {"ev": "quit"}, {"ev": "cell_done"}, {"ev": "cell_done", "index": True},
    {"ev": "cell_done", "index": 1, "suspects": "gc"}, {"ev": "worker", "names": []},
    {"ev": "worker", "names": {"f": {"callable": True}}}, {"ev": "result", "outcome": None},
    {"ev": "result", "outcome": {}, "tripped": [1]}, {"ev": "worker_exit", "status": "9"},
])
def test_a_reply_the_protocol_does_not_define_is_refused(wire):
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_reply(wire)


# -- answers ------------------------------------------------------------------------------------

def _round_trip(value):
    return protocol.decode_answer(protocol.encode_answer(value, np))


def test_plain_answers_come_back_as_themselves():
    value = {"a": [1, 2.5, None, True], "b": (np.arange(3, dtype=np.int8), np.float32(0.5)), "c": "text"}
    back = _round_trip(value)
    assert back["a"] == [1, 2.5, None, True] and back["c"] == "text"
    assert back["b"][0].dtype == np.int8 and back["b"][0].tolist() == [0, 1, 2]
    assert type(back["b"][1]) is np.float32 and back["b"][1] == 0.5


class _Liar(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_an_object_comes_back_as_inert_text_and_numbers():
    back = _round_trip(_Liar(2.0))
    assert isinstance(back, protocol.Opaque) and type(back).__name__ == "_Liar"
    assert np.array(back, dtype=np.float64) == 2.0 and back != 2.0  # the grader's __eq__, not the learner's


class _Exits:
    def __float__(self):
        raise SystemExit("bye")

    def __repr__(self):
        raise KeyboardInterrupt


def test_an_object_that_cannot_be_read_says_why_and_raises_only_a_type_error():
    back = _round_trip(_Exits())
    assert repr(back) == "<_Exits object>"
    with pytest.raises(TypeError, match="could not be read as numbers .reading it raised SystemExit: bye"):
        np.array(back, dtype=np.float64)


@pytest.mark.parametrize("family", ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException",
                                    "BaseExceptionGroup", "made-up"])
def test_errors_that_stop_a_program_are_never_rebuilt_as_one(family):
    d = {"k": "error", "type": "Escape", "builtin": family, "message": "out"}
    assert protocol.stops_a_program(d)
    error = protocol.rebuild_error(d)
    assert isinstance(error, Exception) and str(error) == "out"


def test_an_exception_group_claimed_by_the_sandbox_is_still_an_exception():
    error = protocol.rebuild_error({"type": "Group", "builtin": "ExceptionGroup", "message": "two"})
    assert isinstance(error, Exception)


# -- in the real sandbox: every exception costs one cell -------------------------------------------

# Every special method of a returned object that NumPy, a repr, a comparison, hashing,
# iteration or garbage collection could call, raising every kind of exception that is not
# an Exception. Each function returns such an object; a check reads it as numbers.
METHODS = {
    "__float__": "def __float__(self):\n        raise {exc}",
    "__array__": "def __array__(self, dtype=None, copy=None):\n        raise {exc}",
    "__eq__": "def __eq__(self, other):\n        raise {exc}\n    __hash__ = object.__hash__",
    "__hash__": "def __hash__(self):\n        raise {exc}",
    "__del__": "def __del__(self):\n        raise {exc}",
    "__repr__": "def __repr__(self):\n        raise {exc}",
    "__len__": "def __len__(self):\n        raise {exc}\n    def __getitem__(self, i):\n        raise {exc}",
    "__iter__": "def __iter__(self):\n        raise {exc}\n    def __len__(self):\n        return 1",
}
EXCEPTIONS = ("SystemExit('bye')", "KeyboardInterrupt()", "GeneratorExit()", "Escape('out')")


def _one(fn, hidden=False):
    run_checks(fn, fn_name="one", reference=lambda: 1.0, cases=[Case("no arguments", ())], quiet=False)


def test_every_exception_from_a_returned_object_costs_its_own_cell_only():
    cells = ["import numpy as np\nclass Escape(BaseException):\n    pass\n"]
    names = []
    for m, (method, body) in enumerate(METHODS.items()):
        for e, exc in enumerate(EXCEPTIONS):
            name = f"f{m}_{e}"
            names.append((name, method, exc))
            cells.append(f"class A_{name}:\n    {body.format(exc=exc)}\n\ndef {name}():\n    return A_{name}()\n")
    cells.append("def one():\n    return 1.0\n")
    steps = [Step(i, source) for i, source in enumerate(cells)]
    first = len(steps)
    for j, (name, _, _) in enumerate(names + [("one", "", "")]):
        steps.append(Step(first + j, calls=[CheckCall(_one, name)]))
    verdicts, skipped = grade_notebook(steps, Settings(timeout=10, secret=[COURSE_ROOT / "solutions"]))
    assert not skipped
    for j, (name, method, exc) in enumerate(names):
        errors = [o for o in verdicts[first + j] if o["output_type"] == "error"]
        assert errors and errors[0]["ename"] == "CheckFailure", (name, method, exc, verdicts[first + j])
    last = verdicts[first + len(names)]
    assert not any(o["output_type"] == "error" for o in last) and "✔ one" in last[0]["text"]


# -- probing a check for the routines it forbids ------------------------------------------------------

def test_a_probe_that_fails_says_so_instead_of_forbidding_nothing_silently(caplog):
    from dotlab.grading.sandbox import forbidden_targets

    def broken_check(fn, hidden=False):
        raise RuntimeError("the check itself is broken")

    with caplog.at_level("WARNING", logger="dotlab.grading.sandbox"):
        assert forbidden_targets(broken_check) == []
    assert "broken_check" in caplog.text and "the check itself is broken" in caplog.text


def test_a_probe_finds_what_a_check_forbids_when_its_own_helper_calls_the_function():
    from dotlab.checks import Forbidden
    from dotlab.grading.sandbox import forbidden_targets

    def helper_check(fn, hidden=False):
        def twice(x):
            return 2 * fn(x)  # the learner's function, called from the check's own helper

        run_checks(twice, fn_name="twice", reference=lambda x: 2.0 * x, cases=[Case("one", (1.0,))],
                   forbidden=(Forbidden("math.sqrt", "no roots"),), quiet=True)

    assert forbidden_targets(helper_check) == ["math.sqrt"]


def test_a_forbidden_routine_the_sandbox_cannot_find_is_logged_not_silently_allowed(caplog):
    from dotlab.grading.sandbox import LearnerProcess

    with caplog.at_level("WARNING", logger="dotlab.grading.sandbox"):
        process = LearnerProcess(Settings(timeout=10, secret=[COURSE_ROOT / "solutions"]), ["numpy.no_such_routine"])
        process.close()
    assert "could not wrap the forbidden routine numpy.no_such_routine" in caplog.text
