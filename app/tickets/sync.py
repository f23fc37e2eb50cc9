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
    """Bring the ticket's columns in step with the outcome, run its elements' ticket events, and record and tell
    what changed (no status mail for a ticket's first run: its creation mail says it)."""
    now = utcnow()
    status = status_of(outcome)
    wanted = {
        **_status_columns(ticket, status, now),
        **_data_columns(outcome.data, status or ticket.status),
        **_assignment(outcome),
    }
    changes: dict[str, list] = {}
    for name, value in wanted.items():
        old = getattr(ticket, name)
        if old != value:
            changes[name] = [old, value]
            setattr(ticket, name, value)
    done_by = outcome.completed_task.actor if outcome.completed_task is not None else None
    for step in outcome.steps:
        if step.properties.get(EVENT):
            ticket_event(db, ticket, step.properties[EVENT], step.data, actor=done_by)
    if changes:
        ticket.updated_at = now
        _announce(db, ticket, changes, initial=initial)


def _status_columns(ticket: Ticket, status: str | None, now: datetime) -> dict:
    if not status:
        return {}
    columns: dict = {"status": status}
    if status == "Resolved" and ticket.status != "Resolved":
        columns["resolved_at"] = now
    elif status in ("In Progress", "New", "On Hold") and ticket.resolved_at is not None:
        columns["resolved_at"] = None
    if status == "Closed":
        columns["closed_at"] = now
    return columns


def _data_columns(data: dict, status: str) -> dict:
    """The columns the process data keeps: the SLA clock's moments and the synced fields."""
    clock = data.get("sla")
    columns = _sla_columns(clock, data) if isinstance(clock, dict) else {}
    columns.update({name: data[name] for name in SYNCED_FIELDS if data.get(name) is not None})
    if "hold_reason" in data and status != "On Hold":
        columns["hold_reason"] = None
    return columns


def _assignment(outcome: Outcome) -> dict:
    """The group and person of the first waiting task offered to a group (a requester's task is not)."""
    agent_task = next((t for t in outcome.open_tasks if t.candidate_groups), None)
    if agent_task is None:
        return {}
    return {"assignment_group": agent_task.candidate_groups[0], "assignee": agent_task.assignee}


def _announce(db: Session, ticket: Ticket, changes: dict, *, initial: bool) -> None:
    if "status" in changes and not initial:
        change = uuid4().hex
        people = [ticket.requester, *watchers(db, ticket=ticket)]
        told = {username: f"{ticket.number}:{ticket.status}:{change}:{username}" for username in people}
        notify.inform(db, told=told, template="status_changed", ticket=ticket)
    # The process made these changes; the person's own input is in its task_completed event.
    for public in (True, False):
        part = {k: v for k, v in changes.items() if (k in PUBLIC_FIELDS) == public}
        if part:
            changes_iso = journal.iso_changes(part)
            journal.record(db, ticket, kind="ticket_updated", actor=None, changes=changes_iso, public=public)


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
