"""Security events in the audit log: the kinds that tell who signed in or failed to, who was refused what, and
what admins and token holders changed; and the query that picks events of some kinds out of a date range."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent

SECURITY_KINDS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "permission_denied",
    "token_created",
    "token_revoked",
    "user_deactivated",
    "alert_rule_added",
    "alert_rule_deleted",
    "alert_rules_restored",
    "job_retried",
)


def events_of_kinds(
    db: Session,
    *,
    kinds: list[str],
    since: datetime,
    until: datetime,
    limit: int = 1000,
    offset: int = 0,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """The events of these kinds in [since, until), oldest first (or newest first, for a page to read)."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.kind.in_(kinds), AuditEvent.at >= since, AuditEvent.at < until)
        .order_by(AuditEvent.id.desc() if newest_first else AuditEvent.id)
    )
    return list(db.scalars(query.limit(limit).offset(offset)))
