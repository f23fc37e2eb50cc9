"""Which incident an alert fingerprint opened, and when it was last seen."""

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AlertLink(Base):
    __tablename__ = "alert_link"
    # At most one open incident per fingerprint, even when two webhooks race.
    __table_args__ = (
        Index(
            "uq_alert_link_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("is_open"),
            postgresql_where=text("is_open"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128), index=True)
    ticket: Mapped[str] = mapped_column(String(20), index=True)
    alertname: Mapped[str] = mapped_column(String(200))
    is_open: Mapped[bool] = mapped_column(default=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    fired: Mapped[int] = mapped_column(default=1)


class AlertRule(Base):
    """How alert labels fill an incident: for `field`, the first rule (by position) whose label has the
    value `match` (`*`: any value) sets `value` (empty: the label's own value). Admins edit these."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(100))
    match: Mapped[str] = mapped_column(String(200), default="*")
    field: Mapped[str] = mapped_column(String(20))  # impact, urgency, service, ci, category
    value: Mapped[str] = mapped_column(String(200), default="")
