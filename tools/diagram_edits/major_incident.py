"""Draw processes/major_incident.bpmn from an empty pool (run once; kept as a record of the layout)."""

from pathlib import Path

from tools.bpmnedit import NS, Diagram

SKELETON = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="major_incident_definitions" targetNamespace="http://flowdesk.example.org/bpmn" exporter="Flowdesk" exporterVersion="1">
  <bpmn:message id="message_service_restored" name="service_restored" />
  <bpmn:collaboration id="major_incident_collaboration">
    <bpmn:participant id="major_incident_participant" name="Major incident" processRef="major_incident" />
  </bpmn:collaboration>
  <bpmn:process id="major_incident" name="Major incident" isExecutable="true">
    <bpmn:laneSet id="major_incident_lanes">
      <bpmn:lane id="lane_managers" name="managers" />
    </bpmn:laneSet>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="major_incident_diagram">
    <bpmndi:BPMNPlane id="major_incident_plane" bpmnElement="major_incident_collaboration">
      <bpmndi:BPMNShape id="major_incident_participant_di" bpmnElement="major_incident_participant" isHorizontal="true">
        <dc:Bounds x="40" y="40" width="1130" height="300" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_managers_di" bpmnElement="lane_managers" isHorizontal="true">
        <dc:Bounds x="70" y="40" width="1100" height="300" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
PATH = Path("processes/major_incident.bpmn")
PATH.write_text(SKELETON)
d = Diagram(str(PATH))
L, ROW, UPDATES = "lane_managers", 130, 250

d.node("startEvent", "start_major", "Major incident declared", lane=L, cx=130, cy=ROW)
d.node(
    "userTask",
    "take_charge",
    "Take charge of the major incident",
    lane=L,
    cx=260,
    cy=ROW,
    props={
        "formJsonSchemaFilename": "major_take_charge.schema.json",
        "formUiSchemaFilename": "major_take_charge.uischema.json",
        "ticketEvent": "major_declared",
    },
)
wait = d.node(
    "receiveTask",
    "await_restoration",
    "Coordinate until service is restored",
    lane=L,
    cx=430,
    cy=ROW,
    messageRef="message_service_restored",
)
d.boundary("update_due", "Stakeholder update due", attached="await_restoration", cx=460, cycle="'R/' + update_interval")
d.node(
    "scriptTask",
    "send_update",
    "Send a stakeholder update",
    lane=L,
    cx=580,
    cy=UPDATES,
    props={"ticketEvent": "stakeholder_update"},
    script="update_sent_at = now()",
)
d.node("endEvent", "end_update_sent", "Stakeholders updated", lane=L, cx=720, cy=UPDATES)
d.node(
    "userTask",
    "post_incident_review",
    "Review the major incident",
    lane=L,
    cx=690,
    cy=ROW,
    props={
        "formJsonSchemaFilename": "post_incident_review.schema.json",
        "formUiSchemaFilename": "post_incident_review.uischema.json",
        "ticketEvent": "major_reviewed",
    },
)
d.node("endEvent", "end_major", "Major incident reviewed", lane=L, cx=830, cy=ROW)
d.flow("flow_start", "start_major", "take_charge")
d.flow("flow_taken", "take_charge", "await_restoration")
d.node("exclusiveGateway", "merge_restored", "Service restored", lane=L, cx=560, cy=ROW)
d.boundary(
    "restored_before_charge",
    "Service restored first",
    attached="take_charge",
    cx=260,
    message="message_service_restored",
    interrupting=True,
)
d.flow("flow_restored", "await_restoration", "merge_restored")
d.flow(
    "flow_restored_first",
    "restored_before_charge",
    "merge_restored",
    waypoints=[(260, ROW + 58), (260, 200), (560, 200), (560, ROW + 25)],
)
d.flow("flow_review", "merge_restored", "post_incident_review")
d.flow("flow_reviewed", "post_incident_review", "end_major")
d.flow("flow_update_due", "update_due", "send_update")
d.flow("flow_update_sent", "send_update", "end_update_sent")
d.widen(880)
d.plane.find("bpmndi:BPMNShape/dc:Bounds", NS).set("width", "910")
print("\n".join(d.check()) or "layout ok")
d.save()
