"""Constructs in a learner's cells that can switch the sandbox's tripwires off, read from their source.

The sandbox's tripwires run inside the learner's own process, so code written to find
them there can disarm them; that is best-effort by nature (see the instructor's guide).
Two layers see such code without trusting that process:

- the task's allowlist (:mod:`dotlab.checks._allow`) refuses them in the graded function
  and everything it reaches, and fails the cell;
- this module reads *every* learner cell, top-level code included, in the grader, and
  names each construct that reaches the interpreter's machinery. These are flags for the
  instructor, not failures: the grading record lists them with their cell
  (:mod:`dotlab.grading.gradelog`), so a notebook that walked around the tripwires can
  never earn a full score silently. An honest notebook of this course uses none of them.

The sandbox's audit hook (:class:`dotlab.grading.sandbox_child.Watch`) reports what such
code actually did at run time; this reports what it says, even when it was obfuscated
enough to do nothing visible.

Examples
--------
>>> scan("import numpy as np\\ndef f(a):\\n    return np.sum(a)")
[]
>>> scan("import gc, sys\\nsys.modules['__main__'].Tripwires = None\\nfor o in gc.get_objects(): pass")
['gc', 'sys', 'gc.get_objects', 'sys.modules']
"""

from __future__ import annotations

import ast

__all__ = ["MODULES", "NAMES", "ATTRIBUTES", "scan"]

#: Modules whose import alone is worth a look: they reach objects, frames, threads or C.
MODULES = frozenset({"gc", "ctypes", "inspect", "importlib", "threading", "_thread", "multiprocessing", "sys",
                     "builtins", "types", "dotlab.grading", "__main__", "tracemalloc"})
#: Builtins that run or reach code built at run time.
NAMES = frozenset({"exec", "eval", "compile", "__import__", "globals", "vars", "getattr", "setattr", "delattr"})
#: Attributes that reach frames, code, closures or the sandbox's own module.
ATTRIBUTES = frozenset({"setprofile", "settrace", "get_objects", "get_referrers", "get_referents", "_getframe",
                        "_current_frames", "modules", "__closure__", "__code__", "__globals__", "__dict__",
                        "__subclasses__", "tb_frame", "gi_frame", "f_back", "f_locals", "reload", "__builtins__",
                        "start_new_thread"})


def _module(name: str) -> str | None:
    for module in sorted(MODULES, key=len, reverse=True):
        if name == module or name.startswith(module + "."):
            return module
    return None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "…"


def scan(source: str) -> list[str]:
    """Every construct in ``source`` that can reach the sandbox's machinery, once each, in order.

    A cell that is not Python (IPython magics) is read without its magic lines.
    """
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError):  # nested too deep for the parser: no construct can be read in it
        return []
    except (SyntaxError, ValueError):
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
    found: list[str] = []

    def add(what: str) -> None:
        if what not in found:
            found.append(what)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _module(alias.name):
                    add(_module(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _module(node.module or ""):
            add(_module(node.module or ""))
        elif isinstance(node, ast.Name) and node.id in NAMES:
            add(f"{node.id}()")
        elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            add(_dotted(node))
    return found
