"""The coordination loop: what a run of a ticket's instance leads to, followed until nothing is left.

Every operation that runs a ticket's process hands its Outcome to `settle`. Applying an outcome keeps the
ticket in step (sync), tells the people a new task waits for, and returns the follow-ups the run calls for:
a critical incident starts its major-incident coordination, a problem's news reaches its incidents (a known
error as a comment, a fix as a restart at their "resolved elsewhere" entry), a resolved major incident tells its
coordination that service is restored, a resolved parent incident resolves its open children. The loop runs each
follow-up on the engine and applies its outcome in turn, depth first, in one transaction. No function here calls
back into its caller.
"""

from collections import deque
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import engine
from app.engine import Outcome
from app.errors import Conflict
from app.tickets import journal
from app.tickets.diagram_events import EVENT, tell_who_works_it, ticket_event
from app.tickets.models import Ticket
from app.tickets.queries import children_of, linked_incidents
from app.tickets.sync import sync


@dataclass
class Deliver:
    """Give a waiting instance of the ticket a message."""

    ticket: Ticket
    instance_id: int
    name: str
    payload: dict


@dataclass
class StartMajor:
    """Start the major-incident coordination of an incident (once)."""

    ticket: Ticket
    reason: str


@dataclass
class Restart:
    """Send the ticket's instance to another entry of its diagram (its data updated)."""

    ticket: Ticket
    data: dict
    reason: str


FollowUp = Deliver | StartMajor | Restart


def settle(db: Session, ticket: Ticket, outcome: Outcome, *, actor: str | None, initial: bool = False) -> None:
    """Apply the outcome to its ticket, then run what it calls for, and what that calls for, until none is left."""
    pending = [deque(_apply(db, ticket, outcome, actor=actor, initial=initial))]
    while pending:
        if not pending[-1]:
            pending.pop()
            continue
        follow_up = pending[-1].popleft()
        result = _run(db, follow_up, actor=actor)
        if result is not None:
            pending.append(deque(_apply(db, follow_up.ticket, result, actor=actor)))


def _apply(db: Session, ticket: Ticket, outcome: Outcome, *, actor: str | None, initial: bool = False) -> list:
    """Keep the ticket in step with one outcome; returns the follow-ups it calls for."""
    if outcome.instance.id == ticket.major_instance_id:  # the coordination: its events only, no ticket status
        tell_who_works_it(db, ticket, outcome)
        for step in outcome.steps:
            if step.properties.get(EVENT):
                ticket_event(db, ticket, step.properties[EVENT], step.data, actor=actor)
        return []
    was_resolved = ticket.status == "Resolved"
    sync(db, ticket, outcome, initial=initial)
    tell_who_works_it(db, ticket, outcome)  # after the sync: the news shows the priority and group the run set
    follow_ups = _messages(db, ticket, outcome, actor=actor)
    if ticket.status == "Resolved" and not was_resolved:
        follow_ups += _resolved_follow_ups(db, ticket)
    return follow_ups


def _resolved_follow_ups(db: Session, ticket: Ticket) -> list:
    """A resolved incident tells its coordination that service is restored, and resolves its open children."""
    follow_ups: list = []
    if ticket.major_instance_id:
        payload = {"resolution_notes": ticket.resolution_notes}
        follow_ups.append(Deliver(ticket, ticket.major_instance_id, "service_restored", payload))
    if ticket.kind != "incident":
        return follow_ups
    notes = f"Resolved with parent incident {ticket.number}: {ticket.resolution_notes or ''}".strip()
    for child in children_of(db, parent=ticket):
        restart = resolution(
            child, code=ticket.resolution_code or "fix", notes=notes, reason=f"parent {ticket.number} resolved"
        )
        if restart is not None:
            follow_ups.append(restart)
    return follow_ups


def _messages(db: Session, ticket: Ticket, outcome: Outcome, *, actor: str | None) -> list:
    """What the messages a process threw call for: an incident declared major starts its coordination, a
    problem's news goes to the incidents linked to it."""
    follow_ups: list = []
    for message in outcome.thrown:
        if message["name"] == "major_incident_declared":
            follow_ups.append(StartMajor(ticket, "critical priority"))
            continue
        payload = message.get("payload") or {}
        for incident in linked_incidents(db, problem=ticket):
            if message["name"] == "known_error" and incident.status not in ("Closed", "Cancelled"):
                body = f"Known error {ticket.number}: {payload.get('workaround') or ''}".strip()
                journal.post_comment(db, ticket=incident, author=actor or "flowdesk", body=body, visibility="public")
            elif message["name"] == "problem_resolved":
                notes = f"Resolved by problem {ticket.number}: {payload.get('fix_notes') or ''}".strip()
                restart = resolution(incident, code="fix", notes=notes, reason=f"problem {ticket.number} resolved")
                if restart is not None:
                    follow_ups.append(restart)
    return follow_ups


def _run(db: Session, follow_up: FollowUp, *, actor: str | None) -> Outcome | None:
    if isinstance(follow_up, Deliver):
        name, payload = follow_up.name, follow_up.payload
        return engine.deliver(db, instance_id=follow_up.instance_id, name=name, payload=payload, actor=actor)
    if isinstance(follow_up, Restart):
        instance_id, reason = follow_up.ticket.instance_id, follow_up.reason
        return engine.restart(db, instance_id=instance_id, data=follow_up.data, actor=actor, reason=reason)
    return _start_major(db, follow_up.ticket, actor=actor, reason=follow_up.reason)


def _start_major(db: Session, ticket: Ticket, *, actor: str | None, reason: str) -> Outcome | None:
    if ticket.major_instance_id is not None:
        return None
    definition = engine.latest_definition(db, process_id="major_incident")
    if definition is None:
        raise Conflict("the major_incident process is not deployed")
    data = {"number": ticket.number, "title": ticket.title, "priority": ticket.priority, "requester": ticket.requester}
    outcome = engine.start(db, process_id="major_incident", data=data, actor=actor, business_key=ticket.number)
    ticket.major_instance_id, ticket.major_incident = outcome.instance.id, True
    changes = {"reason": [None, reason]}
    journal.record(db, ticket, kind="major_incident_declared", actor=actor, changes=changes, public=True)
    return outcome


# --- the ways in that run a ticket's process from outside its own tasks --------------------------


def start_major(db: Session, *, ticket: Ticket, actor: str | None, reason: str) -> None:
    """Start the incident's major-incident coordination now (an agent promoted it)."""
    outcome = _start_major(db, ticket, actor=actor, reason=reason)
    if outcome is not None:
        settle(db, ticket, outcome, actor=actor)


def resolution(ticket: Ticket, *, code: str, notes: str, reason: str) -> Restart | None:
    """The restart that resolves an incident from outside its own work, or None when it is not open."""
    if ticket.kind != "incident" or ticket.status in ("Resolved", "Closed", "Cancelled") or not ticket.instance_id:
        return None
    data = {
        "resume_at": "resolved",
        "outcome": "resolve",
        "resolution_code": code,
        "resolution_notes": notes,
        "hold_reason": None,
        "accepted": None,
    }
    return Restart(ticket, data, reason)


def resolve_elsewhere(db: Session, *, ticket: Ticket, code: str, notes: str, actor: str | None, reason: str) -> bool:
    """Resolve an incident from outside its own work (its problem was fixed, its alert cleared) through its
    process: the process restarts at its "resolved elsewhere" entry and asks for confirmation or closure.
    False when the incident was already resolved or closed (nothing changes)."""
    restart = resolution(ticket, code=code, notes=notes, reason=reason)
    if restart is None:
        return False
    settle(db, ticket, _run(db, restart, actor=actor), actor=actor)
    return True


def reopen_from_outside(db: Session, *, ticket: Ticket, actor: str | None, reason: str) -> bool:
    """Send a resolved incident back to the service desk (its alert fired again); False when it is not
    Resolved (a closed incident stays closed: a new one is raised instead)."""
    if ticket.kind != "incident" or ticket.status != "Resolved" or not ticket.instance_id:
        return False
    restart = Restart(ticket, {"resume_at": "l1", "reopen_count": ticket.reopen_count + 1}, reason)
    settle(db, ticket, _run(db, restart, actor=actor), actor=actor)
    return True


def deliver(db: Session, *, ticket: Ticket, name: str, payload: dict, actor: str | None) -> bool:
    """Give the ticket's instance a message (a caller's reply); False when it waits for none such."""
    outcome = engine.deliver(db, instance_id=ticket.instance_id, name=name, payload=payload, actor=actor)
    if outcome is None:
        return False
    settle(db, ticket, outcome, actor=actor)
    return True


def timer_fired(db: Session, *, instance_id: int) -> None:
    """A timer of the instance is due: fire it, and keep its ticket in step (the worker calls this)."""
    outcome = engine.fire_timers(db, instance_id=instance_id)
    ticket = db.scalar(
        select(Ticket).where(or_(Ticket.instance_id == instance_id, Ticket.major_instance_id == instance_id))
    )
    if ticket is not None:
        settle(db, ticket, outcome, actor=None)
