"""A sandbox process: runs diagram code for the app under hard limits, one request at a time.

Started by pool.py as `python child.py CONFIG` (the app is not imported: only the policy, the codec and the
helper modules the app named). It caps its own address space (RLIMIT_AS) once, and each request's CPU time with
a profiling timer, whose signal ends the process even inside one long C call (pow of a huge number). The pool
bounds the wall time and replaces a process that is gone. Requests and replies are JSON lines on stdin and
stdout.
"""

import importlib.util
import json
import resource
import signal
import sys
import traceback
from datetime import UTC, datetime

import codec
import policy

_ERRORS = ("NameError", "KeyError", "TypeError", "ValueError", "ZeroDivisionError", "AttributeError", "IndexError")


class _AskersTime(datetime):
    """datetime whose now() is the time of the app process that sent the request: diagram code reads the same
    clock as the app (a test that stops the app's clock stops the sandbox's too)."""

    at: datetime | None = None

    @classmethod
    def now(cls, tz=None):
        at = cls.at or datetime.now().astimezone()
        return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)

    @classmethod
    def utcnow(cls):
        return cls.now(UTC).replace(tzinfo=None)


def _read_clock_of_asker(modules) -> None:
    for module in modules:
        if getattr(module, "datetime", None) is datetime:
            module.datetime = _AskersTime
    policy.HELPERS["datetime"] = _AskersTime


def _load_helpers(specs: list[list[str]]) -> None:
    """Each helper as [exposed name, module file, function name]: the module is loaded from its file."""
    modules: dict[str, object] = {}
    helpers = {}
    for exposed, path, function in specs:
        if path not in modules:
            spec = importlib.util.spec_from_file_location(f"flowdesk_helpers_{len(modules)}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules[path] = module
        helpers[exposed] = getattr(modules[path], function)
    policy.provide(helpers)
    _read_clock_of_asker([policy, *modules.values()])


def _limit_memory(megabytes: int) -> None:
    """Room for megabytes more than the process holds now, after its imports."""
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    limit = size + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _line_of(err: BaseException) -> int | None:
    line = getattr(err, "line", None)
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename in ("<script>", "<expression>"):
            line = frame.lineno
    return line


def _answer(request: dict) -> dict:
    op, source = request["op"], request["src"]
    _AskersTime.at = datetime.fromisoformat(request["now"]) if request.get("now") else None
    if op == "check":
        policy.check_compiles(source, mode=request["mode"])
        return {"ok": True}
    context = codec.decode(request["ctx"])
    extra = codec.decode(request["extra"]) if request.get("extra") else None
    if op == "eval":
        return {"ok": True, "value": codec.encode(policy.evaluate(source, context, extra))}
    return {"ok": True, "ctx": codec.encode(policy.execute(source, context, extra))}


_TOO_MUCH = {"ok": False, "error": f"the script left more than {policy.MAX_DATA_BYTES} bytes of data"}


def _serve(cpu_seconds: float) -> None:
    for line in sys.stdin.buffer:
        signal.setitimer(signal.ITIMER_PROF, cpu_seconds)  # SIGPROF's default action ends the process
        try:
            reply = _answer(json.loads(line))
        except MemoryError:
            reply = {"ok": False, "error": "", "memory": True}
        except codec.Unstorable as err:
            reply = {"ok": False, "error": str(err), "unstorable": True}
        except Exception as err:  # noqa: BLE001 - whatever diagram code raised goes back to the app, named
            kind = type(err).__name__
            message = str(err) if isinstance(err, policy.SandboxError) else f"{kind}: {err}"
            reply = {"ok": False, "error": message, "line": _line_of(err), "kind": kind if kind in _ERRORS else None}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        line = json.dumps(reply, separators=(",", ":"))
        if "ctx" in reply and len(line) > policy.MAX_DATA_BYTES:
            line = json.dumps(_TOO_MUCH)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if reply.get("memory"):
            return  # the heap may be in pieces: the pool starts a fresh process


def main() -> None:
    config = json.loads(sys.argv[1])
    _load_helpers(config["helpers"])
    _limit_memory(config["memory_mb"])
    sys.stdout.write('{"ready":true}\n')
    sys.stdout.flush()
    _serve(config["cpu_seconds"])


if __name__ == "__main__":
    main()
