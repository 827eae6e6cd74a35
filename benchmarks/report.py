"""One format for every benchmark's figures, so `make bench` can gather them in a table.

A benchmark script prints its figures for a person to read and, when run by
``benchmarks/run_all.py``, also appends them as JSON lines to the file named by the
``DOTLAB_BENCH_OUT`` environment variable.
"""

from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass


@dataclass
class Figure:
    """One measured figure, with its peer from the same run where there is one."""

    benchmark: str
    what: str
    value: float
    unit: str
    peer: str = ""
    peer_value: float | None = None
    target: str = ""
    met: bool | None = None
    higher_is_better: bool = False  # times and bytes: lower is better

    @property
    def ratio(self) -> float | None:
        """How many times better ours is than the peer (above 1: ours wins)."""
        if self.peer_value in (None, 0) or self.value == 0:
            return None
        return self.value / self.peer_value if self.higher_is_better else self.peer_value / self.value


def emit(figure: Figure) -> Figure:
    """Print a figure and record it for the report."""
    line = f"{figure.what}: {figure.value:.4g} {figure.unit}"
    if figure.peer_value is not None:
        line += f"   | {figure.peer}: {figure.peer_value:.4g} {figure.unit}"
        if figure.ratio is not None:
            line += f"   | ours is {figure.ratio:.2f}x as good"
    if figure.target:
        line += f"   | target: {figure.target} ({'met' if figure.met else 'MISSED'})"
    print(line, flush=True)
    out = os.environ.get("DOTLAB_BENCH_OUT")
    if out:
        with open(out, "a") as handle:
            handle.write(json.dumps({**asdict(figure), "ratio": figure.ratio}) + "\n")
    return figure


@contextmanager
def stopwatch():
    """``with stopwatch() as elapsed: ...`` then ``elapsed()`` gives seconds."""
    start = time.perf_counter()
    end = None

    def elapsed():
        return (end if end is not None else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def best_of(fn, repeat: int = 5, warmup: int = 1) -> float:
    """The fastest of ``repeat`` timed calls after ``warmup`` untimed ones, in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"
