"""Appending to the audit log, reading a ticket's or an instance's history, and proving the chain."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.db import utcnow

GENESIS = "0" * 64
_TAIL = "audit_tail"
_AUDIT_LOCK = 7_311_001  # PostgreSQL advisory lock id that orders appends to the chain


def _digest(event: AuditEvent) -> str:
    body = {
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "ticket": event.ticket,
        "instance_id": event.instance_id,
        "process_id": event.process_id,
        "process_version": event.process_version,
        "element_id": event.element_id,
        "element_name": event.element_name,
        "changes": event.changes,
        "public": event.public,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _tail(db: Session) -> str:
    if _TAIL not in db.info:
        if db.get_bind().dialect.name == "postgresql":
            # Appends are serialised until commit, so the chain never forks between concurrent transactions.
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        last = db.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        db.info[_TAIL] = last or GENESIS
    return db.info[_TAIL]


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
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        kind=kind,
        ticket=ticket,
        instance_id=instance_id,
        process_id=process_id,
        process_version=process_version,
        element_id=element_id,
        element_name=element_name,
        changes=_plain(changes or {}),
        public=public,
        prev_hash=_tail(db),
    )
    event.hash = _digest(event)
    db.info[_TAIL] = event.hash
    db.add(event)
    return event


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_tail(session: Session, transaction) -> None:
    """After a commit or rollback the next append reads the chain's tail again."""
    if transaction.parent is None:
        session.info.pop(_TAIL, None)


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
        if _digest(event) != event.hash:
            return ChainReport(False, checked, event.id, "was changed after it was written (hash differs)")
        previous = event.hash
        checked += 1
    return ChainReport(True, checked)
