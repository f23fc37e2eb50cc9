"""Request fulfillment: approval reminders (2 working days) and escalation (5), parallel fulfilment tasks.

Applied once to the diagram of session 1 (kept as a record of how the layout was made).
"""

from tools.bpmnedit import NS, Diagram, q

d = Diagram("processes/request_fulfillment.bpmn")
d.shift(650, 250)
d.shift(1500, 150)
d.shift_down(480, 120)  # the managers lane grows: rows 280 (approval), 400 (escalation), 520 (reminder)
d.shift_down(880, 80)  # the finance lane grows: rows 680, 800, 900
d.widen(2850)

APPROVAL = {
    "formJsonSchemaFilename": "approval.schema.json",
    "formUiSchemaFilename": "approval.uischema.json",
    "ticketStatus": "Awaiting Approval",
}


def approval_timers(task, lane, prefix, *, remind_x, escalate_x, escalation_row, reminder_row, merge_x, escalated):
    """A reminder after 2 working days (the approval stays open) and an escalation after 5 (it moves up)."""
    bottom = d.bounds(task)[1] + d.bounds(task)[3] + 18
    d.boundary(
        f"{prefix}_reminder_due",
        "2 working days without an answer",
        attached=task,
        cx=remind_x,
        timer=("timeDate", "in_working_time('P2D')"),
    )
    d.node(
        "scriptTask",
        f"remind_{prefix}",
        "Remind the approver",
        lane=lane,
        cx=remind_x + 115,
        cy=reminder_row,
        props={"ticketEvent": "approval_reminder"},
        script="reminded_at = now()",
    )
    d.node("endEvent", f"end_{prefix}_reminded", "Approver reminded", lane=lane, cx=remind_x + 235, cy=reminder_row)
    d.flow(f"flow_{prefix}_reminder_due", f"{prefix}_reminder_due", f"remind_{prefix}")
    d.flow(f"flow_{prefix}_reminded", f"remind_{prefix}", f"end_{prefix}_reminded")
    d.boundary(
        f"{prefix}_escalation_due",
        "5 working days without an answer",
        attached=task,
        cx=escalate_x,
        timer=("timeDate", "in_working_time('P5D')"),
        interrupting=True,
    )
    name, props = escalated
    d.node("userTask", f"{prefix}_approval_escalated", name, lane=lane, cx=merge_x, cy=escalation_row, props=props)
    d.flow(
        f"flow_{prefix}_escalated",
        f"{prefix}_escalation_due",
        f"{prefix}_approval_escalated",
        waypoints=[(escalate_x, bottom), (escalate_x, escalation_row), (merge_x - 50, escalation_row)],
    )
    return bottom


# --- the manager's approval
manager_row = 280
d.node("exclusiveGateway", "merge_manager_decided", "Manager decided", lane="lane_managers", cx=870, cy=manager_row)
d.retarget("flow_manager_decided", target="merge_manager_decided")
d.flow("flow_manager_decision", "merge_manager_decided", "gw_manager_decision")
approval_timers(
    "manager_approval",
    "lane_managers",
    "manager",
    remind_x=545,
    escalate_x=600,
    escalation_row=400,
    reminder_row=520,
    merge_x=720,
    escalated=(
        "Approve in the manager's place",
        {
            **APPROVAL,
            "assigneeExpression": "escalation_approver",
            "candidateGroupsExpression": "[] if escalation_approver else ['managers']",
        },
    ),
)
d.flow(
    "flow_manager_escalated_decided",
    "manager_approval_escalated",
    "merge_manager_decided",
    waypoints=[(770, 400), (870, 400), (870, manager_row + 25)],
)

# --- finance's approval
finance_row = 680
d.node("exclusiveGateway", "merge_finance_decided", "Finance decided", lane="lane_finance", cx=1570, cy=finance_row)
d.retarget("flow_finance_decided", target="merge_finance_decided")
d.flow("flow_finance_decision", "merge_finance_decided", "gw_finance_decision")
approval_timers(
    "finance_approval",
    "lane_finance",
    "finance",
    remind_x=1395,
    escalate_x=1445,
    escalation_row=800,
    reminder_row=900,
    merge_x=1570,
    escalated=(
        "Approve the cost in finance's place",
        {
            **APPROVAL,
            "assigneeExpression": "finance_escalation_approver",
            "candidateGroupsExpression": "[] if finance_escalation_approver else ['finance']",
        },
    ),
)
d.flow(
    "flow_finance_escalated_decided",
    "finance_approval_escalated",
    "merge_finance_decided",
    waypoints=[(1570, 760), (1570, finance_row + 25)],
)

# --- fulfilment: one task per item of the catalog's list, all in parallel
fulfil = d.el("fulfil")
holder = fulfil.find("bpmn:extensionElements/spiffworkflow:properties", NS)
holder.append(holder.makeelement(q("spiffworkflow:property"), name="titleExpression", value="fulfilment_task"))
loop = fulfil.makeelement(q("bpmn:multiInstanceLoopCharacteristics"))
fulfil.append(loop)
loop.append(loop.makeelement(q("bpmn:loopDataInputRef")))
loop[-1].text = "fulfilment_tasks"
loop.append(loop.makeelement(q("bpmn:loopDataOutputRef")))
loop[-1].text = "fulfilment_results"
loop.append(loop.makeelement(q("bpmn:inputDataItem"), id="fulfilment_task", name="fulfilment_task"))
loop.append(loop.makeelement(q("bpmn:outputDataItem"), id="fulfilment_notes", name="fulfilment_notes"))

print("\n".join(d.check()) or "layout ok")
d.save()
