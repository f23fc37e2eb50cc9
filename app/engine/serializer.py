"""How a workflow is stored and restored: the sandboxed script engine every workflow runs with, the spec-free
serializer (the spec belongs to the definition, not to each row) and the parsed specs, cached per definition."""

import json
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine import sandbox
from app.engine.bundle import Bundle
from app.engine.parser import build_specs


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        return sandbox.evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        sandbox.execute(script, context, external_context)
        return True


SCRIPT_ENGINE = PythonScriptEngine(environment=SandboxEnvironment())


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the saved state; it is restored from the definition the instance pins."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SpecFreeWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
SERIALIZER_VERSION = f"spiff-3.2.0/{SERIALIZER.VERSION}"

_spec_cache: dict[str, tuple[Any, dict]] = {}
_spec_lock = threading.Lock()


def specs_for(checksum: str, bundle: Callable[[], Bundle]):
    """Parsed specs of a bundle, cached by its checksum: a definition never changes, so it is parsed once
    (and its files are read only then)."""
    with _spec_lock:
        cached = _spec_cache.get(checksum)
    if cached is None:
        cached = build_specs(bundle())
        with _spec_lock:
            _spec_cache[checksum] = cached
    return cached


def dump(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def load(state: str, spec, subprocess_specs) -> BpmnWorkflow:
    dct = json.loads(state, cls=SERIALIZER.json_decoder_cls)
    SERIALIZER.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
