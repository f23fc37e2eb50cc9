"""Links between tickets an agent makes: an incident under a parent incident (resolving the parent resolves it,
see coordination), and a ticket closed as the duplicate of an original (its requester then follows the original).
"""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, ValidationFailed
from app.identity.service import Principal
from app.tickets import journal
from app.tickets.access import get_ticket
from app.tickets.cancel import end_ticket
from app.tickets.coordination import resolve_elsewhere
from app.tickets.edits import ENDED, claim_version
from app.tickets.models import Ticket
from app.tickets.watchers import add_watcher
from app.validation import text, validate

# Linking a ticket to another: the input, also the API's published request body.
LINK = {
    "type": "object",
    "required": ["kind", "ticket"],
    "properties": {"kind": {"type": "string", "enum": ["parent", "duplicate_of"]}, "ticket": text(20, required=True)},
    "additionalProperties": False,
}
_MAX_DEPTH = 100  # a parent chain longer than this is treated as a cycle


def link_ticket(db: Session, *, user: Principal, number: str, kind, target) -> Ticket:
    """An agent links the ticket to another (kind parent or duplicate_of); returns the ticket."""
    ticket = get_ticket(db, user=user, number=number)
    if not user.is_agent:
        raise Forbidden("only agents link tickets")
    values = validate(schema=LINK, data={"kind": kind, "ticket": target}, what="the link")
    other = _other(db, ticket, values["ticket"].upper())
    if ticket.status in ENDED:
        raise Conflict(_("%(number)s is %(status)s: it can no longer be linked.", number=number, status=ticket.status))
    if values["kind"] == "parent":
        _link_parent(db, ticket, other, actor=user.username)
    else:
        _close_as_duplicate(db, ticket, other, actor=user.username)
    return ticket


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(f"the link has errors: ticket ({message})", {"ticket": [message]})


def _other(db: Session, ticket: Ticket, wanted: str) -> Ticket:
    other = db.scalar(select(Ticket).where(Ticket.number == wanted))
    if other is None:
        raise _refused(_("No such ticket."))
    if other.id == ticket.id:
        raise _refused(_("A ticket cannot be linked to itself."))
    if other.status in ENDED:
        raise _refused(_("%(number)s is %(status)s: link to an open ticket.", number=other.number, status=other.status))
    return other


def _link_parent(db: Session, ticket: Ticket, parent: Ticket, *, actor: str) -> None:
    if ticket.kind != "incident" or parent.kind != "incident":
        raise _refused(_("Only an incident is the parent of an incident."))
    if ticket.parent_number == parent.number:
        return
    if _ancestors(db, parent) & {ticket.number}:
        raise _refused(_("%(parent)s is already below %(number)s.", parent=parent.number, number=ticket.number))
    claim_version(db, ticket=ticket, seen=ticket.version)
    changes = {"parent": [ticket.parent_number, parent.number], "version": [ticket.version - 1, ticket.version]}
    journal.record(db, ticket, kind="ticket_linked", actor=actor, changes=changes, public=True)
    ticket.parent_number = parent.number
    if parent.status == "Resolved":  # the parent is resolved already: so is its new child
        notes = f"Resolved with parent incident {parent.number}: {parent.resolution_notes or ''}".strip()
        code, reason = parent.resolution_code or "fix", f"parent {parent.number} resolved"
        resolve_elsewhere(db, ticket=ticket, code=code, notes=notes, actor=actor, reason=reason)


def _ancestors(db: Session, ticket: Ticket) -> set[str]:
    """The ticket's own number and its parents' up the chain."""
    seen = {ticket.number}
    parent = ticket.parent_number
    while parent and parent not in seen and len(seen) < _MAX_DEPTH:
        seen.add(parent)
        parent = db.scalar(select(Ticket.parent_number).where(Ticket.number == parent))
    return seen


def _close_as_duplicate(db: Session, ticket: Ticket, original: Ticket, *, actor: str) -> None:
    if ticket.kind != original.kind:
        raise _refused(_("A duplicate is of the same kind as its original."))
    reason = f"Duplicate of {original.number}"
    link = {"duplicate_of": original.number}
    end_ticket(db, ticket=ticket, status="Closed", actor=actor, reason=reason, kind="ticket_linked", **link)
    ticket.duplicate_of = original.number
    add_watcher(db, ticket=original, username=ticket.requester, actor=actor)
