"""Comments and work notes on a ticket, and its history: who may write and read which.

A requester's public reply to an incident waiting for the caller resumes it (message caller_replied); one to a
closed ticket is told to the group that worked on it (follow_ups)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.errors import Forbidden
from app.identity.service import Principal
from app.tickets.access import get_ticket, sees_internal
from app.tickets.coordination import deliver
from app.tickets.follow_ups import CLOSED, tell_last_group
from app.tickets.journal import post_comment
from app.tickets.ledger import KIND as ROW_RECORDS
from app.tickets.models import Comment
from app.validation import text, validate

# A comment's input, also the API's published request body; visibility defaults to public.
COMMENT = {
    "type": "object",
    "required": ["body"],
    "properties": {
        "body": text(20_000, required=True),
        "visibility": {"type": "string", "enum": ["public", "internal"], "default": "public"},
    },
}


def add_comment(db: Session, *, user: Principal, number: str, body, visibility="public") -> Comment:
    ticket = get_ticket(db, user=user, number=number)
    values = validate(schema=COMMENT, data={"body": body, "visibility": visibility}, what="the comment")
    body, visibility = values["body"], values["visibility"]
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
        deliver(db, ticket=ticket, name="caller_replied", payload={"reply": body}, actor=user.username)
    if visibility == "public" and user.username == ticket.requester and ticket.status == CLOSED:
        tell_last_group(db, ticket=ticket, comment=comment)
    return comment


def comments(db: Session, *, user: Principal, number: str) -> list[Comment]:
    ticket = get_ticket(db, user=user, number=number)
    query = select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.at, Comment.id)
    if not sees_internal(user):
        query = query.where(Comment.visibility == "public")
    return list(db.scalars(query))


def history(db: Session, *, user: Principal, number: str):
    ticket = get_ticket(db, user=user, number=number)
    public_only = not user.has("agent", "auditor", "admin", "process_owner")
    if public_only and ticket.requester != user.username:
        raise Forbidden("the history is for agents, auditors and the requester")
    # The row records (ticket_fields) repeat what the events beside them say; they are for verify and exports.
    return audit.history(db, ticket=ticket.number, public_only=public_only, leave_out=(ROW_RECORDS,))
