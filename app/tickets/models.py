"""Tickets (incidents, requests, problems), their numbering, their comments and attachments, saved views."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_requester_created", "requester", "created_at"),
        Index("ix_ticket_kind_created", "kind", "created_at"),
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_kind_group_status_created", "kind", "assignment_group", "status", "created_at"),
        *(
            Index(f"ix_ticket_{c}_created", c, "created_at")
            for c in ("assignee", "service", "ci", "status", "priority")
        ),  # noqa: E501
        # Full-text search: a generated tsvector column `search` on PostgreSQL, FTS5 tables on SQLite, which
        # the ORM does not map (app/tickets/search_index.py).
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # incident, request, problem
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(40), index=True)
    priority: Mapped[str | None] = mapped_column(String(20), index=True)
    impact: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    requester: Mapped[str] = mapped_column(String(64))
    opened_by: Mapped[str] = mapped_column(String(64))
    assignment_group: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    reassignment_count: Mapped[int] = mapped_column(default=0)
    process_id: Mapped[str] = mapped_column(String(100))
    process_version: Mapped[int]
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached: Mapped[bool] = mapped_column(default=False)
    sla_paused_seconds: Mapped[int] = mapped_column(default=0)  # working time spent on hold or resolved
    sla_held_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the clock is paused since then
    sla_warning_due: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when 75 % of it will be used
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 75 % of the resolution time used
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    major_incident: Mapped[bool] = mapped_column(default=False)
    major_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))  # its coordination
    parent_number: Mapped[str | None] = mapped_column(String(20), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(20), index=True)  # the original of a duplicate
    follow_up_of: Mapped[str | None] = mapped_column(String(20), index=True)  # the closed ticket it follows up
    problem_number: Mapped[str | None] = mapped_column(String(20))
    # A request's catalog item and the fields the requester filled in (bounded by the item's form).
    item_key: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Counts the changes made from outside the process (edits, cancel, links): the ETag of the ticket, checked by
    # a conditional UPDATE so two concurrent edits cannot both win (app/tickets/edits.py).
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class TicketCounter(Base):
    """The last number handed out per ticket kind (numbers never repeat, even after a rollback elsewhere)."""

    __tablename__ = "ticket_counter"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Comment(Base):
    __tablename__ = "ticket_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))  # public, internal


class Attachment(Base):
    """A file attached to a ticket (from the portal, a comment or a task form); its bytes are a blob named by
    their sha256 in the configured store (app/tickets/blobs.py)."""

    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_comment.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(127))  # detected from the bytes, never from the name
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    visibility: Mapped[str] = mapped_column(String(10))  # public, internal
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttachmentBlob(Base):
    """The bytes of attachments in the database store: one row per distinct content, however often attached."""

    __tablename__ = "attachment_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedView(Base):
    """A ticket list's filters and sort an agent keeps under a name of their own (app/tickets/views.py)."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_view_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
