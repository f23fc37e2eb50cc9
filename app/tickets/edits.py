"""An agent edits a ticket: title, impact, urgency, category, service, CI, assignment group and assignee.

Impact, urgency and service feed the priority matrix and the SLA decision tables of the ticket's process: a change
recomputes the priority and moves the SLA targets, and the process's waiting SLA timers with them (engine.amend).
The group and the assignee move the ticket's open agent task. Every change is a history entry with its old and new
values, under the ticket's version: a client that sends the version it read (If-Match, or `version`) gets a 409
naming what changed since when someone else edited first, and the version is claimed by a conditional UPDATE, so
two simultaneous edits cannot both win.
"""

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import engine
from app.audit import service as audit
from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.identity import service as identity
from app.identity.models import Group
from app.identity.service import Principal
from app.sla import clock as sla
from app.tasks import service as tasks
from app.tasks.models import HumanTask
from app.tickets import journal
from app.tickets.access import get_ticket
from app.tickets.coordination import settle
from app.tickets.diagram_events import tell_assignee
from app.tickets.models import Ticket
from app.tickets.service_names import known_name
from app.validation import text, validate

LEVEL = {"type": "string", "enum": ["high", "medium", "low"]}
# The fields an agent may change, also the API's published PATCH body (no other field is accepted).
EDIT = {
    "type": "object",
    "properties": {
        "title": text(200, required=True),
        "impact": LEVEL,
        "urgency": LEVEL,
        "category": text(40),
        "service": text(100),
        "ci": text(100),
        "assignment_group": text(64),
        "assignee": text(64),
        "version": {"type": "integer", "minimum": 1, "description": "the version read (or send If-Match)"},
    },
    "additionalProperties": False,
}
FIELDS = ("title", "impact", "urgency", "category", "service", "ci", "assignment_group", "assignee")
PUBLIC = {"title", "impact", "urgency", "category", "service", "ci"}  # what the requester's history shows
PROCESS_DATA = ("title", "impact", "urgency", "category", "service", "ci")  # what the process keeps of them
ENDED = ("Closed", "Cancelled", "Rejected")
EDIT_KINDS = ("ticket_edited", "ticket_cancelled", "ticket_linked")  # events that carry a version change


class StaleVersion(Conflict):
    """An edit made on an old version of the ticket: fields names what changed since, since holds it as data."""

    def __init__(self, message: str, fields: dict, since: dict):
        super().__init__(message, fields)
        self.since = since


def update_ticket(db: Session, *, user: Principal, number: str, changes: dict, version: int | None = None) -> Ticket:
    """Apply an agent's changes to a ticket; version is the one the agent read (None: no precondition)."""
    ticket = get_ticket(db, user=user, number=number)
    if not user.is_agent:
        raise Forbidden("only agents edit tickets")
    values = validate(schema=EDIT, data=changes, what="the change")
    version = values.pop("version", None) if version is None else version
    if "service" in values:
        values["service"] = known_name(values["service"])
    if ticket.status in ENDED:
        raise Conflict(_("%(number)s is %(status)s: it can no longer be edited.", number=number, status=ticket.status))
    if version is not None and version != ticket.version:
        raise stale(db, ticket=ticket, seen=version)
    wanted = {k: v for k, v in values.items() if getattr(ticket, k) != v}
    _check_assignment(db, ticket, wanted)
    if not wanted:
        return ticket
    claim_version(db, ticket=ticket, seen=ticket.version)
    _record(db, ticket, wanted, actor=user.username)
    for name, value in wanted.items():
        setattr(ticket, name, value)
    ticket.updated_at = utcnow()
    _move_task(db, ticket, wanted)
    _tell_the_process(db, ticket, wanted, actor=user.username)
    return ticket


def claim_version(db: Session, *, ticket: Ticket, seen: int) -> None:
    """Take the ticket's next version, if it is still at the one seen: one conditional UPDATE, so of two edits
    racing only one moves it (the other waits on the row lock, then finds the version gone: a 409)."""
    moved = db.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.version == seen).values(version=seen + 1)
    ).rowcount
    if moved != 1:
        db.expire(ticket)
        raise stale(db, ticket=ticket, seen=seen)
    set_committed_value(ticket, "version", seen + 1)


def stale(db: Session, *, ticket: Ticket, seen: int) -> StaleVersion:
    """The 409 of an edit made on an old version: it names each field changed since, with who changed it."""
    since = changed_since(db, ticket=ticket, seen=seen)
    fields = {
        name: [_("%(actor)s changed it from %(old)s to %(new)s.", actor=actor or "—", old=old or "—", new=new or "—")]
        for name, (old, new, actor) in since.items()
    }
    message = _(
        "%(number)s was changed by someone else since version %(seen)s (now %(version)s): %(fields)s. "
        "Reload it and make your change again.",
        number=ticket.number,
        seen=seen,
        version=ticket.version,
        fields=", ".join(since) or _("its status or links"),
    )
    return StaleVersion(message, fields, since)


def changed_since(db: Session, *, ticket: Ticket, seen: int) -> dict[str, tuple]:
    """Each field edited after version seen: (its value then, its value now, who changed it last)."""
    found: dict[str, tuple] = {}
    for event in audit.history(db, ticket=ticket.number, public_only=False):
        changes = event.changes or {}
        moved = changes.get("version")
        if event.kind not in EDIT_KINDS or not moved or moved[1] <= seen:
            continue
        for name, (old, _new) in changes.items():
            if name != "version":
                first = found.get(name, (old,))[0]
                found[name] = (first, getattr(ticket, name, _new), event.actor)
    return found


def _check_assignment(db: Session, ticket: Ticket, wanted: dict) -> None:
    """The group must be a support group, the assignee one of its members; a new group drops an assignee who is
    not in it (unless a new assignee comes with it)."""
    group = wanted.get("assignment_group", ticket.assignment_group)
    if "assignment_group" in wanted:
        found = identity.group_by_name(db, name=group) if group else None
        if found is None or found.role != "agent":
            message = _("Choose a support group.")
            raise ValidationFailed("the change has errors: assignment_group", {"assignment_group": [message]})
    assignee = wanted.get("assignee", ticket.assignee)
    if assignee and assignee not in identity.members_of(db, groups=[group] if group else []):
        if "assignee" not in wanted:
            wanted["assignee"] = None  # the old assignee stays with the old group
            return
        message = _("%(user)s is not a member of %(group)s.", user=assignee, group=group or "—")
        raise ValidationFailed("the change has errors: assignee", {"assignee": [message]})


def _record(db: Session, ticket: Ticket, wanted: dict, *, actor: str) -> None:
    version = [ticket.version - 1, ticket.version]
    for public in (True, False):
        part = {k: [getattr(ticket, k), v] for k, v in wanted.items() if (k in PUBLIC) == public}
        if part:
            part["version"] = version
            journal.record(db, ticket, kind="ticket_edited", actor=actor, changes=part, public=public)


def agent_task(db: Session, ticket: Ticket) -> HumanTask | None:
    """The ticket's open task offered to a group (the one its assignment follows), if any."""
    return next((t for t in tasks.of_business_key(db, key=ticket.number) if t.candidate_groups), None)


def _move_task(db: Session, ticket: Ticket, wanted: dict) -> None:
    """The open agent task follows the ticket's group and assignee; the new assignee is told."""
    if "assignment_group" not in wanted and "assignee" not in wanted:
        return
    task = agent_task(db, ticket)
    if task is None:
        return
    if "assignment_group" in wanted:
        tasks.offer_to(db, task=task, group=ticket.assignment_group)
    if task.assignee != ticket.assignee:
        tasks.assign(db, task=task, assignee=ticket.assignee)
        if ticket.assignee:
            tell_assignee(db, ticket, task, key=f"{ticket.number}:v{ticket.version}")


def _tell_the_process(db: Session, ticket: Ticket, wanted: dict, *, actor: str) -> None:
    """Hand the process the fields it keeps; impact, urgency or service: the priority and SLA targets again."""
    data = {k: wanted[k] for k in PROCESS_DATA if k in wanted}
    if {"impact", "urgency", "service"} & set(wanted):
        data.update(_priority_and_targets(db, ticket))
    if not data or ticket.instance_id is None:
        ticket.priority = data.get("priority", ticket.priority)
        return
    instance = engine.get_instance(db, instance_id=ticket.instance_id)
    if instance is None or instance.status in ("completed", "cancelled"):
        ticket.priority = data.get("priority", ticket.priority)
        return
    outcome = engine.amend(db, instance_id=ticket.instance_id, data=data, actor=actor, reason="ticket edited")
    settle(db, ticket, outcome, actor=actor)


def _decide(db: Session, ticket: Ticket, decision: str, data: dict) -> dict:
    """A decision table of the ticket's own process version, or else of the latest incident process (a request
    has no priority matrix of its own)."""
    instance = engine.get_instance(db, instance_id=ticket.instance_id) if ticket.instance_id else None
    for definition in (instance.definition if instance else None, engine.latest_definition(db, process_id="incident")):
        if definition is not None:
            result = engine.decide(db, definition=definition, decision=decision, data=data)
            if result is not None:
                return dict(result)
    return {}


def _priority_and_targets(db: Session, ticket: Ticket) -> dict:
    """The priority from the matrix; with an SLA running, its targets and calendar again and the clock retargeted
    (its start and the time on hold kept)."""
    priority = _decide(db, ticket, "priority", {"impact": ticket.impact, "urgency": ticket.urgency}).get("priority")
    data = {"priority": priority or ticket.priority}
    if ticket.resolution_due is None or ticket.resolved_at is not None:
        return data
    targets = _decide(db, ticket, "sla", {"priority": data["priority"]})
    calendar = _decide(db, ticket, "sla_calendar", {"priority": data["priority"], "service": ticket.service})
    if not targets.get("resolution_target"):
        return data
    clock = {
        **sla.start_clock(ticket.created_at, targets["resolution_target"], calendar.get("sla_calendar") or "24x7"),
        "paused": ticket.sla_paused_seconds,
        "held_since": journal.iso(ticket.sla_held_since),
    }
    return {**data, **targets, **calendar, "sla": clock}


def group_choices(db: Session) -> list[str]:
    """The support groups a ticket may be assigned to (for the edit form)."""
    return list(db.scalars(select(Group.name).where(Group.role == "agent").order_by(Group.name)))
