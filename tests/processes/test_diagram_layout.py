"""The bundled diagrams are laid out so that a person can read them.

Each check reads a diagram's DI (shapes, labels, waypoints) with lxml and returns what is wrong, one line per
problem; the tests run every check on every processes/*.bpmn, and run each check once more on a copy of a
diagram broken on purpose, so that a check that could never report anything fails too.
"""

import math
import shutil
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree

PROCESSES = Path(__file__).resolve().parent.parent.parent / "processes"
DIAGRAMS = sorted(PROCESSES.glob("*.bpmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "subProcess",
    "adHocSubProcess",
    "transaction",
    "callActivity",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "complexGateway",
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
}
# Gateways whose outgoing flows are choices: each needs a name saying which one it is.
CHOOSING_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "complexGateway"}

# The incident diagram had 16 crossings of sequence flows; 9 are left, where the SLA timers of the first two tiers
# run down to the managers' lane across the resume paths of the tiers below them (and the three tiers' breach
# and warning flows meet there).
INCIDENT_CROSSINGS_AT_MOST = 9

Box = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]


@dataclass
class Layout:
    """What the checks need of one diagram: its elements by id and its DI."""

    path: Path
    kinds: dict[str, str] = field(default_factory=dict)  # element id -> local tag name
    names: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, Box] = field(default_factory=dict)
    shape_labels: dict[str, Box] = field(default_factory=dict)
    edges: dict[str, list[Point]] = field(default_factory=dict)
    edge_labels: dict[str, Box] = field(default_factory=dict)
    attached_to: dict[str, str] = field(default_factory=dict)  # boundary event -> its activity
    containers: set[str] = field(default_factory=set)  # participants, lanes, expanded subprocesses
    flows: dict[str, etree._Element] = field(default_factory=dict)


def _box(bounds: etree._Element) -> Box:
    return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))


def load(path: Path) -> Layout:
    root = etree.parse(str(path)).getroot()
    layout = Layout(path)
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id") or etree.QName(el).namespace != NS["bpmn"]:
            continue
        kind = etree.QName(el).localname
        layout.kinds[el.get("id")] = kind
        layout.names[el.get("id")] = (el.get("name") or "").strip()
        if kind == "boundaryEvent":
            layout.attached_to[el.get("id")] = el.get("attachedToRef")
        if kind == "sequenceFlow":
            layout.flows[el.get("id")] = el
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        element = shape.get("bpmnElement")
        layout.shapes[element] = _box(shape.find("dc:Bounds", NS))
        label = shape.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if label is not None:
            layout.shape_labels[element] = _box(label)
        kind = layout.kinds.get(element)
        if kind in ("participant", "lane") or (kind in FLOW_NODES and shape.get("isExpanded") == "true"):
            layout.containers.add(element)
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        element = edge.get("bpmnElement")
        layout.edges[element] = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        label = edge.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if label is not None:
            layout.edge_labels[element] = _box(label)
    return layout


def _overlap(a: Box, b: Box) -> bool:
    """The interiors meet: boxes that only touch along a border do not overlap."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _inside(inner: Box, outer: Box) -> bool:
    ix, iy, iw, ih = inner
    ox, oy, ow, oh = outer
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


def _plain_shapes(layout: Layout) -> dict[str, Box]:
    """Shapes that are drawn as things (tasks, events, gateways, collapsed subprocesses), not as containers."""
    return {k: v for k, v in layout.shapes.items() if k not in layout.containers}


def _attached(layout: Layout, a: str, b: str) -> bool:
    return layout.attached_to.get(a) == b or layout.attached_to.get(b) == a


def overlapping_shapes(layout: Layout) -> list[str]:
    """Two shapes whose interiors meet. A boundary event sits on its activity's border, and a shape is inside its
    lane and pool: neither is an overlap. A container that only partly covers a shape (a task across a lane's
    border) or another container is."""
    problems = []
    plain = _plain_shapes(layout)
    for a, b in combinations(sorted(plain), 2):
        if _overlap(plain[a], plain[b]) and not _attached(layout, a, b):
            problems.append(f"{a} and {b} overlap")
    for container in sorted(layout.containers):
        box = layout.shapes[container]
        for other, other_box in sorted(layout.shapes.items()):
            if other == container or not _overlap(box, other_box):
                continue
            if _inside(other_box, box) or (other in layout.containers and _inside(box, other_box)):
                continue
            if _attached(layout, other, container):
                continue
            if other in layout.containers and other < container:
                continue  # the pair was reported the other way round
            problems.append(f"{other} crosses the border of {container}")
    return problems


def overlapping_labels(layout: Layout) -> list[str]:
    """A label over another label, or over a shape other than its own (for a boundary event's label, its
    activity is not its own)."""
    problems = []
    labels = {f"label of {k}": (k, box) for k, box in layout.shape_labels.items()}
    labels |= {f"label of {k}": (k, box) for k, box in layout.edge_labels.items()}
    for a, b in combinations(sorted(labels), 2):
        if _overlap(labels[a][1], labels[b][1]):
            problems.append(f"{a} and {b} overlap")
    plain = _plain_shapes(layout)
    for label, (owner, box) in sorted(labels.items()):
        for shape, shape_box in sorted(plain.items()):
            if shape != owner and _overlap(box, shape_box):
                problems.append(f"{label} lies over {shape}")
    return problems


def right_to_left_flows(layout: Layout) -> list[str]:
    """A sequence flow drawn right to left: its last waypoint lies left of its first one.

    Only the ends count: a flow may step around a shape on its way (down, back a little and on), but where it
    arrives is never left of where it leaves, so the diagram reads from left to right as a whole. A flow going
    straight up or down (same x at both ends) is fine."""
    problems = []
    for flow_id in sorted(layout.flows):
        points = layout.edges.get(flow_id)
        if points and points[-1][0] < points[0][0]:
            problems.append(f"{flow_id} runs right to left ({points[0][0]:g} -> {points[-1][0]:g})")
    return problems


def flows_through_shapes(layout: Layout) -> list[str]:
    """A segment of a sequence flow through a shape other than the flow's own ends (or the activity a boundary
    event at one end sits on)."""
    problems = []
    plain = _plain_shapes(layout)
    for flow_id, flow in sorted(layout.flows.items()):
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        ends |= {layout.attached_to[e] for e in list(ends) if e in layout.attached_to}
        points = layout.edges.get(flow_id, [])
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            for shape, (bx, by, bw, bh) in sorted(plain.items()):
                if shape in ends:
                    continue
                inner = (bx + 1, by + 1, bw - 2, bh - 2)
                if _segment_meets_box((x1, y1), (x2, y2), inner):
                    problems.append(f"{flow_id} runs through {shape}")
    return sorted(set(problems))


def diagonal_segments(layout: Layout) -> list[str]:
    """A segment of a sequence flow that is neither horizontal nor vertical: flows are drawn at right angles."""
    problems = []
    for flow_id in sorted(layout.flows):
        points = layout.edges.get(flow_id, [])
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            if x1 != x2 and y1 != y2:
                problems.append(f"{flow_id} has a diagonal segment ({x1:g},{y1:g}) -> ({x2:g},{y2:g})")
    return problems


def unnamed_elements(layout: Layout) -> list[str]:
    """Every flow node, lane and participant has a name; so has every sequence flow that is one of a gateway's
    choices (it has a condition, or it is the default of a gateway whose other flows have one)."""
    problems = []
    for element_id, kind in sorted(layout.kinds.items()):
        if (kind in FLOW_NODES or kind in ("lane", "participant")) and not layout.names[element_id]:
            problems.append(f"{kind} {element_id} has no name")
    for flow_id, flow in sorted(layout.flows.items()):
        source = flow.get("sourceRef")
        conditioned = flow.find("bpmn:conditionExpression", NS) is not None
        choice = layout.kinds.get(source) in CHOOSING_GATEWAYS and _is_split(layout, source)
        if (conditioned or choice) and not layout.names[flow_id]:
            problems.append(f"sequence flow {flow_id} out of {source} has no name")
    return problems


def _is_split(layout: Layout, node: str) -> bool:
    return sum(1 for f in layout.flows.values() if f.get("sourceRef") == node) > 1


def crossings(layout: Layout) -> list[tuple[str, str]]:
    """Pairs of sequence flows whose segments cross, once per pair of crossing segments. Segments that only
    touch (flows meeting at a gateway, a flow ending on another's line) or run along each other do not cross."""
    segments = [
        (flow_id, a, b)
        for flow_id in sorted(layout.flows)
        for a, b in zip(layout.edges.get(flow_id, []), layout.edges.get(flow_id, [])[1:], strict=False)
    ]
    found = []
    for (f1, a1, b1), (f2, a2, b2) in combinations(segments, 2):
        if f1 != f2 and _proper_crossing(a1, b1, a2, b2):
            found.append((f1, f2))
    return found


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _proper_crossing(a1: Point, b1: Point, a2: Point, b2: Point) -> bool:
    d1, d2 = _cross(a2, b2, a1), _cross(a2, b2, b1)
    d3, d4 = _cross(a1, b1, a2), _cross(a1, b1, b2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _segment_meets_box(a: Point, b: Point, box: Box) -> bool:
    """Liang-Barsky: does the segment a-b pass through the box's interior?"""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return False
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x), (dx, x + w - a[0]), (-dy, a[1] - y), (dy, y + h - a[1])):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return not math.isclose(t0, t1)


CHECKS = [
    overlapping_shapes,
    overlapping_labels,
    right_to_left_flows,
    flows_through_shapes,
    diagonal_segments,
    unnamed_elements,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.name)
def test_diagram_layout(diagram, check):
    assert check(load(diagram)) == []


def test_every_flow_and_shape_is_drawn():
    for diagram in DIAGRAMS:
        layout = load(diagram)
        drawn = set(layout.shapes) | set(layout.edges)
        missing = [k for k, kind in layout.kinds.items() if kind in FLOW_NODES | {"sequenceFlow"} and k not in drawn]
        assert missing == [], f"{diagram.name}: not drawn: {missing}"


def test_incident_diagram_has_few_crossings():
    found = crossings(load(PROCESSES / "incident.bpmn"))
    assert len(found) <= INCIDENT_CROSSINGS_AT_MOST, found


# --- each check reports a diagram broken on purpose -------------------------------------------------------------


@pytest.fixture
def broken(tmp_path):
    """broken(edit) -> the layout of a copy of the incident diagram after edit(root) changed its XML."""

    def make(edit):
        copy = tmp_path / "incident.bpmn"
        shutil.copy(PROCESSES / "incident.bpmn", copy)
        tree = etree.parse(str(copy))
        edit(tree.getroot())
        tree.write(str(copy))
        return load(copy)

    return make


def _bounds(root, element_id, label=False):
    path = "bpmndi:BPMNLabel/dc:Bounds" if label else "dc:Bounds"
    return root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/{path}", NS)


def _move(root, element_id, onto, label=False):
    target = _bounds(root, onto)
    moved = _bounds(root, element_id, label)
    moved.set("x", str(float(target.get("x")) + 5))
    moved.set("y", str(float(target.get("y")) + 5))


def test_a_shape_moved_onto_another_is_reported(broken):
    layout = broken(lambda root: _move(root, "decide_sla", onto="decide_priority"))
    assert "decide_priority and decide_sla overlap" in overlapping_shapes(layout)


def test_a_task_across_a_lane_border_is_reported(broken):
    def straddle(root):
        lane = _bounds(root, "lane_service_desk")
        _bounds(root, "diagnose").set("y", str(float(lane.get("y")) - 20))

    assert "diagnose crosses the border of lane_service_desk" in overlapping_shapes(broken(straddle))


def test_a_boundary_event_on_its_task_is_not_an_overlap():
    layout = load(PROCESSES / "incident.bpmn")
    event, task = next(iter(layout.attached_to.items()))
    assert _overlap(layout.shapes[event], layout.shapes[task])
    assert not any(event in p and task in p for p in overlapping_shapes(layout))


def test_a_label_moved_onto_a_shape_is_reported(broken):
    layout = broken(lambda root: _move(root, "gw_entry", onto="log_incident", label=True))
    assert "label of gw_entry lies over log_incident" in overlapping_labels(layout)


def test_a_label_moved_onto_another_label_is_reported(broken):
    def stack(root):
        below = _bounds(root, "start_incident", label=True)
        moved = _bounds(root, "gw_entry", label=True)
        moved.set("x", below.get("x"))
        moved.set("y", below.get("y"))

    assert "label of gw_entry and label of start_incident overlap" in overlapping_labels(broken(stack))


def test_a_flow_drawn_right_to_left_is_reported(broken):
    def reverse(root):
        edge = root.find(".//bpmndi:BPMNEdge[@bpmnElement='flow_logged']", NS)
        points = edge.findall("di:waypoint", NS)
        xs = [p.get("x") for p in points]
        for point, x in zip(points, reversed(xs), strict=True):
            point.set("x", x)

    assert any(p.startswith("flow_logged runs right to left") for p in right_to_left_flows(broken(reverse)))


def test_a_flow_through_a_shape_is_reported(broken):
    def through(root):
        # flow_start leaves the start event and, moved down, runs across the middle of "Log incident"
        log = _bounds(root, "log_incident")
        y = str(float(log.get("y")) + float(log.get("height")) / 2)
        edge = root.find(".//bpmndi:BPMNEdge[@bpmnElement='flow_start']", NS)
        first, last = edge.findall("di:waypoint", NS)[0], edge.findall("di:waypoint", NS)[-1]
        first.set("y", y)
        last.set("y", y)
        last.set("x", str(float(log.get("x")) + float(log.get("width")) + 10))

    assert "flow_start runs through log_incident" in flows_through_shapes(broken(through))


def test_a_diagonal_segment_is_reported(broken):
    def slant(root):
        edge = root.find(".//bpmndi:BPMNEdge[@bpmnElement='flow_logged']", NS)
        last = edge.findall("di:waypoint", NS)[-1]
        last.set("y", str(float(last.get("y")) + 10))

    assert any(p.startswith("flow_logged has a diagonal segment") for p in diagonal_segments(broken(slant)))


def test_unnamed_elements_are_reported(broken):
    def unname(root):
        for element_id in ("diagnose", "lane_service_desk", "incident_participant", "flow_entry_resume"):
            del root.find(f".//*[@id='{element_id}']").attrib["name"]

    problems = unnamed_elements(broken(unname))
    assert "userTask diagnose has no name" in problems
    assert "lane lane_service_desk has no name" in problems
    assert "participant incident_participant has no name" in problems
    assert "sequence flow flow_entry_resume out of gw_entry has no name" in problems


def test_crossings_are_counted():
    square = Layout(Path("x.bpmn"))
    for flow_id, points in {
        "across": [(0.0, 50.0), (100.0, 50.0)],
        "down": [(50.0, 0.0), (50.0, 100.0)],
        "touching": [(100.0, 50.0), (100.0, 100.0)],
        "alongside": [(0.0, 50.0), (40.0, 50.0)],
    }.items():
        square.flows[flow_id] = etree.Element("flow")
        square.edges[flow_id] = points
    assert crossings(square) == [("across", "down")]
