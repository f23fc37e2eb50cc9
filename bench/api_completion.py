"""Task completion through the HTTP API: median and 95th percentile, on SQLite and PostgreSQL.

Starts `flowdesk serve` on a fresh database, raises incidents as alice and completes each one's
diagnosis task as sam over HTTP, timing only the POST .../complete.

    .venv/bin/python -m bench.api_completion [--count 200] [--db sqlite|postgresql|both]
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.identity.service import create_token
from bench.common import fresh_database, median_ms, percentile_ms

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))
RESOLVE = {
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
    "category": "application",
}


def _call(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(kind: str, count: int) -> dict:
    database = fresh_database(kind)
    with database.unit_of_work() as db:
        tokens = {u: create_token(db, username=u) for u in ("alice", "sam")}
    port = _free_port()
    env = dict(os.environ, FLOWDESK_DATABASE_URL=database.url.replace("+psycopg", ""), FLOWDESK_SECRET_KEY="bench")  # noqa: S106
    database.dispose()
    server = subprocess.Popen(
        [FLOWDESK, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        timings = []
        for i in range(count + 10):
            number = _call(
                base,
                tokens["alice"],
                "POST",
                "/incidents",
                {"title": f"Bench {i}", "impact": "medium", "urgency": "low"},
            )["number"]
            task = _call(base, tokens["alice"], "GET", f"/tickets/{number}/tasks")[0]
            started = time.perf_counter()
            _call(base, tokens["sam"], "POST", f"/tasks/{task['id']}/complete", {"data": RESOLVE})
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
