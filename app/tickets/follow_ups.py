"""After a ticket is closed: a requester's comment on it ("it broke again") is told to the group that worked on
it, and the requester (or an agent for them) may open a follow-up incident linked to the closed ticket."""

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden
from app.identity import service as identity
from app.identity.service import Principal
from app.notify import service as notify
from app.tickets import intake, journal
from app.tickets.access import get_ticket
from app.tickets.models import Comment, Ticket
from app.validation import text, validate

# Opening a follow-up: the input, also the API's published request body.
FOLLOW_UP = {
    "type": "object",
    "required": ["description"],
    "properties": {"description": text(20_000, required=True)},
    "additionalProperties": False,
}
CLOSED = "Closed"
_TITLE = 200  # the ticket title's length


def tell_last_group(db: Session, *, ticket: Ticket, comment: Comment) -> list[str]:
    """The requester commented on a closed ticket: its last group (and its last assignee, who may have left the
    group) hear of it, once per comment. Returns who was told."""
    people = identity.members_of(db, groups=[ticket.assignment_group] if ticket.assignment_group else [])
    if ticket.assignee and ticket.assignee not in people:
        people.append(ticket.assignee)
    told = {username: f"{ticket.number}:comment-after-close:{comment.id}:{username}" for username in people}
    return notify.inform(db, told=told, template="comment_after_close", ticket=ticket, comment=comment)


def may_follow_up(user: Principal, ticket: Ticket) -> bool:
    return ticket.status == CLOSED and (user.is_agent or ticket.requester == user.username)


def open_follow_up(db: Session, *, user: Principal, number: str, description) -> Ticket:
    """A new incident for the problem that came back, raised for the closed ticket's requester with its
    service, configuration item, category and levels, and linked to it both ways; returns the new incident."""
    ticket = get_ticket(db, user=user, number=number)
    if not (user.is_agent or ticket.requester == user.username):
        raise Forbidden("only the requester and agents open a follow-up")
    values = validate(schema=FOLLOW_UP, data={"description": description}, what="the follow-up")
    if ticket.status != CLOSED:
        raise Conflict(
            _(
                "%(number)s is %(status)s: only a closed ticket gets a follow-up.",
                number=number,
                status=ticket.status,
            )
        )
    title = _("Again: %(title)s", title=ticket.title)
    follow_up = intake.create_incident(
        db,
        user=user,
        title=title if len(title) <= _TITLE else title[: _TITLE - 1] + "…",
        description=values["description"],
        impact=ticket.impact or "medium",
        urgency=ticket.urgency or "medium",
        service=ticket.service,
        ci=ticket.ci,
        category=ticket.category,
        caller=ticket.requester if ticket.requester != user.username else None,
    )
    follow_up.follow_up_of = ticket.number
    link = {"follow_up_of": [None, ticket.number]}
    journal.record(db, follow_up, kind="ticket_linked", actor=user.username, changes=link, public=True)
    back = {"follow_up": [None, follow_up.number]}
    journal.record(db, ticket, kind="ticket_linked", actor=user.username, changes=back, public=True)
    return follow_up
