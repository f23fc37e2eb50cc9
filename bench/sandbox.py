"""The sandbox pool's cost: one evaluation and one in-memory incident step, in the app's interpreter (how diagram
code ran before the pool) and in the pool's processes, side by side in turns; and the decision check on a 2 MB
input entry.

.venv/bin/python -m bench.sandbox [--rounds 2000] [--lifecycles 100]

In process: the RestrictedPython policy called directly, as before the pool. Pool: the same call through a
sandbox process (the request and the data as JSON over a pipe, the limits set). Medians.
"""

import argparse
import re
import statistics
import time
from contextlib import contextmanager, suppress

from app.engine import sandbox, serializer
from app.engine.decisions import input_in_place
from app.engine.sandbox import policy
from bench.engine import START, InMemory

CONDITION = "priority in ('critical', 'high') and not raised_by_integration"
SCRIPT = "reopen_count = reopen_count + 1\nlabel = title.upper()"
CONTEXT = {**START, "number": "INC0000001", "priority": "high", "reopen_count": 0, "sla": {"target": "PT8H"}}
# SpiffWorkflow's own pattern for a ? outside quotes (what the decision check used before).
BACKTRACKING = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _in_process_execute(script, context, extra=None):
    result = policy.execute(script, context, extra)
    context.clear()
    context.update(result)


@contextmanager
def in_process():
    """The workflow's script environment calling the policy in this interpreter, as before the pool."""
    env = serializer.SCRIPT_ENGINE.environment
    saved = type(env).evaluate, type(env).execute
    type(env).evaluate = lambda self, e, c, x=None: policy.evaluate(e, c, x)
    type(env).execute = lambda self, s, c, x=None: _in_process_execute(s, c, x) or True
    try:
        yield
    finally:
        type(env).evaluate, type(env).execute = saved


def per_evaluation(rounds: int) -> dict[str, float]:
    runs = {
        "condition, in process": lambda: policy.evaluate(CONDITION, dict(CONTEXT)),
        "condition, pool": lambda: sandbox.evaluate(CONDITION, dict(CONTEXT)),
        "script, in process": lambda: _in_process_execute(SCRIPT, dict(CONTEXT)),
        "script, pool": lambda: sandbox.execute(SCRIPT, dict(CONTEXT)),
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in timings.items()}


def evaluations_per_lifecycle(memory: InMemory) -> int:
    counted = []
    original = sandbox.pool.Pool.ask

    def counting(self, request):
        counted.append(request["op"])
        return original(self, request)

    sandbox.pool.Pool.ask = counting
    try:
        memory.lifecycle(0)
    finally:
        sandbox.pool.Pool.ask = original
    return len(counted)


def per_step(memory: InMemory, lifecycles: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {"in process": [], "pool": []}
    for i in range(lifecycles):
        with in_process():
            timings["in process"].extend(memory.lifecycle(i))
        timings["pool"].extend(memory.lifecycle(i))
    return {name: statistics.median(values) for name, values in timings.items()}


def decision_entry() -> list[tuple[str, float]]:
    rows = []
    for size in (2_000, 4_000, 8_000):
        entry = "?" * size + "'"
        began = time.perf_counter()
        BACKTRACKING.sub("dmninputexpr", entry)
        rows.append((f"backtracking pattern, {size} chars", time.perf_counter() - began))
    entry = "?" * 2_000_000 + "'"
    began = time.perf_counter()
    input_in_place(entry)
    rows.append(("one pass, 2,000,000 chars", time.perf_counter() - began))
    began = time.perf_counter()
    with suppress(sandbox.SandboxError):
        sandbox.check_compiles(input_in_place(entry), mode="eval")
    rows.append(("one pass and the sandbox's compile check, 2,000,000 chars", time.perf_counter() - began))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--lifecycles", type=int, default=100)
    args = parser.parse_args()
    memory = InMemory()
    memory.lifecycle(0)  # the pool's processes started, the specs parsed
    print(f"{'one evaluation':40} {'median µs':>10}")  # noqa: T201 - the benchmark's tables
    for name, value in per_evaluation(args.rounds).items():
        print(f"{name:40} {value * 1e6:10.1f}")  # noqa: T201
    print(f"\nsandbox requests per incident lifecycle (4 steps): {evaluations_per_lifecycle(memory)}")  # noqa: T201
    print(f"\n{'in-memory incident step':40} {'median ms':>10}")  # noqa: T201
    for name, value in per_step(memory, args.lifecycles).items():
        print(f"{name:40} {value * 1e3:10.2f}")  # noqa: T201
    print(f"\n{'decision input entry check':58} {'seconds':>8}")  # noqa: T201
    for name, value in decision_entry():
        print(f"{name:58} {value:8.3f}")  # noqa: T201


if __name__ == "__main__":
    main()
