"""What the engine hands back: plain data about definitions, instances and runs (no SpiffWorkflow object)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.engine.models import ProcessDefinition
from app.engine.runtime import ReadyTask, Step


@dataclass
class DeployResult:
    definition: ProcessDefinition
    created: bool


@dataclass(frozen=True)
class DefinitionRef:
    """The version an instance runs on (its files are read only when its specs or forms are not cached yet)."""

    id: int
    process_id: str
    version: int
    checksum: str
    name: str
    bpmn_file: str


@dataclass
class InstanceRecord:
    """An instance as its row holds it after a run."""

    id: int
    definition: DefinitionRef
    business_key: str | None
    status: str
    round: int
    lock_version: int
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass
class OpenTask:
    """A user task as the projection stores it (a row of human_task with its candidate groups)."""

    id: str
    instance_id: int
    business_key: str | None
    element_id: str
    name: str
    lane: str | None
    status: str
    assignee: str | None
    assigned_by_process: bool
    form_schema: str | None
    form_ui_schema: str | None
    created_at: datetime
    due_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    data: dict = field(default_factory=dict)
    candidate_groups: list[str] = field(default_factory=list)


@dataclass
class CompletedTask:
    """Who completed which task of the instance, for the run's bookkeeping."""

    id: str
    element_id: str
    actor: str
    assigned_by_process: bool
    submitted: dict = field(default_factory=dict)  # what the person submitted, all of it


@dataclass
class Outcome:
    """What one operation did to an instance: the elements passed (with their properties and data), the user
    tasks now waiting, the messages thrown for other instances, and the process data now."""

    instance: InstanceRecord
    steps: list[Step]
    ready: list[ReadyTask]
    data: dict
    thrown: list[dict]
    rounds: int
    completed: bool
    completed_task: CompletedTask | None = None
    new_tasks: list[OpenTask] = field(default_factory=list)
    open_tasks: list[OpenTask] = field(default_factory=list)  # every task of the instance still open after the run

    def properties(self) -> list[tuple[Mapping[str, str], dict]]:
        """The properties of every element this run passed, in order, then of every task now waiting, each with
        the data it had: where a caller reads what the diagram's elements mean to it."""
        passed = [(step.properties, step.data) for step in self.steps if step.properties]
        return passed + [(task.properties, self.data) for task in self.ready if task.properties]
