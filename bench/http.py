"""Whole incident lifecycles over HTTP through gunicorn on PostgreSQL, with 8, 32 and 64 concurrent clients.

    .venv/bin/python -m bench.http [--clients 8 32 64] [--seconds 60] [--gunicorn-workers 4]

Each client repeats one lifecycle as fast as it can: the requester reports an incident (POST /incidents),
the service desk resolves its diagnosis, the requester confirms the resolution, the service desk documents
the closure (three POST /tasks/{id}/complete, the next task taken from the answer's next_tasks). Reported per
client count: lifecycles and task completions per second over the measured window, and the median, 95th
and 99th percentile of a task completion as the client saw it (connect, request, answer), and the CPU time
the app, the database and the clients used per lifecycle in the window (from /proc: on a saturated machine
this, not the time a request waits, bounds the throughput, and it moves less with the machine's noise). The
clients are threads of this process on the same 2-core machine as the server and the database; gunicorn runs
sync workers. No `flowdesk worker` runs: the mails the lifecycles queue wait in the outbox.
"""

import argparse
import json
import threading
import time

from bench.common import Visitor, cpu_seconds, fresh_database, gunicorn, median_ms, percentile_ms, tokens_for

DIAGNOSIS = {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Restarted it", "category": "network"}
CONFIRM = {"accepted": True}
CLOSURE = {"closure_code": "solved_permanently", "closure_notes": "Relay restarted for good"}


class Load:
    def __init__(self, port: int, tokens: dict[str, str], until: float, warm_until: float):
        self.requester, self.agent = Visitor(port, tokens["alice"]), Visitor(port, tokens["sam"])
        self.until, self.warm_until = until, warm_until
        self.completions: list[float] = []
        self.lifecycles = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def complete(self, client: Visitor, task_id: str, data: dict) -> list[dict]:
        began = time.perf_counter()
        answer = client.json("POST", f"/api/v1/tasks/{task_id}/complete", {"data": data})
        if began >= self.warm_until:
            with self.lock:
                self.completions.append(time.perf_counter() - began)
        return answer["next_tasks"]

    def task(self, client: Visitor, number: str, element: str, offered: list[dict]) -> str:
        found = [t for t in offered if t["element_id"] == element] or [
            t for t in client.json("GET", f"/api/v1/tickets/{number}/tasks") if t["element_id"] == element
        ]
        return found[0]["id"]

    def lifecycle(self, n: int) -> None:
        began = time.perf_counter()
        number = self.requester.json(
            "POST", "/api/v1/incidents", {"title": f"Bench {n}", "impact": "medium", "urgency": "low"}
        )["number"]
        offered = self.complete(self.agent, self.task(self.agent, number, "diagnose", []), DIAGNOSIS)
        self.complete(self.requester, self.task(self.requester, number, "confirm_resolution", offered), CONFIRM)
        self.complete(self.agent, self.task(self.agent, number, "document_closure", []), CLOSURE)
        if began >= self.warm_until and time.perf_counter() <= self.until:
            with self.lock:
                self.lifecycles += 1

    def client(self, index: int) -> None:
        n = 0
        while time.perf_counter() < self.until:
            try:
                self.lifecycle(index * 1_000_000 + n)
            except Exception as err:  # noqa: BLE001 - counted and shown, the load goes on
                self.errors.append(str(err))
            n += 1


def cpu_now(server: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the app (gunicorn and its workers), the database and these clients."""
    return cpu_seconds(group=server), cpu_seconds(command="postgres"), time.process_time()


def measure(port: int, server: int, tokens: dict[str, str], clients: int, seconds: float, warm: float) -> dict:
    start = time.perf_counter()
    load = Load(port, tokens, until=start + warm + seconds, warm_until=start + warm)
    threads = [threading.Thread(target=load.client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, load.warm_until - time.perf_counter()))
    before = cpu_now(server)
    time.sleep(max(0.0, load.until - time.perf_counter()))
    app, database, client = (after - then for after, then in zip(cpu_now(server), before, strict=True))
    for thread in threads:
        thread.join()
    done = load.completions
    per_lifecycle = 1000 / max(load.lifecycles, 1)
    return {
        "clients": clients,
        "lifecycles_per_s": round(load.lifecycles / seconds, 1),
        "completions_per_s": round(len(done) / seconds, 1),
        "median_ms": median_ms(done),
        "p95_ms": percentile_ms(done, 95),
        "p99_ms": percentile_ms(done, 99),
        "cpu_ms_per_lifecycle": {
            "app": round(app * per_lifecycle, 1),
            "database": round(database * per_lifecycle, 1),
            "clients": round(client * per_lifecycle, 1),
        },
        "errors": len(load.errors),
        "first_error": load.errors[0] if load.errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warm", type=float, default=5)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    args = parser.parse_args()
    database = fresh_database("postgresql")
    tokens = tokens_for(database, "alice", "sam")
    url = database.url
    database.dispose()
    with gunicorn(url, workers=args.gunicorn_workers) as (port, server):
        print(f"gunicorn sync workers: {args.gunicorn_workers}; window {args.seconds:.0f} s after {args.warm:.0f} s")  # noqa: T201
        for clients in args.clients:
            print(json.dumps(measure(port, server, tokens, clients, args.seconds, args.warm)), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
