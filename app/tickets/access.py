"""Who may see a ticket, and looking one up with that check beside the query.

A ticket the user may not see is NotFound; an action the user may see but not do is Forbidden (by the caller).
"""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.identity.service import Principal
from app.tasks import service as tasks
from app.tasks.models import HumanTask
from app.tickets.models import Ticket

# Who may raise tickets and follow them (auditors and process owners read; they do not raise).
RAISERS = ("requester", "agent", "manager", "approver", "integration", "admin")


def can_see(user: Principal, ticket: Ticket, db: Session | None = None) -> bool:
    if user.sees_all_tickets or ticket.requester == user.username:
        return True
    if db is None:
        return False
    # An approver sees the tickets that wait (or waited) for their decision: assigned to them or to their group.
    mine = tasks.assigned_to_or_offered(user)
    query = select(HumanTask.id).where(HumanTask.business_key == ticket.number, mine).limit(1)
    return db.scalar(query) is not None


def sees_internal(user: Principal) -> bool:
    """Whether the user reads internal work notes and internal attachments (staff, never requesters)."""
    return user.is_agent or user.has("auditor", "admin", "process_owner")


_TICKET = select(Ticket).where(Ticket.number == bindparam("number"))


def get_ticket(db: Session, *, user: Principal, number: str, kind: str | None = None) -> Ticket:
    ticket = db.scalar(_TICKET, {"number": number.upper()})
    if ticket is None or (kind and ticket.kind != kind) or not can_see(user, ticket, db):
        raise NotFound(f"no ticket {number}")
    return ticket
