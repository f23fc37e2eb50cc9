"""Incident: the two ways into closure documentation meet in a merge gateway (bpmnlint: fake-join)."""

from tools.bpmnedit import Diagram

d = Diagram("processes/incident.bpmn")
d.shift(3600, 100)
d.widen(4000)
d.node("exclusiveGateway", "merge_closure", "Ready for closure", lane="lane_service_desk", cx=3660, cy=320)
d.retarget("flow_accepted", target="merge_closure", waypoints=[(3545, 135), (3590, 135), (3590, 320), (3635, 320)])
d.retarget(
    "flow_monitoring_resolved",
    target="merge_closure",
    waypoints=[(3220, 160), (3220, 220), (3660, 220), (3660, 295)],
)
d.flow("flow_to_closure", "merge_closure", "document_closure")
print("\n".join(d.check()) or "layout ok")
d.save()
