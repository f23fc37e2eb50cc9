"""A ticket's journal: the audit events about it and the comments on it, written here (the callers have
checked who may write them)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import utcnow
from app.tickets.ledger import comment_digest
from app.tickets.models import Comment, Ticket


def record(db: Session, ticket: Ticket, *, kind: str, actor: str | None, changes: dict, public: bool = False) -> None:
    """An audit event about the ticket (not about one step of its process)."""
    audit.record(
        db, kind=kind, actor=actor, ticket=ticket.number, instance_id=ticket.instance_id, changes=changes, public=public
    )


def post_comment(db: Session, *, ticket: Ticket, author: str, body: str, visibility: str) -> Comment:
    """Store a comment and its audit event (the caller has checked who may write it)."""
    comment = Comment(ticket_id=ticket.id, author=author, body=body, visibility=visibility, at=utcnow())
    db.add(comment)
    db.flush()
    record(
        db,
        ticket,
        kind="comment_added",
        actor=author,
        public=visibility == "public",
        changes={
            "comment": [None, comment.id],
            "visibility": [None, visibility],
            # What verify compares the comment row with (the body itself stays out of the log).
            "digest": comment_digest(ticket_id=ticket.id, author=author, visibility=visibility, body=body),
        },
    )
    ticket.updated_at = utcnow()
    return comment


def latest_public_comment(db: Session, ticket: Ticket) -> str:
    latest = db.scalar(
        select(Comment.body)
        .where(Comment.ticket_id == ticket.id, Comment.visibility == "public")
        .order_by(Comment.at.desc(), Comment.id.desc())
        .limit(1)
    )
    return latest or ""


def iso_changes(changes: dict) -> dict:
    return {k: [v.isoformat() if hasattr(v, "isoformat") else v for v in pair] for k, pair in changes.items()}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
