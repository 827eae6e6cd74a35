"""How long a reader and an author wait: a clean book build, a rebuild with nothing
changed, and the execution time of every chapter page and every assignment notebook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient

from report import Figure, emit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def build() -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run([str(BIN / "jupyter-book"), "build", ".", "--builder", "html", "-n", "-W", "--keep-going"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def toc_pages() -> list[Path]:
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [ROOT / f"{name}.md" for name in walk(toc)]
    return [p for p in pages if p.exists() and "kernelspec" in p.read_text()[:600]]


def execute(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Seconds from starting a fresh kernel to the last cell's output: what a reader
    waits for after "Restart and run all". Shutting the kernel down afterwards (about a
    second, spent by the build, not the reader) is not counted."""
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.reset_execution_trackers()
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        seconds = time.perf_counter() - start
    return seconds


def main():
    for folder in ("_build", ".jupyter_cache"):
        shutil.rmtree(ROOT / folder, ignore_errors=True)
    clean = build()
    emit(Figure("book", "clean build (execute every page)", clean, "s", target="< 240 s", met=clean < 240))
    rebuild = build()
    emit(Figure("book", "rebuild with nothing changed", rebuild, "s", target="< 20 s", met=rebuild < 20))
    for page in toc_pages():
        seconds = execute(jupytext.read(page), page.parent)
        emit(Figure("notebooks", f"page {page.relative_to(ROOT)}", seconds, "s", target="< 15 s", met=seconds < 15))
    for solution in sorted((ROOT / "solutions").glob("ch*/ch*.ipynb")):
        seconds = execute(nbformat.read(solution, as_version=4), solution.parent)
        emit(Figure("notebooks", f"assignment {solution.relative_to(ROOT)} (solved)", seconds, "s", target="< 15 s", met=seconds < 15))


if __name__ == "__main__":
    main()
