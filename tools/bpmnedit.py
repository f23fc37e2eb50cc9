"""Edit a BPMN file's semantics and its diagram (DI) together, from a Python script.

The bundled diagrams are edited in place with small scripts that call this module: add an element
with its shape, a sequence flow with orthogonal waypoints, a lane, shift a region to make room, and
`check()` that no two shapes overlap and no edge runs through a shape. Not part of the application.

    from tools.bpmnedit import Diagram
    d = Diagram("processes/incident.bpmn")
    d.node("userTask", "review", "Review", lane="lane_managers", cx=900, cy=1320, props={...})
    d.flow("flow_review", "gw_major", "review", name="Yes", condition="major_incident == True")
    d.check(); d.save()
"""

from lxml import etree

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
SIZES = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36)}


def q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def size_of(kind: str) -> tuple[int, int]:
    low = kind.lower()
    if "gateway" in low:
        return SIZES["gateway"]
    if "event" in low:
        return SIZES["event"]
    return SIZES["task"]


class Diagram:
    def __init__(self, path: str):
        self.path = path
        self.tree = etree.parse(path, etree.XMLParser(remove_blank_text=True))
        self.root = self.tree.getroot()
        self.process = self.root.find("bpmn:process", NS)
        self.plane = self.root.find(".//bpmndi:BPMNPlane", NS)

    # --- lookups
    def el(self, element_id: str):
        found = self.root.find(f".//*[@id='{element_id}']")
        if found is None:
            raise KeyError(element_id)
        return found

    def shape(self, element_id: str):
        return self.plane.find(f"bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)

    def edge(self, flow_id: str):
        return self.plane.find(f"bpmndi:BPMNEdge[@bpmnElement='{flow_id}']", NS)

    def bounds(self, element_id: str) -> tuple[float, float, float, float]:
        b = self.shape(element_id).find("dc:Bounds", NS)
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    # --- lanes
    def add_lane(self, lane_id: str, name: str, height: int):
        lanes = self.process.find("bpmn:laneSet", NS)
        x, y, w, h = max((self.bounds(lane.get("id")) for lane in lanes), key=lambda b: b[1] + b[3])
        etree.SubElement(lanes, q("bpmn:lane"), id=lane_id, name=name)
        self._shape(lane_id, x, y + h, w, height, horizontal=True, index=self._lane_index())
        participant = self.root.find(".//bpmn:participant", NS)
        if participant is not None and self.shape(participant.get("id")) is not None:
            b = self.shape(participant.get("id")).find("dc:Bounds", NS)
            b.set("height", str(int(float(b.get("height")) + height)))

    def _lane_index(self) -> int:
        shapes = list(self.plane)
        lanes = [i for i, s in enumerate(shapes) if s.get("isHorizontal") == "true"]
        return (lanes[-1] + 1) if lanes else 0

    def widen(self, width: int):
        """Set every lane (and the pool) to this width."""
        for lane in self.process.iterfind("bpmn:laneSet/bpmn:lane", NS):
            b = self.shape(lane.get("id")).find("dc:Bounds", NS)
            b.set("width", str(width))
        participant = self.root.find(".//bpmn:participant", NS)
        if participant is not None and self.shape(participant.get("id")) is not None:
            b = self.shape(participant.get("id")).find("dc:Bounds", NS)
            b.set("width", str(width + 30))

    def shift(self, from_x: float, dx: float, *, below_y: float = -1e9):
        """Move every shape whose left edge is at or right of from_x (and top at or below below_y), and every
        waypoint in that region, by dx."""
        for shape in self.plane.iterfind("bpmndi:BPMNShape", NS):
            if shape.get("isHorizontal") == "true":
                continue
            for b in shape.iter(q("dc:Bounds")):
                if float(b.get("x")) >= from_x and float(b.get("y")) >= below_y:
                    b.set("x", str(int(float(b.get("x")) + dx)))
        for edge in self.plane.iterfind("bpmndi:BPMNEdge", NS):
            for p in list(edge.iterfind("di:waypoint", NS)) + list(edge.iter(q("dc:Bounds"))):
                if float(p.get("x")) >= from_x and float(p.get("y")) >= below_y:
                    p.set("x", str(int(float(p.get("x")) + dx)))

    def shift_down(self, from_y: float, dy: float):
        """Make room below from_y: shapes and waypoints at or below it move down by dy, the lane that
        contains from_y grows, the lanes below it move, and the pool grows."""
        for shape in self.plane.iterfind("bpmndi:BPMNShape", NS):
            b = shape.find("dc:Bounds", NS)
            y, h = float(b.get("y")), float(b.get("height"))
            if shape.get("isHorizontal") == "true":
                if y >= from_y:
                    b.set("y", str(int(y + dy)))
                elif y < from_y <= y + h:
                    b.set("height", str(int(h + dy)))
                continue
            for bb in shape.iter(q("dc:Bounds")):
                if float(bb.get("y")) >= from_y:
                    bb.set("y", str(int(float(bb.get("y")) + dy)))
        for edge in self.plane.iterfind("bpmndi:BPMNEdge", NS):
            for p in list(edge.iterfind("di:waypoint", NS)) + list(edge.iter(q("dc:Bounds"))):
                if float(p.get("y")) >= from_y:
                    p.set("y", str(int(float(p.get("y")) + dy)))

    # --- elements
    def node(self, kind, element_id, name, *, lane, cx, cy, props=None, script=None, before=None, **attrs):
        element = etree.Element(q(f"bpmn:{kind}"), id=element_id, name=name, **attrs)
        if before is not None:
            self.el(before).addprevious(element)
        else:
            self._insert_in_process(element)
        if props:
            self._props(element, props)
        if script is not None:
            etree.SubElement(element, q("bpmn:script")).text = script
        if lane:
            ref = etree.SubElement(self.el(lane), q("bpmn:flowNodeRef"))
            ref.text = element_id
        w, h = size_of(kind)
        self._shape(element_id, cx - w / 2, cy - h / 2, w, h, label=("event" in kind.lower() or "ateway" in kind))
        return element

    def boundary(
        self, element_id, name, *, attached, cx, timer=None, cycle=None, message=None, interrupting=False, props=None
    ):
        """A timer (or message) boundary event on the bottom edge of `attached`, centred at cx."""
        x, y, w, h = self.bounds(attached)
        element = etree.Element(q("bpmn:boundaryEvent"), id=element_id, name=name, attachedToRef=attached)
        if not interrupting:
            element.set("cancelActivity", "false")
        self._insert_in_process(element)
        if props:
            self._props(element, props)
        if message:
            etree.SubElement(element, q("bpmn:messageEventDefinition"), id=f"{element_id}_message", messageRef=message)
            self._shape(element_id, cx - 18, y + h - 18, 36, 36, label=True)
            return element
        definition = etree.SubElement(element, q("bpmn:timerEventDefinition"), id=f"{element_id}_timer")
        kind, expression = ("timeCycle", cycle) if cycle else timer
        text = etree.SubElement(definition, q(f"bpmn:{kind}"))
        text.set(q("xsi:type"), "bpmn:tFormalExpression")
        text.text = expression
        self._shape(element_id, cx - 18, y + h - 18, 36, 36, label=True)
        return element

    def flow(self, flow_id, source, target, *, name="", condition=None, default=False, waypoints=None):
        element = etree.Element(q("bpmn:sequenceFlow"), id=flow_id, sourceRef=source, targetRef=target)
        if name:
            element.set("name", name)
        if condition:
            c = etree.SubElement(element, q("bpmn:conditionExpression"))
            c.set(q("xsi:type"), "bpmn:tFormalExpression")
            c.text = condition
        self._insert_in_process(element, flows=True)
        src, tgt = self.el(source), self.el(target)
        self._link(src, "outgoing", flow_id)
        self._link(tgt, "incoming", flow_id)
        if default:
            src.set("default", flow_id)
        points = waypoints or self._route(source, target)
        edge = etree.SubElement(self.plane, q("bpmndi:BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id)
        for px, py in points:
            etree.SubElement(edge, q("di:waypoint"), x=str(int(px)), y=str(int(py)))
        if name:
            lx, ly = points[0]
            label = etree.SubElement(edge, q("bpmndi:BPMNLabel"))
            etree.SubElement(label, q("dc:Bounds"), x=str(int(lx + 6)), y=str(int(ly - 20)), width="90", height="14")
        return element

    def retarget(self, flow_id, *, source=None, target=None, waypoints=None):
        flow = self.el(flow_id)
        for role, new in (("sourceRef", source), ("targetRef", target)):
            if new is None:
                continue
            old = self.el(flow.get(role))
            link = "outgoing" if role == "sourceRef" else "incoming"
            for ref in old.findall(f"bpmn:{link}", NS):
                if ref.text == flow_id:
                    old.remove(ref)
            flow.set(role, new)
            self._link(self.el(new), link, flow_id)
        edge = self.edge(flow_id)
        for p in edge.findall("di:waypoint", NS):
            edge.remove(p)
        points = waypoints or self._route(flow.get("sourceRef"), flow.get("targetRef"))
        label = edge.find("bpmndi:BPMNLabel", NS)
        for px, py in points:
            wp = etree.Element(q("di:waypoint"), x=str(int(px)), y=str(int(py)))
            if label is not None:
                label.addprevious(wp)
            else:
                edge.append(wp)
        if label is not None:
            b = label.find("dc:Bounds", NS)
            b.set("x", str(int(points[0][0] + 6)))
            b.set("y", str(int(points[0][1] - 20)))

    def remove(self, element_id):
        element = self.el(element_id)
        for flow in list(self.process.iterfind("bpmn:sequenceFlow", NS)):
            if element_id in (flow.get("sourceRef"), flow.get("targetRef")):
                raise ValueError(f"{element_id} still has flow {flow.get('id')}")
        element.getparent().remove(element)
        for ref in self.process.iterfind("bpmn:laneSet/bpmn:lane/bpmn:flowNodeRef", NS):
            if ref.text == element_id:
                ref.getparent().remove(ref)
        shape = self.shape(element_id)
        shape.getparent().remove(shape)

    def move(self, element_id, *, cx, cy):
        b = self.shape(element_id).find("dc:Bounds", NS)
        w, h = float(b.get("width")), float(b.get("height"))
        b.set("x", str(int(cx - w / 2)))
        b.set("y", str(int(cy - h / 2)))
        label = self.shape(element_id).find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if label is not None:
            label.set("x", str(int(cx - 45)))
            label.set("y", str(int(cy + h / 2 + 4)))

    # --- checks
    def check(self) -> list[str]:
        """Overlapping shapes and edges that pass through a shape other than their ends."""
        problems = []
        shapes = {}
        for s in self.plane.iterfind("bpmndi:BPMNShape", NS):
            if s.get("isHorizontal") == "true":
                continue
            element = self.el(s.get("bpmnElement"))
            if etree.QName(element).localname == "participant":
                continue
            shapes[s.get("bpmnElement")] = self.bounds(s.get("bpmnElement"))
        attached = {b.get("id"): b.get("attachedToRef") for b in self.process.iterfind("bpmn:boundaryEvent", NS)}
        ids = sorted(shapes)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if attached.get(a) == b or attached.get(b) == a:
                    continue
                if _overlap(shapes[a], shapes[b]):
                    problems.append(f"shapes overlap: {a} and {b}")
        for flow in self.process.iterfind("bpmn:sequenceFlow", NS):
            ends = {flow.get("sourceRef"), flow.get("targetRef")}
            ends |= {attached.get(e) for e in ends if e in attached}
            points = [
                (float(p.get("x")), float(p.get("y"))) for p in self.edge(flow.get("id")).iterfind("di:waypoint", NS)
            ]
            for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
                if x1 != x2 and y1 != y2:
                    problems.append(f"{flow.get('id')}: diagonal segment")
                for other, box in shapes.items():
                    if other not in ends and _crosses((x1, y1, x2, y2), box):
                        problems.append(f"{flow.get('id')} runs through {other}")
        return problems

    def save(self):
        self.tree.write(self.path, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    # --- internals
    def _insert_in_process(self, element, flows=False):
        children = list(self.process)
        if flows:
            self.process.append(element)
            return
        first_flow = next((c for c in children if etree.QName(c).localname == "sequenceFlow"), None)
        if first_flow is not None:
            first_flow.addprevious(element)
        else:
            self.process.append(element)

    def _props(self, element, props):
        ext = element.find("bpmn:extensionElements", NS)
        if ext is None:
            ext = etree.Element(q("bpmn:extensionElements"))
            element.insert(0, ext)
        holder = etree.SubElement(ext, q("spiffworkflow:properties"))
        for k, v in props.items():
            etree.SubElement(holder, q("spiffworkflow:property"), name=k, value=v)

    def _link(self, element, kind, flow_id):
        ref = etree.Element(q(f"bpmn:{kind}"))
        ref.text = flow_id
        existing = element.findall("bpmn:incoming", NS) + element.findall("bpmn:outgoing", NS)
        if existing:
            if kind == "incoming":
                incoming = element.findall("bpmn:incoming", NS)
                (incoming[-1] if incoming else existing[0]).addnext(ref) if incoming else existing[0].addprevious(ref)
            else:
                existing[-1].addnext(ref)
        else:
            ext = element.find("bpmn:extensionElements", NS)
            if ext is not None:
                ext.addnext(ref)
            else:
                element.insert(0, ref)

    def _shape(self, element_id, x, y, w, h, *, horizontal=False, label=False, index=None):
        shape = etree.Element(q("bpmndi:BPMNShape"), id=f"{element_id}_di", bpmnElement=element_id)
        if horizontal:
            shape.set("isHorizontal", "true")
        etree.SubElement(shape, q("dc:Bounds"), x=str(int(x)), y=str(int(y)), width=str(w), height=str(h))
        if label:
            lb = etree.SubElement(shape, q("bpmndi:BPMNLabel"))
            etree.SubElement(
                lb, q("dc:Bounds"), x=str(int(x + w / 2 - 45)), y=str(int(y + h + 4)), width="90", height="27"
            )
        if index is not None:
            self.plane.insert(index, shape)
        else:
            first_edge = self.plane.find("bpmndi:BPMNEdge", NS)
            if first_edge is not None:
                first_edge.addprevious(shape)
            else:
                self.plane.append(shape)

    def _route(self, source, target):
        sx, sy, sw, sh = self.bounds(source)
        tx, ty, tw, th = self.bounds(target)
        scx, scy, tcy = sx + sw / 2, sy + sh / 2, ty + th / 2
        src = self.el(source)
        boundary = etree.QName(src).localname == "boundaryEvent"
        gateway = "ateway" in etree.QName(src).localname
        if abs(scy - tcy) < 1 and not boundary:
            return [(sx + sw, scy), (tx, tcy)] if tx >= sx + sw else [(sx, scy), (tx + tw, tcy)]
        if boundary or gateway:
            start = (scx, sy + sh) if tcy > scy else (scx, sy)
            if tx >= scx:
                return [start, (scx, tcy), (tx, tcy)]
            if tx + tw <= scx:
                return [start, (scx, tcy), (tx + tw, tcy)]
            return [start, (scx, ty if tcy > scy else ty + th)]
        if tx >= sx + sw:
            mid = (sx + sw + tx) / 2
            return [(sx + sw, scy), (mid, scy), (mid, tcy), (tx, tcy)]
        return [(scx, sy + sh if tcy > scy else sy), (scx, tcy), (tx + tw if tx + tw <= scx else tx, tcy)]


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _crosses(segment, box) -> bool:
    x1, y1, x2, y2 = segment
    bx, by, bw, bh = box
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return lo_x < bx + bw - 1 and hi_x > bx + 1 and lo_y < by + bh - 1 and hi_y > by + 1
