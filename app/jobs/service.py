"""Leasing and running due jobs, and what admins see of the ones that failed.

Several workers may run at once (`flowdesk worker`, or the thread inside `flowdesk serve`): a job is
leased with a compare-and-set UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL) and marked done in the same
transaction as what it changed (an instance's new state), so it runs once; a worker that dies holding a lease
only delays the job until the lease expires. A job that keeps failing is retried with backoff, then shown as
failed. What a job of each kind does is registered by the app at start (`handle`).
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import Database, utcnow
from app.errors import Conflict, NotFound
from app.jobs.models import Job

log = logging.getLogger(__name__)
# How long a leased job is a worker's before another may take it over (FLOWDESK_JOB_LEASE_SECONDS).
LEASE = timedelta(seconds=float(os.environ.get("FLOWDESK_JOB_LEASE_SECONDS", "60")))
MAX_ATTEMPTS = 5
BATCH = 20


@dataclass(frozen=True)
class Handler:
    run: Callable[[Session, Job], None]
    ready: Callable[[], bool]  # False: jobs of the kind wait (mails without a mail server)


_HANDLERS: dict[str, Handler] = {}


def handle(kind: str, run: Callable[[Session, Job], None], *, ready: Callable[[], bool] = lambda: True) -> None:
    """Say what runs the jobs of a kind (the app registers its handlers at start: the engine's timers, the
    outbox's mails). A kind without a handler waits."""
    _HANDLERS[kind] = Handler(run, ready)


def runnable():
    """The jobs this worker can run now: those of kinds with a handler that is ready."""
    return Job.kind.in_(sorted(kind for kind, handler in _HANDLERS.items() if handler.ready()))


def lease_due_jobs(database: Database, *, owner: str, limit: int = BATCH) -> list[int]:
    now = utcnow()
    due = (
        or_(
            (Job.status == "waiting") & (Job.due_at <= now),
            (Job.status == "running") & (Job.lease_until < now),  # its worker died: take it over
        )
        & runnable()
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
            _HANDLERS[job.kind].run(db, job)
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
