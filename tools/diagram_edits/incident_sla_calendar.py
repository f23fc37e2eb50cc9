"""Incident: the SLA calendar is chosen by service (processes/sla_calendar.dmn), after the targets."""

from tools.bpmnedit import NS, Diagram, q

d = Diagram("processes/incident.bpmn")
d.shift(790, 150)
d.widen(4150)
ext = d.el("decide_sla").find("bpmn:extensionElements", NS)
post = ext.find("spiffworkflow:postScript", NS)
ext.remove(post)
task = d.node(
    "businessRuleTask", "decide_calendar", "Choose the SLA calendar", lane="lane_service_desk", cx=870, cy=320
)
holder = task.makeelement(q("bpmn:extensionElements"))
task.insert(0, holder)
called = holder.makeelement(q("spiffworkflow:calledDecisionId"))
called.text = "sla_calendar"
holder.append(called)
script = holder.makeelement(q("spiffworkflow:postScript"))
script.text = "sla = sla_clock(opened_at, resolution_target, sla_calendar)"
holder.append(script)
d.retarget("flow_targets_set", target="decide_calendar")
d.flow("flow_calendar_chosen", "decide_calendar", "gw_major")
print("\n".join(d.check()) or "layout ok")
d.save()
