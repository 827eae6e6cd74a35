"""How big a class hub must be: memory per learner server, cores for grading.

The instructor's guide ("Sizing a class") runs this at every book build:
``learner_server_memory`` starts a real JupyterLab server and a real kernel that
imports what the chapters import, and reads how much memory each holds;
``grading_core_seconds`` reads what ``make bench`` measured for grading
(benchmarks/results.json); ``class_needs`` turns both, with the requests and
limits in hub/z2jh/values.yaml, into what a class of N learners needs.

Linux only: memory is read from ``/proc/<pid>/smaps_rollup``.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
VALUES = HERE / "values.yaml"
RESULTS = HERE.parent.parent / "benchmarks" / "results.json"
MIB = 2**20
# What a chapter's first cell imports (the setup cells of chapters/ch0*.md).
CHAPTER_IMPORTS = ("numpy", "torch", "matplotlib.pyplot", "dotlab")
# The grading figure of `make bench` (benchmarks/bench_grading.py) used here.
GRADING_FIGURE = re.compile(r"grade_class, (\d+) workers on (\d+) cores")
# Suffixes KubeSpawner accepts for memory (JupyterHub's ByteSpecification).
BYTE_SUFFIXES = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class SizingError(Exception):
    """A measurement that could not be made, with what was found instead."""


def resident_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` in bytes, shared libraries counted
    in full, as a container of its own is charged for them.

    Examples
    --------
    >>> resident_bytes(os.getpid()) > 0
    True
    """
    path = Path(f"/proc/{pid}/smaps_rollup")
    for line in path.read_text().splitlines():
        if line.startswith("Rss:"):
            return int(line.split()[1]) * 1024  # the file counts in kB
    raise SizingError(f"no Rss line in {path}")


def memory_bytes(spec: str | int | float) -> int:
    """A memory request or limit as KubeSpawner reads it, in bytes.

    KubeSpawner takes ``singleuser.memory`` through JupyterHub's
    ``ByteSpecification``: a number of bytes, or a number with one suffix of
    K, M, G or T (powers of 1024). Kubernetes spellings such as ``2Gi`` or
    ``2 GB`` are refused by it, so they are refused here too.

    Examples
    --------
    >>> memory_bytes("512M") == 512 * 2**20
    True
    >>> memory_bytes("2Gi")
    Traceback (most recent call last):
    ...
    ValueError: memory '2Gi' is not a number followed by one of K, M, G, T (KubeSpawner's units, powers of 1024)
    """
    if isinstance(spec, bool) or not isinstance(spec, (str, int, float)):
        raise ValueError(f"memory {spec!r} ({type(spec).__name__}) is neither a number nor a string")
    if isinstance(spec, (int, float)):
        return int(spec)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT])", spec)
    if not match:
        raise ValueError(f"memory {spec!r} is not a number followed by one of K, M, G, T "
                         f"(KubeSpawner's units, powers of 1024)")
    return int(float(match.group(1)) * BYTE_SUFFIXES[match.group(2)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_lab(root: Path) -> tuple[subprocess.Popen, str]:
    """A JupyterLab server on a free local port; returns it and its URL."""
    port, token = _free_port(), "sizing"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, f"http://127.0.0.1:{port}/api/status?token={token}"


def _wait_until_up(server: subprocess.Popen, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SizingError(f"JupyterLab exited with code {server.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SizingError(f"JupyterLab did not answer {url} within {timeout} s")


def learner_server_memory(timeout: float = 90) -> dict[str, int]:
    """Resident bytes of a learner's server: JupyterLab, and a kernel that
    imported what the chapters import, both measured once they are idle.

    Returns ``{"server": ..., "kernel": ...}``.
    """
    from jupyter_client import KernelManager  # the kernel JupyterLab would start

    with tempfile.TemporaryDirectory() as root:
        server, url = _start_lab(Path(root))
        kernel = KernelManager(kernel_name="python3")
        try:
            kernel.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
            client = kernel.client()
            client.start_channels()
            client.wait_for_ready(timeout=timeout)
            code = "import " + ", ".join(CHAPTER_IMPORTS)
            reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda _: None)
            if reply["content"]["status"] != "ok":
                raise SizingError(f"the kernel could not run {code!r}: {reply['content']}")
            _wait_until_up(server, url, timeout)
            client.stop_channels()
            return {"server": resident_bytes(server.pid),
                    "kernel": resident_bytes(kernel.provisioner.process.pid)}
        finally:
            kernel.shutdown_kernel(now=True)
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # nothing it started may outlive the page
                server.kill()
                server.wait()


@dataclass(frozen=True)
class Grading:
    """Grading throughput measured by ``make bench``."""

    seconds_per_learner: float  # wall time per submission with every core busy
    workers: int
    cores: int
    machine: str
    when: str

    @property
    def core_seconds_per_learner(self) -> float:
        """Core-seconds one submission costs: wall time per learner x cores."""
        return self.seconds_per_learner * self.cores


def grading_core_seconds(results: Path = RESULTS) -> Grading:
    """The grade_class figure of the last ``make bench`` (benchmarks/results.json)."""
    data = json.loads(results.read_text())
    figures = [f for f in data["figures"] if f["benchmark"] == "grading" and GRADING_FIGURE.search(f["what"])]
    if len(figures) != 1 or figures[0]["unit"] != "s/learner":
        found = [f["what"] for f in data["figures"] if f["benchmark"] == "grading"]
        raise SizingError(f"{results} should hold one 'grade_class, N workers on C cores' figure "
                          f"in s/learner; its grading figures are {found}")
    workers, cores = map(int, GRADING_FIGURE.search(figures[0]["what"]).groups())
    return Grading(figures[0]["value"], workers, cores, data["machine"], data["when"])


@dataclass(frozen=True)
class Requests:
    """What hub/z2jh/values.yaml asks Kubernetes for, per learner server."""

    memory_guarantee: int  # bytes
    memory_limit: int  # bytes
    cpu_guarantee: float  # cores
    cpu_limit: float  # cores


def values_requests(values: Path = VALUES) -> Requests:
    """The memory and CPU requests and limits of every learner's server."""
    single = yaml.safe_load(values.read_text())["singleuser"]
    return Requests(memory_bytes(single["memory"]["guarantee"]), memory_bytes(single["memory"]["limit"]),
                    float(single["cpu"]["guarantee"]), float(single["cpu"]["limit"]))


@dataclass(frozen=True)
class ClassNeeds:
    learners: int
    ram_reserved: int  # bytes Kubernetes sets aside: learners x memory guarantee
    ram_worst: int  # bytes if every server reached its limit
    cores_reserved: float  # learners x CPU guarantee
    grading_core_seconds: float  # the whole class, one assignment
    grading_cores: int  # cores that grade the class within the window


def class_needs(learners: int, requests: Requests, grading: Grading, window_s: float) -> ClassNeeds:
    """What ``learners`` servers reserve, and the cores that grade them in ``window_s``.

    Examples
    --------
    >>> r = Requests(512 * 2**20, 2 * 2**30, 0.1, 1.0)
    >>> g = Grading(1.0, 3, 2, "test machine", "now")
    >>> n = class_needs(30, r, g, window_s=60)
    >>> n.ram_reserved == 30 * 512 * 2**20, n.grading_core_seconds, n.grading_cores
    (True, 60.0, 1)
    """
    if learners < 1 or window_s <= 0:
        raise ValueError(f"learners={learners} must be at least 1 and window_s={window_s} positive")
    core_seconds = learners * grading.core_seconds_per_learner
    return ClassNeeds(learners, learners * requests.memory_guarantee, learners * requests.memory_limit,
                      learners * requests.cpu_guarantee, core_seconds, math.ceil(core_seconds / window_s))
