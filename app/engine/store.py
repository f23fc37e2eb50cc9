"""Every statement a step of an instance runs, in one technique (SQLAlchemy Core, built once, bound per call):
lock the instance row, save its state against the one optimistic lock (lock_version), open and close the rows
of its user tasks and their groups, keep one job per waiting timer, and record the step's audit events.

Nothing else in the app writes these rows during a run. The session's loaded copies of rows written here are
kept in step with what was written, so a caller that reads one afterwards sees what is stored.
"""

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, insert, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import service as audit
from app.db import utcnow
from app.engine.models import HUMAN_TASK, HUMAN_TASK_GROUP, ProcessDefinition, ProcessInstance
from app.engine.results import CompletedTask, DefinitionRef, InstanceRecord, OpenTask
from app.errors import LOST_RACE, Conflict
from app.jobs.models import Job

_INSTANCE = ProcessInstance.__table__
_DEFINITION = ProcessDefinition.__table__
_JOB = Job.__table__

# --- the instance row ----------------------------------------------------------------------------

_COLUMNS = (
    _INSTANCE.c.id,
    _INSTANCE.c.business_key,
    _INSTANCE.c.status,
    _INSTANCE.c.round,
    _INSTANCE.c.lock_version,
    _INSTANCE.c.state,
    _INSTANCE.c.created_at,
    _INSTANCE.c.updated_at,
    _DEFINITION.c.id.label("definition_id"),
    _DEFINITION.c.process_id,
    _DEFINITION.c.version,
    _DEFINITION.c.checksum,
    _DEFINITION.c.name,
    _DEFINITION.c.bpmn_file,
)
_LOCK = (
    select(*_COLUMNS)
    .join(_DEFINITION, _DEFINITION.c.id == _INSTANCE.c.definition_id)
    .where(_INSTANCE.c.id == bindparam("instance_id"))
    .with_for_update(of=_INSTANCE)
)
_FILES = select(_DEFINITION.c.files).where(_DEFINITION.c.id == bindparam("definition_id"))
_NEW_INSTANCE = insert(_INSTANCE).returning(_INSTANCE.c.id)
_SAVE = (
    update(_INSTANCE)
    .where(_INSTANCE.c.id == bindparam("instance_id"), _INSTANCE.c.lock_version == bindparam("seen_version"))
    .values(
        state=bindparam("state"),
        status=bindparam("status"),
        round=bindparam("round"),
        updated_at=bindparam("updated_at"),
        lock_version=bindparam("lock_version"),
    )
)


def lock(db: Session, *, instance_id: int) -> InstanceRecord:
    """The instance's row, locked until the transaction ends (on SQLite the writer holds the database lock)."""
    row = db.execute(_LOCK, {"instance_id": instance_id}).one()
    definition = DefinitionRef(row.definition_id, row.process_id, row.version, row.checksum, row.name, row.bpmn_file)
    return InstanceRecord(
        row.id,
        definition,
        row.business_key,
        row.status,
        row.round,
        row.lock_version,
        row.state,
        row.created_at,
        row.updated_at,
    )


def files_of(db: Session, *, definition_id: int) -> dict[str, str]:
    return db.execute(_FILES, {"definition_id": definition_id}).scalar_one()


def insert_instance(
    db: Session,
    *,
    definition: DefinitionRef,
    business_key: str | None,
    status: str,
    state: str,
    serializer: str,
    round: int,
) -> InstanceRecord:
    now = utcnow()
    values = {
        "definition_id": definition.id,
        "business_key": business_key,
        "status": status,
        "state": state,
        "serializer_version": serializer,
        "round": round,
        "created_at": now,
        "updated_at": now,
        "lock_version": 1,
    }
    instance_id = db.execute(_NEW_INSTANCE, values).scalar_one()
    return InstanceRecord(instance_id, definition, business_key, status, round, 1, state, now, now)


def save(db: Session, instance: InstanceRecord, *, state: str, status: str, rounds: int) -> None:
    """Write the new state in one statement, checked against the version it was read at: a lost race is a
    Conflict. The record is updated to what is now stored."""
    values = {
        "state": state,
        "status": status,
        "round": instance.round + rounds,
        "updated_at": utcnow(),
        "lock_version": instance.lock_version + 1,
    }
    saved = db.execute(_SAVE, {"instance_id": instance.id, "seen_version": instance.lock_version, **values})
    if saved.rowcount != 1:
        raise Conflict(LOST_RACE)
    for name, value in values.items():
        setattr(instance, name, value)
    _in_step(db, _INSTANCE, {instance.id: values})


def _in_step(db: Session, table, written: dict) -> None:
    """Objects the session loaded from rows written here (the first column of their primary key -> the values
    written) take those values as stored: nothing is read back, and nothing is left for the session to flush."""
    for obj in list(db.identity_map.values()):
        state = inspect(obj)
        if state.mapper.local_table is table and state.identity and state.identity[0] in written:
            for name, value in written[state.identity[0]].items():
                set_committed_value(obj, name, value)


# --- user tasks ----------------------------------------------------------------------------------

_COMPLETE_TASK = (
    update(HUMAN_TASK)
    .where(HUMAN_TASK.c.id == bindparam("task_id"))
    .values(status="completed", completed_at=bindparam("at"), completed_by=bindparam("actor"))
)
_CANCEL_TASKS = (
    update(HUMAN_TASK)
    .where(HUMAN_TASK.c.id.in_(bindparam("ids", expanding=True)), HUMAN_TASK.c.status == "open")
    .values(status="cancelled", completed_at=bindparam("at"))
)
_CLOSE_GROUPS = (
    update(HUMAN_TASK_GROUP).where(HUMAN_TASK_GROUP.c.task_id.in_(bindparam("ids", expanding=True))).values(open=False)
)
_NEW_TASKS = insert(HUMAN_TASK)
_NEW_TASK_GROUPS = insert(HUMAN_TASK_GROUP)
_TASK_FIELDS = tuple(c.name for c in HUMAN_TASK.c)
_STILL_OPEN = (
    select(HUMAN_TASK, HUMAN_TASK_GROUP.c.group_name)
    .outerjoin(HUMAN_TASK_GROUP, HUMAN_TASK_GROUP.c.task_id == HUMAN_TASK.c.id)
    .where(HUMAN_TASK.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(HUMAN_TASK.c.created_at, HUMAN_TASK.c.id, HUMAN_TASK_GROUP.c.position)
)


def close_tasks(db: Session, *, closed: set[str], completed: CompletedTask | None) -> None:
    """The tasks a run closed: the one a person completed, and the others cancelled (a boundary event, a branch
    that ended), their groups' queues no longer holding them."""
    if not closed:
        return
    now = utcnow()
    written: dict[str, dict] = {}
    if completed is not None and completed.id in closed:
        db.execute(_COMPLETE_TASK, {"task_id": completed.id, "at": now, "actor": completed.actor})
        written[completed.id] = {"status": "completed", "completed_at": now, "completed_by": completed.actor}
    cancelled = closed - {completed.id} if completed is not None else closed
    if cancelled:
        db.execute(_CANCEL_TASKS, {"ids": list(cancelled), "at": now})
        written.update({task_id: {"status": "cancelled", "completed_at": now} for task_id in cancelled})
    db.execute(_CLOSE_GROUPS, {"ids": list(closed)})
    _in_step(db, HUMAN_TASK, written)
    _in_step(db, HUMAN_TASK_GROUP, {task_id: {"open": False} for task_id in closed})


def open_tasks(db: Session, tasks: list[OpenTask]) -> None:
    """Insert the rows of new tasks and their groups, a statement for each table whatever their number."""
    if not tasks:
        return
    db.execute(_NEW_TASKS, [{name: getattr(task, name) for name in _TASK_FIELDS} for task in tasks])
    groups = [
        {"task_id": task.id, "group_name": group, "position": i, "open": True}
        for task in tasks
        for i, group in enumerate(task.candidate_groups)
    ]
    if groups:
        db.execute(_NEW_TASK_GROUPS, groups)


def still_open(db: Session, ids: Iterable[str]) -> list[OpenTask]:
    """The stored rows of tasks that were open before the run and still are, with their groups."""
    ids = list(ids)
    if not ids:
        return []
    found: dict[str, OpenTask] = {}
    for row in db.execute(_STILL_OPEN, {"ids": ids}):
        task = found.get(row.id)
        if task is None:
            task = found[row.id] = OpenTask(**{name: getattr(row, name) for name in _TASK_FIELDS})
        if row.group_name is not None:
            task.candidate_groups.append(row.group_name)
    return list(found.values())


# --- timers --------------------------------------------------------------------------------------

_NEW_TIMER_JOBS = insert(_JOB)


def keep_timer_jobs(db: Session, *, instance_id: int, before: set[tuple], now_waiting: list[dict]) -> None:
    """One waiting job per waiting timer: the timers the run left behind are cancelled, the new ones get a job.
    The jobs mirror the timers the workflow waited for before the run, so nothing needs reading."""
    wanted = {(t["element_id"], t["due_at"]) for t in now_waiting}
    gone = before - wanted
    if gone:
        match = [and_(_JOB.c.element_id == element_id, _JOB.c.due_at == due_at) for element_id, due_at in gone]
        cancel = update(_JOB).where(_JOB.c.instance_id == instance_id, _JOB.c.status == "waiting", or_(*match))
        db.execute(cancel.values(status="cancelled", updated_at=utcnow()))
    due = [{"instance_id": instance_id, "element_id": e, "due_at": d} for e, d in sorted(wanted - before)]
    if due:
        db.execute(_NEW_TIMER_JOBS, due)


_WAITING_TIMERS = select(_JOB.c.element_id, _JOB.c.due_at).where(
    _JOB.c.instance_id == bindparam("instance_id"), _JOB.c.status.in_(("waiting", "running"))
)


def waiting_timers(db: Session, *, instance_id: int) -> list[dict]:
    return [
        {"element_id": row.element_id, "due_at": row.due_at.isoformat()}
        for row in db.execute(_WAITING_TIMERS, {"instance_id": instance_id})
    ]


# --- the audit trail of a step -------------------------------------------------------------------


def record(db: Session, instance: InstanceRecord, *, kind: str, actor: str | None, **fields) -> None:
    """An audit event about the instance, appended to the chain when the transaction commits."""
    audit.record(
        db,
        kind=kind,
        actor=actor,
        ticket=instance.business_key,
        instance_id=instance.id,
        process_id=instance.definition.process_id,
        process_version=instance.definition.version,
        **fields,
    )
