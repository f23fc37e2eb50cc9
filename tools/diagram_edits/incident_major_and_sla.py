"""Incident: SLA warning and breach timers on the tier work; critical incidents declared major.

Applied once to the diagram of session 1 (kept as a record of how the layout was made).
"""

from tools.bpmnedit import NS, Diagram, q

S = 250  # room made after the SLA decision
d = Diagram("processes/incident.bpmn")
d.shift(800, S)
d.widen(3650 + S)
d.add_lane("lane_managers", "managers", 240)
WARN, BREACH = 1330, 1430  # rows of the managers lane

# SLA clock: started with the targets, held while on hold or resolved, resumed with the work.
ext = d.el("decide_sla").find("bpmn:extensionElements", NS)
post = ext.makeelement(q("spiffworkflow:postScript"))
post.text = "sla = sla_clock(opened_at, resolution_target, sla_calendar)"
ext.append(post)


def add_script_line(element_id, line):
    script = d.el(element_id).find("bpmn:script", NS)
    script.text = script.text + "\n" + line


for tier in ("l1", "l2", "l3"):
    add_script_line(f"put_on_hold_{tier}", "sla = sla_hold(sla)")
    add_script_line(f"resume_{tier}", "sla = sla_resume(sla)")
add_script_line("record_resolution", "sla = sla_hold(sla)")

# --- a critical incident is declared major: the managers coordinate it (processes/major_incident.bpmn)
d.node("exclusiveGateway", "gw_major", "Critical?", lane="lane_service_desk", cx=845, cy=320)
d.retarget("flow_targets_set", target="gw_major")
throw = d.node(
    "intermediateThrowEvent", "declare_major", "Declare a major incident", lane="lane_service_desk", cx=975, cy=320
)
throw.append(
    throw.makeelement(q("bpmn:messageEventDefinition"), id="declare_major_message", messageRef="message_major_incident")
)
d.flow("flow_major", "gw_major", "declare_major", name="Critical", condition="priority == 'critical'")
d.flow("flow_declared", "declare_major", "merge_l1")
d.flow(
    "flow_not_major",
    "gw_major",
    "merge_l1",
    name="Not critical",
    default=True,
    waypoints=[(845, 295), (845, 262), (1120, 262), (1120, 295)],
)
message = d.root.makeelement(q("bpmn:message"), id="message_major_incident", name="major_incident_declared")
d.root.find("bpmn:message", NS).addnext(message)

# --- SLA warning (75 %) and breach on each tier's work
d.node(
    "exclusiveGateway",
    "merge_sla_warning",
    "75 % of the resolution time used",
    lane="lane_managers",
    cx=2350 + S,
    cy=WARN,
)
d.node(
    "scriptTask",
    "warn_group",
    "Warn the assignment group",
    lane="lane_managers",
    cx=2470 + S,
    cy=WARN,
    props={"ticketEvent": "sla_warning"},
    script="sla_warning_at = now()",
)
d.node("endEvent", "end_warned", "Group warned", lane="lane_managers", cx=2590 + S, cy=WARN)
d.flow("flow_warn", "merge_sla_warning", "warn_group")
d.flow("flow_warned", "warn_group", "end_warned")
d.node(
    "exclusiveGateway", "merge_sla_breach", "Resolution target breached", lane="lane_managers", cx=2350 + S, cy=BREACH
)
d.node(
    "scriptTask",
    "escalate_breach",
    "Escalate to the group's manager",
    lane="lane_managers",
    cx=2470 + S,
    cy=BREACH,
    props={"ticketEvent": "sla_breach"},
    script="sla_breached_at = now()",
)
d.node("endEvent", "end_escalated", "Manager alerted", lane="lane_managers", cx=2590 + S, cy=BREACH)
d.flow("flow_escalate", "merge_sla_breach", "escalate_breach")
d.flow("flow_escalated", "escalate_breach", "end_escalated")
for tier, task, (wx, bx) in (
    ("l1", "diagnose", (990 + S, 1030 + S)),
    ("l2", "investigate_l2", (1610 + S, 1650 + S)),
    ("l3", "investigate_l3", (2050 + S, 2090 + S)),
):
    d.boundary(
        f"sla_warning_{tier}",
        "75 % of the resolution time",
        attached=task,
        cx=wx,
        timer=("timeDate", "sla_at(sla, 0.75)"),
    )
    d.boundary(f"sla_breach_{tier}", "Resolution target", attached=task, cx=bx, timer=("timeDate", "sla_at(sla)"))
    bottom = d.bounds(task)[1] + d.bounds(task)[3] + 18
    d.flow(
        f"flow_sla_warning_{tier}",
        f"sla_warning_{tier}",
        "merge_sla_warning",
        waypoints=[(wx, bottom), (wx, WARN), (2325 + S, WARN)],
    )
    d.flow(
        f"flow_sla_breach_{tier}",
        f"sla_breach_{tier}",
        "merge_sla_breach",
        waypoints=[(bx, bottom), (bx, BREACH), (2325 + S, BREACH)],
    )

problems = d.check()
print("\n".join(problems) or "layout ok")
d.save()
