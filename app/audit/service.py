"""Appending to the audit log (each event HMAC-chained to the one before), reading a ticket's or an instance's
history, and proving the chain (`verify`, whose arithmetic is in app/audit/chain.py)."""

import json

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.audit.chain import GENESIS, HMAC, ChainReport, Head, keyed_digest
from app.audit.chain import verify as verify_chain
from app.audit.models import AuditEvent
from app.config import audit_key
from app.db import utcnow

_PENDING = "audit_pending"  # events recorded in the session, written at commit
_AUDIT_LOCK = 7_311_001  # PostgreSQL advisory lock id that orders appends to the chain


_TAIL = "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1"


def _tail(db: Session) -> str:
    if db.get_bind().dialect.name != "postgresql":
        return db.scalar(text(_TAIL)) or GENESIS  # SQLite: the writer holds the database lock already
    # Appends are serialised until commit, so the chain never forks between concurrent transactions. The lock
    # and the read go in one round trip; the read is a statement of its own, so it sees what the transaction
    # that held the lock before committed.
    with db.connection().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK}); {_TAIL}")
        cursor.nextset()
        row = cursor.fetchone()
    return row[0] if row else GENESIS


def record(
    db: Session,
    *,
    kind: str,
    actor: str | None,
    ticket: str | None = None,
    instance_id: int | None = None,
    process_id: str | None = None,
    process_version: int | None = None,
    element_id: str | None = None,
    element_name: str | None = None,
    changes: dict | None = None,
    public: bool = False,
) -> None:
    """Append an event to the log when the transaction commits (and only if it does).

    The events wait in the session and are chained and written just before the commit, so a transaction holds
    the chain's lock only for that last moment, not for the whole of its work."""
    event = {
        "at": utcnow(),
        "actor": actor,
        "kind": kind,
        "ticket": ticket,
        "instance_id": instance_id,
        "process_id": process_id,
        "process_version": process_version,
        "element_id": element_id,
        "element_name": element_name,
        "changes": _plain(changes or {}),
        "public": public,
    }
    db.info.setdefault(_PENDING, []).append(event)


def chain_on(sessions: sessionmaker, *, key: bytes | None = None) -> None:
    """Make the sessions of this factory append the events they recorded to the chain when they commit, each
    hash an HMAC under key (default: the configured audit key). The app registers this on its own session
    factories; nothing else is hooked."""
    key = key or audit_key()
    sa_event.listen(sessions, "before_commit", lambda session: _append_pending(session, key))
    sa_event.listen(sessions, "after_transaction_end", _forget_pending)


def _append_pending(session: Session, key: bytes) -> None:
    # The transaction's own writes first (flushing them may record events too): the lock is held only for the
    # append. A clean session's flush does nothing.
    session.flush()
    events = session.info.pop(_PENDING, None)
    if not events:
        return
    previous = _tail(session)
    for event in events:
        event["prev_hash"] = previous
        event["hash"] = previous = keyed_digest(event, key)
        event["hash_kind"] = HMAC
    session.execute(insert(AuditEvent.__table__), events)  # one statement for all of them


def _forget_pending(session: Session, transaction) -> None:
    """Events of a transaction that rolled back are never written."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def history(
    db: Session,
    *,
    ticket: str | None = None,
    instance_id: int | None = None,
    public_only: bool = False,
    leave_out: tuple[str, ...] = (),
    since=None,
    until=None,
    limit: int = 1000,
    offset: int = 0,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if ticket is not None:
        query = query.where(AuditEvent.ticket == ticket)
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
    if public_only:
        query = query.where(AuditEvent.public.is_(True))
    if leave_out:
        query = query.where(AuditEvent.kind.not_in(leave_out))
    return list(db.scalars(query.limit(limit).offset(offset)))


def verify(db: Session, *, key: bytes | None = None, head: Head | None = None) -> ChainReport:
    """Prove the chain under key (default: the configured audit key), against a checkpoint's head if given."""
    return verify_chain(db, key=key or audit_key(), head=head)
