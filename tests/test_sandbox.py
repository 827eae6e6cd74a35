"""The sandbox on its own, without nbgrader: confinement, the replay, the verdicts.

Each test writes a few learner cells, replays them in the sandbox with chapter 1's real
checks, and reads the verdict the grader would write into the test cell. The full
nbgrader round trip with hostile notebooks is tests/test_hostile.py.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dotlab.checks import Case, CheckFailure, Forbidden, run_checks
from dotlab.checks._core import LearnerProxy
from dotlab.grading import confine
from dotlab.grading.plan import CheckCall, checks_namespace, parse_test_cell
from dotlab.grading.release import COURSE_ROOT
from dotlab.grading.sandbox import Settings, Step, grade_notebook, rebuild_error, rebuild_value

NEEDS_LANDLOCK = pytest.mark.skipif(confine.landlock_abi() == 0, reason="this kernel has no Landlock (Linux 5.13+)")
IMPORTS = "import math\nimport numpy as np\nfrom dotlab.checks import ch01\n"
RIGHT_DOT_LOOP = '''
def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
    total = 0.0
    for x, y in zip(a, b):
        total += x * y
    return total
'''
NAMESPACE = checks_namespace([IMPORTS])
SETTINGS = Settings(timeout=3, secret=[COURSE_ROOT / "solutions"])


def _verdicts(*cells: str, tests: tuple[str, ...] = ("dot_loop",), settings: Settings = SETTINGS):
    """Replay ``cells`` after the imports, then one hidden check per name in ``tests``."""
    steps = [Step(0, IMPORTS)] + [Step(i + 1, textwrap.dedent(c)) for i, c in enumerate(cells)]
    first = len(steps)
    for j, name in enumerate(tests):
        steps.append(Step(first + j, calls=parse_test_cell(f"ch01.check_{name}({name}, hidden=True)", NAMESPACE)))
    verdicts, skipped = grade_notebook(steps, settings)
    return [verdicts[first + j] for j in range(len(tests))], skipped


def _passed(outputs) -> bool:
    return not any(o["output_type"] == "error" for o in outputs) and "✔" in "".join(o.get("text", "") for o in outputs)


def _message(outputs) -> str:
    return " ".join(o.get("evalue", "") for o in outputs if o["output_type"] == "error")


# -- the verdicts ------------------------------------------------------------------------

def test_a_right_answer_passes_and_a_wrong_one_is_diagnosed():
    wrong = RIGHT_DOT_LOOP.replace("total = 0.0", "total = 1.0").replace("def dot_loop", "def dot")
    (loop, dot), _ = _verdicts(RIGHT_DOT_LOOP, wrong, tests=("dot_loop", "dot"))
    assert _passed(loop)
    assert "running total starts at 1" in _message(dot)


def test_patching_the_checks_in_the_learners_process_changes_nothing():
    cheat = '''
    import builtins, numpy, dotlab.checks._core as core, dotlab.checks.ch01 as c
    c.check_dot_loop = lambda *a, **k: None
    core.run_checks = lambda *a, **k: None
    core.CheckFailure = Exception
    numpy.allclose = lambda *a, **k: True
    builtins.abs = lambda x: 0
    builtins.AssertionError = Exception
    class ch01:
        check_dot_loop = staticmethod(lambda *a, **k: None)
    def dot_loop(a, b):
        return 0.0
    '''
    (outputs,), _ = _verdicts(cheat)
    assert "dot_loop([2, 3, 1], [4, -1, 5]) returned 0.0, expected 10.0" in _message(outputs)


@pytest.mark.parametrize("body", [
    "class Liar(float):\n    def __eq__(self, other): return True\n    __hash__ = float.__hash__\ndef dot_loop(a, b):\n    return Liar(0)",
    "class Everything:\n    def __eq__(self, other): return True\n    def __array__(self, dtype=None, copy=None): return np.array(0.0)\ndef dot_loop(a, b):\n    return Everything()",
])
def test_values_that_pretend_to_equal_anything_are_read_as_their_numbers(body):
    (outputs,), _ = _verdicts(body)
    assert "returned 0.0, expected 10.0" in _message(outputs)


@pytest.mark.parametrize("how", [
    "from numpy import dot as d\ndef dot_loop(a, b):\n    return float(d(a, b))",
    "import numpy._core.multiarray as m\ndef dot_loop(a, b):\n    return float(m.dot(a, b))",
    "import importlib, dotlab.vectors\nref = importlib.reload(dotlab.vectors).dot\ndef dot_loop(a, b):\n    return ref(a, b)",
    "def dot_loop(a, b):\n    try:\n        return float(np.dot(a, b))\n    except Exception:\n        return float(np.einsum('i,i', a, b))",
])
def test_a_forbidden_routine_is_caught_however_it_is_reached(how):
    (outputs,), _ = _verdicts(how)
    assert "which this exercise asks you not to use" in _message(outputs)


def test_a_routine_forbidden_in_one_task_is_allowed_in_another():
    (outputs,), _ = _verdicts("def dot(a, b):\n    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                              "    if a.ndim != 1 or a.shape != b.shape:\n        raise ValueError(f'{a.shape} {b.shape}')\n"
                              "    return float(np.dot(a, b))", tests=("dot",))
    assert _passed(outputs)


def test_a_function_that_stops_the_program_fails_its_own_check_only():
    cells = [RIGHT_DOT_LOOP, "def norm(a):\n    raise SystemExit(1)",
             "def dot(a, b):\n    raise KeyboardInterrupt", "import os\ndef project(a, onto):\n    os.kill(os.getpid(), 9)"]
    (loop, norm, dot, project), _ = _verdicts(*cells, tests=("dot_loop", "norm", "dot", "project"))
    assert _passed(loop)
    assert "raised SystemExit" in _message(norm) and "stops a whole program" in _message(norm)
    assert "raised KeyboardInterrupt" in _message(dot)
    assert "killed by SIGKILL" in _message(project)


def test_a_cell_that_ends_or_hangs_its_process_is_skipped_and_the_rest_is_graded():
    cells = ["import os\nos._exit(0)", "while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass",
             RIGHT_DOT_LOOP]
    (outputs,), skipped = _verdicts(*cells)
    assert _passed(outputs)
    assert skipped == {1: "ended the process running it (exit status 0)", 2: "did not finish within 3 s"}


def test_an_endless_function_times_out_with_a_message():
    (outputs,), _ = _verdicts("def dot_loop(a, b):\n    while True:\n        pass")
    assert "did not finish within 3 s" in _message(outputs)
    assert outputs[-1]["ename"] == "CellTimeoutError"  # as nbgrader names a timeout


def test_undefined_and_non_function_names_fail_like_the_kernel_would():
    (missing, number), _ = _verdicts("dot = 5", tests=("dot_loop", "dot"))
    assert _message(missing) == "name 'dot_loop' is not defined"
    assert "dot should be a function, but it is 5 of type int" in _message(number)


def test_arguments_are_copies_so_the_learner_cannot_change_the_inputs():
    (outputs,), _ = _verdicts(RIGHT_DOT_LOOP.replace("    total = 0.0", "    a[0] = 99\n    total = 0.0")
                              .replace("if len(a)", "a = list(a)\n    if len(a)"))
    assert "returned" in _message(outputs)  # wrong because of its own change, judged on pristine inputs


def test_resetting_the_memory_tracer_inside_the_sandbox_is_caught():
    """Task 5.5's memory is measured in the sandbox's worker, with the tracer's controls armed
    as tripwires: a whole table held, then the peak reset through a module a library hands
    on. The allowlist refuses that route by itself (ae32fd7); the measurement alone,
    without the allowlist, still fails it there as in a notebook: two layers, each tested."""
    imports = "import math\nimport numpy as np\nfrom dotlab.checks import ch05\n"
    resetting = textwrap.dedent('''
        def tiled_attention(q, k, v, block_size=64):
            s = np.asarray(q, float) @ np.asarray(k, float).T / math.sqrt(np.shape(q)[1])
            w = np.exp(s - s.max(axis=1, keepdims=True))
            out = w / w.sum(axis=1, keepdims=True) @ np.asarray(v, float)
            del s, w
            try:
                np.f2py.sys.modules["tracemalloc"].reset_peak()
            except Exception:
                pass
            return out
    ''')
    namespace = checks_namespace([imports])
    whole = parse_test_cell("ch05.check_tiled_attention(tiled_attention, hidden=True)", namespace)
    measured = parse_test_cell("ch05._check_memory(tiled_attention)", namespace)
    verdicts, _ = grade_notebook([Step(0, imports), Step(1, resetting), Step(2, calls=whole), Step(3, calls=measured)],
                                 Settings(timeout=30, secret=[COURSE_ROOT / "solutions"]))
    assert "reaches the module sys through numpy.f2py.sys" in _message(verdicts[2])
    assert "reset, cleared or stopped Python's memory tracer" in _message(verdicts[3])


def test_a_strided_input_reaches_the_learner_strided():
    """The checks' strided variant is a strided view in the sandbox too, as in a notebook or
    pytest (NumPy's own pickling would hand the learner a contiguous copy)."""
    only_contiguous = RIGHT_DOT_LOOP.replace("    total = 0.0", "    if isinstance(a, np.ndarray) and not "
                                             "a.flags.c_contiguous:\n        raise ValueError('a strided a')\n"
                                             "    total = 0.0")
    (outputs,), _ = _verdicts(only_contiguous)
    assert "raised ValueError: a strided a" in _message(outputs) and "as a strided view input" in _message(outputs)


def test_each_graded_cell_gets_a_fresh_copy_of_the_notebook():
    # the first function sabotages its own process when called; the second is unaffected
    saboteur = "import numpy\ndef dot_loop(a, b):\n    numpy.asarray = None\n    return 0.0"
    right_dot = "def dot(a, b):\n    a, b = np.asarray(a, float), np.asarray(b, float)\n    if a.ndim != 1 or a.shape != b.shape:\n        raise ValueError(f'{a.shape} vs {b.shape}')\n    return float(a @ b)"
    (loop, dot), _ = _verdicts(saboteur, right_dot, tests=("dot_loop", "dot"))
    assert not _passed(loop) and _passed(dot)


# -- confinement -------------------------------------------------------------------------

@NEEDS_LANDLOCK
def test_learner_code_cannot_read_solutions_or_reach_the_network():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    attack = f'''
    import pathlib, socket, dotlab
    def dot_loop(a, b):
        stolen = 0.0
        try:
            pathlib.Path(dotlab.__file__).parents[2].joinpath("solutions/ch01/ch01.ipynb").read_text()
            stolen += 1
        except OSError:
            pass
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
            stolen += 2
        except OSError:
            pass
        return stolen
    '''
    try:
        (outputs,), _ = _verdicts(attack)
    finally:
        listener.close()
    assert "returned 0.0, expected 10.0" in _message(outputs)


def test_memory_is_limited():
    hog = "def dot_loop(a, b):\n    return float(len(bytearray(20 * 2**30)))"
    (outputs,), _ = _verdicts(hog, settings=Settings(timeout=5, memory=1 * confine.GIB))
    assert "raised MemoryError" in _message(outputs)


@NEEDS_LANDLOCK
def test_a_confined_process_cannot_signal_or_read_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("answer")
    code = textwrap.dedent(f'''
        import os, sys
        from dotlab.grading import confine
        confine.apply(confine.Confinement(read=confine.readable_paths([{str(tmp_path)!r}]), write=[]))
        try:
            open({str(secret)!r}).read(); print("read")
        except PermissionError:
            print("no read")
        try:
            os.kill(os.getppid(), 0); print("signal")
        except PermissionError:
            print("no signal")
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split("\n")
    assert out[0] == "no read"
    if confine.landlock_abi() >= 6:
        assert out[1] == "no signal"


def test_the_environment_learner_code_sees_has_no_credentials():
    env = confine.scrubbed_env({"PATH": "/usr/bin", "PGPASSWORD": "x", "AWS_SECRET_ACCESS_KEY": "y", "LANG": "C"}, "/tmp/h")
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/tmp/h" and env["LANG"] == "C"
    assert "PGPASSWORD" not in env and "AWS_SECRET_ACCESS_KEY" not in env


def test_readable_paths_never_include_a_folder_that_holds_secrets(tmp_path):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "venv").mkdir()
    paths = confine.readable_paths([course / "solutions"], extra=[str(course), str(course / "venv"), str(tmp_path)])
    assert str(course / "venv") in paths
    assert str(course) not in paths and str(tmp_path) not in paths


# -- the pieces ----------------------------------------------------------------------------

def test_rebuilt_values_are_inert_stand_ins():
    value = rebuild_value({"k": "opaque", "type": "Liar", "repr": "Liar()", "numbers": {"shape": [], "data": [3.0]}})
    assert type(value).__name__ == "Liar" and repr(value) == "Liar()"
    assert float(np.array(value, dtype=np.float64)) == 3.0
    assert rebuild_value({"k": "ndarray", "dtype": "<f8", "shape": [2], "data": [1.0, 2.0]}).tolist() == [1.0, 2.0]
    assert rebuild_value({"k": "tuple", "items": [{"k": "int", "v": 1}, {"k": "none"}]}) == (1, None)
    with pytest.raises(ValueError):
        rebuild_value({"k": "ndarray", "dtype": "|O", "shape": [1], "data": [1]})


def test_rebuilt_errors_keep_name_message_and_family():
    error = rebuild_error({"type": "KeyError", "builtin": "KeyError", "message": "'x'"})
    assert isinstance(error, LookupError) and str(error) == "'x'"
    # an exit or an interrupt is never rebuilt as one: the grader would stop
    for family in ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "NoSuchBuiltin"):
        error = rebuild_error({"type": "Stop", "builtin": family, "message": "out"})
        assert type(error).__name__ == "Stop" and type(error).__mro__[1] is Exception, family


def test_run_checks_asks_a_proxy_instead_of_calling_it():
    from dotlab.checks._core import _Outcome

    class Always(LearnerProxy):
        def outcome(self, case, forbidden):
            return _Outcome(value=case.args[0] * 2), []

    run_checks(Always(), fn_name="double", reference=lambda x: 2 * x, cases=[Case("two", (2,))], quiet=True)
    with pytest.raises(CheckFailure, match=r"sq\(3\) returned 6.0, expected 9.0"):
        run_checks(Always(), fn_name="sq", reference=lambda x: x * x, cases=[Case("two", (2,)), Case("three", (3,))],
                   forbidden=(Forbidden("math.sqrt", "no"),), quiet=True)


def test_test_cells_that_do_more_than_call_checks_are_left_to_the_kernel():
    assert parse_test_cell("ch01.check_dot(dot)\nassert dot([1], [1]) == 1", NAMESPACE) is None
    assert parse_test_cell("ch01.check_dot(lambda a, b: 0)", NAMESPACE) is None
    assert parse_test_cell("import os\nch01.check_dot(dot)", NAMESPACE) is None


def _stages_check(fn, hidden: bool = False) -> None:
    """A check whose own helper calls the learner's function and reads a dict (like chapter 7's)."""

    def one(x, key):
        result = fn(x)
        if not isinstance(result, dict):
            raise TypeError(f"stages returned a {type(result).__name__}, not a dict")
        return result[key]

    run_checks(one, fn_name="stages", reference=lambda x, key: {"a": x, "b": 2 * x}[key],
               cases=[Case("a", (4.0, "a")), Case("b", (4.0, "b"))], forbidden=(Forbidden("math.sqrt", "no roots"),))


@pytest.mark.parametrize("body, verdict", [
    ("def stages(x):\n    return {'a': x, 'b': 2 * x}", "✔ stages"),
    ("def stages(x):\n    return {'a': x, 'b': math.sqrt(x) ** 2 * 2}", "called math.sqrt"),
    ("def stages(x):\n    return [x, 2 * x]", "returned a list, not a dict"),
])
def test_checks_that_call_the_function_themselves_work_the_same(body, verdict):
    steps = [Step(0, IMPORTS), Step(1, body), Step(2, calls=[CheckCall(_stages_check, "stages")])]
    verdicts, _ = grade_notebook(steps, SETTINGS)
    assert verdict in " ".join(o.get("text", "") + o.get("evalue", "") for o in verdicts[2])


def test_cells_with_ipython_magics_run_as_in_a_notebook():
    (outputs,), _ = _verdicts("%time warm = 1\n" + RIGHT_DOT_LOOP)
    assert _passed(outputs)


# -- the sandbox every process running learner code starts in (bubblewrap + Landlock) --------
#
# Each property is read from inside, by the same start the kernel and the replay use
# (confine.wall, then confine.apply), not inferred from an attack failing. `make test`
# installs bubblewrap: where it is missing these tests fail, they do not skip.

PROBE = '''
import errno, json, os, sys
from dotlab.grading import confine
conf = confine.Confinement.from_json(sys.argv[1])
confine.apply(conf)
seen = {}
'''


def _grader_namespaces() -> dict[str, str]:
    return {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "ipc", "mnt", "user", "uts")}


def _start_probe(code: str, tmp_path, disk: int = 8 * 2**20,
                 processes: int | None = None) -> tuple[subprocess.Popen, confine.Wall]:
    from dotlab.grading import bubblewrap

    assert bubblewrap.available() == "", f"the sandbox cannot run here: {bubblewrap.available()}"
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    wall = confine.wall(confine.readable_paths([COURSE_ROOT / "solutions", tmp_path]), str(scratch), disk)
    # as the kernel gets it: its own /proc to read (its processes only)
    conf = confine.Confinement(read=[*confine.readable_paths([COURSE_ROOT / "solutions", tmp_path]), "/proc"],
                               write=[wall.scratch], processes=processes)
    script = PROBE + textwrap.dedent(code) + "\nprint(json.dumps(seen))\n"
    proc = subprocess.Popen([*wall.prefix, sys.executable, "-c", script, conf.to_json()], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, pass_fds=wall.pass_fds,
                            env=confine.scrubbed_env(dict(os.environ), wall.scratch), start_new_session=True)
    wall.started()
    return proc, wall


def _probe(code: str, tmp_path, disk: int = 8 * 2**20, processes: int | None = None) -> dict:
    proc, wall = _start_probe(code, tmp_path, disk, processes)
    out, err = proc.communicate(timeout=120)
    assert wall.tear_down()
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_learner_code_runs_as_an_unprivileged_user_without_capabilities(tmp_path):
    marker = f"dotlab-uid-probe-{os.getpid()}"
    proc, wall = _start_probe(f'''
        seen["uid"], seen["gid"], seen["groups"] = os.getuid(), os.getgid(), os.getgroups()
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        seen["caps"] = {{k: int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")}}
        seen["no_new_privs"] = int(status["NoNewPrivs"])
        print(json.dumps(seen), flush=True)  # {marker}
        sys.stdin.read()  # stay alive while the grader looks at this process from outside
    ''', tmp_path)
    try:
        seen = json.loads(proc.stdout.readline())
        from learner_processes import processes_with

        # the same process seen from the host: its real, effective, saved and file-system uids
        host_uids = set()
        for pid in processes_with(marker):
            status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
            if status["Name"].strip().startswith("python"):
                host_uids |= {int(u) for u in status["Uid"].split()}
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        assert wall.tear_down()
    assert seen["uid"] == seen["gid"] == 65534 and set(seen["groups"]) <= {65534}
    assert seen["caps"] == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapAmb": 0} and seen["no_new_privs"] == 1
    # never root on the host: as root the grader drops to 65534 first; otherwise it is the grader's own uid
    assert host_uids == {65534 if os.geteuid() == 0 else os.geteuid()} and 0 not in host_uids


def test_learner_code_has_namespaces_of_its_own(tmp_path):
    seen = _probe('''
        seen["ns"] = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "ipc", "mnt", "user", "uts")}
        seen["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        seen["interfaces"] = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
        import socket
        seen["hostname"] = socket.gethostname()
    ''', tmp_path)
    grader = _grader_namespaces()
    for ns, ident in seen["ns"].items():
        assert ident != grader[ns], f"learner code shares the grader's {ns} namespace"
    assert max(seen["pids"]) < 10  # only the sandbox's own few processes are visible
    assert seen["interfaces"] == ["lo"] and seen["hostname"] == "sandbox"


def test_learner_code_may_write_only_regular_files_in_a_capped_scratch_folder(tmp_path):
    (tmp_path / "course.txt").write_text("the grader's")
    seen = _probe(f'''
        seen["cwd"], seen["home"] = os.getcwd(), os.environ["HOME"]
        def attempt(name, action):
            try:
                action()
                seen[name] = "ok"
            except OSError as exc:
                seen[name] = errno.errorcode[exc.errno]
        open("notes.txt", "w").write("mine")
        os.mkdir("folder")
        attempt("symlink", lambda: os.symlink("/etc/passwd", "link"))
        attempt("symlink_in_folder", lambda: os.symlink("notes.txt", "folder/link"))
        attempt("hard_link_from_another_folder", lambda: os.link("notes.txt", "folder/again"))
        attempt("fifo", lambda: os.mkfifo("pipe"))
        import socket
        attempt("socket", lambda: socket.socket(socket.AF_UNIX).bind("sock"))
        attempt("course_file", lambda: open({str(tmp_path / "course.txt")!r}).read())
        attempt("write_outside", lambda: open("/usr/lib/x", "w"))
        attempt("write_venv", lambda: open(sys.prefix + "/x", "w"))
        def fill():
            with open("big", "wb") as handle:
                for _ in range(32):
                    handle.write(b"x" * 2**20)
                    handle.flush()
        attempt("fill_disk", fill)
    ''', tmp_path, disk=8 * 2**20)
    assert seen["cwd"] == seen["home"] == "/scratch"
    for name in ("symlink", "symlink_in_folder", "fifo", "socket"):
        assert seen[name] == "EACCES", (name, seen[name])  # Landlock: regular files and folders only
    assert seen["hard_link_from_another_folder"] == "EXDEV"  # Landlock's answer when "refer" is not granted
    assert seen["course_file"] in ("ENOENT", "EACCES")  # the course is not even in its view
    assert seen["write_outside"] in ("EROFS", "EACCES") and seen["write_venv"] in ("EROFS", "EACCES")
    assert seen["fill_disk"] == "ENOSPC"  # 8 MiB of tmpfs, then the disk is full
    assert not any((tmp_path / "scratch").iterdir())  # its files never reached the host


def test_learners_graded_side_by_side_cannot_see_each_other(tmp_path):
    first, first_wall = _start_probe('''
        open("secret.txt", "w").write("first")
        seen["ns"] = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "ipc", "mnt", "user", "uts")}
        print("ready", flush=True)
        __import__("time").sleep(3)
    ''', tmp_path)
    assert first.stdout.readline().strip() == "ready"
    second = _probe(f'''
        seen["scratch"] = sorted(os.listdir("."))
        seen["ns"] = {{ns: os.readlink(f"/proc/self/ns/{{ns}}") for ns in ("pid", "net", "ipc", "mnt", "user", "uts")}}
        seen["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        try:
            os.kill({first.pid}, 0)
            seen["signal"] = "reached"
        except OSError as exc:
            seen["signal"] = errno.errorcode[exc.errno]
    ''', tmp_path)
    out, _ = first.communicate(timeout=60)
    assert first_wall.tear_down()
    first_seen = json.loads(out.strip().splitlines()[-1])
    assert second["scratch"] == []  # the other learner's file is in a scratch folder of its own
    for ns in ("pid", "net", "ipc", "mnt", "uts"):
        assert first_seen["ns"][ns] != second["ns"][ns], ns
    assert max(second["pids"]) < 10 and second["signal"] == "ESRCH"


# Bombs: each stops itself at 300 so that, were the cap missing, this test could not harm the machine.
BOMBS = '''
    import threading
    release, hold = os.pipe()
    children = []
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError as exc:
            seen["fork_refused"] = errno.errorcode[exc.errno]
            break
        if pid == 0:
            os.close(hold)
            os.read(release, 1)  # every child stays alive until the parent has counted them
            os._exit(0)
        children.append(pid)
    HOLD
    os.close(hold)
    for pid in children:
        os.waitpid(pid, 0)
    seen["children"] = len(children)
    stop, threads = threading.Event(), []
    for _ in range(300):
        try:
            threads.append(threading.Thread(target=stop.wait))
            threads[-1].start()
        except RuntimeError:
            threads.pop()
            break
    stop.set()
    for thread in threads:
        thread.join()
    seen["threads"] = len(threads)
    opened = []
    try:
        for _ in range(300_000):
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        seen["fds_refused"] = errno.errorcode[exc.errno]
    seen["fds"] = len(opened)
'''


def test_fork_and_thread_bombs_stop_at_a_cap_each_sandbox_has_of_its_own(tmp_path):
    """RLIMIT_NPROC set inside a sandbox counts that sandbox's user namespace only (Linux 5.14+):
    two learners bombing side by side get the whole cap each, and it stops them at once."""
    assert confine.counts_processes_per_sandbox(), "this kernel counts tasks per uid: the cap would be shared"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # the first holds its children alive while the second bombs
    holding = 'print("holding", flush=True)\n    sys.stdin.readline()'
    first, first_wall = _start_probe(BOMBS.replace("HOLD", holding), tmp_path / "a", processes=20)
    assert first.stdout.readline().strip() == "holding"
    second = _probe(BOMBS.replace("HOLD", "pass"), tmp_path / "b", processes=20)
    out, err = first.communicate("go\n", timeout=120)
    assert first_wall.tear_down() and first.returncode == 0, err[-2000:]
    for seen in (json.loads(out.strip().splitlines()[-1]), second):
        assert seen["fork_refused"] == "EAGAIN" and seen["children"] == 19  # 20 tasks: itself and 19 children
        assert seen["threads"] == 19
        assert seen["fds_refused"] == "EMFILE" and seen["fds"] < 1024  # RLIMIT_NOFILE


def test_memory_that_no_limit_counts_is_refused_and_learner_code_goes_first_when_memory_runs_out(tmp_path):
    seen = _probe('''
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        seen["shmget"] = (libc.shmget(0, 2**20, 0o1600), errno.errorcode.get(ctypes.get_errno()))
        try:
            os.memfd_create("hoard")
            seen["memfd"] = "ok"
        except OSError as exc:
            seen["memfd"] = errno.errorcode[exc.errno]
        seen["oom_score_adj"] = int(open("/proc/self/oom_score_adj").read())
        try:
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("0")
            seen["lowered"] = "ok"
        except OSError as exc:
            seen["lowered"] = errno.errorcode[exc.errno]
        import resource
        seen["core"] = resource.getrlimit(resource.RLIMIT_CORE)
    ''', tmp_path)
    assert seen["shmget"] == [-1, "EPERM"] and seen["memfd"] == "EPERM"  # seccomp
    assert seen["oom_score_adj"] == 1000 and seen["lowered"] == "EACCES"  # Landlock keeps it there
    assert seen["core"] == [0, 0]


def test_learner_processes_stay_in_the_sandboxs_one_session_so_they_share_one_cpu_share(tmp_path):
    """Linux's scheduler shares the CPU between sessions (autogroups): all of a learner's processes
    stay in the one session bubblewrap gives the sandbox, so 60 busy ones still get one share."""
    seen = _probe('''
        try:
            os.setsid()
            seen["setsid"] = "ok"
        except OSError as exc:
            seen["setsid"] = errno.errorcode[exc.errno]
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, json.dumps([os.getsid(0), open("/proc/self/autogroup").read()]).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        seen["child"] = json.loads(os.read(read, 4096))
        seen["mine"] = [os.getsid(0), open("/proc/self/autogroup").read()]
    ''', tmp_path)
    assert seen["setsid"] == "EPERM"
    assert seen["child"] == seen["mine"]  # same session, same scheduling group
    assert seen["mine"][1] != open("/proc/self/autogroup").read()  # and not the grader's


def test_the_seccomp_filter_checks_the_architecture_before_the_call():
    for machine in ("x86_64", "aarch64"):
        program = confine.seccomp_program(machine)
        assert program[0] == (0x20, 0, 0, 4) and program[1][0] == 0x15  # load the arch, compare it first
        denied = {k for code, jt, jf, k in program if code == 0x15 and jt}
        assert {numbers[machine] for numbers in confine.DENIED_SYSCALLS.values()} <= denied
        for i, (code, jt, jf, k) in enumerate(program):  # every jump lands on the program's last (EPERM)
            if code == 0x15 and i > 1 or code == 0x35:
                assert i + 1 + jt == len(program) - 1


# The grader run by an ordinary account (an instructor on their own machine): bwrap then makes the
# user namespace itself. As root, this test plays that instructor as uid 65534.
NOT_ROOT_GRADER = '''
import json, os, subprocess, sys, tempfile, textwrap
from dotlab.grading import bubblewrap, confine
assert bubblewrap.available() == "", bubblewrap.available()
read = confine.readable_paths([])
wall = confine.wall(read, tempfile.mkdtemp(), 8 * 2**20)
conf = confine.Confinement(read=[*read, "/proc"], write=[wall.scratch], processes=20)
probe = PROBE + textwrap.dedent("""
    import ctypes
    seen["uid"], seen["pids"] = os.getuid(), sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    seen["caps"] = int(status["CapEff"], 16)
    seen["shmget"] = ctypes.CDLL(None, use_errno=True).shmget(0, 2**20, 0o1600)
""") + textwrap.dedent(BOMBS.replace("HOLD", "pass")) + "\\nprint(json.dumps(seen))\\n"
proc = subprocess.run([*wall.prefix, sys.executable, "-c", probe, conf.to_json()], capture_output=True, text=True,
                      pass_fds=wall.pass_fds, env=confine.scrubbed_env(dict(os.environ), wall.scratch), timeout=120)
wall.started()
assert wall.tear_down() and proc.returncode == 0, proc.stderr[-2000:]
print(json.dumps({"grader_uid": os.geteuid(), "prefix": wall.prefix, "describe": bubblewrap.describe(),
                  "seen": json.loads(proc.stdout.strip().splitlines()[-1])}))
'''


@pytest.fixture
def python_for_everyone():
    """The interpreter reachable by another account (root's home may be closed to others); put back after."""
    if os.geteuid() != 0:
        yield
        return
    # Through the hub tests' shared record: a hub on the other worker needs the same
    # folders open, so the last user of the opening closes them, never this test alone.
    from test_hub import close_for_everyone, open_for_everyone

    targets = {Path(os.path.realpath(sys.executable)), Path(sys.prefix), COURSE_ROOT}
    folders = [folder for target in targets for folder in reversed(target.parents)]

    def blocked() -> tuple[Path, int] | None:
        closed = [f for f in folders if not stat.S_IMODE(f.stat().st_mode) & 0o001]
        return (closed[0], 0o001) if closed else None

    open_for_everyone(blocked)
    try:
        yield
    finally:
        close_for_everyone()


@pytest.mark.xdist_group("class-hub")  # the hub tests open and close the same folders: never at the same time
def test_an_instructor_who_is_not_root_gets_the_same_sandbox(python_for_everyone):
    as_account = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] if os.geteuid() == 0 else []
    code = NOT_ROOT_GRADER.replace("PROBE", repr(PROBE)).replace("BOMBS", repr(BOMBS))
    proc = subprocess.run([*as_account, sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                          env={**os.environ, "HOME": "/tmp", "TMPDIR": "/tmp"}, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["grader_uid"] != 0
    assert "--unshare-user" in out["prefix"] and "setpriv" not in out["prefix"]  # bwrap's own user namespace
    assert f"the grader's uid {out['grader_uid']} on the host" in out["describe"][0]
    seen = out["seen"]
    assert seen["uid"] == 65534 and seen["caps"] == 0 and max(seen["pids"]) < 10
    assert seen["shmget"] == -1  # seccomp, as for root
    # bwrap's own process inside counts too when it is not root: 20 tasks are it, the probe and 18 children
    assert seen["fork_refused"] == "EAGAIN" and seen["children"] == 18


def test_nothing_a_learner_starts_outlives_its_notebook():
    from dotlab.grading.sandbox import LearnerProcess
    from learner_processes import orphan_cell, processes_with

    marker = f"dotlab-orphan-sandbox-{os.getpid()}"
    process = LearnerProcess(SETTINGS, [])
    try:
        assert process.run_cell(0, orphan_cell(marker)) is None
        assert processes_with(marker), "the double-forked, setsid process was not started"
    finally:
        process.close()  # what grade_notebook does when the notebook is graded
    assert processes_with(marker) == [], "a process the learner started survived grading"


def test_learner_code_cannot_end_the_notebooks_process_by_signal():
    from dotlab.grading.sandbox import LearnerProcess

    # the replay is PID 1 of its namespace: no process inside can kill it, not even itself
    cell = ("import os, signal\nif os.fork() == 0:\n    os.kill(os.getppid(), signal.SIGKILL)\n    os._exit(0)\n"
            "os.wait()\nos.kill(os.getpid(), signal.SIGKILL)\n")
    process = LearnerProcess(SETTINGS, [])
    try:
        assert process.run_cell(0, cell) is None and process.alive
        assert process.run_cell(1, "x = 1") is None
    finally:
        process.close()


def test_without_bubblewrap_the_sandbox_still_replays_a_notebook(monkeypatch):
    from dotlab.grading import bubblewrap
    from dotlab.grading.sandbox import LearnerProcess

    monkeypatch.setattr(bubblewrap, "available", lambda: "bwrap is not installed (as on macOS)")
    process = LearnerProcess(SETTINGS, [])
    try:
        assert process.wall.launch is None  # started without bwrap...
        assert process.run_cell(0, "import numpy\nx = numpy.ones(3).sum()") is None and process.alive  # ...and working
    finally:
        process.close()


def test_a_right_answer_that_imports_torch_inside_the_function_passes():
    """torch's first import loads C libraries (ctypes) and makes code objects: a library's own
    import is not the learner tampering with the tripwires (issue 13: no right answer refused)."""
    body = '''
    def dot(a, b):
        import torch
        x, y = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError(f"a has shape {tuple(x.shape)} but b has shape {tuple(y.shape)}")
        return float(torch.dot(x, y))
    '''
    (outputs,), _ = _verdicts(body, tests=("dot",), settings=Settings(timeout=60, secret=[COURSE_ROOT / "solutions"]))
    assert _passed(outputs), _message(outputs)


def test_ctypes_called_by_the_learner_is_still_seen():
    body = '''
    import ctypes
    def dot(a, b):
        ctypes.CDLL(None)
        a, b = np.asarray(a, float), np.asarray(b, float)
        if a.ndim != 1 or a.shape != b.shape:
            raise ValueError(f"{a.shape} {b.shape}")
        return float(a @ b)
    '''
    (outputs,), _ = _verdicts(body, tests=("dot",))
    assert "used ctypes while it ran" in _message(outputs)
