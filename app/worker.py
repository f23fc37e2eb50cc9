"""The background worker: leases due jobs (waiting timers, outbox mails) and runs each in its own transaction.

Several workers may run at once (`flowdesk worker`, or the thread inside `flowdesk serve`): a job is
leased with a compare-and-set UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL) and marked done in the same
transaction that saves the instance, so it fires once; a worker that dies holding a lease only delays
the job until the lease expires. A job that keeps failing is retried with backoff, then shown as failed.
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from app.audit import service as audit
from app.config import Settings
from app.db import Database, utcnow
from app.engine.models import Job
from app.errors import Conflict, NotFound
from app.notify import service as notify
from app.tickets import service as tickets

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
# How long a leased job is a worker's before another may take it over (FLOWDESK_JOB_LEASE_SECONDS).
LEASE = timedelta(seconds=float(os.environ.get("FLOWDESK_JOB_LEASE_SECONDS", "60")))
MAX_ATTEMPTS = 5
BATCH = 20


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _runnable():
    """Jobs this worker can run: without a mail server, mails wait in the outbox."""
    if Settings.from_env(secret_key="unused-by-worker").smtp_url:  # noqa: S106
        return Job.kind.isnot(None)
    return Job.kind != "mail"


def lease_due_jobs(database: Database, *, owner: str, limit: int = BATCH) -> list[int]:
    now = utcnow()
    due = (
        or_(
            (Job.status == "waiting") & (Job.due_at <= now),
            (Job.status == "running") & (Job.lease_until < now),  # its worker died: take it over
        )
        & _runnable()
    )
    with database.unit_of_work() as db:
        candidates = select(Job.id).where(due).order_by(Job.due_at).limit(limit)
        if not database.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(db.scalars(candidates))
        if not ids:
            return []
        db.execute(
            update(Job)
            .where(Job.id.in_(ids), due)
            .values(status="running", lease_owner=owner, lease_until=now + LEASE, updated_at=now)
        )
    with database.reading() as db:
        return list(
            db.scalars(select(Job.id).where(Job.id.in_(ids), Job.lease_owner == owner, Job.status == "running"))
        )


def run_job(database: Database, *, job_id: int, owner: str) -> bool:
    """Fire one leased job; True when it ran, False when it failed (and was rescheduled or given up)."""
    try:
        with database.unit_of_work() as db:
            job = db.get(Job, job_id)
            if job is None or job.status != "running" or job.lease_owner != owner:
                return False  # lost the lease meanwhile: another worker has it
            if job.kind == "mail":
                notify.send(job)
            else:
                tickets.timer_fired(db, instance_id=job.instance_id)
            job.status, job.updated_at, job.attempts = "done", utcnow(), job.attempts + 1
        return True
    except Exception as err:  # noqa: BLE001 - the job keeps the error for an admin to see and retry
        log.exception("job %s failed", job_id)
        with database.unit_of_work() as db:
            job = db.get(Job, job_id)
            if job is not None and job.lease_owner == owner:
                job.attempts += 1
                job.last_error = f"{type(err).__name__}: {err}"[:4000]
                job.lease_owner = job.lease_until = None
                if job.attempts >= MAX_ATTEMPTS:
                    job.status = "failed"
                else:
                    job.status = "waiting"
                    job.due_at = utcnow() + timedelta(seconds=2**job.attempts)
                job.updated_at = utcnow()
        return False


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
            soonest = db.scalar(select(func.min(Job.due_at)).where(Job.status == "waiting", _runnable()))
    except Exception:  # noqa: BLE001 - fall back to polling
        return POLL_SECONDS
    if soonest is None:
        return POLL_SECONDS
    return min(POLL_SECONDS, max(0.02, (soonest - utcnow()).total_seconds()))


# --- what admins see and do --------------------------------------------------------------------


def failed_jobs(db, *, limit: int = 200) -> list[Job]:
    """Jobs out of attempts, newest first: what an admin inspects and retries."""
    return list(db.scalars(select(Job).where(Job.status == "failed").order_by(Job.updated_at.desc()).limit(limit)))


def retry(db, *, job_id: int, actor: str) -> Job:
    """Give a failed job a fresh set of attempts, due now; the audit log keeps who did it and the last error."""
    job = db.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.status != "failed":
        raise Conflict(f"job {job_id} is {job.status}, not failed")
    audit.record(
        db,
        kind="job_retried",
        actor=actor,
        instance_id=job.instance_id,
        element_id=job.element_id,
        changes={"job": [None, job.id], "attempts": [job.attempts, 0], "last_error": [job.last_error, None]},
    )
    job.status, job.attempts, job.due_at, job.updated_at = "waiting", 0, utcnow(), utcnow()
    return job
