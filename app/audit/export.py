"""Audit events as exported rows: JSON objects or CSV, for one ticket or a date range."""

import csv
import io
import json

from flask import Response, jsonify

from app.audit.models import AuditEvent

COLUMNS = ["at", "actor", "kind", "ticket", "element_id", "element_name", "process_id", "process_version", "changes"]


def event_row(e: AuditEvent) -> dict:
    return {
        "at": e.at.isoformat() if e.at else None,
        "actor": e.actor,
        "kind": e.kind,
        "ticket": e.ticket,
        "element_id": e.element_id,
        "element_name": e.element_name,
        "process_id": e.process_id,
        "process_version": e.process_version,
        "changes": e.changes,
    }


# A cell a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return before one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a value that would start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_csv(events) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        row = event_row(event)
        row["changes"] = json.dumps(row["changes"], sort_keys=True)
        writer.writerow([cell(row[c]) for c in COLUMNS])
    return buffer.getvalue()


def export_response(events, *, fmt: str, filename: str) -> Response:
    """The events as a download: fmt is csv or json."""
    if fmt == "csv":
        response = Response(as_csv(events), mimetype="text/csv")
    else:
        response = jsonify([event_row(e) for e in events])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
