"""The worker loop: lease what is due, run each job in its own transaction, sleep until the next is due."""

import logging
import os
import socket
import threading

from sqlalchemy import func, select

from app.db import Database, utcnow
from app.jobs.models import Job
from app.jobs.service import lease_due_jobs, run_job, runnable

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_once(database: Database, *, owner: str | None = None) -> int:
    """Fire what is due; returns how many jobs ran."""
    owner = owner or worker_name()
    return sum(run_job(database, job_id=job_id, owner=owner) for job_id in lease_due_jobs(database, owner=owner))


def run_forever(database: Database, stop: threading.Event) -> None:
    owner = worker_name()
    while not stop.is_set():
        try:
            ran = run_once(database, owner=owner)
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("worker iteration failed")
            ran = 0
        if not ran:
            stop.wait(_idle_wait(database))


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
