"""Saved views of the ticket list: the built-in ones every user has and the ones each user keeps for
themselves (a name and the list's filters and sort). A user sees, uses and deletes only their own."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import lost_race
from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.service import Principal
from app.tickets.filters import BUILT_IN, TicketFilter, parse_filter
from app.tickets.models import SavedView
from app.validation import text, validate

MOST_VIEWS = 100  # of one user's own
VIEW = {
    "type": "object",
    "required": ["name", "filters"],
    "additionalProperties": False,
    "properties": {
        "name": text(80, required=True),
        "filters": {"type": "object", "additionalProperties": {"type": ["string", "array", "boolean", "integer"]}},
    },
}


@dataclass(frozen=True)
class View:
    key: str  # a built-in view's key, or the saved view's id as text
    name: str
    filter: TicketFilter
    built_in: bool


def views_for(db: Session, *, user: Principal) -> list[View]:
    """The built-in views, then the user's own by name."""
    own = db.scalars(select(SavedView).where(SavedView.owner == user.username).order_by(SavedView.name))
    return [
        *(View(key, str(name), wanted, True) for key, name, wanted in BUILT_IN),
        *(View(str(v.id), v.name, parse_filter(v.filters), False) for v in own),
    ]


def get_view(db: Session, *, user: Principal, key: str) -> View:
    for built_key, name, wanted in BUILT_IN:
        if key == built_key:
            return View(built_key, str(name), wanted, True)
    saved = _own(db, user=user, view_id=int(key) if key.isdigit() and len(key) < 12 else 0)
    return View(str(saved.id), saved.name, parse_filter(saved.filters), False)


def save_view(db: Session, *, user: Principal, name, filters) -> View:
    """Keep the list's filters under a name of the user's (a name they already use is 409)."""
    values = validate(schema=VIEW, data={"name": name, "filters": filters}, what="the view")
    wanted = parse_filter(values["filters"])  # refused here, not each time the view is opened
    if db.query(SavedView).filter(SavedView.owner == user.username).count() >= MOST_VIEWS:
        raise ValidationFailed(f"a user keeps at most {MOST_VIEWS} views", {"name": ["Delete a view first."]})
    if db.scalar(select(SavedView.id).where(SavedView.owner == user.username, SavedView.name == values["name"])):
        raise Conflict("you already have a view of that name", {"name": ["Choose another name."]})
    saved = SavedView(owner=user.username, name=values["name"], filters=wanted.as_query())
    try:
        with db.begin_nested():
            db.add(saved)
    except IntegrityError as err:
        if lost_race(err):
            raise Conflict("you already have a view of that name", {"name": ["Choose another name."]}) from err
        raise
    return View(str(saved.id), saved.name, wanted, False)


def delete_view(db: Session, *, user: Principal, view_id: int) -> None:
    db.delete(_own(db, user=user, view_id=view_id))
    db.flush()


def _own(db: Session, *, user: Principal, view_id: int) -> SavedView:
    saved = db.get(SavedView, view_id) if 0 < view_id < 2**31 else None
    if saved is None or saved.owner != user.username:
        raise NotFound("no such view")
    return saved
