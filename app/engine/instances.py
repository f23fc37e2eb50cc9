"""Running instances: start one, complete a user task, deliver a message, restart at an entry, fire due timers.

Each operation runs inside the caller's transaction: it locks the instance row, restores the workflow (or takes
the one kept from its last step), applies the change, advances it, and hands the store what to write (the new
state, the task and timer projections, the audit events). The caller commits once; nothing lands half-way.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from app.db import utcnow
from app.engine import definitions, runtime, serializer, store
from app.engine.cache import WORKFLOWS
from app.engine.models import ProcessDefinition, ProcessInstance
from app.engine.results import CompletedTask, DefinitionRef, InstanceRecord, OpenTask, Outcome
from app.engine.runtime import EngineError, RunReport, TaskNotReady
from app.errors import Conflict


def ref_of(definition: ProcessDefinition) -> DefinitionRef:
    return DefinitionRef(
        definition.id,
        definition.process_id,
        definition.version,
        definition.checksum,
        definition.name,
        definition.bpmn_file,
    )


def get_instance(db: Session, *, instance_id: int) -> ProcessInstance | None:
    return db.get(ProcessInstance, instance_id)


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
    definition = definition or definitions.latest_definition(db, process_id=process_id)
    if definition is None:
        raise EngineError(f"process {process_id} is not deployed")
    ref = ref_of(definition)
    spec, subprocess_specs = definitions.specs_of(db, ref)
    run = runtime.Run(runtime.new_workflow(spec, subprocess_specs, data), spec, subprocess_specs)
    report = run.advance()
    instance = store.insert_instance(
        db,
        definition=ref,
        business_key=business_key,
        status=_status(report),
        state=serializer.dump(report.workflow),
        serializer=serializer.SERIALIZER_VERSION,
        round=1 + report.rounds,
    )
    store.record(db, instance, kind="instance_started", actor=actor)
    return _finish(db, instance, report, actor=actor, new=True)


def _open_run(db: Session, instance_id: int) -> tuple[InstanceRecord, runtime.Run]:
    """Lock the instance row and restore its workflow (or take the one kept from its last step in this process,
    if the row holds the state that step saved), ready for one change."""
    instance = store.lock(db, instance_id=instance_id)
    spec, subprocess_specs = definitions.specs_of(db, instance.definition)
    workflow = WORKFLOWS.take(instance_id, instance.state)
    if workflow is None:
        workflow = serializer.load(instance.state, spec, subprocess_specs)
    return instance, runtime.Run(workflow, spec, subprocess_specs)


def complete(db: Session, *, instance_id: int, task_id: str, data: dict, actor: str, public: bool = False) -> Outcome:
    """Run a user task with validated form data. The caller has checked that actor may work it; public: the
    completion is shown in the public part of the history (a task the diagram gave to a person)."""
    # The workflow is read under the lock: a completion that won the race has committed by now, and its task
    # is no longer ready in it.
    instance, run = _open_run(db, instance_id)
    try:
        element_id = run.complete_task(task_id, data)
    except TaskNotReady as err:
        raise Conflict("this task is no longer open") from err
    done = CompletedTask(task_id, element_id, actor, public, submitted=dict(data))
    return _finish(db, instance, run.advance(), actor=actor, completed=done)


def deliver(db: Session, *, instance_id: int, name: str, payload: dict, actor: str | None) -> Outcome | None:
    """Give a message to an instance; None when it waits for no such message (nothing changes)."""
    instance, run = _open_run(db, instance_id)
    if not run.catch_message(name, payload):
        WORKFLOWS.keep(instance.id, instance.state, run.workflow)  # unchanged, like its row
        return None
    store.record(db, instance, kind="message_received", actor=actor, changes={"message": [None, name]})
    return _finish(db, instance, run.advance(), actor=actor)


def restart(db: Session, *, instance_id: int, data: dict, actor: str | None, reason: str) -> Outcome:
    """End the instance's current round and start it again from its start event with the current data
    updated by data: how the outside (a resolved problem, a cleared alert) sends an instance to another entry
    of its diagram. The diagram's entry gateway decides where the new round goes."""
    instance, run = _open_run(db, instance_id)
    run.restart(data)
    changes = {"reason": [None, reason], **{k: [None, v] for k, v in data.items()}}
    store.record(db, instance, kind="restarted", actor=actor, changes=changes)
    return _finish(db, instance, run.advance(), actor=actor)


def amend(db: Session, *, instance_id: int, data: dict, actor: str | None, reason: str) -> Outcome:
    """Change process data of a running instance from outside (an edited ticket): its waiting tasks take the new
    values, and a date timer whose expression reads one of them is set again, firing at once if it is past."""
    instance, run = _open_run(db, instance_id)
    run.amend(data)
    changes = {"reason": [None, reason], **{k: [None, v] for k, v in data.items()}}
    store.record(db, instance, kind="data_amended", actor=actor, changes=changes)
    return _finish(db, instance, run.advance(), actor=actor)


def cancel(db: Session, *, instance_id: int, actor: str | None, reason: str) -> Outcome:
    """End an instance where it stands: its open tasks are cancelled, its timers stop, nothing else runs; its
    status is cancelled. An instance already completed or cancelled is a Conflict."""
    instance, run = _open_run(db, instance_id)
    if instance.status in ("completed", "cancelled"):
        WORKFLOWS.keep(instance.id, instance.state, run.workflow)
        raise Conflict(f"the process has already ended ({instance.status})")
    store.record(db, instance, kind="instance_cancelled", actor=actor, changes={"reason": [None, reason]})
    return _finish(db, instance, run.cancel(), actor=actor)


def decide(db: Session, *, definition: ProcessDefinition | DefinitionRef, decision: str, data: dict) -> dict | None:
    """Evaluate a decision table of the definition's bundle with data as its input; None when the bundle has no
    such decision. The result is the matching rule's outputs (empty when no rule matches)."""
    spec, subprocess_specs = definitions.specs_of(db, definition)
    return _decide(spec, subprocess_specs, decision, data)


def fire_timers(db: Session, *, instance_id: int) -> Outcome:
    """Fire the instance's due timers and advance it (the worker calls this with the job leased)."""
    instance, run = _open_run(db, instance_id)
    run.fire_timers()
    return _finish(db, instance, run.advance(), actor=None)


def waiting_timers(db: Session, *, instance_id: int) -> list[dict]:
    """The timers the instance waits for, with their due time (from the job table: no workflow to load)."""
    return store.waiting_timers(db, instance_id=instance_id)


def state_metrics(db: Session, *, instance: ProcessInstance) -> dict[str, int]:
    """How big an instance's stored state is: bytes, tasks in its tree, and the rounds it has run."""
    workflow = serializer.load(instance.state, *definitions.specs_of(db, instance.definition))
    return {"bytes": len(instance.state), "tasks": len(workflow.get_tasks()), "round": instance.round}


class _DecisionInput:
    """What a decision table reads of a task, for evaluating one outside a run: its data and the script engine."""

    def __init__(self, data: dict):
        self.data = dict(data)
        self.workflow = self
        self.script_engine = serializer.SCRIPT_ENGINE
        self.task_spec = None


def _decide(spec, subprocess_specs, decision: str, data: dict) -> dict | None:
    """The outputs of the decision table `decision` that a business rule task of the spec calls, for data."""
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            if engine is not None and decision in (getattr(engine, "decision_id", None), engine.decision_table.id):
                try:
                    return engine.result(_DecisionInput(data))
                except Exception as err:  # noqa: BLE001 - a failing table is the diagram's error
                    raise EngineError(f"decision {decision}: {err}") from err
    return None


def _status(report: RunReport) -> str:
    if report.cancelled:
        return "cancelled"
    if report.completed:
        return "completed"
    return "running" if report.ready else "waiting"


def _finish(
    db: Session,
    instance: InstanceRecord,
    report: RunReport,
    *,
    actor: str | None,
    completed: CompletedTask | None = None,
    new: bool = False,
) -> Outcome:
    """Save the run and project it (a new instance was inserted with its state and status already)."""
    if not new:
        state = serializer.dump(report.workflow)
        store.save(db, instance, state=state, status=_status(report), rounds=report.rounds)
    _record_steps(db, instance, report, actor=actor, completed=completed)
    ready = {t.id for t in report.ready}
    store.close_tasks(db, closed=report.ready_before - ready, completed=completed)
    now = utcnow()
    new_tasks = [_new_task(db, instance, t, report.data, now) for t in report.ready if t.id not in report.ready_before]
    store.open_tasks(db, new_tasks)
    still = store.still_open(db, ready & report.ready_before)
    store.keep_timer_jobs(db, instance_id=instance.id, before=report.timers_before, now_waiting=report.timers)
    WORKFLOWS.keep_after_commit(db, instance.id, instance.state, report.workflow)
    return Outcome(
        instance=instance,
        steps=report.steps,
        ready=report.ready,
        data=report.data,
        thrown=report.thrown,
        rounds=report.rounds,
        completed=report.completed,
        completed_task=completed,
        new_tasks=new_tasks,
        open_tasks=sorted(still + new_tasks, key=lambda t: t.created_at),
    )


def _record_steps(
    db: Session, instance: InstanceRecord, report: RunReport, *, actor: str | None, completed: CompletedTask | None
) -> None:
    """The audit trail of the run: each element passed (the person's own task with its actor and everything they
    submitted, a value equal to the one before included), each new round."""
    for step in report.steps:
        by_person = step.manual and completed is not None and step.element_id == completed.element_id
        changes = step.changes
        if by_person:
            changes = {**{k: [v, v] for k, v in completed.submitted.items()}, **step.changes}
        store.record(
            db,
            instance,
            kind="task_completed" if step.manual else "element_completed",
            actor=actor if by_person else None,
            element_id=step.element_id,
            element_name=step.element_name,
            changes=changes,
            public=bool(by_person and completed.assigned_by_process),
        )
    if report.rounds:
        changes = {"round": [instance.round - report.rounds, instance.round]}
        store.record(db, instance, kind="continued_as_new", actor=None, changes=changes)


def _new_task(db: Session, instance: InstanceRecord, task: runtime.ReadyTask, data: dict, now: datetime) -> OpenTask:
    """The row of a task the run opened; it keeps the process data its form starts with: the values of the fields
    the diagram carries over (its carryOver property), every other field starts empty."""
    fields = set(definitions.form_document(db, instance.definition, task.form_schema).get("properties", {}))
    fields &= set(task.carry_over)
    return OpenTask(
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
        data={k: v for k, v in data.items() if k in fields and v is not None},
        candidate_groups=list(task.candidate_groups),
    )
