"""What a learner's function may use: an allowlist, checked on the function's own source.

A task declares what its function may use (:class:`Allow`): builtins, routines of named
modules (``"numpy.asarray"``, or every public routine of a module, ``"numpy.*"``),
the ``@`` operator, methods, and whether a table may be indexed. :func:`refusal` walks
the abstract syntax tree of the learner's function, and of every helper function,
lambda and global it reaches in the learner's own code, and names the first thing that
is not allowed, with its line. Whatever is not allowed is refused without anyone
listing it: ``dotlab`` (public or private, ``dotlab.checks`` included), a library the
task does not name, ``getattr``/``eval``/``__import__``, dunder attributes.

Where the source comes from:

- in the grader, from the learner's notebook cells that ran before the test cell (the
  grader holds them; nothing the learner's code does at run time changes them);
- in a notebook or pytest, from :func:`inspect.getsource` of the function, with the
  module's source (or IPython's ``In`` history) for the imports and helpers it uses.
  A function without source (built with ``exec``) is not checked here: the runtime
  tripwires are the second layer, and the grader always has the source.

Why our own walker: linters (ruff, flake8) ban names, they do not allow them, and none
follows a call into the learner's helper functions across notebook cells.
"""

from __future__ import annotations

import ast
import builtins as _builtins
import inspect
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

#: Builtins any task may use: arithmetic, loops, containers, errors. Not getattr, eval,
#: exec, compile, __import__, globals, vars, open: those reach anything.
PYTHON = frozenset({
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "format", "int", "isinstance",
    "iter", "len", "list", "map", "max", "min", "next", "pow", "print", "range", "repr", "reversed", "round",
    "set", "slice", "sorted", "str", "sum", "tuple", "type", "zip", "frozenset", "complex", "hash", "id",
    "issubclass", "callable", "super", "object", "staticmethod", "classmethod", "property",
    "True", "False", "None", "Ellipsis", "NotImplemented",
    "ArithmeticError", "AssertionError", "Exception", "IndexError", "KeyError", "LookupError",
    "NotImplementedError", "OverflowError", "RuntimeError", "StopIteration", "TypeError", "ValueError",
    "ZeroDivisionError", "FloatingPointError", "UserWarning", "Warning", "RuntimeWarning", "bytes", "bytearray",
}) | frozenset(name for name, value in vars(_builtins).items()  # every builtin exception class
               if isinstance(value, type) and issubclass(value, BaseException))

#: Attributes that reach into a program's machinery (globals, modules, code): never allowed.
INTROSPECTION = frozenset({"__globals__", "__builtins__", "__subclasses__", "__import__", "__code__", "__closure__",
                           "__dict__", "__class__", "__bases__", "__base__", "__mro__", "__getattribute__",
                           "__reduce__", "__reduce_ex__", "__module__", "__self__", "__func__", "__wrapped__",
                           "__loader__", "__spec__", "__defaults__", "__kwdefaults__", "__setattr__", "__delattr__",
                           "__getattr__", "__init_subclass__", "__call__", "__get__", "__set__", "__qualname__",
                           "__matmul__", "__rmatmul__", "__imatmul__", "__array_function__", "__array_ufunc__"})

#: Helpers from the standard library that build nothing a task asks for.
STDLIB = frozenset({"operator.*", "functools.reduce", "functools.partial", "functools.lru_cache",
                    "functools.cache", "itertools.*", "warnings.warn", "warnings.catch_warnings",
                    "warnings.simplefilter", "numbers.*", "typing.*", "collections.*",
                    # exact and plain-Python arithmetic (Fraction, Decimal, statistics.pvariance), less
                    # what sums products of two sequences at once
                    "fractions.*", "decimal.*", "statistics.*", "!statistics.covariance",
                    "!statistics.correlation", "!statistics.linear_regression"})

#: The math module, less what computes a whole dot product or length at once.
MATH = frozenset({"math.*", "!math.sumprod", "!math.dist", "!math.hypot"})

#: NumPy's containers, scalar types and tests: for tasks that otherwise ask for plain Python.
NUMPY_BASICS = frozenset({"numpy.asarray", "numpy.array", "numpy.ndarray", "numpy.ndim", "numpy.shape", "numpy.size",
                          "numpy.float16", "numpy.float32", "numpy.float64", "numpy.double", "numpy.single",
                          "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64", "numpy.integer", "numpy.floating",
                          "numpy.number", "numpy.dtype", "numpy.errstate", "numpy.isfinite", "numpy.isnan",
                          "numpy.isinf", "numpy.inf", "numpy.nan", "numpy.pi", "numpy.e", "numpy.zeros",
                          "numpy.empty", "numpy.ones", "numpy.zeros_like", "numpy.empty_like", "numpy.ones_like",
                          "numpy.ascontiguousarray", "numpy.copy", "numpy.issubdtype", "numpy.result_type"})

#: Attributes and methods of arrays, tensors, lists and strings that compute no product.
METHODS = frozenset({
    # arrays and tensors
    "shape", "ndim", "size", "dtype", "T", "mT", "astype", "reshape", "ravel", "flatten", "copy", "item", "tolist",
    "sum", "mean", "max", "min", "argmax", "argmin", "argsort", "sort", "clip", "any", "all", "squeeze",
    "transpose", "swapaxes", "cumsum", "prod", "std", "var", "real", "imag", "nbytes", "itemsize", "flat",
    "fill", "nonzero", "round", "conj", "view", "base", "flags", "strides", "kind", "type", "take",
    "numpy", "detach", "double", "float", "int", "long", "abs", "exp", "log", "sqrt", "unsqueeze", "expand_dims",
    "permute", "contiguous", "clone", "to", "cpu", "numel", "dim", "amax", "amin", "clamp", "neg", "pow",
    "square", "isfinite", "isnan", "exp_", "cumprod", "square_", "keepdims", "logsumexp", "max_", "values",
    "indices", "element_size", "masked_fill", "where", "tril", "triu", "bool", "repeat", "expand", "view_as",
    "nan_to_num", "is_integer", "bit_length", "real_", "new_zeros", "new_ones", "zero_", "add", "sub", "mul",
    "div", "multiply", "divide", "subtract", "exp2", "log2", "log10", "sign", "argwhere", "unique", "searchsorted",
    "partition", "argpartition", "cumsum_", "diagonal", "trace_", "tobytes", "newbyteorder", "byteswap",
    # lists, dicts, strings, numbers
    "append", "extend", "insert", "pop", "index", "count", "keys", "items", "get", "setdefault", "update",
    "format", "join", "split", "strip", "upper", "lower", "startswith", "endswith", "replace", "is_integer",
    "conjugate", "as_integer_ratio", "numerator", "denominator", "add_", "reverse", "remove", "clear",
    "hex", "fromhex", "__name__",
})

#: Methods that compute a product or a library result in one call: never in METHODS.
PRODUCT_METHODS = frozenset({"dot", "matmul", "mm", "bmm", "mv", "inner", "outer", "einsum", "tensordot", "vdot",
                             "norm", "softmax", "log_softmax", "entropy", "__matmul__", "__rmatmul__"})


#: The function behind each product method, by library: ``x.dot(y)`` is allowed where these are.
_FUNCTION_FORMS = {
    "dot": ("numpy.dot", "torch.dot"), "matmul": ("numpy.matmul", "torch.matmul"), "mm": ("torch.mm",),
    "bmm": ("torch.bmm",), "mv": ("torch.mv",), "inner": ("numpy.inner", "torch.inner"),
    "outer": ("numpy.outer", "torch.outer"), "tensordot": ("numpy.tensordot", "torch.tensordot"),
    "vdot": ("numpy.vdot", "torch.vdot"), "norm": ("numpy.linalg.norm", "torch.norm"),
    "softmax": ("torch.softmax",), "log_softmax": ("torch.log_softmax",),
}
_MATMUL_LIKE = frozenset({"matmul", "mm", "bmm", "mv"})
#: The operator module's spellings of ``@`` and of indexing: allowed only where those are.
_OPERATOR_MATMUL = frozenset({"operator.matmul", "operator.imatmul", "operator.__matmul__", "operator.__imatmul__"})
_OPERATOR_INDEXING = frozenset({"operator.getitem", "operator.itemgetter", "operator.__getitem__"})
#: Calls that loop over an iterable for the learner (map(operator.mul, a, b), functools.reduce, starmap).
_LOOPING_CALLS = frozenset({"map", "filter", "reduce", "starmap", "accumulate"})


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


#: What makes a whole array out of a learner's input, and methods that keep it one (Allow.array_products).
_ARRAY_MAKERS = frozenset(f"numpy.{name}" for name in (
    "asarray", "array", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones", "empty", "zeros_like",
    "ones_like", "empty_like", "full", "full_like", "arange", "fromiter", "stack", "vstack", "hstack"))
_ARRAY_METHODS = frozenset({"astype", "copy", "reshape", "ravel", "flatten"})
#: Classes whose methods can be reached as functions (``np.ndarray.dot(A, B)``): judged as methods.
_METHOD_CLASSES = ("numpy.ndarray.", "numpy.matrix.", "numpy.generic.", "torch.Tensor.")


@dataclass(frozen=True)
class Allow:
    """What a task's function may use.

    ``names``: builtins (``"len"``) and dotted routines (``"numpy.asarray"``, or a whole
    module ``"numpy.*"``); an entry ``"!numpy.dot"`` carves a routine out of a wildcard.
    ``matmul``: whether ``@`` is allowed. ``methods``: attribute names allowed on values
    (``None``: any public attribute but the :data:`PRODUCT_METHODS`, unless in
    ``names`` as ``".dot"``). ``tables``: the positions of parameters that must not be
    indexed by a computed index (``E[ids]``, ``E[t]``): only constants and slices. ``says``: the
    task's rule in a few words, quoted in the message.
    """

    names: frozenset[str]
    says: str
    matmul: bool = False
    methods: frozenset[str] | None = METHODS
    tables: tuple[int, ...] = ()
    loops: bool = False  # the task asks for loops (one dot product per entry): the source must have one
    array_products: bool = True  # False: no * between whole arrays (dot_loop: "see every multiplication")

    def allows_name(self, dotted: str) -> bool:
        """Whether a dotted routine (or builtin) is allowed."""
        if dotted.startswith("dotlab.checks") or any(part.startswith("_") for part in dotted.split(".")):
            return False
        if dotted.startswith("dotlab"):
            # only a course helper the task hands the learner by name (task 8.2's layer_norm),
            # never a whole dotlab module, never the checks
            return dotted in self.names
        if not self.allows_operator(dotted):
            return False
        method_of = next((dotted[len(c):] for c in _METHOD_CLASSES if dotted.startswith(c)), None)
        if method_of and "." not in method_of and not self.allows_method(method_of):
            return False  # np.ndarray.dot(A, B) is A.dot(B)
        if f"!{dotted}" in self.names:
            return False
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            if f"!{prefix}.*" in self.names:
                return False
            if (prefix == dotted and prefix in self.names) or f"{prefix}.*" in self.names:
                return True
        return False

    def allows_module(self, module: str) -> bool:
        """Whether importing ``module`` (as a namespace to take routines from) is allowed."""
        if module.startswith("dotlab") or any(part.startswith("_") for part in module.split(".")):
            return False
        parts = module.split(".")
        if any(n.startswith(module + ".") and not n.endswith(".*") for n in self.names):
            return True  # import scipy.special, for the one routine the task names (scipy.special.logsumexp)
        if any(f"!{'.'.join(parts[:i])}.*" in self.names for i in range(1, len(parts) + 1)):
            return False
        if self.allows_name(module):
            return True  # inside a wildcard: torch.nn.functional under "torch.*"
        return any(n.startswith(module + ".") or n == module for n in self.names if not n.startswith("!"))

    def allows_method(self, name: str) -> bool:
        if name in INTROSPECTION or f"!.{name}" in self.names:
            return False
        if name.startswith("__") and name.endswith("__"):
            return True  # __hash__, __eq__, __array__ of the learner's own classes
        if f".{name}" in self.names:
            return True
        if self.methods is None:
            if name in PRODUCT_METHODS:
                return self._allows_function_form(name)
            return not name.startswith("_")
        return name in self.methods

    def _allows_function_form(self, name: str) -> bool:
        """A product method (``x.dot(y)``) is allowed where its function (``np.dot``) is.

        Every function form in a library the task allows must be allowed (``torch.dot``
        as well as ``np.dot`` when the task allows PyTorch), so the method never reaches
        what a carve-out refuses; ``@``-like methods also need ``matmul``.
        """
        forms = _FUNCTION_FORMS.get(name, ())
        if name in _MATMUL_LIKE and not self.matmul:
            return False
        relevant = [form for form in forms if self.allows_module(form.split(".")[0])]
        return bool(relevant) and all(self.allows_name(form) for form in relevant)

    def allows_operator(self, dotted: str) -> bool:
        """``operator.matmul`` is ``@`` and ``operator.getitem``/``itemgetter`` index a table: judged as such."""
        if dotted in _OPERATOR_MATMUL:
            return self.matmul
        if dotted in _OPERATOR_INDEXING:
            return not self.tables
        return True


def allow(*groups: Iterable[str], says: str, matmul: bool = False, methods: Iterable[str] | None | str = "default",
          tables: tuple[int, ...] = (), loops: bool = False, array_products: bool = True) -> Allow:
    """An :class:`Allow` from groups of names: ``allow(PYTHON, MATH, {"numpy.asarray"}, says=...)``."""
    names = frozenset().union(*map(frozenset, groups))
    chosen = METHODS if methods == "default" else (None if methods is None else frozenset(methods))
    return Allow(names, says, matmul, chosen, tables, loops, array_products)


# -- where the learner's code is -----------------------------------------------------------

@dataclass
class _Def:
    node: ast.AST  # FunctionDef, AsyncFunctionDef, Lambda, ClassDef
    where: str  # how to name it in a message


@dataclass
class Scope:
    """The learner's module level, read from source: what each global name is bound to.

    Each value is ``("module", dotted)``, ``("ref", dotted)`` (``from m import x``),
    ``("def", _Def)`` or ``("expr", node)``. ``fallback`` resolves a name the source
    does not bind (a notebook or pytest function: the real object behind it).
    """

    names: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fallback: Callable[[str], tuple[str, Any] | None] | None = None

    def lookup(self, name: str) -> tuple[str, Any] | None:
        if name in self.names:
            return self.names[name]
        return self.fallback(name) if self.fallback else None


def _parse_cell(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:  # IPython's magics (%time, !ls) become plain Python first, as in a kernel
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except Exception:
        return None


def _bind_statements(body: list[ast.stmt], scope: Scope, where: str) -> None:
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.names[alias.asname] = ("module", alias.name)
                else:
                    top = alias.name.split(".")[0]
                    scope.names[top] = ("module", top)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    scope.names[f"*{module}"] = ("star", module)
                else:
                    scope.names[alias.asname or alias.name] = ("ref", f"{module}.{alias.name}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.names[node.name] = ("def", _Def(node, where))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        if isinstance(value, ast.Lambda) and isinstance(target, ast.Name):
                            scope.names[name.id] = ("def", _Def(value, where))
                        elif value is not None:
                            scope.names[name.id] = ("expr", value)
        elif isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            if isinstance(node, ast.For):
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        scope.names[name.id] = ("expr", node.iter)
            if isinstance(node, ast.With):
                for item in node.items:
                    if item.optional_vars is not None:
                        for name in ast.walk(item.optional_vars):
                            if isinstance(name, ast.Name):
                                scope.names[name.id] = ("expr", item.context_expr)
            for part in ("body", "orelse", "finalbody"):
                _bind_statements(getattr(node, part, []) or [], scope, where)
            for handler in getattr(node, "handlers", []) or []:
                _bind_statements(handler.body, scope, where)


def scope_from_sources(sources: Iterable[str]) -> Scope:
    """The module level that ``sources`` (notebook cells, in order) leave behind."""
    scope = Scope()
    for i, source in enumerate(sources):
        tree = _parse_cell(source)
        if tree is not None:
            _bind_statements(tree.body, scope, f"cell {i + 1}")
    return scope


# -- the walk ----------------------------------------------------------------------------

class Refused(Exception):
    """What the walk found: the message, ready for CheckFailure."""


def _line(node: ast.AST, root: ast.AST) -> int:
    return getattr(node, "lineno", root.lineno) - root.lineno + 1


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class _Walker:
    def __init__(self, allowed: Allow, fn_name: str, scope: Scope):
        self.allowed, self.fn_name, self.scope = allowed, fn_name, scope
        self.seen: set[int] = set()
        self.derived: set[str] = set()  # the tables, under the learner's own names
        self.own = _own_attributes(scope)  # attributes the learner's own classes define
        self.instances: set[str] = {"self", "cls"}  # names bound to the learner's own objects
        self.looped = False  # whether the walk met a loop (Allow.loops); recursion counts as one
        self.arrays: set[str] = set()  # names assigned from a call into NumPy (Allow.array_products)
        self.deferred: str | None = None  # a refusal told only when nothing else is

    def own_attribute(self, node: ast.Attribute) -> bool:
        """``acc.total`` where the learner's class defines ``total``: their code, not a library's.

        On ``self`` or an instance of their class (``acc = Acc()``) any attribute their class
        defines; elsewhere only a name no array, tensor or container has (``.sum`` on an
        array stays judged by the task's rule, whoever else defines a ``sum``).
        """
        if node.attr not in self.own[0]:
            return False
        base = node.value
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name):  # Vec(a).dot(...)
            bound = self.scope.lookup(base.func.id)
            return bool(bound and bound[0] == "def" and isinstance(bound[1].node, ast.ClassDef))
        return node.attr in self.own[1] or (isinstance(base, ast.Name) and base.id in self.instances)

    def refuse(self, what: str, node: ast.AST, root: ast.AST, where: str) -> None:
        raise Refused(f"{where}, line {_line(node, root)}: `{_text(node)}` {what}, which this exercise asks you not "
                      f"to use (task rule: {self.allowed.says})")

    # resolution: a name or attribute chain to ("module"|"ref", dotted), or None for a plain value
    def dotted(self, node: ast.AST, local: dict[str, tuple[str, Any] | None]) -> tuple[str, str] | None:
        if isinstance(node, ast.Name):
            if node.id in local:
                bound = local[node.id]
                return bound if bound and bound[0] in ("module", "ref") else None
            bound = self.scope.lookup(node.id)
            if bound and bound[0] in ("module", "ref"):
                return bound
            return None
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value, local)
            if base is not None:
                return ("ref", f"{base[1]}.{node.attr}")
        return None

    def walk_function(self, node: ast.AST, where: str, outer: dict | None = None) -> None:
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        local: dict[str, tuple[str, Any] | None] = dict(outer or {})
        args = node.args
        for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if a is not None:
                local[a.arg] = None
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.walk_expr(default, node, where, local)
        body = [node.body] if isinstance(node, ast.Lambda) else node.body
        # every name the function binds is local, wherever in the body it is bound
        globals_declared: set[str] = set()
        for stmt in body:
            for sub in ast.walk(stmt):
                if isinstance(sub, (ast.Global, ast.Nonlocal)):
                    globals_declared.update(sub.names)
        for stmt in body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                    if self.is_array(sub.value, local):
                        self.arrays.update(t.id for t in sub.targets if isinstance(t, ast.Name))
                if (isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call)
                        and isinstance(sub.value.func, ast.Name)):
                    bound = self.scope.lookup(sub.value.func.id)
                    if bound and bound[0] == "def" and isinstance(bound[1].node, ast.ClassDef):
                        self.instances.update(t.id for t in sub.targets if isinstance(t, ast.Name))
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    if sub.id not in globals_declared:
                        local.setdefault(sub.id, None)
                elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
                    local.setdefault(sub.name, None)
                elif isinstance(sub, ast.ExceptHandler) and sub.name:
                    local.setdefault(sub.name, None)
                elif isinstance(sub, (ast.MatchAs, ast.MatchStar)) and sub.name:  # case (n, m): binds n, m
                    local.setdefault(sub.name, None)
                elif isinstance(sub, ast.MatchMapping) and sub.rest:
                    local.setdefault(sub.rest, None)
                elif isinstance(sub, ast.arg):
                    local.setdefault(sub.arg, None)
        for stmt in body:
            self.walk_node(stmt, node, where, local)

    def walk_expr(self, expr: ast.AST, root: ast.AST, where: str, local: dict) -> None:
        self.walk_node(expr, root, where, local)

    def walk_node(self, top: ast.AST, root: ast.AST, where: str, local: dict) -> None:
        allowed = self.allowed
        todo = [top]
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node is not root:
                for deco in getattr(node, "decorator_list", []):
                    todo.append(deco)
                self.walk_function(node, where, local)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.check_import(node, root, where, local)
                continue
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.comprehension)) or (
                    isinstance(node, ast.Call) and _called_name(node) in _LOOPING_CALLS):
                self.looped = True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and not allowed.matmul:
                self.refuse("uses the @ operator", node, root, where)
            if (isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Mult)
                    and not allowed.array_products
                    and any(self.is_array(side, local) for side in (getattr(node, "left", None) or node.target,
                                                                     getattr(node, "right", None) or node.value))):
                try:  # told only if nothing else is refused: np.sum(a * b) is told as np.sum
                    self.refuse("multiplies whole arrays at once", node, root, where)
                except Refused as refused:
                    self.deferred = self.deferred or str(refused)
            if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.MatMult) and not allowed.matmul:
                self.refuse("uses the @= operator", node, root, where)
            if isinstance(node, ast.Attribute):
                found = self.dotted(node, local)
                if found is not None:
                    self.check_dotted(found[1], node, root, where)
                    continue  # the chain is judged as a whole: np.linalg.norm, not np, linalg, norm
                if not allowed.allows_method(node.attr) and not self.own_attribute(node):
                    self.refuse(f"uses the attribute .{node.attr}", node, root, where)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self.check_name(node, root, where, local)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and allowed.tables:
                if self.is_table(node.value, local) and not _constant_index(node.slice):
                    self.refuse("looks rows up in the table directly", node, root, where)
            todo.extend(ast.iter_child_nodes(node))

    def is_array(self, node: ast.AST, local: dict) -> bool:
        """Whether ``node`` is a whole NumPy array: made by np.asarray & co (or .astype of one),
        or a name assigned from one (``a = np.asarray(a)``; ``a[i]`` is a number, not judged)."""
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _ARRAY_METHODS:
                return self.is_array(func.value, local)
            found = self.dotted(func, local)
            return found is not None and found[1] in _ARRAY_MAKERS
        return isinstance(node, ast.Name) and node.id in self.arrays

    def is_table(self, node: ast.AST, local: dict) -> bool:
        """Whether ``node`` is one of the tables, or a plain rename/conversion of one."""
        for _ in range(20):
            if isinstance(node, ast.Name):
                return node.id in self.derived
            node = _converted(node)  # np.asarray(E), torch.tensor(E), E.T
            if node is None:
                return False
        return False

    def check_name(self, node: ast.Name, root: ast.AST, where: str, local: dict) -> None:
        name = node.id
        if name in local:
            bound = local[name]
            if bound is not None:
                self.check_dotted(bound[1], node, root, where)
            return
        bound = self.scope.lookup(name)
        if bound is None:
            if hasattr(_builtins, name):
                if name not in PYTHON and name not in self.allowed.names:
                    self.refuse(f"calls the builtin {name}", node, root, where)
                return
            raise Refused(f"{where}, line {_line(node, root)}: `{name}` is not defined anywhere in your notebook "
                          f"before this check, so the check cannot see what it is: define it with an ordinary "
                          f"`def` or assignment in a cell")
        kind, value = bound
        if kind in ("module", "ref"):
            self.check_dotted(value, node, root, where)
        elif kind == "def":
            if name == self.fn_name:
                self.looped = True  # the function calls itself: recursion is its loop
            if isinstance(value.node, ast.ClassDef):
                if id(value.node) not in self.seen:
                    self.seen.add(id(value.node))
                    for stmt in value.node.body:
                        self.walk_node(stmt, value.node, f"your class `{name}`", {})
            else:
                self.walk_function(value.node, f"your helper `{name}`" if name != self.fn_name else where)
        elif kind == "expr":
            if id(value) not in self.seen:
                self.seen.add(id(value))
                self.walk_node(value, value, f"the global `{name}` your code uses", {})
        elif kind == "star":
            self.refuse(f"comes from `from {value} import *`", node, root, where)

    def check_dotted(self, dotted: str, node: ast.AST, root: ast.AST, where: str) -> None:
        if "." not in dotted:  # a module used as a value: judged by what is taken from it
            if not self.allowed.allows_module(dotted):
                self.refuse(f"uses the module {dotted}", node, root, where)
            return
        if self.allowed.allows_name(dotted) or self.allowed.allows_module(dotted):
            foreign = _foreign_module(dotted)
            if foreign is not None:
                self.refuse(f"reaches the module {foreign[1]} through {foreign[0]}", node, root, where)
            return
        self.refuse(f"uses {dotted}", node, root, where)

    def check_import(self, node: ast.stmt, root: ast.AST, where: str, local: dict) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not self.allowed.allows_module(alias.name):
                    self.refuse(f"imports {alias.name}", node, root, where)
                local[alias.asname or alias.name.split(".")[0]] = ("module", alias.asname and alias.name
                                                                   or alias.name.split(".")[0])
        else:
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                dotted = f"{module}.{alias.name}"
                if alias.name == "*" or not (self.allowed.allows_name(dotted) or self.allowed.allows_module(dotted)):
                    self.refuse(f"imports {dotted}", node, root, where)
                local[alias.asname or alias.name] = ("ref", dotted)


def _library_attributes() -> frozenset[str]:
    """Every attribute name of arrays, tensors and containers: never the learner's to define."""
    names = set(METHODS) | set(PRODUCT_METHODS)
    import numpy

    kinds = [numpy.ndarray, numpy.generic, list, tuple, dict, str, int, float]
    torch = sys.modules.get("torch")  # not imported for this: only if the learner's kernel has it
    if torch is not None:
        kinds.append(torch.Tensor)
    for kind in kinds:
        names.update(dir(kind))
    return frozenset(names)


def _own_attributes(scope: Scope) -> tuple[frozenset[str], frozenset[str]]:
    """Attribute names the learner's own classes define (methods, class attributes, ``self.x = ...``):
    all of them, and those no array, tensor or container has (see :meth:`_Walker.own_attribute`)."""
    names: set[str] = set()
    for kind, value in scope.names.values():
        if kind != "def" or not isinstance(value.node, ast.ClassDef):
            continue
        for node in ast.walk(value.node):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
        for stmt in value.node.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                for target in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    names -= INTROSPECTION
    return frozenset(names), frozenset(names - _library_attributes())


def _foreign_module(dotted: str) -> tuple[str, str] | None:
    """``(prefix, module)`` where a dotted name walks into a module of another package.

    A library keeps the modules it imports as attributes (``numpy.f2py.sys``,
    ``numpy.ctypeslib.ctypes``, ``numpy.f2py.os``): under a wildcard such as ``"numpy.*"``
    they would be allowed by name, and reach ``sys.modules``, ``os.system`` or ``ctypes``.
    The chain is followed on the real package (imported here, as the learner's code would
    import it); any module on it outside the package is refused. None when the chain stays
    inside, or cannot be followed (the learner's code would fail there itself).
    """
    import importlib
    import warnings

    parts = dotted.split(".")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = importlib.import_module(parts[0])
            for i in range(1, len(parts)):
                value = getattr(value, parts[i])
                name = getattr(value, "__name__", "") if inspect.ismodule(value) else None
                if name is not None and name != parts[0] and not name.startswith(parts[0] + "."):
                    return ".".join(parts[:i + 1]), name
    except Exception:  # noqa: BLE001 - not importable here, or no such attribute
        return None
    return None


#: Calls that convert a table without changing what it is: E stays E through them.
CONVERSIONS = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray", "copy", "tensor",
                         "as_tensor", "from_numpy", "float", "double", "astype", "to", "clone", "detach", "numpy",
                         "contiguous", "atleast_2d"})


def _converted(node: ast.AST) -> ast.AST | None:
    """``x`` for ``np.asarray(x, ...)``, ``torch.tensor(x)``, ``x.astype(...)``, ``x.T``; else None."""
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        return node.value
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in CONVERSIONS:
            if node.args and not (isinstance(func, ast.Attribute) and name in ("astype", "to", "clone", "detach",
                                                                                "numpy", "contiguous", "double",
                                                                                "float", "copy")):
                return node.args[0]
            if isinstance(func, ast.Attribute):
                return func.value  # E.astype(float), E.copy()
    return None


def _constant_index(node: ast.AST) -> bool:
    """An index made of constants, slices of constants, None and ``...`` only."""
    if isinstance(node, ast.Tuple):
        return all(_constant_index(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        return all(part is None or _constant_index(part) for part in (node.lower, node.upper, node.step))
    if isinstance(node, ast.UnaryOp):
        return _constant_index(node.operand)
    return isinstance(node, ast.Constant)


def _derived_tables(root: ast.AST, positions: tuple[int, ...]) -> set[str]:
    """The table parameters, and names assigned from them (``E = np.asarray(E)``, ``W = E.T``)."""
    args = getattr(root, "args", None)
    params = [a.arg for a in (args.posonlyargs + args.args)] if args is not None else []
    derived = {params[i] for i in positions if i < len(params)}
    pairs = []  # (target name, value) of every plain assignment, tuples unpacked pairwise
    for node in ast.walk(root):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name):
                pairs.append((target.id, value))
            elif (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                  and len(target.elts) == len(value.elts)):
                pairs += [(t.id, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name)]
    changed = True
    while changed:
        changed = False
        for name, value in pairs:
            for _ in range(20):
                inner = _converted(value)
                if inner is None:
                    break
                value = inner
            if isinstance(value, ast.Name) and value.id in derived and name not in derived:
                derived.add(name)
                changed = True
    return derived


def refusal_in(root: ast.AST, scope: Scope, allowed: Allow, fn_name: str) -> str | None:
    """The first construct of ``root`` (a def or lambda) that ``allowed`` refuses, or None."""
    walker = _Walker(allowed, fn_name, scope)
    # the learner may name the parameters differently: the tables are found by position
    walker.derived = _derived_tables(root, allowed.tables)
    try:
        walker.walk_function(root, f"{fn_name}")
    except Refused as refused:
        return str(refused)
    if walker.deferred:
        return walker.deferred
    if allowed.loops and not walker.looped:
        # whole-array arithmetic ((A[:, :, None] * B).sum(axis=1)) builds every entry at once
        return (f"{fn_name} has no loop (for, while, a comprehension or map), so it does not build the result "
                f"one entry at a time (task rule: {allowed.says})")
    return None


# -- finding the learner's function -------------------------------------------------------

def _find_def(scope: Scope, name: str) -> ast.AST | None:
    bound = scope.names.get(name)
    if bound and bound[0] == "def" and not isinstance(bound[1].node, ast.ClassDef):
        return bound[1].node
    return None


def _real_object_fallback(fn: Callable) -> Callable[[str], tuple[str, Any] | None]:
    """Resolve a global the source does not bind from the function's real namespace."""
    namespace = dict(getattr(fn, "__globals__", {}) or {})
    code = getattr(fn, "__code__", None)
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(fn, "__closure__", None) or ()):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:
            pass

    def lookup(name: str):
        if name not in namespace:
            return None
        value = namespace[name]
        if inspect.ismodule(value):
            return ("module", value.__name__)
        if callable(value) and not isinstance(value, type):
            module = getattr(value, "__module__", None) or ""
            if getattr(value, "__code__", None) is not None and module == getattr(fn, "__module__", None):
                node = _own_def(value)
                if node is not None:
                    return ("def", _Def(node, name))
            if module:
                return ("ref", f"{module}.{getattr(value, '__name__', name)}")
            if isinstance(value, type(sum)) or type(value).__name__ == "ufunc":
                return ("ref", f"numpy.{getattr(value, '__name__', name)}")
            return ("ref", f"{type(value).__module__}.{name}")
        return ("expr", ast.Constant(0))  # data: nothing it can call

    return lookup


def _own_def(fn: Callable) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
        if isinstance(node, ast.Lambda):
            return node
    return None


def local_scope(fn: Callable) -> Scope | None:
    """The module level of a function defined in a file, a notebook or a test: its source."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    sources: list[str] = []
    history = (getattr(fn, "__globals__", None) or {}).get("In")
    if isinstance(history, list) and all(isinstance(s, str) for s in history):
        sources = list(history)  # IPython's cells, in the order they ran
    elif module is not None and module.__name__ != "__main__":
        try:
            sources = [inspect.getsource(module)]
        except (OSError, TypeError):
            sources = []
    scope = scope_from_sources(sources)
    scope.fallback = _real_object_fallback(fn)
    return scope


def learner_refusal(fn: Any, fn_name: str, allowed: Allow | None) -> str | None:
    """What the allowlist refuses in ``fn``, wherever it lives; None when all is allowed.

    ``fn`` is the learner's function, or the grader's stand-in for it with the learner's
    cell sources (``fn.learner_sources``). Returns None when there is no source to read.
    """
    if allowed is None:
        return None
    from dotlab.checks._core import LearnerProxy

    if isinstance(fn, LearnerProxy):
        sources = getattr(fn, "learner_sources", None)
        if sources is None:
            return None  # a stand-in without the notebook's cells: nothing to read
    else:
        sources = None
    if sources is not None:  # the grader: the notebook's cells, never the learner's objects
        scope = scope_from_sources(sources)
        root = _find_def(scope, fn_name)
        if root is None:
            bound = scope.names.get(fn_name)
            if bound and bound[0] in ("ref", "module", "expr"):
                # `dot = np.dot`: judge what it is bound to
                walker = _Walker(allowed, fn_name, scope)
                node = ast.Name(fn_name, ast.Load(), lineno=1, col_offset=0)
                try:
                    walker.check_name(node, node, fn_name, {})
                except Refused as refused:
                    return str(refused)
                return None
            return (f"could not find `def {fn_name}(...)` in your notebook: define the function with def in a "
                    "cell, so the grader can read what it uses")
        return refusal_in(root, scope, allowed, fn_name)
    if getattr(fn, "__code__", None) is None:
        return None
    root = _own_def(fn)
    if root is None:
        return None
    scope = local_scope(fn)
    return refusal_in(root, scope, allowed, fn_name)
