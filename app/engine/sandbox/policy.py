"""The policy every diagram script and expression runs under, inside a sandbox process (child.py).

Scripts, gateway conditions, timer expressions, DMN entries and task property expressions are all
compiled with RestrictedPython (no imports, no names or attributes starting with an underscore, no
str.format) and run with guarded attribute, item and iteration access. Only plain data and a few
curated helpers enter the namespace. Arithmetic that could allocate without bound (`**`, `*`, `<<`)
goes through a guard, and a line budget stops endless loops. The process around it bounds CPU time, wall time
and memory inside any C call. This module imports nothing of the app: the sandbox process loads it by itself.
Helpers win over data: a data key named like a helper never hides it, and a script may not assign such a name.
"""

import ast
import math
import operator
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.Limits import limited_list, limited_range, limited_tuple

LINE_BUDGET = 200_000  # lines one script or expression may execute
MAX_SEQUENCE = 100_000  # longest string or list an operator may build
MAX_INT_BITS = 4_096
MAX_WIDTH = 10_000  # widest field a format or a padding method may ask for
_WIDTHS = re.compile(r"(\d+)")
_PERCENT_FIELD = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
MAX_DATA_BYTES = 256_000  # largest task data a script may leave behind (keeps the state bounded)


class SandboxError(Exception):
    """A script or expression was refused (at compile time) or stopped (at run time)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class _Transformer(RestrictingNodeTransformer):
    """RestrictedPython's policy plus guarded operators that could allocate without bound."""

    GUARDED = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Mod: "%"}

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        symbol = self.GUARDED.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()), args=[ast.Constant(symbol), node.left, node.right], keywords=[]
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node):
        """f'{x:>9999999}' would allocate what the width says: only small constant widths pass."""
        node = self.node_contents_visit(node)
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) for p in parts):
                self.error(node, "a format specification must be written out, not computed")
            elif _too_wide("".join(str(p.value) for p in parts)):
                self.error(node, f"format widths above {MAX_WIDTH} are not allowed")
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store | ast.Del) and node.id in HELPERS:
            self.error(node, f"{node.id} is the name of a helper: choose another variable name")
        return super().visit_Name(node)

    def visit_Import(self, node):
        self.error(node, "imports are not allowed in a diagram")
        return node

    visit_ImportFrom = visit_Import


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _too_wide(spec: str) -> bool:
    return any(int(number) > MAX_WIDTH for number in _WIDTHS.findall(spec))


def _checked_mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        for width, precision in _PERCENT_FIELD.findall(left):
            if "*" in (width, precision) or _too_wide(width + " " + precision):
                raise SandboxError(f"format widths above {MAX_WIDTH} are not allowed")
    return operator.mod(left, right)


def _checked_pow(left: Any, right: Any) -> Any:
    big = isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
    if big and right * max(1, abs(left).bit_length()) > MAX_INT_BITS:
        raise SandboxError("number too large")
    return operator.pow(left, right)


def _checked_lshift(left: Any, right: Any) -> Any:
    if isinstance(right, int) and right > MAX_INT_BITS:
        raise SandboxError("number too large")
    return operator.lshift(left, right)


def _checked_mul(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if _size(seq) and isinstance(times, int) and _size(seq) * times > MAX_SEQUENCE:
            raise SandboxError("sequence too large")
    return operator.mul(left, right)


# The operators that could allocate without bound, each with its guard (the rest are not rewritten).
_CHECKED = {"%": _checked_mod, "**": _checked_pow, "<<": _checked_lshift, "*": _checked_mul}


def _binop(symbol: str, left: Any, right: Any) -> Any:
    return _CHECKED[symbol](left, right)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.add,
    "-=": operator.sub,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": operator.mod,
    "|=": operator.or_,
    "&=": operator.and_,
    "^=": operator.xor,
    ">>=": operator.rshift,
}


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    if op in ("*=", "**=", "<<="):
        return _binop(op[:-1], left, right)
    if op not in _INPLACE:
        raise SandboxError(f"operator {op} is not allowed")
    result = _INPLACE[op](left, right)
    if _size(result) > MAX_SEQUENCE:
        raise SandboxError("sequence too large")
    return result


_PADDING = {"ljust", "rjust", "center", "zfill"}


def _getattr(obj: Any, name: str, default: Any = None) -> Any:
    """RestrictedPython's safer_getattr, plus string methods whose size comes from an argument, bounded."""
    found = safer_getattr(obj, name, default)
    if not isinstance(obj, str):
        return found
    if name in _PADDING:

        def padded(width, *args):
            if isinstance(width, int) and width > MAX_SEQUENCE:
                raise SandboxError("sequence too large")
            return found(width, *args)

        return padded
    if name == "expandtabs":

        def expanded(tabsize=8):
            if isinstance(tabsize, int) and tabsize * max(1, obj.count("\t")) > MAX_SEQUENCE:
                raise SandboxError("sequence too large")
            return found(tabsize)

        return expanded
    if name == "replace":

        def replaced(old, new, count=-1):
            times = obj.count(old) if old else len(obj) + 1
            times = min(times, count) if count >= 0 else times
            if len(obj) + times * max(0, len(new) - len(old)) > MAX_SEQUENCE:
                raise SandboxError("sequence too large")
            return found(old, new, count)

        return replaced
    return found


def _getiter(obj: Any):
    return iter(obj)


def _range(*args: int):
    try:
        return limited_range(*args)
    except ValueError as err:
        raise SandboxError(str(err)) from err


def _now() -> str:
    return datetime.now(UTC).isoformat()


# Helpers a diagram may call: plain functions over plain data.
HELPERS: dict[str, Any] = {
    "now": _now,
    "timedelta": timedelta,
    "date": date,
    "datetime": datetime,
    "min": min,
    "max": max,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
    "enumerate": enumerate,
    "reversed": reversed,
    "dict": dict,
    "list": limited_list,
    "tuple": limited_tuple,
    "set": set,
    "range": _range,
    "round": round,
    "abs": abs,
    "len": len,
    "ceil": math.ceil,
    "floor": math.floor,
}

_BUILTINS = dict(safe_builtins)  # the helpers enter each namespace after the data (see _namespace)
for _name in ("setattr", "delattr", "__import__", "_getattr_"):
    _BUILTINS.pop(_name, None)

_GUARDS = {
    "__builtins__": _BUILTINS,
    "__name__": "flowdesk_script",
    "__metaclass__": type,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": _getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_binop_": _binop,
}
GUARD_NAMES = frozenset(_GUARDS)


def provide(helpers: dict[str, Any]) -> None:
    """Offer more helpers to every script and expression (the sandbox process loads the app's, such as the SLA
    clocks, when it starts). Plain functions over plain data only."""
    HELPERS.update(helpers)
    compile_script.cache_clear()
    compile_expression.cache_clear()


def _first_line(errors: tuple[str, ...]) -> int | None:
    for error in errors:
        if error.startswith("Line "):
            head = error[5:].split(":", 1)[0]
            if head.isdigit():
                return int(head)
    return None


@lru_cache(maxsize=4096)
def compile_script(source: str):
    try:
        result = compile_restricted_exec(source, filename="<script>", policy=_Transformer)
    except (RecursionError, MemoryError) as err:
        raise SandboxError("too deeply nested to compile") from err
    if result.errors:
        raise SandboxError("; ".join(result.errors), _first_line(result.errors))
    return result.code


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    try:
        result = compile_restricted_eval(source.strip(), filename="<expression>", policy=_Transformer)
    except (RecursionError, MemoryError) as err:
        raise SandboxError("too deeply nested to compile") from err
    if result.errors:
        raise SandboxError("; ".join(result.errors), _first_line(result.errors))
    return result.code


class _Budget:
    """A trace function that stops the sandboxed frames after LINE_BUDGET lines."""

    def __init__(self):
        self.lines = 0

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename not in ("<script>", "<expression>"):
            return None
        return self._line

    def _line(self, frame, event, arg):
        if event == "line":
            self.lines += 1
            if self.lines > LINE_BUDGET:
                raise SandboxError(f"stopped after {LINE_BUDGET} lines: endless loop?")
        return self._line


def _run(code, namespace: dict) -> Any:
    previous = sys.gettrace()
    sys.settrace(_Budget())
    try:
        return eval(code, namespace)  # noqa: S307 - RestrictedPython bytecode with guarded globals
    except RecursionError as err:
        raise SandboxError("recursion too deep") from err
    finally:
        sys.settrace(previous)


def _namespace(context: dict, extra: dict | None) -> dict:
    """The data as variables, then the helpers (a data key never hides one), then the guards."""
    return {**context, **(extra or {}), **HELPERS, **_GUARDS}


def evaluate(expression: str, context: dict, extra: dict | None = None) -> Any:
    return _run(compile_expression(expression), _namespace(context, extra))


def execute(script: str, context: dict, extra: dict | None = None) -> dict:
    """Run a script with the task data as its variables; return the data it leaves (the new task data). A data key
    named like a helper keeps its value: the script saw the helper, and may not assign that name."""
    namespace = _namespace(context, extra)
    _run(compile_script(script), namespace)
    extra = extra or {}
    result = {}
    for key, value in namespace.items():
        if key in HELPERS and value is HELPERS[key]:
            if key in context:
                result[key] = context[key]
        elif key not in GUARD_NAMES and key not in extra and not key.startswith("_") and not callable(value):
            result[key] = value
    return result


def check_compiles(source: str, *, mode: str) -> None:
    """Raise SandboxError when source would be refused (used at deploy)."""
    if mode == "exec":
        compile_script(source)
    else:
        compile_expression(source)
