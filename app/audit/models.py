"""The append-only, HMAC-chained audit log: the history of every ticket and instance."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_ticket", "ticket", "id"),
        Index("ix_audit_event_instance", "instance_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(64))  # None: the engine itself
    kind: Mapped[str] = mapped_column(String(40))
    ticket: Mapped[str | None] = mapped_column(String(20))
    instance_id: Mapped[int | None]
    process_id: Mapped[str | None] = mapped_column(String(100))
    process_version: Mapped[int | None]
    element_id: Mapped[str | None] = mapped_column(String(100))
    element_name: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict]
    # Requesters see only public events of their tickets (no internal work notes, no internal fields).
    public: Mapped[bool] = mapped_column(default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How hash was made: "hmac" (HMAC-SHA256 under the audit key), or "sha256" for the plain hashes of the
    # events written before the chain was keyed (migration 0015); none of those may follow an "hmac" event.
    hash_kind: Mapped[str] = mapped_column(String(10), default="hmac", server_default="sha256")
