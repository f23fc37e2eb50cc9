"""Exports of the audit log over a date range (auditors, process owners, admins)."""

from datetime import UTC, datetime, timedelta

from flask import g, request

from app.api import bp, paging
from app.api.openapi import route
from app.audit import service as audit
from app.audit.export import export_response
from app.errors import Forbidden, ValidationFailed
from app.http import get_db

RANGE_QUERY = {
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"},
    "format": {"type": "string", "enum": ["json", "csv"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
    "offset": {"type": "integer", "minimum": 0},
}


def _date(name: str) -> datetime:
    raw = request.args.get(name) or ""
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(f"{name} must be a date", {name: ["Use YYYY-MM-DD."]}) from None


@route(bp, "/audit/events", "GET", summary="Every audit event of a date range (both days included)", query=RANGE_QUERY)
def audit_events():
    if not g.user.has("auditor", "process_owner", "admin"):
        raise Forbidden("the audit log is for auditors, process owners and admins")
    since, until = _date("from"), _date("to") + timedelta(days=1)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValidationFailed("format is json or csv", {"format": ["Choose json or csv."]})
    limit, offset = paging(default=1000, most=10000)
    events = audit.history(get_db(), since=since, until=until, limit=limit, offset=offset)
    return export_response(events, fmt=fmt, filename=f"audit-{since.date()}-{(until - timedelta(days=1)).date()}")
