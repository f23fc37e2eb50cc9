"""In-app notifications (what each user sees in Flowdesk) and ticket watchers."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # the mail template's name: its subject is the text
    ticket: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))  # rendered in the user's language when it was written
    key: Mapped[str | None] = mapped_column(String(200), unique=True)  # the same news is told once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Watcher(Base):
    """Someone who follows a ticket without being its requester or assignee."""

    __tablename__ = "ticket_watcher"
    __table_args__ = (UniqueConstraint("ticket_id", "username", name="uq_ticket_watcher"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
