"""Template helpers: ages, dates, labels for priorities, statuses and history entries."""

from datetime import UTC, datetime

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.tickets import service_names
from app.tickets import sla as ticket_sla

EVENT_LABELS = {
    "ticket_created": _l("Ticket raised"),
    "ticket_updated": _l("Ticket updated"),
    "ticket_fields": _l("Ticket fields recorded"),
    "instance_started": _l("Process started"),
    "element_completed": _l("Step passed"),
    "task_completed": _l("Task completed"),
    "task_claimed": _l("Task claimed"),
    "task_released": _l("Task released"),
    "comment_added": _l("Comment added"),
    "message_received": _l("Message received"),
    "continued_as_new": _l("New round"),
    "process_deployed": _l("Process deployed"),
    "linked_to_problem": _l("Linked to a problem"),
    "restarted": _l("Restarted at another entry"),
    "ticket_edited": _l("Ticket edited"),
    "ticket_cancelled": _l("Ticket cancelled"),
    "ticket_linked": _l("Ticket linked"),
    "data_amended": _l("Process data changed"),
    "instance_cancelled": _l("Process cancelled"),
    "watcher_added": _l("Follower added"),
}
# A ticket field as the edit form names it (a 409 lists the fields changed meanwhile).
FIELD_LABELS = {
    "title": _l("Title"),
    "impact": _l("Impact"),
    "urgency": _l("Urgency"),
    "category": _l("Category"),
    "service": _l("Service"),
    "ci": _l("Configuration item"),
    "assignment_group": _l("Assignment group"),
    "assignee": _l("Assignee"),
    "parent": _l("Parent incident"),
    "status": _l("Status"),
}
PRIORITY_LABELS = {"critical": _l("Critical"), "high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}


def age(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = max(0, int((datetime.now(UTC) - value).total_seconds()))
    if seconds < 60:
        return _("%(n)s s", n=seconds)
    if seconds < 3600:
        return _("%(n)s min", n=seconds // 60)
    if seconds < 86400:
        return _("%(n)s h", n=seconds // 3600)
    return _("%(n)s d", n=seconds // 86400)


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def change_value(value) -> str:
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


SLA_BADGES = {
    "running": ("sla-ok", _l("On track")),
    "warning": ("sla-warning", _l("Due soon")),
    "paused": ("sla-paused", _l("Paused")),
    "breached": ("sla-breached", _l("Breached")),
    "met": ("sla-ok", _l("Met")),
}


def sla_state(ticket) -> tuple[str, str]:
    """(css class, label) of a ticket's resolution clock: on track, past 75 % (amber), breached (red), paused
    while on hold, met once resolved in time."""
    state = ticket_sla.sla_state(ticket) if ticket is not None else None
    return SLA_BADGES[state] if state else ("", "")


SLA_MOMENTS = {
    "started": _l("Clock started"),
    "paused": _l("Paused: on hold"),
    "resumed": _l("Resumed"),
    "warned": _l("Three quarters of the time used: group warned"),
    "breached": _l("Target breached: manager alerted"),
    "met": _l("Resolved in time"),
    "resolved late": _l("Resolved late"),
}


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(age=age, when=when, change_value=change_value)
    app.jinja_env.globals.update(
        event_label=lambda kind: EVENT_LABELS.get(kind, kind),
        priority_label=lambda p: PRIORITY_LABELS.get(p, p or "—"),
        field_label=lambda name: FIELD_LABELS.get(name, name),
        sla_state=sla_state,
        sla_moment=lambda kind: SLA_MOMENTS.get(kind, kind),
        service_choices=service_names.choices,
        service_label=service_names.label,
    )
