"""The tasks of tickets as their people work them: open one with its form, claim, release, complete; the open
tasks of a ticket. The ticket's visibility is checked beside each lookup; the ticket's assignee follows claims."""

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from app import engine
from app.audit import service as audit
from app.db import utcnow
from app.engine import ProcessDefinition, ProcessInstance
from app.errors import Forbidden, NotFound
from app.identity.service import Principal
from app.tasks import service as tasks
from app.tasks.access import may_work
from app.tasks.models import HumanTask
from app.tickets.access import can_see, get_ticket
from app.tickets.coordination import settle
from app.tickets.models import Ticket


@dataclass
class TaskDetail:
    task: HumanTask
    ticket: Ticket | None
    schema: dict
    ui_schema: dict


# A task with its groups, its ticket and the definition its instance runs on (for its form), in one query built
# once: it runs for every task a user opens, claims or completes.
_TASK = (
    select(HumanTask, Ticket, ProcessDefinition)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    .outerjoin(Ticket, Ticket.number == HumanTask.business_key)
    .where(HumanTask.id == bindparam("task_id"))
    .options(joinedload(HumanTask.groups))
)


def _task(db: Session, *, user: Principal, task_id: str) -> tuple[HumanTask, Ticket | None, ProcessDefinition]:
    found = db.execute(_TASK, {"task_id": task_id}).unique().first()
    if found is None:
        raise NotFound(f"no task {task_id}")
    task, ticket, definition = found
    visible = can_see(user, ticket, db) if ticket is not None else user.has("process_owner", "admin", "auditor")
    if not visible and task.assignee != user.username:
        raise NotFound(f"no task {task_id}")
    return task, ticket, definition


def get_task(db: Session, *, user: Principal, task_id: str) -> TaskDetail:
    task, ticket, definition = _task(db, user=user, task_id=task_id)
    if not may_work(user, task):
        raise Forbidden("this task is for its candidate groups or its assignee")
    return TaskDetail(
        task,
        ticket,
        engine.form_document(db, definition, task.form_schema),
        engine.form_document(db, definition, task.form_ui_schema),
    )


def claim_task(db: Session, *, user: Principal, task_id: str) -> HumanTask:
    task, ticket, _ = _task(db, user=user, task_id=task_id)
    if tasks.claim(db, user=user, task=task):
        _set_assignee(db, ticket, user.username, actor=user.username, task=task, kind="task_claimed")
    return task


def unclaim_task(db: Session, *, user: Principal, task_id: str) -> HumanTask:
    task, ticket, _ = _task(db, user=user, task_id=task_id)
    if tasks.release(db, user=user, task=task):
        _set_assignee(db, ticket, None, actor=user.username, task=task, kind="task_released")
    return task


def _set_assignee(db: Session, ticket: Ticket | None, assignee: str | None, *, actor: str, task: HumanTask, kind: str):
    changes = {"assignee": [None if assignee else actor, assignee]}
    if ticket is not None:
        changes = {"assignee": [ticket.assignee, assignee]}
        ticket.assignee = assignee
        ticket.updated_at = utcnow()
    audit.record(
        db,
        kind=kind,
        actor=actor,
        ticket=task.business_key,
        instance_id=task.instance_id,
        element_id=task.element_id,
        element_name=task.name,
        changes=changes,
    )


def complete_task(
    db: Session, *, user: Principal, task_id: str, data: object
) -> tuple[Ticket | None, list[engine.OpenTask]]:
    """Complete a task with its form's data; returns its ticket and the tasks of its instance still open."""
    task, ticket, definition = _task(db, user=user, task_id=task_id)
    outcome = tasks.complete(db, user=user, task=task, definition=definition, data=data)
    if ticket is not None:
        settle(db, ticket, outcome, actor=user.username)
    return ticket, outcome.open_tasks


def ticket_tasks(db: Session, *, user: Principal, number: str) -> list[HumanTask]:
    ticket = get_ticket(db, user=user, number=number)
    if not (user.sees_all_tickets or ticket.requester == user.username):
        raise Forbidden("only the requester and the service desk see a ticket's tasks")
    return tasks.of_business_key(db, key=ticket.number)
