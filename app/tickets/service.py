"""Tickets: raising incidents, who may see what, and keeping the ticket row in step with its process.

Every function takes the database session and the acting Principal by keyword. Lookups check
visibility next to the query: a ticket the user may not see is NotFound, an action the user may
see but not do is Forbidden.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.audit import service as audit
from app.catalog import service as catalog
from app.db import utcnow
from app.engine import service as engine
from app.engine.models import HumanTask, HumanTaskGroup, ProcessDefinition, ProcessInstance
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.forms.validation import validate_submission
from app.identity import service as identity
from app.identity.models import User
from app.identity.service import Principal, principal_of
from app.notify import service as notify
from app.notify.models import Watcher
from app.sla import clock as sla
from app.tickets.models import Comment, Ticket, TicketCounter

LEVELS = ("high", "medium", "low")
PREFIX = {"incident": "INC", "request": "REQ", "problem": "PRB"}
PROCESS = {"incident": "incident", "request": "request_fulfillment", "problem": "problem"}
RAISERS = ("requester", "agent", "manager", "approver", "integration", "admin")
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


# --- visibility ---------------------------------------------------------------------------------


def can_see(user: Principal, ticket: Ticket, db: Session | None = None) -> bool:
    if user.sees_all_tickets or ticket.requester == user.username:
        return True
    if db is None:
        return False
    # An approver sees the tickets that wait (or waited) for their decision: assigned to them or to their group.
    for_me = HumanTask.assignee == user.username
    for_my_groups = HumanTask.id.in_(
        select(HumanTaskGroup.task_id).where(HumanTaskGroup.group_name.in_(user.groups or {""}))
    )
    query = select(HumanTask.id).where(HumanTask.business_key == ticket.number, or_(for_me, for_my_groups)).limit(1)
    return db.scalar(query) is not None


_TICKET = select(Ticket).where(Ticket.number == bindparam("number"))


def get_ticket(db: Session, *, user: Principal, number: str, kind: str | None = None) -> Ticket:
    ticket = db.scalar(_TICKET, {"number": number.upper()})
    if ticket is None or (kind and ticket.kind != kind) or not can_see(user, ticket, db):
        raise NotFound(f"no ticket {number}")
    return ticket


def list_tickets(
    db: Session,
    *,
    user: Principal,
    kind: str | None = None,
    status: str | None = None,
    priority: str | None = None,
    assignment_group: str | None = None,
    q: str | None = None,
    requester: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if not user.sees_all_tickets:
        query = query.where(Ticket.requester == user.username)
    elif requester:
        query = query.where(Ticket.requester == requester)
    if kind:
        query = query.where(Ticket.kind == kind)
    if status:
        query = query.where(Ticket.status == status)
    if priority:
        query = query.where(Ticket.priority == priority)
    if assignment_group:
        query = query.where(Ticket.assignment_group == assignment_group)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Ticket.title.ilike(like), Ticket.number.ilike(like), Ticket.description.ilike(like)))
    return list(db.scalars(query.limit(max(1, min(limit, 500))).offset(max(0, offset))))


# --- raising ------------------------------------------------------------------------------------


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


def _text(fields: dict, name: str, value, *, required: bool, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            fields.setdefault(name, []).append("This field is required.")
        return None
    if not isinstance(value, str):
        fields.setdefault(name, []).append("Expected text.")
        return None
    if len(value) > limit:
        fields.setdefault(name, []).append(f"At most {limit} characters.")
    return value.strip()


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
    fields: dict[str, list[str]] = {}
    title = _text(fields, "title", title, required=True, limit=200)
    description = _text(fields, "description", description, required=False, limit=20_000) or ""
    for name, value in (("impact", impact), ("urgency", urgency)):
        if value not in LEVELS:
            fields.setdefault(name, []).append("Choose high, medium or low.")
    service = _text(fields, "service", service, required=False, limit=100)
    ci = _text(fields, "ci", ci, required=False, limit=100)
    category = _text(fields, "category", category, required=False, limit=40)
    requester = user.username
    if caller not in (None, ""):
        if not user.is_agent:
            fields.setdefault("caller", []).append("Only an agent can log an incident for someone else.")
        elif not isinstance(caller, str) or db.scalar(select(User.id).where(User.username == caller)) is None:
            fields.setdefault("caller", []).append("No such user.")
        else:
            requester = caller
    if fields:
        raise ValidationFailed("the incident has errors: " + ", ".join(sorted(fields)), fields)
    return _raise(
        db,
        user=user,
        kind="incident",
        requester=requester,
        title=title,
        description=description,
        impact=impact,
        urgency=urgency,
        service=service,
        ci=ci,
        category=category,
    )


def create_request(db: Session, *, user: Principal, item, fields) -> Ticket:
    """A service request for a catalog item, its fields checked against the item's form."""
    if not user.has("requester", "agent", "manager", "approver", "admin"):
        raise Forbidden("your role cannot order from the catalog")
    catalog_item = catalog.item_by_key(db, key=item) if isinstance(item, str) else None
    if catalog_item is None:
        raise ValidationFailed("no such catalog item", {"item": ["Choose an item of the catalog."]})
    clean = validate_submission(catalog_item.form, fields if fields is not None else {})
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
    fields: dict[str, list[str]] = {}
    title = _text(fields, "title", title, required=True, limit=200)
    description = _text(fields, "description", description, required=False, limit=20_000) or ""
    numbers = incidents if isinstance(incidents, list) else None
    if numbers is None or not all(isinstance(n, str) for n in numbers):
        fields.setdefault("incidents", []).append("Expected a list of incident numbers.")
        numbers = []
    linked = list(
        db.scalars(select(Ticket).where(Ticket.number.in_([n.upper() for n in numbers]), Ticket.kind == "incident"))
    )
    unknown = sorted({n.upper() for n in numbers} - {t.number for t in linked})
    if unknown:
        fields.setdefault("incidents", []).append("No such incident: " + ", ".join(unknown))
    if fields:
        raise ValidationFailed("the problem has errors: " + ", ".join(sorted(fields)), fields)
    problem = _raise(db, user=user, kind="problem", requester=user.username, title=title, description=description)
    for incident in linked:
        _event(
            db,
            incident,
            kind="linked_to_problem",
            actor=user.username,
            changes={"problem": [incident.problem_number, problem.number]},
        )
        incident.problem_number = problem.number
    return problem


def link_to_problem(db: Session, *, user: Principal, number: str, problem_number) -> Ticket:
    """An agent links an incident to an existing open problem; returns the incident."""
    incident = get_ticket(db, user=user, number=number, kind="incident")
    if not user.is_agent:
        raise Forbidden("only agents link incidents to problems")
    problem = None
    if isinstance(problem_number, str) and problem_number.strip():
        problem = db.scalar(
            select(Ticket).where(Ticket.number == problem_number.strip().upper(), Ticket.kind == "problem")
        )
    if problem is None:
        raise ValidationFailed("no such problem", {"problem": ["Give the number of an existing problem."]})
    if problem.status == "Closed":
        raise ValidationFailed("the problem is closed", {"problem": [f"{problem.number} is closed."]})
    if incident.problem_number != problem.number:
        _event(
            db,
            incident,
            kind="linked_to_problem",
            actor=user.username,
            changes={"problem": [incident.problem_number, problem.number]},
        )
        incident.problem_number = problem.number
        incident.updated_at = utcnow()
    return incident


def linked_incidents(db: Session, *, problem: Ticket) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.problem_number == problem.number).order_by(Ticket.id)))


def _after_run(db: Session, ticket: Ticket, outcome: engine.Outcome, *, actor: str | None, initial=False) -> None:
    """Keep the ticket in step with a run of one of its instances, and deliver what the run announced."""
    if outcome.instance.id == ticket.major_instance_id:  # the coordination: its events only, no ticket status
        _tell_who_works_it(db, ticket, outcome)
        for step in outcome.report.events:
            _ticket_event(db, ticket, step.event, step.data, actor=actor)
        return
    was_resolved = ticket.status == "Resolved"
    _sync(db, ticket, outcome, initial=initial)
    _tell_who_works_it(db, ticket, outcome)  # after the sync: the news shows the priority and group the run set
    _route_messages(db, ticket, outcome, actor=actor)
    if ticket.status == "Resolved" and not was_resolved and ticket.major_instance_id:
        restored = engine.deliver_message(
            db,
            instance_id=ticket.major_instance_id,
            name="service_restored",
            payload={"resolution_notes": ticket.resolution_notes},
            actor=actor,
        )
        if restored is not None:
            _after_run(db, ticket, restored, actor=actor)


def sla_timeline(db: Session, *, ticket: Ticket) -> list[tuple]:
    """The resolution clock's story from the audit log: (when, what) with what one of started, paused,
    resumed, warned, breached, met."""
    if ticket.resolution_due is None:
        return []
    moments = [(ticket.created_at, "started")]
    for event in audit.history(db, ticket=ticket.number, public_only=False):
        status = (event.changes or {}).get("status")
        if event.kind == "sla_warning":
            moments.append((event.at, "warned"))
        elif event.kind == "sla_breached":
            moments.append((event.at, "breached"))
        elif status and status[1] == "On Hold":
            moments.append((event.at, "paused"))
        elif status and status[0] == "On Hold":
            moments.append((event.at, "resumed"))
        elif status and status[1] == "Resolved":
            moments.append((event.at, "met" if event.at <= ticket.resolution_due else "resolved late"))
        elif status and status[0] == "Resolved" and status[1] != "Closed":
            moments.append((event.at, "resumed"))
    return moments


def _tell_who_works_it(db: Session, ticket: Ticket, outcome: engine.Outcome) -> None:
    """A new task waits: tell its assignee, or every member of its groups (the requester hears of their own
    tasks through the status mails)."""
    for task in outcome.new_tasks:
        if task.assignee == ticket.requester:
            continue
        told = {username: f"task:{task.id}:{username}" for username in _people_for(db, task)}
        notify.inform(db, told=told, template="task_arrived", ticket=ticket, task=task)


def _people_for(db: Session, task: HumanTask) -> list[str]:
    """Who may answer a task: its assignee, or else every member of its candidate groups."""
    if task.assignee:
        return [task.assignee]
    return identity.members_of(db, groups=task.candidate_groups)


_WATCHERS = select(Watcher.username).where(Watcher.ticket_id == bindparam("ticket_id")).order_by(Watcher.id)


def watchers(db: Session, *, ticket: Ticket) -> list[str]:
    return list(db.scalars(_WATCHERS, {"ticket_id": ticket.id}))


def watch(db: Session, *, user: Principal, number: str, username: str | None = None) -> list[str]:
    """Follow a ticket (anyone who may see it); an agent may add someone else who may see it."""
    ticket, username = _follower(db, user=user, number=number, username=username)
    if username != user.username:
        other = db.scalar(select(User).where(User.username == username))
        if other is None or not can_see(principal_of(other), ticket, db):
            raise ValidationFailed("no such user may see this ticket", {"username": ["Choose a user who may see it."]})
    if username not in watchers(db, ticket=ticket):
        db.add(Watcher(ticket_id=ticket.id, username=username))
        _event(db, ticket, kind="watcher_added", actor=user.username, changes={"watcher": [None, username]})
        db.flush()
    return watchers(db, ticket=ticket)


def _follower(db: Session, *, user: Principal, number: str, username: str | None) -> tuple[Ticket, str]:
    """The ticket and whose following changes: the user's own, or (agents only) someone else's."""
    ticket = get_ticket(db, user=user, number=number)
    if not user.has(*RAISERS, "process_owner"):
        raise Forbidden("auditors read tickets; they do not follow them")
    username = username or user.username
    if username != user.username and not user.is_agent:
        raise Forbidden("only agents add or remove other watchers")
    return ticket, username


def unwatch(db: Session, *, user: Principal, number: str, username: str | None = None) -> list[str]:
    ticket, username = _follower(db, user=user, number=number, username=username)
    row = db.scalar(select(Watcher).where(Watcher.ticket_id == ticket.id, Watcher.username == username))
    if row is not None:
        db.delete(row)
        _event(db, ticket, kind="watcher_removed", actor=user.username, changes={"watcher": [username, None]})
        db.flush()
    return watchers(db, ticket=ticket)


def declare_major(db: Session, *, user: Principal, number: str) -> Ticket:
    """An agent promotes an incident to a major incident: the managers take charge of it."""
    ticket = get_ticket(db, user=user, number=number, kind="incident")
    if not user.is_agent:
        raise Forbidden("only agents promote an incident to a major incident")
    if ticket.major_instance_id is not None:
        raise Conflict(f"{number} is already a major incident")
    if ticket.status in ("Resolved", "Closed", "Cancelled"):
        raise Conflict(f"{number} is {ticket.status}: only an open incident becomes a major incident")
    _start_major(db, ticket, actor=user.username, reason="promoted by an agent")
    return ticket


def _start_major(db: Session, ticket: Ticket, *, actor: str | None, reason: str) -> None:
    definition = engine.latest_definition(db, process_id="major_incident")
    if definition is None:
        raise Conflict("the major_incident process is not deployed")
    data = {"number": ticket.number, "title": ticket.title, "priority": ticket.priority, "requester": ticket.requester}
    outcome = engine.start(db, process_id="major_incident", data=data, actor=actor, business_key=ticket.number)
    ticket.major_instance_id, ticket.major_incident = outcome.instance.id, True
    _event(db, ticket, kind="major_incident_declared", actor=actor, changes={"reason": [None, reason]}, public=True)
    _after_run(db, ticket, outcome, actor=actor)


def _route_messages(db: Session, ticket: Ticket, outcome: engine.Outcome, *, actor: str | None) -> None:
    """Deliver what a process announced: an incident declared major starts its coordination, a problem's
    news goes to the incidents linked to it."""
    for message in outcome.report.thrown:
        if message["name"] == "major_incident_declared":
            if ticket.major_instance_id is None:
                _start_major(db, ticket, actor=actor, reason="critical priority")
            continue
        payload = message.get("payload") or {}
        for incident in linked_incidents(db, problem=ticket):
            if message["name"] == "known_error" and incident.status not in ("Closed", "Cancelled"):
                body = f"Known error {ticket.number}: {payload.get('workaround') or ''}".strip()
                post_comment(db, ticket=incident, author=actor or "flowdesk", body=body, visibility="public")
            elif message["name"] == "problem_resolved":
                notes = f"Resolved by problem {ticket.number}: {payload.get('fix_notes') or ''}".strip()
                resolve_elsewhere(
                    db,
                    ticket=incident,
                    code="fix",
                    notes=notes,
                    actor=actor,
                    reason=f"problem {ticket.number} resolved",
                )


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
    audit.record(
        db,
        kind="ticket_created",
        actor=user.username,
        ticket=number,
        public=True,
        changes={
            k: [None, v] for k, v in {"title": title, "requester": requester, **extra}.items() if v not in (None, {})
        },
    )
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
    _after_run(db, ticket, outcome, actor=user.username, initial=True)
    notify.inform(db, told={requester: f"{number}:created"}, template="ticket_created", ticket=ticket)
    return ticket


# --- keeping the ticket in step -----------------------------------------------------------------


def _sync(db: Session, ticket: Ticket, outcome: engine.Outcome, *, initial: bool = False) -> None:
    report = outcome.report
    changes: dict[str, list] = {}

    def put(name, value):
        old = getattr(ticket, name)
        if old != value:
            changes[name] = [old, value]
            setattr(ticket, name, value)

    now = utcnow()
    if report.status:
        previous = ticket.status
        put("status", report.status)
        if report.status == "Resolved" and previous != "Resolved":
            put("resolved_at", now)
        elif report.status in ("In Progress", "New", "On Hold") and ticket.resolved_at is not None:
            put("resolved_at", None)
        if report.status == "Closed":
            put("closed_at", now)
    clock = report.data.get("sla")
    if isinstance(clock, dict):
        for name, value in _sla_columns(clock, report.data).items():
            put(name, value)
    for name in SYNCED_FIELDS:
        if name in report.data and report.data[name] is not None:
            put(name, report.data[name])
    if "hold_reason" in report.data and ticket.status != "On Hold":
        put("hold_reason", None)
    agent_task = next((t for t in outcome.open_tasks if t.candidate_groups), None)
    if agent_task is not None:
        put("assignment_group", agent_task.candidate_groups[0])
        put("assignee", agent_task.assignee)
    done_by = outcome.completed_task.completed_by if outcome.completed_task is not None else None
    for step in report.events:
        _ticket_event(db, ticket, step.event, step.data, actor=done_by)
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
            _event(db, ticket, kind="ticket_updated", actor=None, changes=_iso(part), public=public)


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


def _ticket_event(db: Session, ticket: Ticket, event: str, data: dict, *, actor: str | None) -> None:
    """What a diagram element marked with ticketEvent means for the ticket: recorded once, told to people."""
    if event in SLA_EVENTS:
        _sla_event(db, ticket, event)
    elif event == "approval_reminder":
        _remind_approvers(db, ticket, reminded_at=data.get("reminded_at"))
    elif event in ("major_declared", "stakeholder_update"):
        news = data.get("first_update") if event == "major_declared" else _latest_public_news(db, ticket)
        if event == "major_declared":
            post_comment(db, ticket=ticket, author=actor or "flowdesk", body=news, visibility="public")
        sent = data.get("update_sent_at") or "declared"
        _event(db, ticket, kind=event, actor=None, changes={"stakeholders": [None, data.get("stakeholders")]})
        for address in data.get("stakeholders") or []:
            notify.queue_mail_to(
                db,
                address=address,
                template="stakeholder_update",
                key=f"{ticket.number}:update:{sent}:{address}",
                ticket=ticket,
                reason=data.get("major_reason", ""),
                news=news,
                interval=data.get("update_interval"),
            )


# ticketEvent -> (the ticket column that records it, its audit event kind); the mail template is the event.
SLA_EVENTS = {"sla_warning": ("sla_warned_at", "sla_warning"), "sla_breach": ("sla_breached_at", "sla_breached")}


def _sla_event(db: Session, ticket: Ticket, event: str) -> None:
    """75 % used: warn the assignment group. Breached: record it and tell the group's manager. Once each."""
    column, kind = SLA_EVENTS[event]
    if getattr(ticket, column) is not None:
        return  # a later tier's timer fired for a moment already passed
    setattr(ticket, column, utcnow())
    group = ticket.assignment_group or ""
    if event == "sla_warning":
        recipients = identity.members_of(db, groups=[group])
        changes = {"resolution_due": [None, _iso_of(ticket.resolution_due)]}
    else:
        ticket.sla_breached = True
        manager = identity.manager_of(db, group=group)
        recipients, changes = ([manager] if manager else []), {"escalated_to": [None, manager]}
    _event(db, ticket, kind=kind, actor=None, changes=changes)
    told = {username: f"{ticket.number}:{event}:{username}" for username in recipients}
    notify.inform(db, told=told, template=event, ticket=ticket, due=_iso_of(ticket.resolution_due))


def _remind_approvers(db: Session, ticket: Ticket, *, reminded_at: str | None) -> None:
    """An approval waits for 2 working days: remind whoever may answer it."""
    waiting = db.scalars(
        select(HumanTask).where(
            HumanTask.business_key == ticket.number,
            HumanTask.status == "open",
            HumanTask.form_schema == "approval.schema.json",
        )
    )
    for task in waiting:
        people = _people_for(db, task)
        _event(db, ticket, kind="approval_reminder", actor=None, changes={"reminded": [None, people]})
        told = {username: f"{ticket.number}:reminder:{task.id}:{username}:{reminded_at}" for username in people}
        notify.inform(db, told=told, template="approval_reminder", ticket=ticket, task=task)


def _latest_public_news(db: Session, ticket: Ticket) -> str:
    latest = db.scalar(
        select(Comment.body)
        .where(Comment.ticket_id == ticket.id, Comment.visibility == "public")
        .order_by(Comment.at.desc(), Comment.id.desc())
        .limit(1)
    )
    return latest or ""


def _iso_of(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _event(db: Session, ticket: Ticket, *, kind: str, actor: str | None, changes: dict, public: bool = False):
    """An audit event about the ticket (not about one step of its process)."""
    audit.record(
        db, kind=kind, actor=actor, ticket=ticket.number, instance_id=ticket.instance_id, changes=changes, public=public
    )


def _iso(changes: dict) -> dict:
    return {k: [v.isoformat() if hasattr(v, "isoformat") else v for v in pair] for k, pair in changes.items()}


def resolve_elsewhere(db: Session, *, ticket: Ticket, code: str, notes: str, actor: str | None, reason: str) -> bool:
    """Resolve an incident from outside its own work (its problem was fixed, its alert cleared) through its
    process: the process restarts at its "resolved elsewhere" entry and asks for confirmation or closure.
    False when the incident was already resolved or closed (nothing changes)."""
    if ticket.kind != "incident" or ticket.status in ("Resolved", "Closed", "Cancelled") or not ticket.instance_id:
        return False
    data = {
        "resume_at": "resolved",
        "outcome": "resolve",
        "resolution_code": code,
        "resolution_notes": notes,
        "hold_reason": None,
        "accepted": None,
    }
    outcome = engine.restart(db, instance_id=ticket.instance_id, data=data, actor=actor, reason=reason)
    _after_run(db, ticket, outcome, actor=actor)
    return True


def timer_fired(db: Session, *, instance_id: int) -> None:
    """A timer of the instance is due: fire it, and keep its ticket in step (the worker calls this)."""
    outcome = engine.fire_timers(db, instance_id=instance_id)
    ticket = db.scalar(
        select(Ticket).where(or_(Ticket.instance_id == instance_id, Ticket.major_instance_id == instance_id))
    )
    if ticket is not None:
        _after_run(db, ticket, outcome, actor=None)


def reopen_from_outside(db: Session, *, ticket: Ticket, actor: str | None, reason: str) -> bool:
    """Send a resolved incident back to the service desk (its alert fired again); False when it is not
    Resolved (a closed incident stays closed: a new one is raised instead)."""
    if ticket.kind != "incident" or ticket.status != "Resolved" or not ticket.instance_id:
        return False
    data = {"resume_at": "l1", "reopen_count": ticket.reopen_count + 1}
    outcome = engine.restart(db, instance_id=ticket.instance_id, data=data, actor=actor, reason=reason)
    _after_run(db, ticket, outcome, actor=actor)
    return True


# --- tasks --------------------------------------------------------------------------------------


@dataclass
class TaskDetail:
    task: HumanTask
    ticket: Ticket | None
    schema: dict
    ui_schema: dict


# A task with its groups, its ticket and the definition its instance runs on (for its form), in one query built
# once: it runs for every task a user opens, claims or completes.
_TASK = (
    select(HumanTask, Ticket, ProcessDefinition)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    .outerjoin(Ticket, Ticket.number == HumanTask.business_key)
    .where(HumanTask.id == bindparam("task_id"))
    .options(joinedload(HumanTask.groups))
)


def _task(db: Session, *, user: Principal, task_id: str) -> tuple[HumanTask, Ticket | None, ProcessDefinition]:
    found = db.execute(_TASK, {"task_id": task_id}).unique().first()
    if found is None:
        raise NotFound(f"no task {task_id}")
    task, ticket, definition = found
    visible = can_see(user, ticket, db) if ticket is not None else user.has("process_owner", "admin", "auditor")
    if not visible and task.assignee != user.username:
        raise NotFound(f"no task {task_id}")
    return task, ticket, definition


def may_work(user: Principal, task: HumanTask) -> bool:
    if task.assignee:
        return task.assignee == user.username or (not task.assigned_by_process and _candidate(user, task))
    return _candidate(user, task)


def _candidate(user: Principal, task: HumanTask) -> bool:
    return bool(user.groups.intersection(task.candidate_groups))


def get_task(db: Session, *, user: Principal, task_id: str) -> TaskDetail:
    task, ticket, definition = _task(db, user=user, task_id=task_id)
    if not may_work(user, task):
        raise Forbidden("this task is for its candidate groups or its assignee")
    return TaskDetail(
        task,
        ticket,
        engine.form_document(definition, task.form_schema),
        engine.form_document(definition, task.form_ui_schema),
    )


def claim_task(db: Session, *, user: Principal, task_id: str) -> HumanTask:
    task, ticket, _ = _task(db, user=user, task_id=task_id)
    if not _candidate(user, task):
        raise Forbidden("only a member of the task's groups can claim it")
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assignee == user.username:
        return task
    claimed = db.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.assignee.is_(None))
        .values(assignee=user.username)
    ).rowcount
    if not claimed:
        raise Conflict(f"already claimed by {task.assignee}" if task.assignee else "this task changed meanwhile")
    db.refresh(task)
    _set_assignee(db, ticket, user.username, actor=user.username, task=task, kind="task_claimed")
    return task


def unclaim_task(db: Session, *, user: Principal, task_id: str) -> HumanTask:
    task, ticket, _ = _task(db, user=user, task_id=task_id)
    if not _candidate(user, task):
        raise Forbidden("only a member of the task's groups can release it")
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assigned_by_process:
        raise Conflict("this task is assigned by the process and cannot be released")
    if task.assignee not in (None, user.username) and "admin" not in user.roles:
        raise Conflict(f"claimed by {task.assignee}")
    if task.assignee is None:
        return task
    released = db.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.assignee == task.assignee).values(assignee=None)
    ).rowcount
    if not released:
        raise Conflict("this task changed meanwhile")
    db.refresh(task)
    _set_assignee(db, ticket, None, actor=user.username, task=task, kind="task_released")
    return task


def _set_assignee(db: Session, ticket: Ticket | None, assignee: str | None, *, actor: str, task: HumanTask, kind: str):
    changes = {"assignee": [None if assignee else actor, assignee]}
    if ticket is not None:
        changes = {"assignee": [ticket.assignee, assignee]}
        ticket.assignee = assignee
        ticket.updated_at = utcnow()
    audit.record(
        db,
        kind=kind,
        actor=actor,
        ticket=task.business_key,
        instance_id=task.instance_id,
        element_id=task.element_id,
        element_name=task.name,
        changes=changes,
    )


def complete_task(db: Session, *, user: Principal, task_id: str, data: object) -> tuple[Ticket | None, list[HumanTask]]:
    task, ticket, definition = _task(db, user=user, task_id=task_id)
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assignee and task.assignee != user.username:
        if task.assigned_by_process or not _candidate(user, task):
            raise Forbidden("this task is assigned to someone else")
        raise Conflict(f"claimed by {task.assignee}")
    if not may_work(user, task):
        raise Forbidden("this task is for its candidate groups or its assignee")
    schema = engine.form_document(definition, task.form_schema)
    clean = validate_submission(schema, data)
    outcome = engine.complete_task(db, task=task, data=clean, actor=user.username)
    if ticket is not None:
        _after_run(db, ticket, outcome, actor=user.username)
    return ticket, outcome.open_tasks


def next_tasks(db: Session, *, instance_id: int) -> list[HumanTask]:
    return list(
        db.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
            .order_by(HumanTask.created_at)
        )
    )


_OPEN_TASKS_OF_TICKET = (
    select(HumanTask)
    .where(HumanTask.business_key == bindparam("number"), HumanTask.status == "open")
    .order_by(HumanTask.created_at)
    .options(joinedload(HumanTask.groups))  # a ticket has few open tasks: one query with their groups
)


def ticket_tasks(db: Session, *, user: Principal, number: str) -> list[HumanTask]:
    ticket = get_ticket(db, user=user, number=number)
    if not (user.sees_all_tickets or ticket.requester == user.username):
        raise Forbidden("only the requester and the service desk see a ticket's tasks")
    return list(db.scalars(_OPEN_TASKS_OF_TICKET, {"number": ticket.number}).unique())


def open_tasks_for(
    db: Session, *, user: Principal, scope: str | None = None, limit: int = 50, offset: int = 0
) -> list[HumanTask]:
    """Open tasks the user may work on: mine (assigned to me), group (unassigned in my groups), or both."""
    mine = HumanTask.assignee == user.username
    in_my_groups = HumanTaskGroup.group_name.in_(user.groups or {""}) & HumanTaskGroup.open.is_(True)
    group = HumanTask.assignee.is_(None) & HumanTask.id.in_(select(HumanTaskGroup.task_id).where(in_my_groups))
    condition = {"mine": mine, "group": group}.get(scope or "", or_(mine, group))
    query = (
        select(HumanTask)
        .where(HumanTask.status == "open", condition)
        .order_by(HumanTask.created_at.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    return list(db.scalars(query))


def tickets_by_number(db: Session, *, numbers: set[str]) -> dict[str, Ticket]:
    if not numbers:
        return {}
    return {t.number: t for t in db.scalars(select(Ticket).where(Ticket.number.in_(numbers)))}


# --- comments and history -----------------------------------------------------------------------


def add_comment(db: Session, *, user: Principal, number: str, body, visibility) -> Comment:
    ticket = get_ticket(db, user=user, number=number)
    fields: dict[str, list[str]] = {}
    body = _text(fields, "body", body, required=True, limit=20_000)
    if visibility not in ("public", "internal"):
        fields.setdefault("visibility", []).append("Choose public or internal.")
    if fields:
        raise ValidationFailed("the comment has errors", fields)
    if visibility == "internal" and not user.is_agent:
        raise Forbidden("only agents write internal work notes")
    if not (user.is_agent or ticket.requester == user.username):
        raise Forbidden("only the requester and agents comment on a ticket")
    comment = post_comment(db, ticket=ticket, author=user.username, body=body, visibility=visibility)
    if (
        visibility == "public"
        and user.username == ticket.requester
        and ticket.status == "On Hold"
        and ticket.hold_reason == "awaiting_caller"
        and ticket.instance_id
    ):
        outcome = engine.deliver_message(
            db, instance_id=ticket.instance_id, name="caller_replied", payload={"reply": body}, actor=user.username
        )
        if outcome is not None:
            _after_run(db, ticket, outcome, actor=user.username)
    return comment


def post_comment(db: Session, *, ticket: Ticket, author: str, body: str, visibility: str) -> Comment:
    """Store a comment and its audit event (the caller has checked who may write it)."""
    comment = Comment(ticket_id=ticket.id, author=author, body=body, visibility=visibility, at=utcnow())
    db.add(comment)
    db.flush()
    _event(
        db,
        ticket,
        kind="comment_added",
        actor=author,
        public=visibility == "public",
        changes={"comment": [None, comment.id], "visibility": [None, visibility]},
    )
    ticket.updated_at = utcnow()
    return comment


def comments(db: Session, *, user: Principal, number: str) -> list[Comment]:
    ticket = get_ticket(db, user=user, number=number)
    query = select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.at, Comment.id)
    if not user.is_agent and not user.has("auditor", "admin", "process_owner"):
        query = query.where(Comment.visibility == "public")
    return list(db.scalars(query))


def history(db: Session, *, user: Principal, number: str):
    ticket = get_ticket(db, user=user, number=number)
    public_only = not user.has("agent", "auditor", "admin", "process_owner")
    if public_only and ticket.requester != user.username:
        raise Forbidden("the history is for agents, auditors and the requester")
    return audit.history(db, ticket=ticket.number, public_only=public_only)
