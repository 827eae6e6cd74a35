"""The course's two autograde steps, in nbgrader's own pipeline (see ``nbgrader_config.py``).

``ConfinedExecute`` replaces nbgrader's ``Execute``: the same kernel run of the notebook,
but the kernel starts confined (memory, files, network, signals: see
:mod:`dotlab.grading.confine`), floods of output are cut, and a cell that kills the
kernel or cannot be interrupted stops the kernel instead of the whole submission. The
test cells that :mod:`dotlab.grading.plan` can read are not run in the kernel at all.

``SandboxGrades`` comes right after it and decides those test cells: it replays the
learner's cells in the sandbox (:mod:`dotlab.grading.sandbox`), runs the instructor's
checks in the grader, and writes each verdict as the cell's output, which nbgrader's
``SaveAutoGrades`` then scores as usual.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import nbformat
import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import DottedObjectName, Float, Int, Type
from traitlets.config import Configurable

from dotlab.grading import confine
from dotlab.grading import gradelog
from dotlab.grading.budget import BUDGET_ENAME, TimeBudget
from dotlab.grading.kernel_messages import CheckedChannel
from dotlab.grading.plan import instructor_plan
from dotlab.grading.release import COURSE_ROOT
from dotlab.grading.sandbox import Settings, Step, error_output, grade_notebook, stream_output


class GradingLimits(Configurable):
    """Limits shared by the kernel and the sandbox: ``c.GradingLimits.memory_limit = ...``."""

    disk_limit = Int(256 * 2**20, help="bytes learner code may write in its scratch folder (a tmpfs in the sandbox), "
                                       "per notebook, kernel and sandbox each").tag(config=True)
    memory_limit = Int(4 * confine.GIB, help="bytes of address space for learner code (kernel and sandbox)").tag(config=True)
    process_limit = Int(64, help="processes and threads learner code may have at once, per sandbox (the kernel has "
                                 "14 threads of its own); a fork or thread bomb stops there").tag(config=True)
    notebook_budget = Float(300.0, help="seconds one notebook's code may run in all (kernel cells, sandbox replays and "
                                        "calls), on top of the per-cell and per-call timeouts; when they are used up, "
                                        "the cells not yet decided score zero and grading goes on").tag(config=True)

    def _notebook_budget(self, resources: dict) -> TimeBudget:
        """The notebook's budget, shared by the kernel and the sandbox (made by the first step that asks)."""
        if "dotlab_budget" not in resources:
            resources["dotlab_budget"] = TimeBudget(self.notebook_budget)
        return resources["dotlab_budget"]


def course_secrets(config) -> list[Path]:
    """What learner code must never read: solutions, submissions, grades, the config."""
    coursedir = CourseDirectory(config=config)
    root = Path(coursedir.root or os.getcwd()).resolve()
    names = {coursedir.source_directory, coursedir.submitted_directory, coursedir.autograded_directory,
             coursedir.feedback_directory, coursedir.solution_directory, coursedir.source_with_tests_directory,
             "source", "solutions", "nbgrader_config.py", "gradebook.db", ".git"}
    secret = [root / name for name in names]
    if coursedir.db_url.startswith("sqlite:///"):
        secret.append(Path(coursedir.db_url[len("sqlite:///"):].split("?")[0]).resolve())
    # this repository's own solutions, wherever the grader runs from
    secret += [COURSE_ROOT / "solutions", COURSE_ROOT / ".git"]
    return secret


def grading_plan(resources: dict) -> dict:
    """grade_id -> GradedCell (its check calls and points), computed once per notebook from the gradebook."""
    if "dotlab_plan" not in resources:
        nbg = resources["nbgrader"]
        resources["dotlab_plan"] = instructor_plan(nbg["db_url"], nbg["notebook"], nbg["assignment"])
    return resources["dotlab_plan"]


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


# -- the kernel ------------------------------------------------------------------------

class ConfinedKernelClient(AsyncKernelClient):
    """The grader's client of a learner's kernel: capped and checked messages, and no heartbeat thread.

    Every message it reads passes :func:`dotlab.grading.kernel_messages.problem` first
    (learner code in the kernel can sign and send any message); a malformed one is
    dropped and counted (:meth:`dropped`), never handed to nbclient.

    The heartbeat tells a client with no manager whether its kernel lives; ours has one,
    which watches the kernel's process (``KernelClient.is_alive`` asks it), so the
    heartbeat adds nothing. It also races: its thread sets ``_running`` only after making
    its socket, so a ``stop_channels()`` right after ``start_channels()`` (a kernel that
    dies at start-up, a retry) is forgotten, and the thread reopens sockets until
    "Too many open files". Without the thread there is no race.
    """

    shell_channel_class = Type(CheckedChannel)
    iopub_channel_class = Type(CheckedChannel)
    control_channel_class = Type(CheckedChannel)

    def start_channels(self, shell=True, iopub=True, stdin=True, hb=False, control=True):
        # a kernel cannot make the grader hold a bigger message than this: zmq drops it
        self.context.setsockopt(zmq.MAXMSGSIZE, getattr(self.parent, "dotlab_max_message", 16 * 2**20))
        return super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False, control=control)

    def dropped(self) -> tuple[int, list[str]]:
        """How many malformed messages its channels dropped, and the first reasons."""
        channels = [getattr(self, f"_{name}_channel", None) for name in ("shell", "iopub", "control")]
        channels = [c for c in channels if isinstance(c, CheckedChannel)]
        return sum(c.dropped for c in channels), [why for c in channels for why in c.reasons]


SANDBOX_UID = 65534  # as dotlab.grading.bubblewrap runs learner code


class ConfinedKernelManager(AsyncKernelManager):
    """Starts the kernel in a sandbox (:func:`dotlab.grading.confine.wall`), then limits, then ipykernel.

    The kernel talks to the grader over ZeroMQ sockets that are files (``ipc``) in a
    folder of their own, the only host folder the sandbox sees writable: it has no
    network to share, and no port can be taken by another process between being picked
    and bound. It starts in its scratch folder, never in the learner's ``autograded/``
    folder that nbgrader writes, chmods and renders afterwards.
    """

    client_class = DottedObjectName("dotlab.grading.preprocessors.ConfinedKernelClient")
    client_factory = Type(ConfinedKernelClient, klass=AsyncKernelClient, config=True)
    dotlab_memory: int | None = 4 * confine.GIB
    dotlab_disk: int = 256 * 2**20
    dotlab_processes: int = 64
    dotlab_max_message: int = 16 * 2**20
    dotlab_secret: list[Path] = []
    _dotlab_home: str | None = None
    _dotlab_log: str | None = None
    _dotlab_wall: confine.Wall | None = None

    def _dotlab_folders(self) -> None:
        """A private folder (the kernel's log), with the sockets' folder and the fallback scratch in it."""
        self._dotlab_home = tempfile.mkdtemp(prefix="dotlab-kernel-")
        sockets = os.path.join(self._dotlab_home, "ipc")
        os.mkdir(sockets, 0o700)
        os.mkdir(os.path.join(self._dotlab_home, "scratch"), 0o700)
        if os.geteuid() == 0:  # the sandbox runs as uid 65534: let it make its sockets
            for path in (sockets, os.path.join(self._dotlab_home, "scratch")):
                os.chown(path, SANDBOX_UID, SANDBOX_UID)
        self.transport, self.ip = "ipc", os.path.join(sockets, "kernel")
        self.connection_file = os.path.join(sockets, "kernel.json")

    async def _async_pre_start_kernel(self, **kw):
        self._dotlab_folders()
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        sockets = os.path.dirname(self.connection_file)
        if os.geteuid() == 0:
            os.chown(self.connection_file, SANDBOX_UID, SANDBOX_UID)
        executable = shutil.which(command[0]) or command[0]
        read = confine.readable_paths(self.dotlab_secret, executable=executable)
        self._dotlab_wall = confine.wall(read, os.path.join(self._dotlab_home, "scratch"), self.dotlab_disk,
                                         sockets=sockets)
        scratch = self._dotlab_wall.scratch
        conf = confine.Confinement(
            memory=self.dotlab_memory,
            # counted in the sandbox's own user namespace: only with bubblewrap
            processes=self.dotlab_processes if self._dotlab_wall.launch is not None else None,
            # the sandbox's own /proc (its processes only): ipykernel reads it to end the learner's children
            read=read + (["/proc"] if self._dotlab_wall.launch is not None else []),
            write=[scratch],
            sockets=[sockets],
            # ipykernel binds one loopback port of its own (inside the sandbox's network) for an internal pipe
            bind_ports=[0],
            home=scratch,
            pid_namespace=self._dotlab_wall.launch is not None,
        )
        # run as a script (-S: no site-packages), so the wrapper imports only the standard library
        return [*self._dotlab_wall.prefix, sys.executable, "-S", confine.__file__, conf.to_json(), "--", *command]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own log (not the learner's output, which goes through IOPub) is kept
        # in its folder, for kernel_log(); confined, ipykernel complains about what it may not read.
        self._dotlab_log = os.path.join(self._dotlab_home, "kernel.log")
        kw["cwd"] = os.path.join(self._dotlab_home, "scratch")  # never the learner's autograded/ folder
        if self._dotlab_wall.pass_fds:
            kw["pass_fds"] = self._dotlab_wall.pass_fds
        with open(self._dotlab_log, "wb") as log_file:
            kw.update(stdout=log_file, stderr=log_file)
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                self._dotlab_wall.started()

    _launch_kernel = _async_launch_kernel

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            # interrupt through the kernel's control channel: a signal to its process group
            # reaches bwrap, not the kernel, which runs in a session of its own
            spec.interrupt_mode = "message"
        return spec

    def kernel_log(self, chars: int = 3000) -> str:
        """The end of the kernel's own log (kept after the kernel's folder is removed)."""
        try:
            with open(self._dotlab_log, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - chars))
                return handle.read().decode(errors="replace")
        except (OSError, TypeError, AttributeError):
            return getattr(self, "_dotlab_last_log", "")[-chars:]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._dotlab_wall is not None:
            # the kernel's PID namespace, and whatever the learner started in it, is gone before we go on
            self._dotlab_wall.tear_down()
            self._dotlab_wall = None
        if self._dotlab_home:
            self._dotlab_last_log = self.kernel_log()
            shutil.rmtree(self._dotlab_home, ignore_errors=True)
            self._dotlab_home = None

    cleanup_resources = _async_cleanup_resources


class ConfinedExecute(Execute, GradingLimits):
    """nbgrader's Execute with a confined kernel, capped output, and no test cells."""

    max_output_bytes = Int(1_000_000, help="characters of output kept per cell; the rest is cut").tag(config=True)
    max_message_bytes = Int(16 * 2**20, help="largest single message accepted from the kernel").tag(config=True)
    startup_attempts = Int(2, help="kernel starts tried before a notebook is reported as not gradable").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", ConfinedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        plan = grading_plan(resources)
        self._dotlab_skip = {i for i, cell in enumerate(nb.cells) if _grade_id(cell) in plan and plan[_grade_id(cell)].calls}
        self._dotlab_stopped: str | None = None
        self._dotlab_bytes: dict[int, int] = {}
        self._dotlab_secret = course_secrets(self.config)
        self._dotlab_budget = self._notebook_budget(resources)
        self._dotlab_clients: list[ConfinedKernelClient] = []
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._report_dropped(resources)

    def _report_dropped(self, resources: dict) -> None:
        """Malformed kernel messages (forged by learner code): a flag in the learner's grading record."""
        count, reasons = 0, []
        for client in self._dotlab_clients:
            dropped, why = client.dropped()
            count, reasons = count + dropped, reasons + why
        if count:
            detail = f"its kernel sent {count} malformed message(s), dropped unread: {'; '.join(reasons[:3])}"
            resources.setdefault("dotlab_kernel_flags", []).append(gradelog.Flag(what="kernel protocol",
                                                                                 detail=detail))

    def _get_timeout(self, cell):
        """nbclient's timeout for a cell, cut to what is left of the notebook's time budget."""
        timeout = super()._get_timeout(cell)
        budget = getattr(self, "_dotlab_budget", None)
        if budget is None:
            return timeout
        return budget.limit(budget.left() if timeout is None else timeout)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.dotlab_memory, km.dotlab_disk, km.dotlab_secret = self.memory_limit, self.disk_limit, self._dotlab_secret
        km.dotlab_processes = self.process_limit
        km.dotlab_max_message = self.max_message_bytes
        return km

    async def async_start_new_kernel(self, **kwargs):
        self._dotlab_start_args = kwargs  # for a second start, should the first kernel never answer
        return await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        """nbclient's own start (its hooks included), and a second kernel when the first never answers.

        A kernel can fail to answer for reasons that have nothing to do with the learner (a
        machine too busy to start it in time). One failed start must not cost a learner
        their grade: nbclient has then shut that kernel down, and a new one is started once.
        """
        for attempt in range(1, self.startup_attempts + 1):
            km = self.km
            try:
                client = await super().async_start_new_kernel_client()
                self._dotlab_clients.append(client)
                return client
            except RuntimeError as exc:  # the kernel did not answer, or died before it did
                if attempt == self.startup_attempts:
                    raise
                self.log.warning("the kernel did not start (%s); starting a new one. Its log ends:\n%s", exc,
                                 getattr(km, "kernel_log", lambda: "")())
                self.km = self.create_kernel_manager()
                await self.async_start_new_kernel(**getattr(self, "_dotlab_start_args", {}))

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if index in self._dotlab_skip:
            cell.outputs = []  # the sandbox decides this cell
            return cell, resources
        if unreadable_as_error(cell.source) != cell.source:
            # ipykernel compiles it in its message handler, which raises and never replies: the cell
            # would hang until its timeout, twice, and the kernel be stopped for the cells after it
            cell.outputs = [nbformat.from_dict(error_output("SyntaxError", "this cell is nested too deeply for "
                                                                          "Python to read"))]
            return cell, resources
        if self._dotlab_stopped:
            cell.outputs = [nbformat.from_dict(error_output("KernelStopped", self._dotlab_stopped))]
            return cell, resources
        budget = self._dotlab_budget
        if budget.exhausted:
            cell.outputs = [nbformat.from_dict(error_output(BUDGET_ENAME, budget.message()))]
            return cell, resources
        try:
            with budget.running():
                cell, resources = super().preprocess_cell(cell, resources, index)
            if budget.exhausted:  # interrupted when the budget ran out: say so, not only KeyboardInterrupt
                cell.outputs.append(nbformat.from_dict(error_output(BUDGET_ENAME, f"this cell {budget.ran_out()}")))
            return cell, resources
        except (DeadKernelError, CellTimeoutError) as exc:
            what = ("the kernel died while running this cell" if isinstance(exc, DeadKernelError)
                    else f"this cell did not finish within {self.timeout} s and could not be interrupted")
            cell.outputs.append(nbformat.from_dict(error_output(type(exc).__name__, what)))
            self._dotlab_stopped = f"not run: the kernel was stopped at cell {index} ({what}); every graded function was still checked in the sandbox"
            self.log.warning("cell %d: %s; stopping the kernel. Its log ends:\n%s", index, what,
                             getattr(self.km, "kernel_log", lambda: "")())
            self._kill_kernel()
            return cell, resources

    def _kill_kernel(self) -> None:
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        if pid:
            try:
                os.killpg(getattr(provisioner, "pgid", None) or pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._dotlab_bytes.get(cell_index, 0)
        self._dotlab_bytes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                outs.append(nbformat.from_dict(stream_output(f"\n... output cut: this cell printed more than {self.max_output_bytes} characters\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)


# -- the verdicts ------------------------------------------------------------------------

class SandboxGrades(NbGraderPreprocessor, GradingLimits):
    """Decide each readable test cell in the sandbox and write the verdict as its output."""

    timeout = Float(0.0, help="seconds for each learner cell and each call of a learner's function in the sandbox "
                              "(0: the same as Execute.timeout)").tag(config=True)

    def _settings(self, resources: dict) -> Settings:
        timeout = self.timeout or float(self.config.get("Execute", {}).get("timeout", 30) or 30)
        return Settings(timeout=timeout, memory=self.memory_limit, secret=course_secrets(self.config),
                        budget=self._notebook_budget(resources), disk=self.disk_limit, processes=self.process_limit)

    def preprocess(self, nb, resources):
        plan = grading_plan(resources)
        steps, test_cells = [], {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            grade_id = _grade_id(cell)
            if grade_id in plan:  # an instructor's test cell: never replayed as learner code
                if plan[grade_id].calls:
                    steps.append(Step(index, calls=plan[grade_id].calls))
                    test_cells[index] = cell
                continue
            steps.append(Step(index, source=unreadable_as_error(cell.source)))
        if not test_cells:
            return nb, resources
        events: list = []
        diagnoses: dict = {}
        verdicts, skipped = grade_notebook(steps, self._settings(resources), events, diagnoses)
        for index, reason in skipped.items():
            self.log.warning("cell %d %s: the sandbox graded without it", index, reason)
        for index, cell in test_cells.items():
            cell.outputs = [nbformat.from_dict(o) for o in verdicts.get(index, [])]
            # scored as the instructor made it, whatever the learner did to its metadata
            cell.metadata.nbgrader.update(grade=True, solution=False, points=plan[_grade_id(cell)].points)
        self._record(nb, resources, plan, _flags(nb, events, skipped), diagnoses)
        return nb, resources

    def _record(self, nb, resources: dict, plan: dict, flags: list, diagnoses: dict | None = None) -> None:
        """Write the learner's grading record (:mod:`dotlab.grading.gradelog`): each graded cell, and every flag.

        A flag never changes a score; it is how a suspect construct the sandbox saw, a cell
        it had to skip or the time budget running out reaches the instructor (the class
        report lists them), so nothing that might hide a walked-around tripwire is silent.
        """
        budget = self._notebook_budget(resources)
        self.log.info("learner code ran %.1f s of this notebook's %g s budget", budget.spent, budget.seconds)
        flags = resources.get("dotlab_kernel_flags", []) + flags
        if budget.exhausted and not any(flag.what == "budget" for flag in flags):  # it ran out in the last cell
            flags.append(gradelog.Flag(what="budget", detail=f"its code ran for the whole budget ({budget.seconds:g} s)"))
        for flag in flags:
            self.log.warning("flagged for the instructor: %s in %s: %s", flag.what, flag.cell, flag.detail)
        resources["dotlab_flags"] = flags
        nbg = resources.get("nbgrader", {})
        if not nbg.get("student") or not nbg.get("assignment"):
            return  # not run by nbgrader's autograde: no learner to record
        coursedir = CourseDirectory(config=self.config)
        cells = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or _grade_id(cell) not in plan or not plan[_grade_id(cell)].calls:
                continue
            passed = not any(o.output_type == "error" for o in cell.outputs)
            said = None if passed else (diagnoses or {}).get(index)  # what the checks diagnosed, as they said it
            cells.append(gradelog.CellRecord(cell=_grade_id(cell), passed=passed, mistake=said and said.mistake,
                                             hint=said and said.hint, case=said and said.case))
        record = gradelog.LearnerRecord(student=nbg["student"], assignment=nbg["assignment"], course_id=coursedir.course_id,
                                        seconds=round(budget.elapsed(), 1), cells=cells, flags=flags)
        gradelog.write(Path(coursedir.root or os.getcwd()), record)


def unreadable_as_error(source: str) -> str:
    r"""A learner cell as the grader may read it: one Python's own parser cannot read is an error.

    A cell nested too deep for the parser's recursion limit (``1+1+...`` two hundred
    thousand times) fails in the kernel, as any compile error does; but the grader parses
    learner cells too (the checks' allowlist, the suspect constructs), where the same
    RecursionError failed the whole notebook. Such a cell is replaced, for the sandbox and
    the checks, by a line that raises what the kernel showed.

    Examples
    --------
    >>> unreadable_as_error("x = 1\n")
    'x = 1\n'
    >>> unreadable_as_error("1" + "+1" * 200_000)[:40]
    'raise SyntaxError("this cell is nested t'
    """
    import ast

    try:
        ast.parse(source)
    except (RecursionError, MemoryError) as exc:
        return f'raise SyntaxError("this cell is nested too deeply for Python to read ({type(exc).__name__})")\n'
    except (SyntaxError, ValueError):
        pass  # IPython's magics, or a real syntax error: read downstream as the kernel reads it
    return source


def _flags(nb, events: list, skipped: dict[int, str]) -> list:
    """What the sandbox saw, as the grading record's flags, each naming its cell (grade id, or position)."""
    def name(index: int) -> str:
        cell = nb.cells[index] if 0 <= index < len(nb.cells) else None
        return (_grade_id(cell) if cell is not None else None) or f"cell {index}"

    flags, seen = [], set()
    for event in events:
        detail = event.detail + (" (it failed the call)" if event.held else " (the instructor decides)")
        key = (event.what, detail, name(event.cell))
        if key not in seen:  # a cell replayed twice reports the same thing twice
            seen.add(key)
            flags.append(gradelog.Flag(what=event.what, detail=detail, cell=name(event.cell)))
    for index, reason in skipped.items():
        flags.append(gradelog.Flag(what="sandbox", detail=f"skipped: it {reason}", cell=name(index)))
    return flags


# -- before anything else: a notebook the grader can afford to read -------------------------

class NotebookTooLarge(ValueError):
    """A submission larger than the grader reads: that learner is not graded, the batch goes on."""


class CappedNotebookExporter(NotebookExporter):
    """nbgrader's notebook reader for autograde, refusing a submission over ``max_bytes``.

    The grader parses and validates every submission in its own process, with none of the
    limits learner code runs under: a 78 MB notebook of 400,000 small cells took 48 s and
    1.5 GB to read once, and autograde reads it twice and walks it in every step. A file
    over the cap is refused before it is read; nbgrader then reports that learner as not
    graded, with this message, and grades the next one.
    """

    max_bytes = Int(16 * 2**20, help="largest submitted notebook the grader reads, in bytes (a learner's "
                                     "notebook with its outputs is well under 1 MB)").tag(config=True)

    def from_filename(self, filename, resources=None, **kw):
        size = os.stat(filename).st_size
        if size > self.max_bytes:
            raise NotebookTooLarge(f"{filename} is {size / 2**20:.1f} MiB, more than the "
                                   f"{self.max_bytes / 2**20:.1f} MiB the grader reads "
                                   "(c.CappedNotebookExporter.max_bytes): not graded")
        return super().from_filename(filename, resources=resources, **kw)


# -- before anything else: the instructor's cell metadata --------------------------------

class RestoreCellMetadata(NbGraderPreprocessor):
    """Put back the nbgrader metadata of every cell as the instructor made it.

    nbgrader trusts a submission's cell metadata: a learner who marks a test cell as not
    graded makes ``OverwriteCells`` fail the whole submission ("Inconsistent checksums"),
    and a cell made up to look like nbgrader's can break its validation. This runs first
    in the sanitizing steps: every cell the gradebook knows gets the gradebook's flags and
    points back, and any other nbgrader metadata is dropped (the cell is then ordinary
    learner code).
    """

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        nbg = resources["nbgrader"]
        with Gradebook(nbg["db_url"]) as gb:
            notebook = gb.find_notebook(nbg["notebook"], nbg["assignment"])
            locked = {cell.name: cell.locked for cell in notebook.source_cells}
            points = {cell.name: cell.max_score for cell in notebook.grade_cells}
            points.update({cell.name: cell.max_score for cell in notebook.task_cells})
            solutions = {cell.name for cell in notebook.solution_cells}
            tasks = {cell.name for cell in notebook.task_cells}
        seen: set[str] = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id not in locked or grade_id in seen:
                # a copy of a known cell: the first one is the cell (nbgrader's own rule); nbgrader's
                # DeduplicateIds would leave the others an empty nbgrader dict, which OverwriteCells
                # then fails the whole submission on (KeyError: 'grade_id')
                if grade_id in seen:
                    self.log.warning("cell %s appears more than once; the copies after the first are learner code",
                                     grade_id)
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
            restored = {"grade": grade_id in points and grade_id not in tasks, "grade_id": grade_id,
                        "locked": locked[grade_id], "schema_version": 3, "solution": grade_id in solutions,
                        "task": grade_id in tasks}
            if grade_id in points:
                restored["points"] = points[grade_id]
            if restored != {k: meta.get(k) for k in restored}:
                self.log.warning("cell %s: its nbgrader metadata was changed; restored the instructor's", grade_id)
            cell.metadata["nbgrader"] = restored
        return nb, resources
