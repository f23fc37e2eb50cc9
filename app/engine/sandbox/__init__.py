"""The sandbox every diagram script and expression runs in: scripts, gateway conditions, timer expressions, decision
entries, task property expressions and the checks of a deploy or a dry run.

The code runs in a pool of sandbox processes (pool.py, child.py) under the RestrictedPython policy (policy.py),
with CPU time, wall time and memory limits that hold inside a C call; the data crosses as JSON (codec.py), so a
value that task data cannot store is refused where it is made. Errors come back as SandboxError, or as the
builtin exception the code raised (NameError, KeyError ...), with the message it had.
"""

import builtins
import inspect
from datetime import UTC, datetime
from typing import Any

from app.engine.sandbox import codec, pool
from app.engine.sandbox.policy import HELPERS, MAX_SEQUENCE, SandboxError
from app.engine.sandbox.pool import Limits, configure

__all__ = ["HELPERS", "MAX_SEQUENCE", "Limits", "SandboxError", "check_compiles", "configure", "evaluate", "execute"]
__all__ += ["provide"]


def provide(helpers: dict[str, Any]) -> None:
    """Offer more helpers to every script and expression (the app hands the engine its domain's, such as the SLA
    clocks, at start: the engine imports no domain package). Plain functions over plain data, in modules that
    import nothing of the app: the sandbox processes load those modules from their files."""
    pool.register_helpers({name: [inspect.getfile(function), function.__name__] for name, function in helpers.items()})


def _raised(reply: dict) -> Exception:
    if reply.get("kind"):
        return getattr(builtins, reply["kind"])(reply["error"].split(": ", 1)[-1])
    message = reply["error"]
    if reply.get("line") and not message.startswith("Line "):
        message = f"line {reply['line']}: {message}"
    return SandboxError(message, reply.get("line"))


def _data(value: dict | None, what: str):
    if value is None:
        return None
    try:
        return codec.encode(value)
    except codec.Unstorable as err:
        raise SandboxError(f"{what}: {err}") from None


def _ask(request: dict) -> dict:
    request["now"] = datetime.now(UTC).isoformat()  # the sandbox reads this process's clock
    reply = pool.current().ask(request)
    if not reply["ok"]:
        raise _raised(reply)
    return reply


def evaluate(expression: str, context: dict, extra: dict | None = None) -> Any:
    reply = _ask(
        {"op": "eval", "src": expression, "ctx": _data(context, "the task data"), "extra": _data(extra, "the input")}
    )
    return codec.decode(reply["value"])


def execute(script: str, context: dict, extra: dict | None = None) -> None:
    """Run a script with the task data as its variables; the data it leaves are the new task data."""
    reply = _ask(
        {"op": "exec", "src": script, "ctx": _data(context, "the task data"), "extra": _data(extra, "the input")}
    )
    result = codec.decode(reply["ctx"])
    context.clear()
    context.update(result)


def check_compiles(source: str, *, mode: str) -> None:
    """Raise SandboxError when source would be refused (used at deploy and by the studio's check)."""
    _ask({"op": "check", "src": source, "mode": mode})
