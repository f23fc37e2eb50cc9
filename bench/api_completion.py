"""Task completion through the HTTP API: median and 95th percentile, on SQLite and PostgreSQL.

Starts `flowdesk serve` on a fresh database, raises incidents as alice and completes each one's
diagnosis task as sam over HTTP, timing only the POST .../complete.

    .venv/bin/python -m bench.api_completion [--count 200] [--db sqlite|postgresql|both]
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Visitor, fresh_database, median_ms, percentile_ms, tokens_for, wait_until_up
from tools.cluster import free_port

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))
RESOLVE = {
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
    "category": "application",
}


def run(kind: str, count: int) -> dict:
    database = fresh_database(kind)
    tokens = tokens_for(database, "alice", "sam")
    port = free_port()
    env = dict(os.environ, FLOWDESK_DATABASE_URL=database.url.replace("+psycopg", ""), FLOWDESK_SECRET_KEY="bench")  # noqa: S106
    database.dispose()
    server = subprocess.Popen(
        [FLOWDESK, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(port)
        timings = []
        alice, sam = Visitor(port, tokens["alice"]), Visitor(port, tokens["sam"])
        for i in range(count + 10):
            number = alice.json(
                "POST",
                "/api/v1/incidents",
                {"title": f"Bench {i}", "impact": "medium", "urgency": "low"},
            )["number"]
            task = alice.json("GET", f"/api/v1/tickets/{number}/tasks")[0]
            started = time.perf_counter()
            sam.json("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": RESOLVE})
            if i >= 10:  # the first ones warm caches up
                timings.append(time.perf_counter() - started)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    return {"db": kind, "completions": count, "median_ms": median_ms(timings), "p95_ms": percentile_ms(timings, 95)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        print(run(kind, args.count))


if __name__ == "__main__":
    main()
