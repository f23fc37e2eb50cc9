"""Lists of tickets: filtered and paged, by number, the incidents of a problem."""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.identity.service import Principal
from app.tickets.models import Ticket


def list_tickets(
    db: Session,
    *,
    user: Principal,
    kind: str | None = None,
    status: str | None = None,
    priority: str | None = None,
    assignment_group: str | None = None,
    q: str | None = None,
    requester: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if not user.sees_all_tickets:
        query = query.where(Ticket.requester == user.username)
    elif requester:
        query = query.where(Ticket.requester == requester)
    if kind:
        query = query.where(Ticket.kind == kind)
    if status:
        query = query.where(Ticket.status == status)
    if priority:
        query = query.where(Ticket.priority == priority)
    if assignment_group:
        query = query.where(Ticket.assignment_group == assignment_group)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Ticket.title.ilike(like), Ticket.number.ilike(like), Ticket.description.ilike(like)))
    return list(db.scalars(query.limit(max(1, min(limit, 500))).offset(max(0, offset))))


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
