"""`make bench`: run every benchmark script and write one table, benchmarks/RESULTS.md.

Each ``bench_*.py`` runs in its own process (so one's memory and threads do not colour
another's figures) and reports through ``report.emit``. The table keeps each figure next
to its peer from the same run, and names the machine it ran on.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from report import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def _fmt(value, unit=""):
    if value is None:
        return ""
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def run(script: Path, out: Path) -> tuple[int, str]:
    env = {**os.environ, "DOTLAB_BENCH_OUT": str(out)}
    print(f"\n== {script.name}", flush=True)
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=HERE.parent, text=True, capture_output=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stdout.write(done.stderr[-3000:])
    return done.returncode, done.stderr


def table(rows: list[dict]) -> str:
    lines = [
        "| benchmark | figure | ours | peer | peer's | ours vs peer | target | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else ""
        lines.append(
            f"| {r['benchmark']} | {r['what']} | {_fmt(r['value'], r['unit'])} | {r['peer']} | "
            f"{_fmt(r['peer_value'], r['unit'])} | {ratio} | {r['target']} | {met} |"
        )
    return "\n".join(lines)


def main(selected: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if any(name in s.name for name in selected)]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.jsonl"
        out.touch()
        for script in scripts:
            code, _ = run(script, out)
            if code != 0:
                failures.append(script.name)
        rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "# Benchmark results\n\n"
        f"Measured by `make bench` on {stamp}, on: {machine()}.\n\n"
        "Every figure and its peer come from the same run. \"Ours vs peer\" is how many times"
        " better ours is (faster, smaller, or a larger share): above 1, ours wins.\n\n" + table(rows) + "\n"
    )
    if failures:
        text += "\nScripts that failed in this run: " + ", ".join(failures) + "\n"
    RESULTS.write_text(text)
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)} ({len(rows)} figures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
