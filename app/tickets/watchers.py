"""Who follows a ticket: following it and stopping, for oneself or (agents) for someone who may see it."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, ValidationFailed
from app.identity.models import User
from app.identity.service import Principal, principal_of
from app.notify.models import Watcher
from app.tickets import journal
from app.tickets.access import RAISERS, can_see, get_ticket
from app.tickets.models import Ticket
from app.validation import text, validate

# Following a ticket: the input, also the API's published request body; no username means oneself.
WATCH = {"type": "object", "properties": {"username": text(64)}}
_WATCHERS = select(Watcher.username).where(Watcher.ticket_id == bindparam("ticket_id")).order_by(Watcher.id)


def watchers(db: Session, *, ticket: Ticket) -> list[str]:
    return list(db.scalars(_WATCHERS, {"ticket_id": ticket.id}))


def watch(db: Session, *, user: Principal, number: str, username: str | None = None) -> list[str]:
    """Follow a ticket (anyone who may see it); an agent may add someone else who may see it."""
    username = validate(schema=WATCH, data={"username": username}, what="the watcher")["username"]
    ticket, username = _follower(db, user=user, number=number, username=username)
    if username != user.username:
        other = db.scalar(select(User).where(User.username == username))
        if other is None or not can_see(principal_of(other), ticket, db):
            raise ValidationFailed("no such user may see this ticket", {"username": ["Choose a user who may see it."]})
    if username not in watchers(db, ticket=ticket):
        db.add(Watcher(ticket_id=ticket.id, username=username))
        journal.record(db, ticket, kind="watcher_added", actor=user.username, changes={"watcher": [None, username]})
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
        journal.record(db, ticket, kind="watcher_removed", actor=user.username, changes={"watcher": [username, None]})
        db.flush()
    return watchers(db, ticket=ticket)


def add_watcher(db: Session, *, ticket: Ticket, username: str, actor: str) -> bool:
    """Make username follow the ticket on the service's own account (a duplicate's requester follows the
    original); False when they follow it already or raised it."""
    if username == ticket.requester or username in watchers(db, ticket=ticket):
        return False
    db.add(Watcher(ticket_id=ticket.id, username=username))
    journal.record(db, ticket, kind="watcher_added", actor=actor, changes={"watcher": [None, username]})
    db.flush()
    return True
