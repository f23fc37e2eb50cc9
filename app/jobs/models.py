"""The job table: waiting timers of instances (written by the engine's store) and the outbox (mails)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Job(Base):
    """Work due later or outside a request: the waiting timers of instances and the outbox (mails).

    Workers lease due jobs (status running with a lease that expires), run them in one transaction with what
    they change, and mark them done in that same transaction: each runs once even with many workers, and a
    worker that dies mid-job only delays it until its lease expires."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "status", "due_at"), Index("ix_job_instance", "instance_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="timer")  # timer, mail
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    element_id: Mapped[str | None] = mapped_column(String(100))
    # What an outbox job sends (a mail's recipient, subject and body); the key makes a send idempotent.
    payload: Mapped[dict] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting, running, done, failed, cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
