"""Bulk actions on tickets picked from a list: each ticket is checked and done on its own, in its own savepoint,
so one refusal neither stops nor undoes the others; the result says, ticket by ticket, what happened."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.errors import Forbidden, ServiceError, ValidationFailed
from app.identity.service import Principal
from app.tickets import comments, edits, watchers
from app.validation import text, validate

MOST_TICKETS = 500
BULK = {
    "type": "object",
    "required": ["tickets", "action"],
    "additionalProperties": False,
    "properties": {
        "tickets": {"type": "array", "items": {"type": "string", "maxLength": 20}, "minItems": 1},
        "action": {"type": "string", "enum": ["assign", "comment", "watch"]},
        "assignment_group": text(64),
        "assignee": text(64),
        "body": text(20_000),
        "visibility": {"type": "string", "enum": ["public", "internal"]},
    },
}


@dataclass(frozen=True)
class RowResult:
    ticket: str
    ok: bool
    error: str | None = None
    status: int | None = None


def run(db: Session, *, user: Principal, tickets, action, **values) -> list[RowResult]:
    """Do action on every ticket in tickets (at most MOST_TICKETS, each once, in the order given): agents only."""
    if not user.is_agent:
        raise Forbidden("bulk actions are for agents")
    if isinstance(tickets, list) and len(tickets) > MOST_TICKETS:
        raise ValidationFailed(
            f"a bulk action takes at most {MOST_TICKETS} tickets; {len(tickets)} were picked",
            {"tickets": [f"Pick at most {MOST_TICKETS} tickets."]},
        )
    given = {k: v for k, v in values.items() if v is not None}
    checked = validate(schema=BULK, data={"tickets": tickets, "action": action, **given}, what="the bulk action")
    act = _action(checked)
    results = []
    for number in dict.fromkeys(n.strip().upper() for n in checked["tickets"]):
        try:
            with db.begin_nested():
                act(db, user, number)
            results.append(RowResult(number, True))
        except ServiceError as err:
            results.append(RowResult(number, False, err.message, err.status))
    return results


def _action(values: dict) -> Callable[[Session, Principal, str], object]:
    action = values["action"]
    if action == "comment":
        if not (values.get("body") or "").strip():
            raise ValidationFailed("a bulk comment needs its text", {"body": ["Write the comment."]})
        body, visibility = values["body"], values.get("visibility", "internal")
        return lambda db, user, number: comments.add_comment(
            db, user=user, number=number, body=body, visibility=visibility
        )
    if action == "watch":
        return lambda db, user, number: watchers.watch(db, user=user, number=number)
    changes = {k: values[k] for k in ("assignment_group", "assignee") if values.get(k)}
    if not changes:
        raise ValidationFailed(
            "a bulk assignment names a group, a person or both", {"assignment_group": ["Choose a group or a person."]}
        )
    return lambda db, user, number: edits.update_ticket(db, user=user, number=number, changes=changes)
