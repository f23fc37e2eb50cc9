"""Raising tickets: an incident, a service request for a catalog item, a problem for the incidents it explains.
Each is numbered, stored and its process started in the same transaction."""

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import engine
from app.audit import service as audit
from app.catalog import service as catalog
from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.forms.validation import validate_submission
from app.identity import service as identity
from app.identity.models import User
from app.identity.service import Principal
from app.notify import service as notify
from app.tickets.access import RAISERS
from app.tickets.coordination import settle
from app.tickets.models import Ticket, TicketCounter
from app.tickets.problems import attach
from app.tickets.service_names import known_name
from app.validation import text, validate

LEVELS = ("high", "medium", "low")
LEVEL = {"type": "string", "enum": list(LEVELS)}


# The input of each command, also the API's published request body (app/api/tickets.py).
INCIDENT = {
    "type": "object",
    "required": ["title", "impact", "urgency"],
    "properties": {
        "title": text(200, required=True),
        "description": text(20_000),
        "impact": LEVEL,
        "urgency": LEVEL,
        "service": text(100),
        "ci": text(100),
        "category": text(40),
        "caller": text(64),
    },
    "additionalProperties": False,
}
REQUEST = {
    "type": "object",
    "required": ["item"],
    "properties": {
        "item": text(100, required=True),
        "fields": {"type": ["object", "null"], "description": "checked against the item's form"},
    },
}
PROBLEM = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": text(200, required=True),
        "description": text(20_000),
        "incidents": {"type": "array", "items": {"type": "string", "maxLength": 20}},
    },
}
PREFIX = {"incident": "INC", "request": "REQ", "problem": "PRB"}
PROCESS = {"incident": "incident", "request": "request_fulfillment", "problem": "problem"}


def _next_number(db: Session, kind: str) -> str:
    value = db.execute(
        update(TicketCounter)
        .where(TicketCounter.kind == kind)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    ).scalar_one_or_none()
    if value is None:
        db.add(TicketCounter(kind=kind, last=1))
        db.flush()
        value = 1
    return f"{PREFIX[kind]}{value:07d}"


def create_incident(
    db: Session,
    *,
    user: Principal,
    title,
    description,
    impact,
    urgency,
    service=None,
    ci=None,
    category=None,
    caller=None,
) -> Ticket:
    if not user.has(*RAISERS):
        raise Forbidden("your role cannot raise incidents")
    given = {"title": title, "description": description, "impact": impact, "urgency": urgency}
    given |= {"service": service, "ci": ci, "category": category, "caller": caller}
    values = validate(schema=INCIDENT, data=given, what="the incident")
    requester = user.username
    if values["caller"] is not None:
        if not user.is_agent:
            message = _("Only an agent can log an incident for someone else.")
            raise ValidationFailed("the incident has errors: caller", {"caller": [message]})
        if db.scalar(select(User.id).where(User.username == values["caller"])) is None:
            raise ValidationFailed("the incident has errors: caller", {"caller": [_("No such user.")]})
        requester = values["caller"]
    return _raise(
        db,
        user=user,
        kind="incident",
        requester=requester,
        title=values["title"],
        description=values["description"] or "",
        impact=values["impact"],
        urgency=values["urgency"],
        service=known_name(values["service"]),
        ci=values["ci"],
        category=values["category"],
    )


def create_request(db: Session, *, user: Principal, item, fields) -> Ticket:
    """A service request for a catalog item, its fields checked against the item's form."""
    if not user.has("requester", "agent", "manager", "approver", "admin"):
        raise Forbidden("your role cannot order from the catalog")
    values = validate(schema=REQUEST, data={"item": item, "fields": fields}, what="the request")
    catalog_item = catalog.item_by_key(db, key=values["item"])
    if catalog_item is None:
        raise ValidationFailed("no such catalog item", {"item": [_("Choose an item of the catalog.")]})
    clean = validate_submission(catalog_item.form, values["fields"] if values["fields"] is not None else {})
    requester = db.scalar(select(User).where(User.username == user.username))
    manager = requester.manager.username if requester.manager is not None else None
    # Who an approval unanswered for 5 working days goes to: the approver's own manager.
    escalation = requester.manager.manager.username if requester.manager and requester.manager.manager else None
    tasks = catalog_item.fulfilment_tasks or ([] if catalog_item.automated else [catalog_item.name])
    summary = "\n".join(f"{catalog_item.form['properties'][k].get('title', k)}: {v}" for k, v in clean.items())
    return _raise(
        db,
        user=user,
        kind="request",
        requester=user.username,
        title=catalog_item.name,
        description=summary,
        item_key=catalog_item.key,
        details=clean,
        process_data={
            "item": catalog_item.key,
            "item_name": catalog_item.name,
            "cost": catalog_item.cost,
            "needs_approval": catalog_item.approval == "manager",
            "manager": manager,
            "fulfillment_group": catalog_item.fulfillment_group,
            "automated": catalog_item.automated,
            "fulfilment_tasks": tasks,
            "escalation_approver": escalation,
            "finance_escalation_approver": identity.manager_of(db, group="finance"),
            "fields": clean,
        },
    )


def create_problem(db: Session, *, user: Principal, title, description, incidents) -> Ticket:
    """A problem raised by an agent, linked to the incidents it explains."""
    if not user.is_agent:
        raise Forbidden("only agents raise problems")
    given = {"title": title, "description": description, "incidents": [] if incidents is None else incidents}
    values = validate(schema=PROBLEM, data=given, what="the problem")
    numbers = {n.strip().upper() for n in values["incidents"]}
    linked = list(db.scalars(select(Ticket).where(Ticket.number.in_(numbers), Ticket.kind == "incident")))
    unknown = sorted(numbers - {t.number for t in linked})
    if unknown:
        message = _("No such incident: %(numbers)s", numbers=", ".join(unknown))
        raise ValidationFailed("the problem has errors: incidents", {"incidents": [message]})
    title, description = values["title"], values["description"] or ""
    problem = _raise(db, user=user, kind="problem", requester=user.username, title=title, description=description)
    for incident in linked:
        attach(db, incident=incident, problem=problem, actor=user.username)
    return problem


def _raise(
    db: Session,
    *,
    user: Principal,
    kind: str,
    requester: str,
    title: str,
    description: str,
    process_data: dict | None = None,
    **extra,
) -> Ticket:
    """Number, store and start a ticket; extra are ticket columns, also handed to the process unless
    process_data says what the process gets beyond the basics."""
    definition = engine.latest_definition(db, process_id=PROCESS[kind])
    if definition is None:
        raise Conflict(f"the {PROCESS[kind]} process is not deployed")
    number = _next_number(db, kind)
    now = utcnow()
    ticket = Ticket(
        number=number,
        kind=kind,
        title=title,
        description=description,
        status="New",
        requester=requester,
        opened_by=user.username,
        process_id=definition.process_id,
        process_version=definition.version,
        created_at=now,
        updated_at=now,
        **extra,
    )
    db.add(ticket)
    db.flush()
    created = {"title": title, "requester": requester, **extra}
    changes = {k: [None, v] for k, v in created.items() if v not in (None, {})}
    audit.record(db, kind="ticket_created", actor=user.username, ticket=number, public=True, changes=changes)
    data = {
        "number": number,
        "requester": requester,
        "title": title,
        "description": description,
        "resume_at": None,
        "raised_by_integration": user.has("integration"),
        "opened_at": now.isoformat(),
        **(extra if process_data is None else process_data),
    }
    outcome = engine.start(
        db, process_id=definition.process_id, data=data, actor=user.username, business_key=number, definition=definition
    )
    ticket.instance_id = outcome.instance.id
    settle(db, ticket, outcome, actor=user.username, initial=True)
    notify.inform(db, told={requester: f"{number}:created"}, template="ticket_created", ticket=ticket)
    return ticket
