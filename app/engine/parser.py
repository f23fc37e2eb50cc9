"""From a bundle to SpiffWorkflow specs: the parser Flowdesk configures (lanes give their tasks a group key) and
the multi-instance wiring a spec parsed in another process needs."""

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser

from app.engine.decisions import LinearDMNEngine
from app.engine.xml import NS, parse_xml

GROUP_KEY_PROPERTY = "groupKey"


class LaneGroupProcessParser(SpiffProcessParser):
    """A process parser that gives each task the group key of its lane as the task spec's `lane`.

    A lane is named for people ("Service desk") and carries the group whose members work its tasks in the
    spiffworkflow property groupKey ("service-desk"). A lane without that property (models from elsewhere)
    keeps its name as the group, which is what SpiffWorkflow does on its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lane_groups = _lane_groups(self.document_root)

    def get_lane_name(self, node_id):
        return self.lane_groups.get(node_id, super().get_lane_name(node_id))


def _lane_groups(root: etree._Element) -> dict[str, str]:
    """Flow node id -> the group key of the lane it is in, for the lanes that declare one."""
    groups = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        key = lane.xpath(
            "string(bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
            f"[@name='{GROUP_KEY_PROPERTY}']/@value)",
            namespaces=NS,
        ).strip()
        if key:
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                if ref.text and ref.text.strip():
                    groups[ref.text.strip()] = key
    return groups


class FlowdeskBpmnParser(SpiffBpmnParser):
    PROCESS_PARSER_CLASS = LaneGroupProcessParser

    def get_engine(self, decision_ref, node):
        """The decision's engine, with the linear match of input entries."""
        engine = super().get_engine(decision_ref, node)
        return LinearDMNEngine(engine.decision_table, decision_ref)


def build_specs(bundle):
    """Parse the bundle into SpiffWorkflow specs (the workflow spec and its subprocess specs)."""
    parser = FlowdeskBpmnParser()
    for name, text in bundle.files.items():
        if name.endswith(".dmn"):
            parser.add_dmn_xml(parse_xml(text, filename=name), filename=name)
    parser.add_bpmn_xml(parse_xml(bundle.files[bundle.bpmn_file], filename=bundle.bpmn_file), filename=bundle.bpmn_file)
    spec = parser.get_spec(bundle.process_id)
    subprocess_specs = parser.get_subprocess_specs(bundle.process_id)
    for process_spec in [spec, *subprocess_specs.values()]:
        _connect_loop_children(process_spec)
    return spec, subprocess_specs


def _connect_loop_children(process_spec) -> None:
    """A multi-instance task hears of its children's completion through an event that SpiffWorkflow connects
    when it creates the first child. A spec parsed in another process (another app node or worker) has not
    seen that, so connect it up front, as SpiffWorkflow's own spec deserializer does."""
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child_spec = process_spec.task_specs[task_spec.task_spec]
            if not child_spec.completed_event.is_connected(task_spec.merge_child):
                child_spec.completed_event.connect(task_spec.merge_child)
