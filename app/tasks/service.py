"""Working a user task: claim it, release it, complete it with its form's data; the open tasks of a person,
an instance or a business key. Callers look the task up with their own visibility check and pass it in."""

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app import engine
from app.errors import Conflict, Forbidden
from app.forms.validation import validate_submission
from app.identity.service import Principal
from app.tasks.access import is_candidate, may_work
from app.tasks.models import HumanTask, HumanTaskGroup


def claim(db: Session, *, user: Principal, task: HumanTask) -> bool:
    """Take an open, unassigned task of one of the user's groups; False when it is theirs already."""
    if not is_candidate(user, task):
        raise Forbidden("only a member of the task's groups can claim it")
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assignee == user.username:
        return False
    claimed = db.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.assignee.is_(None))
        .values(assignee=user.username)
    ).rowcount
    if not claimed:
        raise Conflict(f"already claimed by {task.assignee}" if task.assignee else "this task changed meanwhile")
    db.refresh(task)
    return True


def release(db: Session, *, user: Principal, task: HumanTask) -> bool:
    """Give a claimed task back to its groups; False when nobody held it."""
    if not is_candidate(user, task):
        raise Forbidden("only a member of the task's groups can release it")
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assigned_by_process:
        raise Conflict("this task is assigned by the process and cannot be released")
    if task.assignee not in (None, user.username) and "admin" not in user.roles:
        raise Conflict(f"claimed by {task.assignee}")
    if task.assignee is None:
        return False
    released = db.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.assignee == task.assignee).values(assignee=None)
    ).rowcount
    if not released:
        raise Conflict("this task changed meanwhile")
    db.refresh(task)
    return True


def complete(
    db: Session, *, user: Principal, task: HumanTask, definition: engine.ProcessDefinition, data: object
) -> engine.Outcome:
    """Complete the task with the data its form accepts, as the user (who must be allowed to work it)."""
    if task.status != "open":
        raise Conflict("this task is no longer open")
    if task.assignee and task.assignee != user.username:
        if task.assigned_by_process or not is_candidate(user, task):
            raise Forbidden("this task is assigned to someone else")
        raise Conflict(f"claimed by {task.assignee}")
    if not may_work(user, task):
        raise Forbidden("this task is for its candidate groups or its assignee")
    clean = validate_submission(engine.form_document(db, definition, task.form_schema), data)
    return engine.complete(
        db,
        instance_id=task.instance_id,
        task_id=task.id,
        data=clean,
        actor=user.username,
        public=task.assigned_by_process,
    )


def of_instance(db: Session, *, instance_id: int) -> list[HumanTask]:
    return list(
        db.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
            .order_by(HumanTask.created_at)
        )
    )


_OPEN_OF_KEY = (
    select(HumanTask)
    .where(HumanTask.business_key == bindparam("key"), HumanTask.status == "open")
    .order_by(HumanTask.created_at)
    .options(joinedload(HumanTask.groups))  # a ticket has few open tasks: one query with their groups
)


def of_business_key(db: Session, *, key: str) -> list[HumanTask]:
    return list(db.scalars(_OPEN_OF_KEY, {"key": key}).unique())


def waiting_for_form(db: Session, *, key: str, form: str) -> list[HumanTask]:
    """The open tasks of a business key that show this form (the approvals a reminder is about)."""
    return list(
        db.scalars(
            select(HumanTask).where(
                HumanTask.business_key == key, HumanTask.status == "open", HumanTask.form_schema == form
            )
        )
    )


def assigned_to_or_offered(user: Principal):
    """A condition on tasks: assigned to the user or offered to one of their groups (open or not)."""
    for_me = HumanTask.assignee == user.username
    for_my_groups = HumanTask.id.in_(
        select(HumanTaskGroup.task_id).where(HumanTaskGroup.group_name.in_(user.groups or {""}))
    )
    return or_(for_me, for_my_groups)


def open_tasks_for(
    db: Session, *, user: Principal, scope: str | None = None, limit: int = 50, offset: int = 0
) -> list[HumanTask]:
    """Open tasks the user may work on: mine (assigned to me), group (unassigned in my groups), or both."""
    mine = HumanTask.assignee == user.username
    in_my_groups = HumanTaskGroup.group_name.in_(user.groups or {""}) & HumanTaskGroup.open.is_(True)
    group = HumanTask.assignee.is_(None) & HumanTask.id.in_(select(HumanTaskGroup.task_id).where(in_my_groups))
    condition = {"mine": mine, "group": group}.get(scope or "", or_(mine, group))
    query = (
        select(HumanTask)
        .where(HumanTask.status == "open", condition)
        .order_by(HumanTask.created_at.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    return list(db.scalars(query))


def assign(db: Session, *, task: HumanTask, assignee: str | None) -> None:
    """Give an open task to a person (an agent's assignment, not a claim), or back to its groups with None. The
    caller has checked that the person belongs to one of the task's groups."""
    moved = db.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == "open").values(assignee=assignee)
    ).rowcount
    if not moved:
        raise Conflict("this task is no longer open")
    db.refresh(task)


def offer_to(db: Session, *, task: HumanTask, group: str) -> None:
    """Move an open task to another group's queue: its candidate groups become that one group."""
    db.execute(delete(HumanTaskGroup).where(HumanTaskGroup.task_id == task.id))
    db.execute(insert(HumanTaskGroup).values(task_id=task.id, group_name=group, position=0, open=True))
    db.refresh(task)
    db.expire(task, ["groups"])
