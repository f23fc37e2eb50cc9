"""Exports of the audit log over a date range (auditors, process owners, admins)."""

from datetime import UTC, datetime, timedelta

from flask import g, request

from app.api import bp, paging
from app.api.openapi import route
from app.audit import service as audit
from app.audit.export import export_response
from app.audit.security import SECURITY_KINDS, events_of_kinds
from app.errors import Forbidden, ValidationFailed
from app.http import get_db

RANGE_QUERY = {
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"},
    "format": {"type": "string", "enum": ["json", "csv"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
    "offset": {"type": "integer", "minimum": 0},
    "category": {"type": "string", "enum": ["security"]},
    "kind": {"type": "string", "maxLength": 40},
}


def _date(name: str) -> datetime:
    raw = request.args.get(name) or ""
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(f"{name} must be a date", {name: ["Use YYYY-MM-DD."]}) from None


def _kinds() -> list[str] | None:
    """The kinds asked for: `kind=` (one or more), `category=security` (every security event), or both (those
    of the kinds that are security events); None for every event."""
    kinds = request.args.getlist("kind") or None
    category = request.args.get("category")
    if category is None:
        return kinds
    if category != "security":
        raise ValidationFailed("category is security", {"category": ["Choose security."]})
    return [k for k in kinds if k in SECURITY_KINDS] if kinds else list(SECURITY_KINDS)


@route(
    bp,
    "/audit/events",
    "GET",
    summary="The audit events of a date range (both days included), of some kinds or category if asked",
    query=RANGE_QUERY,
)
def audit_events():
    if not g.user.has("auditor", "process_owner", "admin"):
        raise Forbidden("the audit log is for auditors, process owners and admins")
    since, until = _date("from"), _date("to") + timedelta(days=1)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValidationFailed("format is json or csv", {"format": ["Choose json or csv."]})
    limit, offset = paging(default=1000, most=10000)
    kinds = _kinds()
    if kinds is None:
        events = audit.history(get_db(), since=since, until=until, limit=limit, offset=offset)
    else:
        events = events_of_kinds(get_db(), kinds=kinds, since=since, until=until, limit=limit, offset=offset)
    return export_response(events, fmt=fmt, filename=f"audit-{since.date()}-{(until - timedelta(days=1)).date()}")
