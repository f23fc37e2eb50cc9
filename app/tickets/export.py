"""A ticket list as a CSV download: one row a ticket, every cell a spreadsheet shows as text."""

import csv
import io
from collections.abc import Iterable

from app.audit.export import cell
from app.tickets.models import Ticket

MOST_ROWS = 10_000  # an export's rows; a larger one is cut there and says so
COLUMNS = (
    "number", "kind", "title", "status", "priority", "impact", "urgency", "category", "service", "ci",
    "requester", "assignment_group", "assignee", "created_at", "updated_at", "resolution_due", "sla_breached",
    "resolved_at", "closed_at",
)  # fmt: skip


def tickets_csv(tickets: Iterable[Ticket]) -> tuple[str, int]:
    """The CSV text and how many rows it holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    rows = 0
    for ticket in tickets:
        writer.writerow([cell(_value(getattr(ticket, name))) for name in COLUMNS])
        rows += 1
    return buffer.getvalue(), rows


def _value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
