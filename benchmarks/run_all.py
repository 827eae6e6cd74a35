"""`make bench`: run every benchmark script and write one table, benchmarks/RESULTS.md.

Each ``bench_*.py`` runs in its own process (so one's memory and threads do not colour
another's figures) and reports through ``report.emit``. The figures are kept as they
were measured in benchmarks/results.json, with the machine and the time of the run; the
table keeps each figure next to its peer from the same run.

    python run_all.py              # run everything, write results.json and RESULTS.md
    python run_all.py top_k book   # only the scripts whose names contain these words (prints; writes nothing)
    python run_all.py --table      # write RESULTS.md again from results.json, running nothing
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
FIGURES = HERE / "results.json"


def _fmt(value, unit=""):
    if value is None:
        return ""
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text}\u00a0{unit}" if unit else text  # a no-break space: "9.01 s" never splits


def _cell(text: str) -> str:
    """Table text that cannot break a column."""
    return text.replace("|", "\\|")


def run(script: Path, out: Path) -> tuple[int, str]:
    env = {**os.environ, "DOTLAB_BENCH_OUT": str(out)}
    print(f"\n== {script.name}", flush=True)
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=HERE.parent, text=True, capture_output=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stdout.write(done.stderr[-3000:])
    return done.returncode, done.stderr


def table(rows: list[dict]) -> str:
    """One small table per benchmark, five columns, so it reads on a page and a phone."""
    sections = []
    for benchmark in dict.fromkeys(r["benchmark"] for r in rows):
        lines = [f"### {benchmark}", "", "| figure | ours | peer, same run | ours vs peer | target |",
                 "|---|---:|---|---:|---|"]
        for r in (r for r in rows if r["benchmark"] == benchmark):
            peer = f"{_cell(r['peer'])}: {_fmt(r['peer_value'], r['unit'])}" if r["peer_value"] is not None else ""
            ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else ""
            verdict = {True: " (met)", False: " (**missed**)", None: ""}[r["met"]]
            target = f"{_cell(r['target'])}{verdict}" if r["target"] else ""
            lines.append(f"| {_cell(r['what'])} | {_fmt(r['value'], r['unit'])} | {peer} | {ratio} | {target} |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def write_table(record: dict) -> None:
    rows, failures = record["figures"], record["failed_scripts"]
    missed = [r for r in rows if r["met"] is False]
    text = (
        "# Benchmark results\n\n"
        f"Measured by `make bench` on {record['when']}, on: {record['machine']}.\n\n"
        f"{len(rows)} figures; {sum(r['met'] is True for r in rows)} targets met, {len(missed)} missed. "
        "Every figure and its peer come from the same run. \"Ours vs peer\" is how many times"
        " better ours is (faster, smaller, or a larger share): above 1, ours wins.\n\n" + table(rows) + "\n"
    )
    if failures:
        text += "\nScripts that failed in this run: " + ", ".join(failures) + "\n"
    RESULTS.write_text(text)
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)} ({len(rows)} figures)")


def main(selected: list[str]) -> int:
    if selected == ["--table"]:
        write_table(json.loads(FIGURES.read_text()))
        return 0
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
    if selected:  # a partial run must not replace the table of a full one
        print(f"\n{len(rows)} figures printed above; results.json and RESULTS.md are written only by a full run")
        return 1 if failures else 0
    record = {
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "failed_scripts": failures,
        "figures": rows,
    }
    FIGURES.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    write_table(record)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
