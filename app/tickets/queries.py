"""Lists of tickets: filtered, searched, sorted and paged as the user may see them; by number; the incidents of
a problem."""

from collections.abc import Iterator

from sqlalchemy import Boolean, Select, and_, false, literal_column, not_, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.identity.service import Principal
from app.tickets import search
from app.tickets.filters import TicketFilter, day_after, day_start
from app.tickets.models import Ticket
from app.tickets.search_index import DONE, OPEN_TICKET, PRIORITY_RANK

# Written out (not bound parameters) so that they are the expressions of the indexes migrations 0019 and 0021 make
# for them: the order by priority, and open tickets by resolution target (the Breached and At risk views).
_PRIORITY_RANK = literal_column(PRIORITY_RANK.replace("priority", "ticket.priority", 1))
_OPEN = literal_column("ticket." + OPEN_TICKET, Boolean)
_NEWEST = (Ticket.created_at.desc(), Ticket.id.desc())
_SORTS = {
    "created_at": (Ticket.created_at, Ticket.id),
    "-created_at": _NEWEST,
    "priority": (_PRIORITY_RANK, *_NEWEST),
    "-priority": (_PRIORITY_RANK.desc(), *_NEWEST),
    "resolution_due": (Ticket.resolution_due.asc().nulls_last(), Ticket.id),
    "-resolution_due": (Ticket.resolution_due.desc().nulls_last(), Ticket.id.desc()),
}


def list_tickets(db: Session, *, user: Principal, wanted: TicketFilter) -> list[Ticket]:
    """One page of the tickets the user may see that the filter asks for."""
    return list(db.scalars(ticket_query(db, user=user, wanted=wanted).limit(wanted.limit).offset(wanted.offset)))


def every_ticket(db: Session, *, user: Principal, wanted: TicketFilter, most: int) -> Iterator[Ticket]:
    """Every ticket the filter asks for (up to most), read in batches: for an export."""
    query = ticket_query(db, user=user, wanted=wanted).limit(most).execution_options(yield_per=500)
    yield from db.scalars(query)


def ticket_query(db: Session, *, user: Principal, wanted: TicketFilter) -> Select:
    wanted = wanted.for_user(user)
    query = select(Ticket)
    if not user.sees_all_tickets:
        query = query.where(Ticket.requester == user.username)
    query = query.where(*_conditions(wanted))
    sort = wanted.sort or ("relevance" if wanted.q else "-created_at")
    if wanted.q:
        found = search.matches(dialect=db.get_bind().dialect.name, text=wanted.q, internal=user.sees_all_tickets)
        if found is None:
            return query.where(false())
        query = query.join(found, found.c.ticket_id == Ticket.id)
        if sort == "relevance":
            return query.order_by(found.c.score.desc(), *_NEWEST)
    return query.order_by(*_SORTS.get(sort, _NEWEST))


def _conditions(wanted: TicketFilter) -> list:
    conditions = []
    for name in ("kind", "requester", "service", "ci", "assignee"):
        if (value := getattr(wanted, name)) is not None:
            conditions.append(getattr(Ticket, name) == value)
    for name in ("status", "priority", "assignment_group"):
        if values := getattr(wanted, name):
            conditions.append(getattr(Ticket, name).in_(values))
    if wanted.unassigned:
        conditions.append(Ticket.assignee.is_(None))
    if wanted.open is not None:
        conditions.append(_OPEN if wanted.open else Ticket.status.in_(DONE))
    if wanted.created_from:
        conditions.append(Ticket.created_at >= day_start(wanted.created_from))
    if wanted.created_to:
        conditions.append(Ticket.created_at < day_after(wanted.created_to))
    if wanted.sla:
        conditions.append(_sla(wanted.sla))
    return conditions


def _sla(state: str):
    """Breached: its resolution target passed before it was resolved. At risk: open, not breached, three
    quarters of its resolution time used, its clock running."""
    now = utcnow()
    if state == "breached":
        return or_(
            Ticket.sla_breached.is_(True),
            and_(Ticket.resolved_at.is_(None), Ticket.resolution_due < now, _OPEN),
        )
    return and_(
        _OPEN,
        Ticket.sla_breached.is_(False),
        Ticket.sla_held_since.is_(None),
        Ticket.sla_warning_due <= now,
        Ticket.resolution_due >= now,
        not_(Ticket.resolution_due.is_(None)),
    )


def tickets_by_number(db: Session, *, numbers: set[str]) -> dict[str, Ticket]:
    if not numbers:
        return {}
    return {t.number: t for t in db.scalars(select(Ticket).where(Ticket.number.in_(numbers)))}


def linked_incidents(db: Session, *, problem: Ticket) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.problem_number == problem.number).order_by(Ticket.id)))


def children_of(db: Session, *, parent: Ticket) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.parent_number == parent.number).order_by(Ticket.id)))


def duplicates_of(db: Session, *, original: Ticket) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.duplicate_of == original.number).order_by(Ticket.id)))


def follow_ups_of(db: Session, *, original: Ticket) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.follow_up_of == original.number).order_by(Ticket.id)))


def linked_numbers(db: Session, *, numbers: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For a page of tickets: the numbers of each one's children and of its duplicates (two queries)."""
    children: dict[str, list[str]] = {}
    duplicates: dict[str, list[str]] = {}
    if not numbers:
        return children, duplicates
    for column, found in ((Ticket.parent_number, children), (Ticket.duplicate_of, duplicates)):
        rows = db.execute(select(column, Ticket.number).where(column.in_(numbers)).order_by(Ticket.id))
        for linked_to, number in rows:
            found.setdefault(linked_to, []).append(number)
    return children, duplicates
