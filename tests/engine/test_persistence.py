"""Saving and restoring a workflow at every wait state changes nothing about where it goes."""

from datetime import UTC, datetime
from pathlib import Path

import time_machine

from app.engine import runtime, serializer
from app.engine.bundle import build_specs, read_directory
from tests.payloads import RESOLVE

ROOT = Path(__file__).resolve().parent.parent.parent
PATH = [
    ("diagnose", {"outcome": "escalate", "category": "network"}),
    ("investigate_l2", {"outcome": "on_hold", "hold_reason": "awaiting_vendor"}),
    ("await_hold_l2", {"hold_cleared_note": "Part arrived"}),
    ("investigate_l2", RESOLVE),
    ("confirm_resolution", {"accepted": False, "feedback": "Still broken"}),
    ("diagnose", {**RESOLVE, "category": "network"}),
    ("confirm_resolution", {"accepted": True}),
    ("document_closure", {"closure_code": "solved_permanently", "closure_notes": "Fixed for good this time"}),
]
START = {
    "number": "INC0000001",
    "requester": "alice",
    "title": "Mail is down",
    "description": "",
    "impact": "high",
    "urgency": "medium",
    "category": None,
    "service": None,
    "ci": None,
    "resume_at": None,
    "raised_by_integration": False,
    "opened_at": "2026-11-23T09:00:00+00:00",
}


def _status(report) -> str | None:
    """The ticket status the run's elements set last (the ticketStatus property), as the tickets package reads it."""
    named = [s.properties.get("ticketStatus") for s in report.steps] + [
        t.properties.get("ticketStatus") for t in report.ready
    ]
    return ([status for status in named if status] or [None])[-1]


def _drive(persist: bool):
    (bundle,) = [b for b in read_directory(ROOT) if b.process_id == "incident"]
    spec, subprocess_specs = build_specs(bundle)
    workflow = runtime.new_workflow(spec, subprocess_specs, START)
    run = runtime.Run(workflow, spec, subprocess_specs)
    report = run.advance()
    trail = [s.element_id for s in report.steps]
    for element, data in PATH:
        if persist:
            saved = serializer.dump(report.workflow)
            restored = serializer.load(saved, spec, subprocess_specs)
            assert serializer.dump(restored) == saved, f"state before {element} does not survive a round trip"
            workflow = restored
        else:
            workflow = report.workflow
        run = runtime.Run(workflow, spec, subprocess_specs)
        (ready,) = workflow.get_tasks(state=runtime.TaskState.READY, manual=True)
        assert ready.task_spec.bpmn_id == element, (element, trail)
        run.complete_task(str(ready.id), data)
        report = run.advance()
        trail += [s.element_id for s in report.steps] + [f"status:{_status(report)}"]
    return trail, report.data, report.completed


def test_saved_and_restored_at_every_wait_state_gives_the_same_result():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):  # the SLA clock reads the time
        in_memory = _drive(persist=False)
        persisted = _drive(persist=True)
    assert persisted == in_memory
    trail, data, completed = persisted
    assert completed and trail[-1] == "status:Closed"
    assert data["reopen_count"] == 1 and data["priority"] == "high"


def test_parallel_tasks_complete_when_each_step_runs_in_another_process():
    """Every step parses the diagram afresh, as another app node or worker would: the multi-instance
    fulfilment still hears of each of its tasks and ends (it did not before its children were connected)."""
    (bundle,) = [b for b in read_directory(ROOT) if b.process_id == "request_fulfillment"]
    data = {
        "number": "REQ0000001",
        "requester": "alice",
        "opened_at": "2026-11-23T09:00:00+00:00",
        "item_name": "New laptop",
        "needs_approval": False,
        "automated": False,
        "fulfillment_group": "service-desk",
        "fulfilment_tasks": ["Prepare the laptop", "Create the accounts"],
    }
    spec, subprocess_specs = build_specs(bundle)
    report = runtime.Run(runtime.new_workflow(spec, subprocess_specs, data), spec, subprocess_specs).advance()
    for note in ("Imaged", "Accounts created"):
        spec, subprocess_specs = build_specs(bundle)  # another node
        workflow = serializer.load(serializer.dump(report.workflow), spec, subprocess_specs)
        task = workflow.get_tasks(state=runtime.TaskState.READY, manual=True)[0]
        run = runtime.Run(workflow, spec, subprocess_specs)
        run.complete_task(str(task.id), {"fulfilment_notes": note})
        report = run.advance()
    assert (report.completed, _status(report)) == (True, "Closed")
    assert report.data["fulfilment_results"] == ["Imaged", "Accounts created"]
