"""Ending a ticket before its process does: cancelled by its requester or an agent, or closed as a duplicate.

The ticket's process is cancelled through the engine (its open tasks cancelled, its timers stopped), and so is
a major incident's coordination; the history says who ended it and why, and the requester and watchers are told.
"""

from uuid import uuid4

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app import engine
from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.identity.service import Principal
from app.notify import service as notify
from app.tickets import journal
from app.tickets.access import get_ticket
from app.tickets.edits import claim_version
from app.tickets.models import Ticket
from app.tickets.watchers import watchers
from app.validation import text, validate

# Cancelling a ticket: the input, also the API's published request body.
CANCEL = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": text(2000, required=True)},
    "additionalProperties": False,
}
TOO_LATE = ("Resolved", "Closed", "Cancelled", "Rejected")
IN_FULFILMENT = ("In Fulfillment",)  # a requester can no longer call a request back


def cancel_ticket(db: Session, *, user: Principal, number: str, reason) -> Ticket:
    """The requester (their own ticket, before it is resolved or fulfilled) or an agent cancels a ticket."""
    ticket = get_ticket(db, user=user, number=number)
    if not (user.is_agent or ticket.requester == user.username):
        raise Forbidden("only the requester and agents cancel a ticket")
    reason = validate(schema=CANCEL, data={"reason": reason}, what="the cancellation")["reason"]
    if ticket.status in TOO_LATE:
        raise Conflict(_("%(number)s is %(status)s: it is too late to cancel it.", number=number, status=ticket.status))
    if not user.is_agent and ticket.status in IN_FULFILMENT:
        message = _("%(number)s is already being fulfilled: ask the service desk to stop it.", number=number)
        raise Conflict(message)
    end_ticket(db, ticket=ticket, status="Cancelled", actor=user.username, reason=reason, kind="ticket_cancelled")
    return ticket


def end_ticket(db: Session, *, ticket: Ticket, status: str, actor: str, reason: str, kind: str, **changes) -> None:
    """End the ticket with status (Cancelled, or Closed for a duplicate) and its process with it; changes are
    more fields the history entry records (the original of a duplicate)."""
    claim_version(db, ticket=ticket, seen=ticket.version)
    for instance_id in (ticket.instance_id, ticket.major_instance_id):
        instance = engine.get_instance(db, instance_id=instance_id) if instance_id else None
        if instance is not None and instance.status not in ("completed", "cancelled"):
            engine.cancel(db, instance_id=instance_id, actor=actor, reason=reason)
    now = utcnow()
    recorded = {
        "status": [ticket.status, status],
        "reason": [None, reason],
        "version": [ticket.version - 1, ticket.version],
        **{name: [None, value] for name, value in changes.items()},
    }
    journal.record(db, ticket, kind=kind, actor=actor, changes=recorded, public=True)
    ticket.status, ticket.updated_at, ticket.cancel_reason = status, now, reason
    ticket.cancelled_at = now if status == "Cancelled" else None
    ticket.closed_at = now if status == "Closed" else ticket.closed_at
    change = uuid4().hex
    people = [ticket.requester, *watchers(db, ticket=ticket)]
    told = {username: f"{ticket.number}:{status}:{change}:{username}" for username in people if username != actor}
    notify.inform(db, told=told, template="status_changed", ticket=ticket)
