"""Incidents and what stands above them: linking an incident to a problem, promoting it to a major incident."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.identity.service import Principal
from app.tickets import journal
from app.tickets.access import get_ticket
from app.tickets.coordination import start_major
from app.tickets.models import Ticket
from app.validation import text, validate

# Linking an incident to a problem: the input, also the API's published request body.
LINK = {"type": "object", "required": ["problem"], "properties": {"problem": text(20, required=True)}}


def link_to_problem(db: Session, *, user: Principal, number: str, problem_number) -> Ticket:
    """An agent links an incident to an existing open problem; returns the incident."""
    incident = get_ticket(db, user=user, number=number, kind="incident")
    if not user.is_agent:
        raise Forbidden("only agents link incidents to problems")
    wanted = validate(schema=LINK, data={"problem": problem_number}, what="the link")["problem"].upper()
    problem = db.scalar(select(Ticket).where(Ticket.number == wanted, Ticket.kind == "problem"))
    if problem is None:
        raise ValidationFailed("no such problem", {"problem": ["Give the number of an existing problem."]})
    if problem.status == "Closed":
        raise ValidationFailed("the problem is closed", {"problem": [f"{problem.number} is closed."]})
    if incident.problem_number != problem.number:
        attach(db, incident=incident, problem=problem, actor=user.username)
    return incident


def attach(db: Session, *, incident: Ticket, problem: Ticket, actor: str) -> None:
    """Record that the problem explains the incident (the caller has checked both)."""
    changes = {"problem": [incident.problem_number, problem.number]}
    journal.record(db, incident, kind="linked_to_problem", actor=actor, changes=changes)
    incident.problem_number = problem.number
    incident.updated_at = utcnow()


def declare_major(db: Session, *, user: Principal, number: str) -> Ticket:
    """An agent promotes an incident to a major incident: the managers take charge of it."""
    ticket = get_ticket(db, user=user, number=number, kind="incident")
    if not user.is_agent:
        raise Forbidden("only agents promote an incident to a major incident")
    if ticket.major_instance_id is not None:
        raise Conflict(f"{number} is already a major incident")
    if ticket.status in ("Resolved", "Closed", "Cancelled"):
        raise Conflict(f"{number} is {ticket.status}: only an open incident becomes a major incident")
    start_major(db, ticket=ticket, actor=user.username, reason="promoted by an agent")
    return ticket
