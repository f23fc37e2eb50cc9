"""The pool of sandbox processes diagram code runs in, never in the app's own interpreter.

Each process (child.py) serves one request at a time. A request that overruns its CPU time ends its process
(the signal comes from the kernel, inside any C call); one that overruns its wall time is killed here; one that
runs out of memory is answered and the process retired. A process that is gone is replaced by a fresh one on the
next request; the caller gets a SandboxError naming the limit. The pool belongs to the process that made it: a
forked web worker starts its own.
"""

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.engine.sandbox.policy import SandboxError

CHILD = Path(__file__).with_name("child.py")
_STARTUP_SECONDS = 30


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use: settings FLOWDESK_SANDBOX_CPU_SECONDS, _WALL_SECONDS, _MEMORY_MB and
    _PROCESSES (how many sandbox processes an app process keeps)."""

    cpu_seconds: float = 1.0
    wall_seconds: float = 5.0
    memory_mb: int = 256
    processes: int = 2

    @classmethod
    def from_env(cls) -> "Limits":
        env = os.environ
        return cls(
            cpu_seconds=float(env.get("FLOWDESK_SANDBOX_CPU_SECONDS", cls.cpu_seconds)),
            wall_seconds=float(env.get("FLOWDESK_SANDBOX_WALL_SECONDS", cls.wall_seconds)),
            memory_mb=int(env.get("FLOWDESK_SANDBOX_MEMORY_MB", cls.memory_mb)),
            processes=max(1, int(env.get("FLOWDESK_SANDBOX_PROCESSES", cls.processes))),
        )


class _Gone(Exception):
    """The sandbox process ended or was ended; the message says which limit."""


class _Process:
    def __init__(self, limits: Limits, helpers: list[list[str]]):
        config = {"helpers": helpers, "cpu_seconds": limits.cpu_seconds, "memory_mb": limits.memory_mb}
        self.limits = limits
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter running our own file
            [sys.executable, "-E", "-s", str(CHILD), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C in a terminal reaches the app, which ends its sandboxes itself
        )
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""
        if json.loads(self._read_line(_STARTUP_SECONDS)) != {"ready": True}:
            raise SandboxError("the sandbox process did not start")

    def ask(self, request: bytes) -> dict:
        try:
            self.proc.stdin.write(request + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise _Gone(self._why_gone()) from err
        return json.loads(self._read_line(self.limits.wall_seconds))

    def _read_line(self, seconds: float) -> bytes:
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise _Gone(f"stopped: it ran longer than {self.limits.wall_seconds:g} s (the wall time limit)")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise _Gone(self._why_gone())
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def _why_gone(self) -> str:
        code = self.proc.wait()
        if code == -signal.SIGPROF:
            return f"stopped: it used more than {self.limits.cpu_seconds:g} s of CPU time (the CPU time limit)"
        if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
            return f"stopped: it needed more than {self.limits.memory_mb} MB of memory (the memory limit)"
        return f"stopped: the sandbox process ended (exit status {code})"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Pool:
    limits: Limits
    helpers: list[list[str]] = field(default_factory=list)

    def __post_init__(self):
        self.owner = os.getpid()
        self._idle: list[_Process] = []
        self._started = 0
        self._free = threading.Condition()

    def ask(self, request: dict) -> dict:
        """The sandbox's reply to one request; SandboxError when the process was stopped by a limit."""
        line = json.dumps(request, separators=(",", ":")).encode()
        process = self._take()
        try:
            reply = process.ask(line)
        except _Gone as gone:
            self._retire(process)
            raise SandboxError(str(gone)) from None
        except BaseException:
            self._retire(process)
            raise
        if reply.get("memory"):
            self._retire(process)
            raise SandboxError(f"stopped: it needed more than {self.limits.memory_mb} MB of memory (the memory limit)")
        self._give(process)
        return reply

    def _take(self) -> _Process:
        with self._free:
            while True:
                while self._idle:
                    process = self._idle.pop()
                    if process.alive:
                        return process
                    process.kill()
                    self._started -= 1
                if self._started < self.limits.processes:
                    self._started += 1
                    break
                self._free.wait()
        try:
            return _Process(self.limits, self.helpers)
        except BaseException:
            with self._free:
                self._started -= 1
                self._free.notify()
            raise

    def _give(self, process: _Process) -> None:
        with self._free:
            self._idle.append(process)
            self._free.notify()

    def _retire(self, process: _Process) -> None:
        process.kill()
        with self._free:
            self._started -= 1
            self._free.notify()

    def close(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
            self._started -= len(idle)
        for process in idle:
            process.kill()


_pool: Pool | None = None
_lock = threading.Lock()
_helpers: dict[str, list[str]] = {}
_limits: Limits | None = None


def register_helpers(specs: dict[str, list[str]]) -> None:
    """Helpers the sandbox processes load: exposed name -> [module file, function name]. A change restarts the
    pool (the app registers the same ones each time it is wired: that changes nothing)."""
    if all(_helpers.get(name) == spec for name, spec in specs.items()):
        return
    _helpers.update(specs)
    _reset()


def configure(limits: Limits) -> None:
    global _limits
    _limits = limits
    _reset()


def current() -> Pool:
    """This process's pool (made on first use; a forked child makes its own)."""
    global _pool
    with _lock:
        if _pool is None or _pool.owner != os.getpid():
            helpers = [[name, *spec] for name, spec in sorted(_helpers.items())]
            _pool = Pool(_limits or Limits.from_env(), helpers)
        return _pool


def _reset() -> None:
    global _pool
    with _lock:
        old, _pool = _pool, None
    if old is not None and old.owner == os.getpid():
        old.close()


atexit.register(_reset)
