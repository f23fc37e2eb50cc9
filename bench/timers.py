"""Timer lateness: N waiting timers on PostgreSQL, due over a window, fired by W `flowdesk worker` processes.

.venv/bin/python -m bench.timers [--timers 10000] [--workers 2] [--window 60] [--later 0]

Each instance of bench/data/processes/at.bpmn waits for its own moment (a timeDate). The instances are
created first (their moments all lie after the creation ends), then the workers fire them. Lateness is
the time from a job's due moment to the commit of the transaction that fired it (job.updated_at).
--later N adds N more waiting instances due tomorrow, so that the workers pick the due ones among
timers + N waiting jobs: one is started through the engine, the others are copies of its row and its job
made in SQL (same state, same due moment), which is what N engine starts would have written.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from app import engine
from app.jobs.models import Job
from bench.common import PG_URL, fresh_database, percentile_ms

DATA = Path(__file__).parent / "data"
BATCH = 200


COPIES = """
WITH copies AS (
    INSERT INTO process_instance (definition_id, business_key, status, state, serializer_version, round, created_at,
        updated_at, lock_version)
    SELECT definition_id, business_key, status, state, serializer_version, round, now(), now(), 1
    FROM process_instance, generate_series(2, :n) WHERE id = :template
    RETURNING id
)
INSERT INTO job (kind, instance_id, element_id, payload, due_at, status, attempts, created_at, updated_at)
SELECT 'timer', copies.id, 'pause', '{}', :due, 'waiting', 0, now(), now() FROM copies
"""


def wait_tomorrow(database, count: int) -> datetime:
    """count instances waiting for a moment tomorrow; returns that moment."""
    due = datetime.now(UTC) + timedelta(days=1)
    with database.unit_of_work() as db:
        template = engine.start(db, process_id="at", data={"due": due.isoformat(), "divisor": 5}, actor="bench")
        db.execute(text(COPIES), {"n": count, "template": template.instance.id, "due": due})
    return due


def run(timers: int, workers: int, window: float, later: int = 0, rate_guess: float = 120.0) -> dict:
    database = fresh_database("postgresql")
    with database.unit_of_work() as db:
        engine.deploy_directory(db, root=DATA)
    tomorrow = wait_tomorrow(database, later) if later else datetime.now(UTC) + timedelta(days=1)
    # Leave room for the creation itself: the first moment falls after the last instance is created.
    created_at = time.monotonic()
    first_due = datetime.now(UTC) + timedelta(seconds=timers / rate_guess + 15)
    step = window / timers
    for start in range(0, timers, BATCH):
        with database.unit_of_work() as db:
            for i in range(start, min(timers, start + BATCH)):
                due = (first_due + timedelta(seconds=i * step)).isoformat()
                engine.start(db, process_id="at", data={"due": due, "divisor": 5}, actor="bench")
    creation = time.monotonic() - created_at
    late_start = (datetime.now(UTC) - first_due).total_seconds()
    env = dict(os.environ, FLOWDESK_DATABASE_URL=PG_URL, FLOWDESK_SECRET_KEY="bench")  # noqa: S106 - not a secret
    env.pop("FLOWDESK_SMTP_URL", None)
    exe = str(Path(sys.executable).with_name("flowdesk"))
    nodes = [subprocess.Popen([exe, "worker"], env=env, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        deadline = time.monotonic() + window + timers / 50 + 120
        while time.monotonic() < deadline:
            with database.reader() as db:
                left = db.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.kind == "timer", Job.status != "done", Job.due_at < tomorrow)
                )
            if not left:
                break
            time.sleep(1)
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait(30)
    with database.reader() as db:
        rows = db.execute(
            select(Job.due_at, Job.updated_at, Job.status).where(Job.kind == "timer", Job.due_at < tomorrow)
        ).all()
        waiting_later = db.scalar(
            select(func.count()).select_from(Job).where(Job.due_at >= tomorrow, Job.status == "waiting")
        )
    done = [(due, fired) for due, fired, status in rows if status == "done"]
    lateness = [max(0.0, (fired - due).total_seconds()) for due, fired in done]
    span = (max(f for _, f in done) - min(d for d, _ in done)).total_seconds() if done else 0
    return {
        "timers": timers,
        "also_waiting_until_tomorrow": waiting_later,
        "workers": workers,
        "window_s": window,
        "created_in_s": round(creation, 1),
        "creation_overran_first_due_s": round(max(0.0, late_start), 1),
        "fired": len(done),
        "not_fired": len(rows) - len(done),
        "fired_per_s": round(len(done) / span, 1) if span else None,
        "lateness_median_ms": round(statistics.median(lateness) * 1000, 1) if lateness else None,
        "lateness_p95_ms": percentile_ms(lateness, 95) if lateness else None,
        "lateness_max_ms": round(max(lateness) * 1000, 1) if lateness else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the moments spread")
    parser.add_argument("--later", type=int, default=0, help="more waiting timers, due tomorrow")
    args = parser.parse_args()
    result = run(args.timers, args.workers, args.window, args.later)
    for key, value in result.items():
        print(f"{key:32} {value}")  # noqa: T201 - a benchmark prints its table


if __name__ == "__main__":
    main()
