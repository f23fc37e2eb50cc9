"""The engine's public operations: deploy, start, complete a task, deliver a message.

Each operation runs inside the caller's transaction: it locks the instance row, restores the
workflow, applies the change, saves the new state (optimistic lock on lock_version), projects the
human tasks and appends the audit events. The caller commits once; nothing lands half-way.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, bindparam, func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import service as audit
from app.config import PROJECT_ROOT
from app.db import utcnow
from app.engine import runtime
from app.engine.bundle import Bundle, BundleError, Problem, read_directory, validate, with_new_bpmn
from app.engine.cache import WORKFLOWS
from app.engine.models import HumanTask, HumanTaskGroup, Job, ProcessDefinition, ProcessInstance
from app.engine.runtime import EngineError, RunReport, TaskNotReady
from app.errors import LOST_RACE, Conflict

__all__ = ["BundleError", "Conflict", "EngineError", "Problem"]


@dataclass
class DeployResult:
    definition: ProcessDefinition
    created: bool


@dataclass
class Outcome:
    instance: ProcessInstance
    report: RunReport
    completed_task: HumanTask | None = None
    new_tasks: list[HumanTask] = field(default_factory=list)
    open_tasks: list[HumanTask] = field(default_factory=list)  # every task of the instance still open after the run


# --- definitions -------------------------------------------------------------------------------


_LATEST = (
    select(ProcessDefinition)
    .where(ProcessDefinition.process_id == bindparam("process_id"))
    .order_by(ProcessDefinition.version.desc())
    .limit(1)
)


def latest_definition(db: Session, *, process_id: str) -> ProcessDefinition | None:
    return db.scalar(_LATEST, {"process_id": process_id})


def get_definition(db: Session, *, process_id: str, version: int) -> ProcessDefinition | None:
    return db.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
        )
    )


def all_definitions(db: Session) -> list[ProcessDefinition]:
    return list(db.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id, ProcessDefinition.version)))


def instance_counts(db: Session) -> dict[int, int]:
    rows = db.execute(select(ProcessInstance.definition_id, func.count()).group_by(ProcessInstance.definition_id))
    return dict(rows.all())


def bundle_of(definition: ProcessDefinition) -> Bundle:
    return Bundle(definition.process_id, definition.name, definition.bpmn_file, dict(definition.files))


def deploy_bundle(db: Session, *, bundle: Bundle, actor: str | None) -> DeployResult:
    latest = latest_definition(db, process_id=bundle.process_id)
    if latest is not None and latest.checksum == bundle.checksum:
        return DeployResult(latest, False)
    problems = validate(bundle)
    if problems:
        raise BundleError(problems)
    definition = ProcessDefinition(
        process_id=bundle.process_id,
        version=(latest.version + 1) if latest else 1,
        name=bundle.name,
        checksum=bundle.checksum,
        files=bundle.files,
        bpmn_file=bundle.bpmn_file,
        deployed_by=actor,
    )
    db.add(definition)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as err:
        raise Conflict(f"another deploy of {bundle.process_id} won the race") from err
    audit.record(
        db,
        kind="process_deployed",
        actor=actor,
        process_id=definition.process_id,
        process_version=definition.version,
        changes={"checksum": [latest.checksum if latest else None, definition.checksum]},
    )
    return DeployResult(definition, True)


def deploy_directory(db: Session, *, root: Path = PROJECT_ROOT, actor: str | None = None) -> list[DeployResult]:
    bundles = read_directory(root)
    problems: list[Problem] = []
    for bundle in bundles:
        problems += validate(bundle) if _changed(db, bundle) else []
    if problems:
        raise BundleError(problems)
    return [deploy_bundle(db, bundle=b, actor=actor) for b in bundles]


def _changed(db: Session, bundle: Bundle) -> bool:
    latest = latest_definition(db, process_id=bundle.process_id)
    return latest is None or latest.checksum != bundle.checksum


def edited_bundle(
    db: Session, *, process_id: str, bpmn_text: str | None = None, files: dict[str, str] | None = None
) -> Bundle:
    """The latest version's bundle with an edited diagram and/or edited decision tables and forms. Only files
    the process already has can be replaced: a new form or table comes with a deploy of the directory."""
    latest = latest_definition(db, process_id=process_id)
    if latest is None:
        raise BundleError([Problem(f"{process_id}.bpmn", None, f"process {process_id} is not deployed")])
    bundle = bundle_of(latest)
    if bpmn_text is not None:
        bundle = with_new_bpmn(bundle, bpmn_text)
    unknown = [name for name in files or {} if name not in bundle.files or name == bundle.bpmn_file]
    if unknown:
        raise BundleError([Problem(n, None, "not a decision table or form of this process") for n in unknown])
    return Bundle(bundle.process_id, bundle.name, bundle.bpmn_file, {**bundle.files, **(files or {})})


def check_bundle(bundle: Bundle) -> list[Problem]:
    """Every problem that would refuse the deploy of this bundle (nothing is stored)."""
    return validate(bundle)


def deploy_bpmn(db: Session, *, process_id: str, bpmn_text: str, actor: str | None) -> DeployResult:
    """A new version from an edited diagram; it keeps the decision tables and forms of the latest version."""
    latest = latest_definition(db, process_id=process_id)
    base = bundle_of(latest) if latest else Bundle(process_id, process_id, f"{process_id}.bpmn", {})
    return deploy_bundle(db, bundle=with_new_bpmn(base, bpmn_text), actor=actor)


_forms: dict[tuple[str, str], dict] = {}  # a definition never changes: its forms are parsed once per process


def form_document(definition: ProcessDefinition, name: str | None) -> dict:
    """A form of the definition's bundle, parsed once per bundle (treat it as read-only)."""
    if not name:
        return {}
    key = (definition.checksum, name)
    if key not in _forms:
        text = definition.files.get(f"forms/{name}")
        _forms[key] = json.loads(text) if text else {}
    return _forms[key]


# --- instances ----------------------------------------------------------------------------------


def get_instance(db: Session, *, instance_id: int) -> ProcessInstance | None:
    return db.get(ProcessInstance, instance_id)


# Built once, like the other statements every step runs: only the instance id is bound each time.
_LOCK = (
    select(ProcessInstance)
    .where(ProcessInstance.id == bindparam("instance_id"))
    .with_for_update(of=ProcessInstance)
    .execution_options(populate_existing=True)
)


def _lock(db: Session, instance_id: int) -> ProcessInstance:
    return db.execute(_LOCK, {"instance_id": instance_id}).scalar_one()


def _specs(definition: ProcessDefinition):
    """The definition's parsed specs (parsed once per process, cached by its checksum)."""
    return runtime.specs_for(definition.checksum, lambda: bundle_of(definition))


def start(
    db: Session,
    *,
    process_id: str,
    data: dict,
    actor: str | None,
    business_key: str | None = None,
    definition: ProcessDefinition | None = None,
) -> Outcome:
    """Start an instance of the latest version, or of definition when the caller has already chosen it (and
    recorded its version)."""
    definition = definition or latest_definition(db, process_id=process_id)
    if definition is None:
        raise EngineError(f"process {process_id} is not deployed")
    spec, subprocess_specs = _specs(definition)
    workflow = runtime.new_workflow(spec, subprocess_specs, data)
    run = runtime.Run(workflow, spec, subprocess_specs)
    report = run.advance()
    instance = ProcessInstance(
        definition=definition,
        definition_id=definition.id,
        business_key=business_key,
        status=_status(report),
        state=runtime.dump(report.workflow),
        serializer_version=runtime.SERIALIZER_VERSION,
        round=1,
    )
    db.add(instance)
    db.flush()
    audit.record(
        db,
        kind="instance_started",
        actor=actor,
        ticket=business_key,
        instance_id=instance.id,
        process_id=definition.process_id,
        process_version=definition.version,
        public=False,
    )
    return _finish(db, instance, report, actor=actor, new=True)


def _open_run(db: Session, instance_id: int) -> tuple[ProcessInstance, runtime.Run]:
    """Lock the instance row and restore its workflow (or take the one kept from its last step in this process,
    if the row holds the state that step saved), ready for one change."""
    instance = _lock(db, instance_id)
    spec, subprocess_specs = _specs(instance.definition)
    workflow = WORKFLOWS.take(instance_id, instance.state)
    if workflow is None:
        workflow = runtime.load(instance.state, spec, subprocess_specs)
    return instance, runtime.Run(workflow, spec, subprocess_specs)


def _instance_event(db: Session, instance: ProcessInstance, *, kind: str, actor: str | None, changes: dict) -> None:
    audit.record(
        db,
        kind=kind,
        actor=actor,
        ticket=instance.business_key,
        instance_id=instance.id,
        process_id=instance.definition.process_id,
        process_version=instance.definition.version,
        changes=changes,
    )


def complete_task(db: Session, *, task: HumanTask, data: dict, actor: str) -> Outcome:
    """Run a user task with validated form data. The caller has checked that actor may work it."""
    # The workflow is read under the lock: a completion that won the race has committed by now, and its task
    # is no longer ready in it.
    instance, run = _open_run(db, task.instance_id)
    try:
        run.complete_task(task.id, data)
    except TaskNotReady as err:
        raise Conflict("this task is no longer open") from err
    report = run.advance()
    return _finish(db, instance, report, actor=actor, completed=task)


def deliver_message(db: Session, *, instance_id: int, name: str, payload: dict, actor: str | None) -> Outcome | None:
    """Give a message to an instance; None when it waits for no such message (nothing changes)."""
    instance, run = _open_run(db, instance_id)
    if not run.catch_message(name, payload):
        WORKFLOWS.keep(instance.id, instance.state, run.workflow)  # unchanged, like its row
        return None
    _instance_event(db, instance, kind="message_received", actor=actor, changes={"message": [None, name]})
    return _finish(db, instance, run.advance(), actor=actor)


def restart(db: Session, *, instance_id: int, data: dict, actor: str | None, reason: str) -> Outcome:
    """End the instance's current round and start it again from its start event with the current data
    updated by data: how the outside (a resolved problem, a cleared alert) sends a ticket to another entry
    of its diagram. The diagram's entry gateway decides where the new round goes."""
    instance, run = _open_run(db, instance_id)
    run.restart(data)
    changes = {"reason": [None, reason], **{k: [None, v] for k, v in data.items()}}
    _instance_event(db, instance, kind="restarted", actor=actor, changes=changes)
    return _finish(db, instance, run.advance(), actor=actor)


def _status(report: RunReport) -> str:
    if report.completed:
        return "completed"
    return "running" if report.ready else "waiting"


def _finish(
    db: Session,
    instance: ProcessInstance,
    report: RunReport,
    *,
    actor: str | None,
    completed: HumanTask | None = None,
    new: bool = False,
) -> Outcome:
    """Save the run and project it (a new instance was inserted with its state and status already)."""
    definition = instance.definition
    if not new:
        _save(db, instance, state=runtime.dump(report.workflow), status=_status(report), rounds=report.rounds)
    elif report.rounds:
        instance.round += report.rounds
    for step in report.steps:
        by_person = step.manual and completed is not None and step.element_id == completed.element_id
        audit.record(
            db,
            kind="task_completed" if step.manual else "element_completed",
            actor=actor if by_person else None,
            ticket=instance.business_key,
            instance_id=instance.id,
            process_id=definition.process_id,
            process_version=definition.version,
            element_id=step.element_id,
            element_name=step.element_name,
            changes=step.changes,
            public=bool(by_person and completed.assigned_by_process),
        )
    if report.rounds:
        audit.record(
            db,
            kind="continued_as_new",
            actor=None,
            ticket=instance.business_key,
            instance_id=instance.id,
            process_id=definition.process_id,
            process_version=definition.version,
            changes={"round": [instance.round - report.rounds, instance.round]},
        )
    outcome = Outcome(instance, report, completed)
    _project_tasks(db, instance, report, outcome, actor=actor)
    _project_timers(db, instance, report)
    db.flush()
    WORKFLOWS.keep_after_commit(db, instance.id, instance.state, report.workflow)
    return outcome


_SAVE = (
    update(ProcessInstance.__table__)
    .where(ProcessInstance.id == bindparam("instance_id"), ProcessInstance.lock_version == bindparam("seen_version"))
    .values(
        state=bindparam("state"),
        status=bindparam("status"),
        round=bindparam("round"),
        updated_at=bindparam("updated_at"),
        lock_version=bindparam("lock_version"),
    )
)


def _save(db: Session, instance: ProcessInstance, *, state: str, status: str, rounds: int) -> None:
    """Write the instance's new state in one statement, checked against the version it was read at (a lost race
    is a Conflict), and keep the session's copy of the row as it is now stored (nothing left to flush)."""
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
        set_committed_value(instance, name, value)


_STILL_OPEN = (
    select(HumanTask).where(HumanTask.id.in_(bindparam("ids", expanding=True))).options(lazyload(HumanTask.groups))
)
_NEW_TIMER_JOBS = insert(Job.__table__)
_NEW_TASKS = insert(HumanTask.__table__)
_NEW_TASK_GROUPS = insert(HumanTaskGroup.__table__)


def _insert_as_stored(db: Session, tasks: list[HumanTask]) -> None:
    """Insert new task rows and their group rows (a statement for each table, whatever their number), then hand the
    session the objects as the rows now stored: they are read and related like loaded rows, and its flush has
    nothing of them to write (the unit of work took twice as long for the same rows)."""
    if not tasks:
        return
    groups = [group for task in tasks for group in task.groups]
    db.execute(_NEW_TASKS, [_columns(task) for task in tasks])
    if groups:
        db.execute(_NEW_TASK_GROUPS, [_columns(group) for group in groups])
    for row in [*groups, *tasks]:
        make_transient_to_detached(row)
        db.add(row)


def _columns(row) -> dict:
    """The column values set on a new row object; a column left unset gets its default from the INSERT, not NULL."""
    state = inspect(row)
    return {column.key: state.dict[column.key] for column in state.mapper.column_attrs if column.key in state.dict}


def _project_timers(db: Session, instance: ProcessInstance, report: RunReport) -> None:
    """Keep one waiting job per waiting timer: the timers the run left behind are cancelled, the new ones get a
    job. The jobs mirror the timers the workflow waited for before the run, so nothing needs reading."""
    wanted = {(t["element_id"], t["due_at"]) for t in report.timers}
    gone = report.timers_before - wanted
    if gone:
        match = [and_(Job.element_id == element_id, Job.due_at == due_at) for element_id, due_at in gone]
        cancel = update(Job.__table__).where(Job.instance_id == instance.id, Job.status == "waiting", or_(*match))
        db.execute(cancel.values(status="cancelled", updated_at=utcnow()))
    due = [{"instance_id": instance.id, "element_id": e, "due_at": d} for e, d in sorted(wanted - report.timers_before)]
    if due:
        db.execute(_NEW_TIMER_JOBS, due)


def fire_timers(db: Session, *, instance_id: int) -> Outcome:
    """Fire the instance's due timers and advance it (called by the worker with the job leased)."""
    instance, run = _open_run(db, instance_id)
    run.fire_timers()
    return _finish(db, instance, run.advance(), actor=None)


def _project_tasks(db: Session, instance: ProcessInstance, report: RunReport, outcome: Outcome, *, actor: str | None):
    """Keep one open row per ready user task. The open rows mirror the tasks that were ready before the run, so
    only what changed is written: the tasks the run closed, and a row for each new one."""
    now = utcnow()
    ready = {t.id for t in report.ready}
    done = outcome.completed_task
    closed = report.ready_before - ready
    if done is not None and done.id in closed:
        done.status, done.completed_at, done.completed_by = "completed", now, actor
    cancelled = closed - {done.id} if done is not None else closed
    # "evaluate": the rows this session already holds are updated in memory too (no read-back).
    in_step = {"synchronize_session": "evaluate"}
    if cancelled:
        cancel = update(HumanTask).where(HumanTask.id.in_(cancelled), HumanTask.status == "open")
        db.execute(cancel.values(status="cancelled", completed_at=now).execution_options(**in_step))
    if closed:
        closing = update(HumanTaskGroup).where(HumanTaskGroup.task_id.in_(closed)).values(open=False)
        db.execute(closing.execution_options(**in_step))
    for task in report.ready:
        if task.id in report.ready_before:
            continue
        schema = form_document(instance.definition, task.form_schema)
        fields = set(schema.get("properties", {}))
        groups = [
            HumanTaskGroup(task_id=task.id, group_name=g, position=i, open=True)
            for i, g in enumerate(task.candidate_groups)
        ]
        outcome.new_tasks.append(
            HumanTask(
                id=task.id,
                instance_id=instance.id,
                business_key=instance.business_key,
                element_id=task.element_id,
                name=task.name,
                lane=task.lane,
                status="open",
                assignee=task.assignee,
                assigned_by_process=task.assignee is not None,
                form_schema=task.form_schema,
                form_ui_schema=task.form_ui_schema,
                created_at=now,
                due_at=None,
                completed_at=None,
                completed_by=None,
                data={k: v for k, v in report.data.items() if k in fields and v is not None},
                groups=groups,
            )
        )
    _insert_as_stored(db, outcome.new_tasks)
    still = ready & report.ready_before
    still_open = list(db.scalars(_STILL_OPEN, {"ids": list(still)})) if still else []
    outcome.open_tasks = sorted(still_open + outcome.new_tasks, key=lambda t: t.created_at)


def waiting_timers(db: Session, *, instance: ProcessInstance) -> list[dict]:
    """The timers the instance waits for, with their due time (from the job table: no workflow to load)."""
    jobs = db.scalars(select(Job).where(Job.instance_id == instance.id, Job.status.in_(("waiting", "running"))))
    return [{"element_id": j.element_id, "due_at": j.due_at.isoformat()} for j in jobs]


def state_metrics(instance: ProcessInstance) -> dict[str, int]:
    """How big an instance's stored state is: bytes, tasks in its tree, and the rounds it has run."""
    workflow = runtime.load(instance.state, *_specs(instance.definition))
    return {"bytes": len(instance.state), "tasks": len(workflow.get_tasks()), "round": instance.round}
