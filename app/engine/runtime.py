"""SpiffWorkflow at work: one run of a workflow, reported in plain data.

A run takes a workflow (new, or restored from its row), applies one change (a completed task, a caught
message, due timers), advances it through every automated step, and reports what happened: the elements
passed, the user tasks now waiting, each with the properties the diagram gave its element (a plain mapping:
what they mean is the caller's business). Repetition is "continue as new": an end event with the property
continueAsNew=true restarts a fresh workflow of the same spec with the end event's data, so an instance never
grows with its rounds.
"""

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine import sandbox
from app.engine.serializer import SCRIPT_ENGINE


class EngineError(Exception):
    """A step of the diagram failed (a script raised, an expression did not evaluate)."""

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message)
        self.element_id = element_id


@dataclass
class ReadyTask:
    id: str
    element_id: str
    name: str
    lane: str | None
    candidate_groups: list[str]
    assignee: str | None
    form_schema: str | None
    form_ui_schema: str | None
    properties: Mapping[str, str] = field(default_factory=dict)  # the element's spiffworkflow properties

    @property
    def carry_over(self) -> list[str]:
        """The form's fields that start with the value the process has (carryOver: names, comma-separated)."""
        return _name_list(self.properties.get("carryOver"))


@dataclass
class Step:
    element_id: str
    element_name: str
    element_type: str
    changes: dict[str, list]
    manual: bool
    came_from: str | None = None  # the element passed just before: the sequence flow taken is came_from -> element
    properties: Mapping[str, str] = field(default_factory=dict)  # the element's spiffworkflow properties
    data: dict = field(default_factory=dict)  # its data when it completed (kept for elements with properties only)


def _previous_element(task) -> str | None:
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    if parent is None:
        return None
    if type(task.task_spec).__name__ == "BoundaryEvent":
        return None  # a boundary event is attached to its task, not reached through a flow
    return parent.task_spec.bpmn_id


# Called with (process id, source element id, target element id) for every flow a run takes; None: no tracing.
flow_observer: Callable[[str, str, str], None] | None = None


@dataclass
class RunReport:
    workflow: BpmnWorkflow
    steps: list[Step] = field(default_factory=list)
    ready: list[ReadyTask] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    rounds: int = 0  # how many times the run continued as new
    completed: bool = False
    timers: list[dict] = field(default_factory=list)  # {element_id, due_at (aware datetime)}
    # What waited before the run (the stored projection of it): user task ids, and (element_id, due_at) timers.
    ready_before: set[str] = field(default_factory=set)
    timers_before: set[tuple] = field(default_factory=set)
    thrown: list[dict] = field(default_factory=list)  # messages for other instances: {name, payload}
    cancelled: bool = False  # the run ended the workflow from outside (nothing completed)


def properties_of(task_spec) -> dict[str, str]:
    return getattr(task_spec, "extensions", {}).get("properties", {}) or {}


def _diff(before: dict, after: dict) -> dict[str, list]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _name_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [g.strip() for g in value.split(",") if g.strip()]
    return [str(g) for g in value]


def _ready_task(task) -> ReadyTask:
    spec = task.task_spec
    props = properties_of(spec)
    try:
        if props.get("candidateGroupsExpression"):
            groups = _name_list(sandbox.evaluate(props["candidateGroupsExpression"], task.data))
        elif props.get("candidateGroups"):
            groups = _name_list(props["candidateGroups"])
        elif props.get("assigneeExpression"):
            groups = []
        else:
            groups = _name_list(spec.lane)
        assignee = sandbox.evaluate(props["assigneeExpression"], task.data) if props.get("assigneeExpression") else None
        title = sandbox.evaluate(props["titleExpression"], task.data) if props.get("titleExpression") else None
    except Exception as err:  # noqa: BLE001 - any failure of a diagram expression is the diagram's error
        raise EngineError(f"{spec.bpmn_name or spec.bpmn_id}: cannot decide who works it: {err}", spec.bpmn_id) from err
    return ReadyTask(
        id=str(task.id),
        element_id=spec.bpmn_id,
        name=f"{spec.bpmn_name or spec.bpmn_id}: {title}" if title else (spec.bpmn_name or spec.bpmn_id),
        lane=spec.lane,
        candidate_groups=groups,
        assignee=str(assignee) if assignee else None,
        form_schema=props.get("formJsonSchemaFilename"),
        form_ui_schema=props.get("formUiSchemaFilename"),
        properties=props,
    )


def new_workflow(spec, subprocess_specs, data: dict) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    start = workflow.get_next_task(state=TaskState.READY)
    start.data = dict(data)
    return workflow


class Run:
    """One change applied to a workflow and everything it set in motion."""

    def __init__(self, workflow: BpmnWorkflow, spec, subprocess_specs):
        self.workflow = workflow
        self.spec, self.subprocess_specs = spec, subprocess_specs
        self._seen = {t.id for t in _finished(workflow)}
        self.report = RunReport(workflow)
        self.report.ready_before = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        self.report.timers_before = {(t["element_id"], t["due_at"]) for t in self.waiting_timers()}

    def complete_task(self, task_id: str, data: dict) -> str:
        """Run one READY user task with the submitted data; returns its element's id."""
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (SpiffWorkflowException, ValueError):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        task.data = {**task.data, **data}  # a new dict: 3.2.0 shares nested data between tasks
        self._guard(task.run)
        return task.task_spec.bpmn_id

    def catch_message(self, name: str, payload: dict) -> bool:
        if not any(
            isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)
            and t.task_spec.event_definition.name == name
            for t in self.workflow.get_tasks(state=TaskState.WAITING)
        ):
            return False
        self._guard(lambda: self.workflow.catch(BpmnEvent(MessageEventDefinition(name), payload)))
        return True

    def advance(self) -> RunReport:
        self._guard(self.workflow.do_engine_steps)
        self._collect()
        while self.workflow.is_completed() and self._continues_as_new():
            data = dict(self._last_end_data())
            self.workflow = new_workflow(self.spec, self.subprocess_specs, data)
            self._seen = set()
            self.report.rounds += 1
            self._guard(self.workflow.do_engine_steps)
            self._collect()
        self._prune_repeated_branches()
        report = self.report
        report.thrown += self.thrown_messages()
        report.workflow = self.workflow
        report.completed = self.workflow.is_completed()
        ready = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        report.ready = [_ready_task(t) for t in ready]
        if flow_observer is not None:
            for task in ready:
                if _previous_element(task):
                    flow_observer(self.spec.name, _previous_element(task), task.task_spec.bpmn_id)
        report.data = self.current_data()
        report.timers = self.waiting_timers()
        return report

    def current_data(self) -> dict:
        """The process data now: what the waiting user tasks (or timers, or the end) hold."""
        ready = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        if ready:
            merged: dict = {}
            for task in ready:
                merged.update(task.data)
            return merged
        if self.workflow.is_completed():
            return dict(self._last_end_data())
        waiting = self.workflow.get_tasks(state=TaskState.WAITING)
        return dict(waiting[0].data) if waiting else dict(self.workflow.data)

    def waiting_timers(self) -> list[dict]:
        """The timer events the workflow waits for, each with its due time."""
        timers = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):  # a cycle: the next occurrence
                value = value.get("next")
            if value:
                due = TimerEventDefinition.get_datetime(value)
                timers.append({"element_id": task.task_spec.bpmn_id, "due_at": due.astimezone(UTC)})
        return timers

    def fire_timers(self) -> None:
        """Let every timer that is due fire (the caller then advances the workflow)."""
        self._guard(self.workflow.refresh_timers)

    def amend(self, data: dict) -> None:
        """Give the waiting tasks new values of process data (from outside: an edited ticket). A date timer
        waiting on an expression that reads one of those values is set again (a moved SLA target), and fires now
        if its new moment is past; other timers keep their moment."""
        changed = set(data)
        waiting = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        # A boundary event takes its data from the split above its task again when timers are refreshed: that
        # structural task (no BPMN element of its own) is given the data too.
        splits = {
            t.parent.id: t.parent for t in waiting if t.parent and not getattr(t.parent.task_spec, "bpmn_id", None)
        }
        for task in [*waiting, *splits.values()]:
            task.data = {**task.data, **data}  # a new dict: 3.2.0 shares nested data between tasks
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, TimeDateEventDefinition) and _reads(definition.expression) & changed:
                task._set_internal_data(event_value=None)
        self._guard(self.workflow.refresh_timers)

    def cancel(self) -> RunReport:
        """End the workflow where it stands: every waiting task and timer is cancelled, nothing runs."""
        data = self.current_data()
        self.workflow.cancel()
        report = self.report
        report.workflow, report.completed, report.cancelled, report.data = self.workflow, True, True, data
        return report

    def restart(self, data: dict) -> None:
        """Continue as new from outside: a fresh workflow of the same spec with the current data updated by data."""
        carried = {**self.current_data(), **data}
        self.workflow = new_workflow(self.spec, self.subprocess_specs, carried)
        self._seen = set()
        self.report.rounds += 1

    def thrown_messages(self) -> list[dict]:
        """Messages the run threw for other instances (the engine's caller routes them)."""
        return [
            {"name": e.event_definition.name, "payload": e.payload}
            for e in self.workflow.get_events()
            if isinstance(e.event_definition, MessageEventDefinition)
        ]

    def _guard(self, action):
        try:
            return action()
        except SpiffWorkflowException as err:
            original = err.__cause__ or err.__context__
            cause = original if isinstance(original, sandbox.SandboxError) else getattr(err, "exception", None) or err
            raise _element_error(getattr(err, "task", None), cause) from err
        except sandbox.SandboxError as err:
            raise EngineError(str(err)) from err
        except (ArithmeticError, ValueError, TypeError) as err:
            # What SpiffWorkflow makes of a value diagram code returned (a timer's absurd duration): the
            # diagram's error, named by the task SpiffWorkflow was working on.
            raise _element_error(_task_in_traceback(err), err) from err

    def _collect(self) -> None:
        finished = [
            t
            for t in _finished(self.workflow)
            if t.state == TaskState.COMPLETED and t.id not in self._seen and getattr(t.task_spec, "bpmn_id", None)
        ]
        finished.sort(key=lambda t: t.last_state_change)
        for task in finished:
            self._seen.add(task.id)
            spec = task.task_spec
            parent_data = task.parent.data if task.parent is not None else {}
            props = properties_of(spec)
            step = Step(
                element_id=spec.bpmn_id,
                element_name=spec.bpmn_name or spec.bpmn_id,
                element_type=type(spec).__name__,
                changes=_diff(parent_data, task.data),
                manual=bool(spec.manual),
                came_from=_previous_element(task),
                properties=props,
                data=dict(task.data) if props else {},
            )
            self.report.steps.append(step)
            if flow_observer is not None and step.came_from:
                flow_observer(self.spec.name, step.came_from, step.element_id)

    def _prune_repeated_branches(self) -> None:
        """Drop what a cycle timer left behind: each firing adds a branch (the stakeholder update) and another
        copy of the boundary's join, and keeping them would make the state grow with every cycle. A branch
        goes once its elements are finished (only the process's end join still waits in it); one join copy is
        kept. The audit log keeps what the branches did."""
        for timer in self.workflow.get_tasks(state=TaskState.WAITING):
            if not isinstance(getattr(timer.task_spec, "event_definition", None), CycleTimerEventDefinition):
                continue
            joins = []
            for child in list(timer.children):
                if not getattr(child.task_spec, "bpmn_id", None):
                    joins.append(child)
                elif all(t.has_state(TaskState.FINISHED_MASK) for t in _subtree(child) if t.task_spec.bpmn_id):
                    self.workflow._remove_task(child.id)
            for extra in joins[1:]:
                self.workflow._remove_task(extra.id)

    def _end_task(self):
        ends = [
            t
            for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None) and type(t.task_spec).__name__ == "EndEvent"
        ]
        return max(ends, key=lambda t: t.last_state_change) if ends else None

    def _continues_as_new(self) -> bool:
        end = self._end_task()
        return end is not None and properties_of(end.task_spec).get("continueAsNew", "").lower() == "true"

    def _last_end_data(self) -> dict:
        end = self._end_task()
        return end.data if end is not None else self.workflow.data


def _reads(expression: str) -> set[str]:
    """The names an expression reads (none when it does not parse: it is then left as it was)."""
    try:
        return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def _element_error(task, cause) -> EngineError:
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    name = getattr(getattr(task, "task_spec", None), "bpmn_name", None) or element
    return EngineError(f"{name}: {cause}" if name else str(cause), element)


def _task_in_traceback(err: BaseException):
    """The innermost SpiffWorkflow task a failing call was working on (its `my_task` argument)."""
    found, trace = None, err.__traceback__
    while trace is not None:
        candidate = trace.tb_frame.f_locals.get("my_task")
        if getattr(candidate, "task_spec", None) is not None:
            found = candidate
        trace = trace.tb_next
    return found


def _finished(workflow):
    """Every finished task. get_tasks(state=...) does not descend below unfinished tasks, so it misses the
    completed branches under a waiting timer (a cycle's stakeholder updates)."""
    return [t for t in workflow.get_tasks() if t.has_state(TaskState.FINISHED_MASK)]


def _subtree(task):
    yield task
    for child in task.children:
        yield from _subtree(child)


class TaskNotReady(Exception):
    """The task is not (or no longer) waiting for a person."""
