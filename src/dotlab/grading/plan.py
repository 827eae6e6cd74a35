"""Which checks each graded cell runs, read from the instructor's source, never the learner's.

An instructor's test cell in this course is a list of check calls::

    ch01.check_dot_loop(dot_loop)
    ### BEGIN HIDDEN TESTS
    ch01.check_dot_loop(dot_loop, hidden=True)
    ### END HIDDEN TESTS

The grader reads that source from the gradebook (where ``nbgrader generate_assignment``
stored it, hidden tests included), parses it with :mod:`ast` and resolves ``ch01`` with
the instructor's own import cell. A learner who redefines ``ch01`` in an answer cell,
edits or deletes the test cell, changes nothing. A test cell that does anything else
than call checks is left to nbgrader's kernel, as before (and the log says so).
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass, field
from typing import Callable

from dotlab.grading.sandbox import forbidden_targets

log = logging.getLogger(__name__)

CHECKS_PACKAGE = "dotlab.checks"


@dataclass(frozen=True)
class CheckCall:
    """``check(learner_name, *args, **kwargs)`` as written in an instructor's test cell."""

    check: Callable
    learner_name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    forbidden: tuple[str, ...] = ()


def _is_checks_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith(CHECKS_PACKAGE) and node.level == 0
    if isinstance(node, ast.Import):
        return all(alias.name.startswith(CHECKS_PACKAGE) for alias in node.names)
    return False


def checks_namespace(sources: list[str]) -> dict:
    """Run the instructor's imports from ``dotlab.checks`` (and only those) in a fresh namespace.

    Examples
    --------
    >>> ns = checks_namespace(["import math\\nimport numpy as np\\n\\nfrom dotlab.checks import ch01"])
    >>> sorted(ns)
    ['ch01']
    """
    namespace: dict = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if _is_checks_import(node):
                exec(compile(ast.Module(body=[node], type_ignores=[]), "<instructor imports>", "exec"), namespace)
    namespace.pop("__builtins__", None)
    return namespace


def _resolve(node: ast.expr, namespace: dict):
    if isinstance(node, ast.Name):
        return namespace[node.id]
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, namespace), node.attr)
    raise LookupError(ast.dump(node))


def _check_call(node: ast.stmt, namespace: dict) -> CheckCall | None:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    try:
        check = _resolve(call.func, namespace)
    except (LookupError, AttributeError):
        return None
    if not callable(check) or not getattr(check, "__module__", "").startswith(CHECKS_PACKAGE):
        return None
    if not call.args or not isinstance(call.args[0], ast.Name) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    try:
        args = tuple(ast.literal_eval(a) for a in call.args[1:])
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg is not None}
    except ValueError:
        return None
    if len(kwargs) != len(call.keywords):
        return None
    return CheckCall(check, call.args[0].id, args, kwargs, tuple(forbidden_targets(check, args, kwargs)))


def parse_test_cell(source: str, namespace: dict) -> list[CheckCall] | None:
    """The check calls of a test cell, in order; None if it does anything else.

    Examples
    --------
    >>> ns = checks_namespace(["from dotlab.checks import ch01"])
    >>> calls = parse_test_cell("ch01.check_norm(norm)\\n### BEGIN HIDDEN TESTS\\nch01.check_norm(norm, hidden=True)", ns)
    >>> [(c.check.__name__, c.learner_name, c.kwargs) for c in calls]
    [('check_norm', 'norm', {}), ('check_norm', 'norm', {'hidden': True})]
    >>> parse_test_cell("assert norm([3, 4]) == 5", ns) is None
    True
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    namespace = dict(namespace)
    calls = []
    for node in tree.body:
        if _is_checks_import(node):
            namespace.update(checks_namespace([ast.unparse(node)]))
            continue
        if isinstance(node, ast.Pass):
            continue
        call = _check_call(node, namespace)
        if call is None:
            return None
        calls.append(call)
    return calls or None


@dataclass(frozen=True)
class GradedCell:
    """An instructor's test cell: its check calls (None if it is not only check calls) and points."""

    calls: list | None
    points: float


def instructor_plan(db_url: str, notebook_id: str, assignment_id: str) -> dict[str, GradedCell]:
    """grade_id -> GradedCell for every autograded test cell of a notebook, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        notebook = gb.find_notebook(notebook_id, assignment_id)
        sources = {cell.name: (cell.source, cell.cell_type, cell.locked) for cell in notebook.source_cells}
        graded = {cell.name: cell.max_score for cell in notebook.grade_cells if cell.cell_type == "code"}
        solutions = {cell.name for cell in notebook.solution_cells}
    namespace = checks_namespace([src for src, kind, locked in sources.values() if kind == "code" and locked])
    plan = {}
    for name, points in graded.items():
        if name in solutions:
            continue  # a graded answer cell: learner code, graded by hand or by its outputs
        calls = parse_test_cell(sources.get(name, ("",))[0], namespace)
        if calls is None:
            log.warning("test cell %s does more than call dotlab checks: its score comes from nbgrader's kernel", name)
        plan[name] = GradedCell(calls, float(points))
    return plan
