"""Ticket and comment rows held to the audit chain: every column change of a ticket row is recorded as a
`ticket_fields` event when the session flushes (hooked on the app's own session factories by app/wiring.py),
a comment's event carries a digest of its body, author and visibility, and `compare` replays those events and
names the first ticket or comment whose row differs from what the chain says."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.audit.models import AuditEvent
from app.tickets.models import Comment, Ticket

KIND = "ticket_fields"
COMMENT_KIND = "comment_added"
# Touched by every change: recording it would double each event without telling anything.
UNRECORDED = frozenset({"updated_at"})
COLUMNS = tuple(c.key for c in Ticket.__table__.columns if c.key not in UNRECORDED)


def value(raw):
    """A column's value as the chain keeps it (datetimes as UTC ISO text, JSON as plain JSON)."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC).isoformat()
    return json.loads(json.dumps(raw, default=str))


def comment_digest(*, ticket_id: int, author: str, visibility: str, body: str) -> str:
    return hashlib.sha256(json.dumps([ticket_id, author, visibility, body]).encode()).hexdigest()


def record_rows_on(sessions: sessionmaker) -> None:
    """Make every flush of this factory's sessions record the ticket rows it inserted or changed."""
    sa_event.listen(sessions, "after_flush", _record_rows)


def _record_rows(session: Session, _context) -> None:
    for ticket in session.new:
        if isinstance(ticket, Ticket):
            changes = {name: [None, value(getattr(ticket, name))] for name in COLUMNS}
            _record(session, ticket, changes)
    for ticket in session.dirty:
        if isinstance(ticket, Ticket):
            state, changes = inspect(ticket), {}
            for name in COLUMNS:
                history = state.attrs[name].history
                if history.has_changes():
                    old = history.deleted[0] if history.deleted else None
                    changes[name] = [value(old), value(getattr(ticket, name))]
            if changes:
                _record(session, ticket, changes)


def _record(session: Session, ticket: Ticket, changes: dict) -> None:
    audit.record(session, kind=KIND, actor=None, ticket=ticket.number, instance_id=ticket.instance_id, changes=changes)


@dataclass(frozen=True)
class Difference:
    what: str  # "ticket INC0000001", "comment 12"
    reason: str

    def __str__(self) -> str:
        return f"{self.what} {self.reason}"


def compare(db: Session) -> Difference | None:
    """The first ticket or comment row that differs from the audit chain, or None when all agree. Tickets are
    compared on the columns their events recorded (all of them for a ticket raised since rows are recorded)."""
    events = db.execute(
        select(AuditEvent.id, AuditEvent.kind, AuditEvent.ticket, AuditEvent.changes)
        .where(AuditEvent.kind.in_((KIND, COMMENT_KIND)))
        .order_by(AuditEvent.id)
    )
    tickets: dict[str, dict] = {}
    comments: dict[int, tuple[int, str | None]] = {}
    for event_id, kind, number, changes in events:
        if kind == KIND:
            replayed = tickets.setdefault(number, {})
            replayed.update({name: (pair[1], event_id) for name, pair in changes.items()})
        elif isinstance(changes.get("comment"), list):
            comments[changes["comment"][1]] = (event_id, changes.get("digest"))
    return _compare_tickets(db, tickets) or _compare_comments(db, comments)


def _compare_tickets(db: Session, tickets: dict[str, dict]) -> Difference | None:
    """The rows are read in batches, not all at once (a desk keeps a million tickets)."""
    for row in db.scalars(select(Ticket).order_by(Ticket.id).execution_options(yield_per=1000)):
        replayed = tickets.pop(row.number, None)
        for name, (recorded, event_id) in (replayed or {}).items():
            stored = value(getattr(row, name)) if name in COLUMNS else recorded
            if stored != recorded:
                reason = f"has {name} {stored!r} in its row, but the audit log says {recorded!r} (event {event_id})"
                return Difference(f"ticket {row.number}", reason)
    if not tickets:
        return None
    number, replayed = next(iter(tickets.items()))  # what is left has events but no row
    first = min(event_id for _value, event_id in replayed.values())
    return Difference(f"ticket {number}", f"is gone (it has audit events from event {first})")


def _compare_comments(db: Session, comments: dict[int, tuple[int, str | None]]) -> Difference | None:
    seen = set()
    for comment in db.scalars(select(Comment).order_by(Comment.id)):
        seen.add(comment.id)
        if comment.id not in comments:
            return Difference(f"comment {comment.id}", "has no audit event: it was added behind Flowdesk's back")
        event_id, digest = comments[comment.id]
        wanted = comment_digest(
            ticket_id=comment.ticket_id, author=comment.author, visibility=comment.visibility, body=comment.body
        )
        if digest is not None and digest != wanted:
            reason = f"differs from its audit event {event_id}: its body, author or visibility was changed"
            return Difference(f"comment {comment.id}", reason)
    missing = sorted(set(comments) - seen)
    if missing:
        return Difference(f"comment {missing[0]}", f"is gone (audit event {comments[missing[0]][0]} added it)")
    return None
