"""Appending to the audit log, reading a ticket's or an instance's history, and proving the chain."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.audit.models import AuditEvent
from app.db import utcnow

GENESIS = "0" * 64
_PENDING = "audit_pending"  # events recorded in the session, written at commit
_AUDIT_LOCK = 7_311_001  # PostgreSQL advisory lock id that orders appends to the chain


# What the hash covers: every field of an event but its id and its own hash.
CHAINED = (
    "at",
    "actor",
    "kind",
    "ticket",
    "instance_id",
    "process_id",
    "process_version",
    "element_id",
    "element_name",
    "changes",
    "public",
    "prev_hash",
)


def _digest(fields: dict) -> str:
    body = {name: fields[name] for name in CHAINED} | {"at": fields["at"].astimezone(UTC).isoformat()}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


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


def chain_on(sessions: sessionmaker) -> None:
    """Make the sessions of this factory append the events they recorded to the chain when they commit (the app
    registers this on its writers' factory; nothing else is hooked)."""
    sa_event.listen(sessions, "before_commit", _append_pending)
    sa_event.listen(sessions, "after_transaction_end", _forget_pending)


def _append_pending(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if not events:
        return
    session.flush()  # the transaction's own writes first: the chain's lock is held only for the append
    previous = _tail(session)
    for event in events:
        event["prev_hash"] = previous
        event["hash"] = previous = _digest(event)
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
    return list(db.scalars(query.limit(limit).offset(offset)))


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""


def verify(db: Session) -> ChainReport:
    previous, checked = GENESIS, 0
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)):
        if event.prev_hash != previous:
            return ChainReport(False, checked, event.id, "does not follow the previous event (prev_hash differs)")
        if _digest({name: getattr(event, name) for name in CHAINED}) != event.hash:
            return ChainReport(False, checked, event.id, "was changed after it was written (hash differs)")
        previous = event.hash
        checked += 1
    return ChainReport(True, checked)
