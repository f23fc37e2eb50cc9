"""A ticket's SLA as people read it: the state of its resolution clock now, and the clock's story."""

from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import utcnow
from app.tickets.models import Ticket


def sla_state(ticket: Ticket, *, now: datetime | None = None) -> str | None:
    """The resolution clock now: running, warning (75 % used), paused (on hold), breached, or met (resolved in
    time); None without an SLA."""
    if ticket.resolution_due is None:
        return None
    now = ticket.resolved_at or now or utcnow()
    if now > ticket.resolution_due:
        return "breached"
    if ticket.resolved_at is not None:
        return "met"
    if ticket.sla_held_since is not None:
        return "paused"
    return "warning" if ticket.sla_warning_due is not None and now >= ticket.sla_warning_due else "running"


def sla_timeline(db: Session, *, ticket: Ticket) -> list[tuple]:
    """The resolution clock's story from the audit log: (when, what) with what one of started, paused,
    resumed, warned, breached, met, resolved late."""
    if ticket.resolution_due is None:
        return []
    moments = [(ticket.created_at, "started")]
    for event in audit.history(db, ticket=ticket.number, public_only=False):
        moment = _moment(event.kind, (event.changes or {}).get("status"))
        if moment == "resolved":
            moment = "met" if event.at <= ticket.resolution_due else "resolved late"
        if moment:
            moments.append((event.at, moment))
    return moments


_SLA_EVENTS = {"sla_warning": "warned", "sla_breached": "breached"}


def _moment(kind: str, status: list | None) -> str | None:
    """What an audit event means for the resolution clock, if anything."""
    if kind in _SLA_EVENTS:
        return _SLA_EVENTS[kind]
    if not status:
        return None
    before, after = status
    if after == "On Hold":
        return "paused"
    if before == "On Hold":
        return "resumed"
    if after == "Resolved":
        return "resolved"
    if before == "Resolved" and after != "Closed":
        return "resumed"
    return None
