"""Confine a process that runs a learner's code: a sandbox, resource limits, files, network, signals.

Every process running learner code starts inside a bubblewrap sandbox
(:mod:`dotlab.grading.bubblewrap`: its own PID, network, IPC, mount and user namespaces,
uid 65534 without capabilities, a size-limited scratch tmpfs, torn down after each
notebook); :func:`wall` builds that start. Inside it, and wherever bwrap cannot run, the
process then confines itself with the layers below, before any learner code runs; they
are inherited by whatever it starts. Each is used where the operating system offers it
and skipped where it does not, so grading still works on a laptop, and
``python -m dotlab.grading.confine --describe`` says exactly what is not enforced:

========================  =============================================  ==================
layer                     what it stops                                  needs
========================  =============================================  ==================
``setrlimit``             huge memory (address space), endless CPU,      any POSIX system
                          huge files, too many open files, core dumps
``setrlimit`` processes   fork and thread bombs (tasks per sandbox)      bubblewrap, Linux 5.14+
``oom_score_adj``         the OOM killer taking the grader: learner      Linux
                          processes are always its first choice
seccomp                   memory no limit counts: System V shared        Linux, x86-64 or
                          memory, anonymous memory files (memfd); a      arm64
                          session of its own (its own share of the CPU)
Landlock, files           reading instructor files (solutions, the       Linux 5.13+ with
                          gradebook), other learners' work, writing      Landlock enabled
                          anywhere but the process's scratch folder,
                          creating anything there but regular files
                          and folders (no symlinks, hard links across
                          folders, sockets, devices)
Landlock, TCP             connecting anywhere (binding only the          Linux 6.7+
                          kernel's own ports)
Landlock, signals         killing or stopping the grader                 Linux 6.12+
network namespace         all networking (``unshare --net``), where      root, or user
                          bubblewrap cannot run                          namespaces
========================  =============================================  ==================

Landlock (https://docs.kernel.org/userspace-api/landlock.html) needs no privileges: an
instructor who is not root gets the same protection as CI.

Run as ``python -m dotlab.grading.confine SPEC -- COMMAND...`` it confines itself as SPEC
(JSON) says and then executes COMMAND: this is how the grader starts Jupyter kernels.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import platform
import resource
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

GIB = 2**30

# -- Landlock, through its three system calls (the numbers are the same on every arch) --
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1

# filesystem rights (include/uapi/linux/landlock.h), and the ABI version that added each
_FS = {
    "execute": (1 << 0, 1), "write_file": (1 << 1, 1), "read_file": (1 << 2, 1), "read_dir": (1 << 3, 1),
    "remove_dir": (1 << 4, 1), "remove_file": (1 << 5, 1), "make_char": (1 << 6, 1), "make_dir": (1 << 7, 1),
    "make_reg": (1 << 8, 1), "make_sock": (1 << 9, 1), "make_fifo": (1 << 10, 1), "make_block": (1 << 11, 1),
    "make_sym": (1 << 12, 1), "refer": (1 << 13, 2), "truncate": (1 << 14, 3), "ioctl_dev": (1 << 15, 5),
}
# rights that make sense on a single file rather than a directory
_FILE_RIGHTS = ("execute", "write_file", "read_file", "truncate", "ioctl_dev")
_READ = ("execute", "read_file", "read_dir")
# a scratch folder: regular files and folders only. No make_sym (a symlink the grader could
# follow), no refer (a hard link or rename from another folder), no sockets, fifos, devices,
# and nothing it wrote may be executed.
_WRITE = ("read_file", "read_dir", "write_file", "truncate", "remove_file", "remove_dir", "make_reg", "make_dir")
# the kernel's ZeroMQ folder: its own sockets, and the connection file it reads
_SOCKETS = ("read_file", "read_dir", "make_sock", "remove_file")
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


@lru_cache(maxsize=1)
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers (0: none).

    Examples
    --------
    >>> landlock_abi() >= 0
    True
    """
    if not sys.platform.startswith("linux"):
        return 0
    version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _rights(names, abi: int) -> int:
    return sum(bit for name, (bit, since) in _FS.items() if name in names and since <= abi)


def _landlock(read: list[str], write: list[str], bind_ports: list[int], abi: int, sockets: list[str] = ()) -> list[str]:
    """Allow only ``read`` (read, execute), ``write`` (regular files and folders) and
    ``sockets`` (make sockets) below those paths; nothing else anywhere."""
    libc = _libc()
    handled_fs = _rights(_FS, abi)
    attr = _RulesetAttr(handled_fs, _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, names in ((read, _READ), (write, _WRITE), (sockets, _SOCKETS)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path that does not exist here needs no rule
                try:
                    is_dir = os.path.isdir(path)
                    allowed = _rights(names if is_dir else [n for n in names if n in _FILE_RIGHTS], abi)
                    rule = _PathBeneathAttr(allowed, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(fd)
        if abi >= 4:
            for port in bind_ports:
                rule = _NetPortAttr(_NET_BIND_TCP, port)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_NET_PORT, ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for port {port}")
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    layers = [f"files (Landlock ABI {abi})"]
    if abi >= 4:
        layers.append("TCP (Landlock)")
    if abi >= 6:
        layers.append("signals (Landlock)")
    return layers


# -- seccomp: the system calls that make memory no limit counts ---------------------------
#
# RLIMIT_AS caps the memory a process maps, the tmpfs caps its files: two system calls make
# memory that neither counts (a third, setsid, is refused for the CPU: see DENIED_SYSCALLS). A System V shared memory segment stays allocated after it is
# detached, in no process's address space, so one process can pile up segments without end,
# and the OOM killer cannot free them by killing anyone (it would kill the grader instead);
# an anonymous memory file (memfd) holds memory outside both the address space and the
# scratch folder. No library the course uses needs either: both are refused (EPERM). The
# filter is a short classic-BPF program (the kernel's own seccomp; libseccomp has no Python
# binding in the venv): the architecture is checked first, so that a 32-bit system call
# (int 0x80) or an x32 one cannot reach the same calls under other numbers.

_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x06
_X32_SYSCALL_BIT = 0x40000000
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
DENIED_SYSCALLS = {  # name -> its number on each architecture (the kernel's syscall tables)
    "shmget": {"x86_64": 29, "aarch64": 194},
    "memfd_create": {"x86_64": 319, "aarch64": 279},
    "memfd_secret": {"x86_64": 447, "aarch64": 447},
    # A session of its own. Linux's scheduler shares the CPU between sessions (autogroups,
    # sched_autogroup_enabled), and bubblewrap starts each sandbox in a new one: all a learner's
    # processes together get one share, next to each other learner's and the grader's. A process
    # that started its own session would get a share of its own, so 60 busy ones would slow
    # everyone else's grading 60 times. Nothing grading runs needs a new session.
    "setsid": {"x86_64": 112, "aarch64": 157},
}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str | None = None) -> list[tuple[int, int, int, int]] | None:
    """The filter as (code, jt, jf, k) instructions, or None on an architecture it does not know.

    Examples
    --------
    >>> program = seccomp_program("x86_64")
    >>> program[-2:] == [(0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050001)]  # allow, else EPERM
    True
    >>> seccomp_program("sparc") is None
    True
    """
    machine = machine or platform.machine()
    if machine not in _AUDIT_ARCH:
        return None
    deny = "deny"
    program: list = [(_BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
                     (_BPF_JEQ_K, 1, 0, _AUDIT_ARCH[machine]),
                     (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | 1),  # another architecture's calls: none
                     (_BPF_LD_W_ABS, 0, 0, 0)]  # seccomp_data.nr
    if machine == "x86_64":
        program.append((_BPF_JGE_K, deny, 0, _X32_SYSCALL_BIT))
    program += [(_BPF_JEQ_K, deny, 0, numbers[machine]) for numbers in DENIED_SYSCALLS.values()]
    program += [(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW), (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | 1)]  # EPERM
    last = len(program) - 1
    return [(code, last - i - 1 if jt == deny else jt, jf, k) for i, (code, jt, jf, k) in enumerate(program)]


def _seccomp() -> bool:
    """Install the filter on this process (inherited by all it starts); False where it cannot be."""
    program = seccomp_program()
    if program is None or not sys.platform.startswith("linux"):
        return False
    filters = (_SockFilter * len(program))(*[_SockFilter(*ins) for ins in program])
    fprog = _SockFprog(len(program), filters)
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
    return True


def counts_processes_per_sandbox() -> bool:
    """Whether RLIMIT_NPROC counts a sandbox's own tasks only (Linux 5.14+).

    Since 5.14 the kernel counts tasks per user *and user namespace* (ucounts), and each
    bubblewrap sandbox has a user namespace of its own: a cap set inside counts that
    sandbox alone. Before, it counted every process of the uid on the machine, which
    learners graded side by side (all uid 65534) would share: one learner's fork bomb
    would stop the others'.

    Examples
    --------
    >>> isinstance(counts_processes_per_sandbox(), bool)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        major, minor = (int(part) for part in platform.release().split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (5, 14)


# -- what a confined Python process needs to read -------------------------------------

# System files a Python process (numpy, torch, matplotlib) reads; nothing here is private.
_SYSTEM_READ = [
    "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/opt/conda",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/fonts", "/etc/mime.types", "/etc/matplotlibrc",
    "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/filesystems", "/sys/devices/system/cpu", "/sys/fs/cgroup",
    "/dev/urandom", "/dev/random",
]
_SYSTEM_WRITE = ["/dev/null", "/dev/zero"]


def python_paths(executable: str | None = None) -> list[str]:
    """Where an interpreter finds its standard library and packages.

    For this interpreter the answer is read from ``sys``; for another one (a kernel in a
    different environment) it is asked once.
    """
    if executable is None or os.path.realpath(executable) == os.path.realpath(sys.executable):
        paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
        paths += [p for p in sysconfig.get_paths().values()]
        if site.ENABLE_USER_SITE:
            paths.append(site.getusersitepackages())
        paths.append(os.path.dirname(os.path.realpath(sys.executable)))
        return [p for p in paths if p]
    return list(_other_python_paths(executable))


@lru_cache(maxsize=8)
def _other_python_paths(executable: str) -> tuple[str, ...]:
    code = "import sys, json, sysconfig; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path, *sysconfig.get_paths().values()]))"
    try:
        out = subprocess.run([executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
        return tuple(json.loads(out)) + (os.path.dirname(os.path.realpath(executable)),)
    except (OSError, subprocess.SubprocessError, ValueError):
        log.warning("could not ask %s for its paths; its kernel may not start confined", executable)
        return ()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def readable_paths(secret: list, extra: list[str] = (), executable: str | None = None) -> list[str]:
    """The read allow-list: Python, its packages and system files, minus anything secret.

    A path is dropped when it holds or lies inside one of ``secret`` (solutions, the
    gradebook, submissions): allowing ``/work/course`` would let a learner read
    ``/work/course/solutions``, while ``/work/course/.venv`` is harmless.

    Examples
    --------
    >>> "/usr" in readable_paths([Path("/usr/lib/secret")], extra=["/usr"])
    False
    >>> "/usr" in readable_paths([Path("/srv/course/solutions")], extra=["/usr"])
    True
    """
    secret = [Path(os.path.realpath(p)) for p in secret]
    keep = []
    for raw in [*python_paths(executable), *extra, *_SYSTEM_READ]:
        path = Path(os.path.realpath(raw)) if raw else None
        if path is None or not path.exists():
            continue
        if any(_inside(q, path) or _inside(path, q) for q in secret):
            log.debug("not readable by learner code: %s (it holds or is inside private files)", raw)
            continue
        if str(path) not in keep:
            keep.append(str(path))
    return keep


# -- the confinement itself ------------------------------------------------------------

_ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "MPLBACKEND", "HF_HUB_OFFLINE",
             "TRANSFORMERS_OFFLINE", "NBGRADER_EXECUTION", "JPY_PARENT_PID", "JPY_SESSION_NAME", "SYSTEMROOT")


def scrubbed_env(env: dict[str, str], home: str) -> dict[str, str]:
    """The environment learner code sees: no credentials, caches in its own folder.

    Examples
    --------
    >>> sorted(scrubbed_env({"PATH": "/bin", "PGPASSWORD": "secret"}, "/tmp/x"))[:3]
    ['HOME', 'IPYTHONDIR', 'JUPYTER_CONFIG_DIR']
    >>> "PGPASSWORD" in scrubbed_env({"PGPASSWORD": "secret"}, "/tmp/x")
    False
    """
    kept = {k: v for k, v in env.items() if k in _ENV_KEEP or k.startswith("LC_")}
    kept.update(
        HOME=home, TMPDIR=home, IPYTHONDIR=os.path.join(home, ".ipython"), MPLCONFIGDIR=os.path.join(home, ".matplotlib"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_CONFIG_HOME=os.path.join(home, ".config"),
        JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"), JUPYTER_DATA_DIR=os.path.join(home, ".jupyter-data"),
        JUPYTER_RUNTIME_DIR=os.path.join(home, ".jupyter-runtime"), PYTHONDONTWRITEBYTECODE="1",
        # one thread per library: predictable memory, and parallel grading does not oversubscribe the cores
        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
    )
    if site.ENABLE_USER_SITE and site.getuserbase():
        kept["PYTHONUSERBASE"] = site.getuserbase()
    return kept


@dataclass
class Confinement:
    """What a process running learner code may use. Sizes in bytes, times in seconds."""

    memory: int | None = 4 * GIB  # address space: numpy needs ~0.1 GiB, torch ~1 GiB
    cpu: int | None = None  # CPU seconds before the kernel stops the process (a backstop to wall-clock timeouts)
    file_size: int | None = 64 * 2**20  # largest file it may write
    # tasks (processes and threads) at once, counted per user namespace: set only inside a sandbox of
    # its own (see counts_processes_per_sandbox). A Jupyter kernel has 14 threads of its own.
    processes: int | None = None
    # descriptors per process: ipykernel and ZeroMQ use a few dozen; the machine's default is thousands
    open_files: int | None = 1024
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    bind_ports: list[int] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)  # folders where it may make sockets (the kernel's ZeroMQ)
    landlock: bool = True
    die_with_parent: bool = False  # SIGKILL when the thread that started it exits
    home: str | None = None  # for a wrapped command: its HOME, TMPDIR and caches; the environment is scrubbed
    pid_namespace: bool = False  # in a sandbox's PID namespace: its parent is PID 1, and it dies with the sandbox

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Confinement":
        return cls(**json.loads(text))


def _set_limit(which: int, value: int | None) -> None:
    """Set soft and hard limit alike, so learner code cannot raise it again."""
    if value is None:
        return
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def apply(conf: Confinement) -> list[str]:
    """Confine this process as ``conf`` says; return the layers in force."""
    layers = []
    if conf.die_with_parent and sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # never outlive the grader
    _set_limit(resource.RLIMIT_AS, conf.memory)
    _set_limit(resource.RLIMIT_FSIZE, conf.file_size)
    _set_limit(resource.RLIMIT_NOFILE, conf.open_files)
    # a core dump is written by the kernel, possibly through a helper on the host: none
    _set_limit(resource.RLIMIT_CORE, 0)
    if conf.processes is not None and counts_processes_per_sandbox():
        # fork fails with EAGAIN at the cap: a fork or thread bomb stops at once, not at a timeout
        _set_limit(resource.RLIMIT_NPROC, conf.processes)
        layers.append(f"processes {conf.processes}")
    if _oom_first():
        layers.append("OOM killer's first choice")
    if conf.cpu is not None:
        # the soft limit sends SIGXCPU; the hard one, a second later, SIGKILL
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        cap = conf.cpu if hard == resource.RLIM_INFINITY else min(conf.cpu, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 1 if hard == resource.RLIM_INFINITY else hard))
    layers += [f"memory {conf.memory / GIB:.1f} GiB" if conf.memory else "memory unlimited",
               f"cpu {conf.cpu} s" if conf.cpu else "cpu unlimited"]
    if _seccomp():
        layers.append("seccomp (no System V shared memory, no memfd, no new session)")
    abi = landlock_abi() if conf.landlock else 0
    if abi:
        layers += _landlock(conf.read, conf.write + _SYSTEM_WRITE, conf.bind_ports, abi, conf.sockets)
    return layers


def _oom_first() -> bool:
    """Make this process (and all it starts) the OOM killer's first choice.

    Address-space limits are per process: a learner with many processes, or several
    learners graded side by side, can still run the machine out of memory. The kernel
    then kills the process with the highest score; at 1000, learner code always goes
    before the grader, and among learners the biggest goes first (the one that filled
    memory). Raising one's own score needs no privilege; lowering it again means writing
    ``/proc/self/oom_score_adj``, which Landlock (applied after this) forbids.
    """
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
        return True
    except OSError:
        return False


@lru_cache(maxsize=1)
def network_namespace_prefix() -> tuple[str, ...]:
    """A command prefix that starts a program with no network, or () where none works.

    ``unshare --net`` needs root; ``unshare --user --map-root-user --net`` works for
    anyone where unprivileged user namespaces are enabled.
    """
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    for prefix in ((unshare, "--net"), (unshare, "--user", "--map-root-user", "--net")):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    return ()


# -- the start: bubblewrap, or the fallback ---------------------------------------------

@dataclass
class Wall:
    """How a process running learner code is started, and torn down.

    ``prefix`` goes before its command; ``scratch`` is its only writable folder, as it
    sees it (bwrap's tmpfs, or ``host_scratch`` where bwrap cannot run); ``pass_fds`` must
    reach bwrap (``subprocess.Popen(pass_fds=...)``), and :meth:`started` be called once
    it is launched.
    """

    prefix: list[str]
    scratch: str
    launch: object | None = None  # bubblewrap.Launched

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.launch.write_fd,) if self.launch is not None else ()

    def started(self) -> None:
        if self.launch is not None:
            from dotlab.grading import bubblewrap

            bubblewrap.started(self.launch)

    def tear_down(self) -> bool:
        """End every process of the sandbox, and wait until they are gone (True if they are)."""
        if self.launch is None:
            return True
        from dotlab.grading import bubblewrap

        return bubblewrap.tear_down(self.launch)


def wall(read: list[str], host_scratch: str, disk: int, sockets: str | None = None, network: bool = False,
         as_pid_1: bool = False) -> Wall:
    """The start of a process that runs learner code: in a bubblewrap sandbox where bwrap
    runs here, else in a network namespace (where ``unshare`` works) with ``host_scratch``
    as its scratch folder. ``read`` are the paths it may read, ``disk`` the bytes it may
    write, ``sockets`` a folder where it may make sockets; ``network=True`` (debugging
    only) keeps the network where bwrap cannot run; ``as_pid_1``: see
    :func:`dotlab.grading.bubblewrap.command`."""
    from dotlab.grading import bubblewrap

    if bubblewrap.available() == "":
        launch = bubblewrap.Launched.pipe()
        prefix = bubblewrap.command(read=read, scratch_size=disk, sockets=sockets, info_fd=launch.write_fd,
                                    as_pid_1=as_pid_1)
        return Wall(prefix, bubblewrap.SCRATCH, launch)
    return Wall([] if network else list(network_namespace_prefix()), host_scratch)


def describe() -> list[str]:
    """One line per protection this machine gives learner code (for logs and the guide)."""
    from dotlab.grading import bubblewrap

    abi = landlock_abi()
    lines = bubblewrap.describe() + ["resource limits: address space, CPU time, file size, open files, no core "
                                     "dumps (setrlimit); learner processes are the OOM killer's first choice"]
    if bubblewrap.available() == "" and counts_processes_per_sandbox():
        lines.append("processes: a cap on the tasks of each sandbox (RLIMIT_NPROC, counted in its own user "
                     "namespace): fork and thread bombs stop at the cap. NOT enforced: a cap on the memory of a "
                     "sandbox as a whole (no cgroup): it is at most its processes times the address-space limit")
    else:
        lines.append("processes: NOT capped (needs bubblewrap and Linux 5.14+): a fork bomb runs until its timeout")
    lines.append("seccomp: System V shared memory, memfd and new sessions refused (a sandbox's processes share "
                 "one session, so one share of the CPU where the scheduler groups by session)"
                 if seccomp_program() is not None
                 else f"seccomp: NOT enforced on {platform.machine()}: System V shared memory and memfd hold memory "
                      "no limit counts, and each session a learner starts gets a share of the CPU of its own")
    if abi:
        lines.append(f"Landlock ABI {abi}: files (read-only Python, regular files only in scratch: no symlinks"
                     + (", no hard links from other folders" if abi >= 2 else "") + ")"
                     + (", TCP" if abi >= 4 else "") + (", signals" if abi >= 6 else ""))
    else:
        lines.append("no Landlock: NOT enforced beyond bubblewrap: learner code may create symlinks, hard links and "
                     "sockets in its scratch folder" + ("" if bubblewrap.available() == "" else
                                                        ", read any file the grader can, write the grader's files")
                     + " (upgrade to Linux 5.13+)")
    if bubblewrap.available() != "":
        netns = network_namespace_prefix()
        lines.append("network: none (network namespace, unshare)" if netns
                     else "network: NOT isolated (no bwrap, no unshare): only Landlock's TCP rules, if any, limit it")
    return lines


def main(argv: list[str]) -> None:
    """``python -m dotlab.grading.confine SPEC -- COMMAND...``: confine, then exec COMMAND.

    ``python -m dotlab.grading.confine --describe`` says what this machine can enforce.
    """
    if argv in ([], ["--describe"]):
        print("\n".join(describe()))
        return
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m dotlab.grading.confine SPEC -- COMMAND...  (or --describe)")
    conf = Confinement.from_json(argv[0])
    env = dict(os.environ)
    if conf.home:
        env = scrubbed_env(env, conf.home)
        if conf.pid_namespace:
            # ipykernel would shut down on seeing its parent is PID 1, which in a PID namespace it
            # always is; bwrap's --die-with-parent ends it with the grader instead
            env.pop("JPY_PARENT_PID", None)
        for key in ("IPYTHONDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "JUPYTER_CONFIG_DIR",
                    "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
            os.makedirs(env[key], exist_ok=True)
    apply(conf)
    os.execvpe(argv[2], argv[2:], env)


if __name__ == "__main__":
    main(sys.argv[1:])
