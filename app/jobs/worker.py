"""The worker loop: lease what is due, run each job in its own transaction, sleep until the next is due; and
what the loop does once a minute and when it stops (registered by app/wiring.py: the audit checkpoint)."""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from sqlalchemy import func, select

from app.db import Database, utcnow
from app.jobs.models import Job
from app.jobs.service import lease_due_jobs, run_job, runnable

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
PERIOD_SECONDS = 60.0
_PERIODIC: dict[str, Callable[[Database], None]] = {}


def every_minute(name: str, action: Callable[[Database], None]) -> None:
    """Have every worker loop run action(database) once a minute and once more when it stops (idempotent)."""
    _PERIODIC[name] = action


def run_periodic(database: Database) -> None:
    for name, action in list(_PERIODIC.items()):
        try:
            action(database)
        except Exception:  # noqa: BLE001 - one failing duty stops neither the others nor the jobs
            log.exception("periodic %s failed", name)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_once(database: Database, *, owner: str | None = None) -> int:
    """Fire what is due; returns how many jobs ran."""
    owner = owner or worker_name()
    return sum(run_job(database, job_id=job_id, owner=owner) for job_id in lease_due_jobs(database, owner=owner))


def run_forever(database: Database, stop: threading.Event) -> None:
    """Run jobs until stop is set; the periodic duties run at start, each minute and on the way out."""
    owner = worker_name()
    run_periodic(database)
    next_period = time.monotonic() + PERIOD_SECONDS
    try:
        while not stop.is_set():
            if time.monotonic() >= next_period:
                run_periodic(database)
                next_period = time.monotonic() + PERIOD_SECONDS
            try:
                ran = run_once(database, owner=owner)
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("worker iteration failed")
                ran = 0
            if not ran:
                stop.wait(_idle_wait(database))
    finally:
        run_periodic(database)


def _idle_wait(database: Database) -> float:
    """Nothing was due: sleep until the next job is (a timer may be created meanwhile, so at most a poll)."""
    try:
        with database.reading() as db:
            soonest = db.scalar(select(func.min(Job.due_at)).where(Job.status == "waiting", runnable()))
    except Exception:  # noqa: BLE001 - fall back to polling
        return POLL_SECONDS
    if soonest is None:
        return POLL_SECONDS
    return min(POLL_SECONDS, max(0.02, (soonest - utcnow()).total_seconds()))
