"""How long the whole test suite takes, run exactly as `make test` runs it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from report import Figure, emit

ROOT = Path(__file__).resolve().parents[1]


def main():
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup", "-q"],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
    emit(Figure("tests", "full test suite (`make test`, 2 workers)", seconds, "s", met=done.returncode == 0,
                target="all pass"))


if __name__ == "__main__":
    main()
