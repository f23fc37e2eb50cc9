"""What a ticket list is asked for: its filters, sort and page, read from a query string and checked, each
refusal naming its parameter; the built-in views every agent has.

A filter's value may name the user who looks: `assignee=@me` is them, `assignment_group=@my_groups` their
groups, so one view serves everyone.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from app.errors import ValidationFailed
from app.identity.service import Principal

KINDS = ("incident", "request", "problem")
PRIORITIES = ("critical", "high", "medium", "low")
SLA_STATES = ("breached", "at_risk")
SORTS = ("created_at", "-created_at", "priority", "-priority", "resolution_due", "-resolution_due", "relevance")
ME, MY_GROUPS = "@me", "@my_groups"
MOST_ROWS, MOST_OFFSET = 500, 1_000_000
MULTI = ("status", "priority", "assignment_group")  # may be given more than once: any of the values
TEXT = ("assignee", "requester", "service", "ci")


@dataclass(frozen=True)
class TicketFilter:
    kind: str | None = None
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    assignment_group: tuple[str, ...] = ()
    assignee: str | None = None
    unassigned: bool = False
    requester: str | None = None
    service: str | None = None
    ci: str | None = None
    sla: str | None = None
    open: bool | None = None
    created_from: date | None = None
    created_to: date | None = None
    q: str | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0
    groups: frozenset[str] = field(default=frozenset(), compare=False)  # the asking user's, for @my_groups

    def for_user(self, user: Principal) -> "TicketFilter":
        """The filter with @me and @my_groups read as this user."""
        mine = sorted(user.groups)
        groups = tuple(g for name in self.assignment_group for g in (mine if name == MY_GROUPS else [name]))
        assignee = user.username if self.assignee == ME else self.assignee
        if self.assignment_group and not groups:
            groups = ("",)  # @my_groups of a user in no group: no ticket, not every ticket
        return replace(self, assignee=assignee, assignment_group=groups)

    def as_query(self) -> dict[str, str | list[str]]:
        """The filter as query-string parameters (what a saved view keeps and a link carries); page left out."""
        query: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("limit", "offset", "groups") or value in (None, (), False, ""):
                continue
            if isinstance(value, tuple):
                query[f.name] = list(value)
            elif isinstance(value, bool):
                query[f.name] = "true"
            else:
                query[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return query


def parse_filter(args: Mapping, *, most_rows: int = MOST_ROWS) -> TicketFilter:
    """A TicketFilter from query-string parameters (a werkzeug MultiDict, or a mapping of str or list values);
    ValidationFailed names every parameter that is wrong."""
    problems: dict[str, list[str]] = {}
    values = _lists_and_texts(args, problems)
    _choice(args, "kind", KINDS, values, problems)
    _choice(args, "sla", SLA_STATES, values, problems)
    _choice(args, "sort", SORTS, values, problems)
    for name in ("unassigned", "open"):
        if (value := _one(args, name)) not in (None, ""):
            values[name] = _boolean(value, name, problems)
    for name in ("created_from", "created_to"):
        if value := _one(args, name):
            values[name] = _date(value, name, problems)
    if (q := _one(args, "q")) and q.strip():
        values["q"] = q.strip()[:5000]
    values["limit"] = _integer(args, "limit", 50, 1, most_rows, problems)
    values["offset"] = _integer(args, "offset", 0, 0, MOST_OFFSET, problems)
    if problems:
        raise ValidationFailed(str(_l("These filters cannot be used: %(names)s", names=", ".join(problems))), problems)
    return TicketFilter(**{k: v for k, v in values.items() if v is not None})


def _lists_and_texts(args: Mapping, problems: dict) -> dict:
    values: dict = {}
    for name in MULTI:
        given = tuple(v.strip() for v in _all(args, name) if v and v.strip())
        if name == "priority" and (wrong := [v for v in given if v not in PRIORITIES]):
            problems[name] = [_unknown(wrong[0], PRIORITIES)]
        values[name] = tuple(v[:100] for v in given)
    for name in TEXT:
        if value := (_one(args, name) or "").strip():
            values[name] = value[:100]
    return values


def _all(args: Mapping, name: str) -> list[str]:
    if hasattr(args, "getlist"):
        return args.getlist(name)
    value = args.get(name)
    return [] if value is None else list(value) if isinstance(value, list | tuple) else [str(value)]


def _one(args: Mapping, name: str) -> str | None:
    found = _all(args, name)
    return found[-1] if found else None


def _choice(args, name, choices, values, problems) -> None:
    value = (_one(args, name) or "").strip()
    if not value:
        return
    if value not in choices:
        problems[name] = [_unknown(value, choices)]
    values[name] = value


def _unknown(value: str, choices) -> str:
    return str(_l("Unknown value %(value)s: choose %(choices)s.", value=value[:40], choices=", ".join(choices)))


def _boolean(value: str, name: str, problems) -> bool | None:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    problems[name] = [str(_l("Say true or false."))]
    return None


def _date(value: str, name: str, problems) -> date | None:
    try:
        value = value.strip()
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
    except ValueError:
        problems[name] = [str(_l("%(value)s is not a date: write it as YYYY-MM-DD.", value=value[:40]))]
        return None


def _integer(args, name: str, default: int, least: int, most: int, problems) -> int:
    value = _one(args, name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        problems[name] = [str(_l("%(name)s is a whole number.", name=name))]
        return default
    if not least <= number <= most:
        problems[name] = [str(_l("%(name)s is between %(least)s and %(most)s.", name=name, least=least, most=most))]
        return default
    return number


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_after(day: date) -> datetime:
    return day_start(day) + timedelta(days=1)


# The views every agent has, beside their own: (key, name, filter).
BUILT_IN = (
    ("my-open-work", _l("My open work"), TicketFilter(assignee=ME, open=True)),
    (
        "unassigned",
        _l("Unassigned in my groups"),
        TicketFilter(assignment_group=(MY_GROUPS,), unassigned=True, open=True),
    ),  # noqa: E501
    ("breached", _l("Breached"), TicketFilter(sla="breached", open=True, sort="resolution_due")),
    ("at-risk", _l("At risk"), TicketFilter(sla="at_risk", sort="resolution_due")),
)
