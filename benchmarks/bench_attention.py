"""Attention: plain against tiled (peak memory and time), and dotlab against PyTorch (time).

Two comparisons, each printed side by side with its peer from the same run:

1. Plain attention as the textbook writes it, the whole T x T table of weights and then
   the mix (``attention_weights(q, k) @ v``), against ``dotlab.tiled.tiled_attention``
   (online softmax, one tile at a time) at T = 4,096 and 16,384, one head, d = 64,
   float32. Target: at 16,384 the tiled version's peak memory is at least 8 times lower.
   (``dotlab.scaled_dot_product_attention`` itself builds the table a block of whole
   rows at a time; its memory is printed for reference.)
2. ``dotlab.scaled_dot_product_attention`` against
   ``torch.nn.functional.scaled_dot_product_attention`` at T = 1,024 and 4,096, the same
   float32 inputs of shape (1, 8, T, 64). Target: dotlab within 2x of torch's time.

Peak memory is measured honestly: every measurement runs in a fresh Python process,
which makes its inputs and warms up, then resets the kernel's record of its peak
resident memory (``/proc/self/clear_refs``, Linux) and reads the new peak after one
call. The difference is what the call added at its peak, whatever allocated it (NumPy,
BLAS, the allocator's slack); ``ru_maxrss`` alone would hide it under the transient peak
of the imports. NumPy's own peak allocation (``tracemalloc``) is printed alongside.
Times are the best of several calls after a warm-up, each kind in its own process, with
both libraries on the machine's default number of threads.

Run: ``python benchmarks/bench_attention.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from report import Figure, emit

D_HEAD = 64

# The child makes its inputs, warms up on a tiny problem (imports, first-call set-up),
# then either measures memory (mode "memory") or time (mode "time"), never both: the
# memory probe's tracemalloc would slow the tiled loop down.
CHILD = r"""
import json, sys, time
import numpy as np

kind, mode, T, heads, d, repeat = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
rng = np.random.default_rng(0)
shape = (heads, T, d) if heads > 1 else (T, d)
q, k, v = (rng.standard_normal(shape, dtype=np.float32) for _ in range(3))
# 4-D (batch, heads, T, d) for several heads: the layout torch's fused CPU kernel takes
# (given 3-D input, torch falls back to its slower unfused "math" path)
if heads > 1:
    q, k, v = q[None], k[None], v[None]

if kind == "torch":
    import torch
    import torch.nn.functional as F
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    run = lambda: F.scaled_dot_product_attention(tq, tk, tv).numpy()
    F.scaled_dot_product_attention(tq[..., :8, :], tk[..., :8, :], tv[..., :8, :])
else:
    if kind == "table":  # the textbook computation: the whole table of weights, then mix
        from dotlab.attention import attention_weights
        fn = lambda q, k, v: attention_weights(q, k) @ v
    elif kind == "dotlab":
        from dotlab.attention import scaled_dot_product_attention as fn
    else:
        from dotlab.tiled import tiled_attention as fn
    run = lambda: fn(q, k, v)
    fn(q[..., :8, :], k[..., :8, :], v[..., :8, :])


def status(field):
    # Linux: VmRSS is resident memory now, VmHWM its peak ("high water mark"), in kB
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024


if mode == "memory":
    import gc, tracemalloc
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak to the current resident size (Linux 4.0+)
    rss_before = status("VmRSS")
    out = run()
    rss_peak = status("VmHWM") - rss_before  # resident memory the call added at its peak
    del out
    gc.collect()
    tracemalloc.start()
    out = run()
    traced_peak = tracemalloc.get_traced_memory()[1]  # what NumPy itself allocated, at its peak
    tracemalloc.stop()
    report = {"rss_peak": rss_peak, "traced_peak": traced_peak}
else:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    report = {"best": min(times)}
report["checksum"] = float(np.asarray(out, dtype=np.float64).sum())
print(json.dumps(report))
"""


def measure(kind: str, mode: str, T: int, heads: int = 1, repeat: int = 3) -> dict:
    """Run one measurement in a fresh process and return its JSON report."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, mode, str(T), str(heads), str(D_HEAD), str(repeat)],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} ({mode}) at T={T} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mib(n_bytes: float) -> float:
    return n_bytes / 2**20


def agree(a: dict, b: dict) -> bool:
    return abs(a["checksum"] - b["checksum"]) <= 1e-3 * (1 + abs(b["checksum"]))


def plain_against_tiled() -> None:
    for T in (4096, 16384):
        memory = {kind: measure(kind, "memory", T) for kind in ("table", "tiled", "dotlab")}
        timing = {kind: measure(kind, "time", T, repeat=3) for kind in ("table", "tiled")}
        plain, tiled, rows = memory["table"], memory["tiled"], memory["dotlab"]
        print(f"T = {T:,}: one float32 score table is {mib(T * T * 4):,.0f} MiB; outputs agree: "
              f"{agree(plain, tiled)}; NumPy's own allocations at their peak (tracemalloc): "
              f"plain {mib(plain['traced_peak']):,.1f} MiB, tiled {mib(tiled['traced_peak']):,.1f} MiB; "
              f"dotlab.scaled_dot_product_attention (row blocks, whole rows) adds {mib(rows['rss_peak']):,.1f} MiB")
        ratio = plain["rss_peak"] / max(tiled["rss_peak"], 1)
        emit(Figure("attention", f"tiled attention, resident memory added at peak, T = {T:,} (1 head, d = {D_HEAD}, float32)",
                    mib(tiled["rss_peak"]), "MiB", peer="plain attention (whole table)", peer_value=mib(plain["rss_peak"]),
                    target="tiled at least 8x lower" if T == 16384 else "",
                    met=(ratio >= 8) if T == 16384 else None))
        emit(Figure("attention", f"tiled attention time, T = {T:,}", timing["tiled"]["best"], "s",
                    peer="plain attention (whole table)", peer_value=timing["table"]["best"]))


def dotlab_against_torch() -> None:
    heads = 8
    for T in (1024, 4096):
        ours, theirs = measure("dotlab", "time", T, heads=heads, repeat=5), measure("torch", "time", T, heads=heads, repeat=5)
        print(f"T = {T:,}, {heads} heads: outputs agree with torch: {agree(ours, theirs)}")
        emit(Figure("attention", f"dotlab attention time, T = {T:,} (1 x {heads} heads, d = {D_HEAD}, float32)",
                    ours["best"], "s", peer="torch scaled_dot_product_attention", peer_value=theirs["best"],
                    target="within 2x of torch", met=ours["best"] <= 2 * theirs["best"]))


def main() -> None:
    import numpy as np
    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
    plain_against_tiled()
    dotlab_against_torch()
    # Other processes on the machine slow both sides of each comparison, not always equally.
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
