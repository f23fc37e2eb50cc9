"""Keeping a ticket row in step with a run of its process: the status its elements set (property
ticketStatus), the fields the process data keeps, the SLA columns from the process's clock, the assignment
group of the task that waits, and the audit events and mails of what changed."""

from datetime import datetime
from uuid import uuid4

from sqlalchemy.orm import Session

from app.db import utcnow
from app.engine import Outcome
from app.notify import service as notify
from app.sla import clock as sla
from app.tickets import journal
from app.tickets.diagram_events import EVENT, ticket_event
from app.tickets.models import Ticket
from app.tickets.watchers import watchers

STATUS = "ticketStatus"  # the element property
# Ticket fields the process data keeps up to date (process variable -> ticket column).
SYNCED_FIELDS = (
    "priority",
    "category",
    "hold_reason",
    "resolution_code",
    "resolution_notes",
    "reopen_count",
    "reassignment_count",
)
PUBLIC_FIELDS = {"status", "priority", "resolution_code", "resolution_notes"}


def status_of(outcome: Outcome) -> str | None:
    """The ticket status the run set: the last one named by an element it passed or a task now waiting."""
    status = None
    for properties, _data in outcome.properties():
        status = properties.get(STATUS) or status
    return status


def sync(db: Session, ticket: Ticket, outcome: Outcome, *, initial: bool = False) -> None:
    changes: dict[str, list] = {}

    def put(name, value):
        old = getattr(ticket, name)
        if old != value:
            changes[name] = [old, value]
            setattr(ticket, name, value)

    now = utcnow()
    status, data = status_of(outcome), outcome.data
    if status:
        previous = ticket.status
        put("status", status)
        if status == "Resolved" and previous != "Resolved":
            put("resolved_at", now)
        elif status in ("In Progress", "New", "On Hold") and ticket.resolved_at is not None:
            put("resolved_at", None)
        if status == "Closed":
            put("closed_at", now)
    clock = data.get("sla")
    if isinstance(clock, dict):
        for name, value in _sla_columns(clock, data).items():
            put(name, value)
    for name in SYNCED_FIELDS:
        if name in data and data[name] is not None:
            put(name, data[name])
    if "hold_reason" in data and ticket.status != "On Hold":
        put("hold_reason", None)
    agent_task = next((t for t in outcome.open_tasks if t.candidate_groups), None)
    if agent_task is not None:
        put("assignment_group", agent_task.candidate_groups[0])
        put("assignee", agent_task.assignee)
    done_by = outcome.completed_task.actor if outcome.completed_task is not None else None
    for step in outcome.steps:
        if step.properties.get(EVENT):
            ticket_event(db, ticket, step.properties[EVENT], step.data, actor=done_by)
    if not changes:
        return
    ticket.updated_at = now
    if "status" in changes and not initial:
        change = uuid4().hex
        people = [ticket.requester, *watchers(db, ticket=ticket)]
        told = {username: f"{ticket.number}:{ticket.status}:{change}:{username}" for username in people}
        notify.inform(db, told=told, template="status_changed", ticket=ticket)
    # The process made these changes; the person's own input is in its task_completed event.
    for public in (True, False):
        part = {k: v for k, v in changes.items() if (k in PUBLIC_FIELDS) == public}
        if part:
            journal.record(
                db, ticket, kind="ticket_updated", actor=None, changes=journal.iso_changes(part), public=public
            )


def _sla_columns(clock: dict, data: dict) -> dict:
    """The ticket's SLA columns from the clock the process keeps (see app/sla/clock.py)."""
    started = datetime.fromisoformat(clock["started"])
    held = clock.get("held_since")
    return {
        "resolution_due": sla.moment_at(clock),
        "sla_warning_due": sla.moment_at(clock, 0.75),
        "response_due": sla.due(started, data.get("response_target"), clock["calendar"]),
        "sla_paused_seconds": int(clock.get("paused") or 0),
        "sla_held_since": datetime.fromisoformat(held) if held else None,
    }
