"""The process engine: the only package that imports SpiffWorkflow, and it knows nothing of tickets.

This module is the engine's whole surface; other packages import from here only. Repository: deploy bundles as
versions and read them. Runtime: start, complete, deliver, restart, amend (new process data from outside), cancel,
fire_timers, each returning an Outcome of plain data in which every element's spiffworkflow properties come as a
mapping for the caller to read; decide evaluates one of a definition's decision tables. The app hands the engine
the helpers its diagrams may call (`provide_helpers`) and its writers' session factory (`keep_workflows_on`) at
start.
"""

from app.engine.bundle import Bundle, BundleError, Problem
from app.engine.cache import keep_on_commit as keep_workflows_on
from app.engine.definitions import (
    all_definitions,
    bundle_of,
    check_bundle,
    deploy_bpmn,
    deploy_bundle,
    deploy_directory,
    edited_bundle,
    form_document,
    get_definition,
    instance_counts,
    latest_definition,
)
from app.engine.diff import ElementChange, FieldChange
from app.engine.diff import changes as diagram_changes
from app.engine.diff import diff as diagram_diff
from app.engine.instances import (
    amend,
    cancel,
    complete,
    decide,
    deliver,
    fire_timers,
    get_instance,
    restart,
    start,
    state_metrics,
    waiting_timers,
)
from app.engine.models import HUMAN_TASK, HUMAN_TASK_GROUP, ProcessDefinition, ProcessInstance
from app.engine.results import CompletedTask, DefinitionRef, DeployResult, InstanceRecord, OpenTask, Outcome
from app.engine.runtime import EngineError, ReadyTask, Step
from app.engine.sandbox import provide as provide_helpers
from app.engine.xml import XmlError, parse_xml

__all__ = [
    "HUMAN_TASK",
    "HUMAN_TASK_GROUP",
    "Bundle",
    "BundleError",
    "CompletedTask",
    "DefinitionRef",
    "DeployResult",
    "EngineError",
    "InstanceRecord",
    "OpenTask",
    "Outcome",
    "Problem",
    "ProcessDefinition",
    "ProcessInstance",
    "ReadyTask",
    "Step",
    "amend",
    "cancel",
    "XmlError",
    "all_definitions",
    "bundle_of",
    "check_bundle",
    "complete",
    "decide",
    "deliver",
    "deploy_bpmn",
    "deploy_bundle",
    "deploy_directory",
    "diagram_changes",
    "diagram_diff",
    "ElementChange",
    "FieldChange",
    "edited_bundle",
    "fire_timers",
    "form_document",
    "get_definition",
    "get_instance",
    "instance_counts",
    "keep_workflows_on",
    "latest_definition",
    "parse_xml",
    "provide_helpers",
    "restart",
    "start",
    "state_metrics",
    "waiting_timers",
]
