"""What the app plugs into its parts at start, in one place: the helpers diagrams may call, what runs each kind
of job, and the commit hooks of its database sessions. Every process (server, worker, command, test) opens its
database through `open_database`, so none of them runs without these."""

from app import engine
from app.audit import checkpoints
from app.audit import service as audit
from app.config import Settings, audit_checkpoints, audit_key
from app.db import Database
from app.jobs import service as jobs
from app.jobs import worker
from app.notify import service as notify
from app.sla import clock as sla
from app.tickets import coordination, ledger


def _fire_timers(db, job) -> None:
    coordination.timer_fired(db, instance_id=job.instance_id)


def _send_mail(_db, job) -> None:
    notify.send(job)


def _mail_server_configured() -> bool:
    """Without a mail server, mails wait in the outbox."""
    return bool(Settings.from_env(secret_key="unused-by-worker").smtp_url)  # noqa: S106


def checkpoint(database: Database):
    """Write a checkpoint of the database's audit chain into its checkpoint folder (the Head written, or None
    for an empty log); raises checkpoints.CheckpointError when the log no longer holds what the last one saw."""
    with database.reading() as db:
        return checkpoints.write(db, folder=audit_checkpoints(database.url), key=audit_key())


def wire() -> None:
    """Plug the domain into the engine and the job runner (idempotent)."""
    engine.provide_helpers(sla.HELPERS)
    jobs.handle("timer", _fire_timers)
    jobs.handle("mail", _send_mail, ready=_mail_server_configured)
    worker.every_minute("audit checkpoint", checkpoint)


def open_database(url: str) -> Database:
    """The database of url with the app's commit hooks on its sessions: every change of a ticket row is recorded,
    the audit chain is appended when a transaction commits, and the workflows of its runs are kept once it has."""
    wire()
    database = Database(url)
    key = audit_key()
    for factory in database.factories:
        ledger.record_rows_on(factory)
        audit.chain_on(factory, key=key)
        engine.keep_workflows_on(factory)
    return database
