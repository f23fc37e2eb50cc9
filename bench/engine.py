"""Engine overhead: one incident lifecycle (log, diagnose and resolve, confirm, document closure) run by the
workflow engine in memory, then by Flowdesk's engine service with persistence on SQLite and PostgreSQL.

.venv/bin/python -m bench.engine [--lifecycles 200]

In memory: SpiffWorkflow with Flowdesk's sandboxed script engine (the diagrams call its helpers), no
database. Persisted: engine.start / engine.complete_task, each in its own transaction: restore the
workflow, run the step, save it, project tasks and timers, append the audit events. Reported per step
(a start or a task completion), medians.
"""

import argparse
import statistics
import time
from pathlib import Path

from sqlalchemy import select

from app.engine import runtime
from app.engine import service as engine
from app.engine.bundle import build_specs, read_directory
from app.engine.models import HumanTask
from bench.common import fresh_database

ROOT = Path(__file__).resolve().parent.parent
START = {
    "requester": "alice",
    "title": "Mail is down",
    "description": "",
    "impact": "medium",
    "urgency": "medium",
    "category": None,
    "service": None,
    "ci": None,
    "resume_at": None,
    "raised_by_integration": False,
    "opened_at": "2026-11-23T09:00:00+00:00",
}
STEPS = [
    (
        "diagnose",
        {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Restarted it", "category": "network"},
    ),
    ("confirm_resolution", {"accepted": True}),
    ("document_closure", {"closure_code": "solved_permanently", "closure_notes": "Relay restarted for good"}),
]


def in_memory(lifecycles: int) -> list[float]:
    (bundle,) = [b for b in read_directory(ROOT) if b.process_id == "incident"]
    spec, subprocess_specs = build_specs(bundle)
    timings = []
    for i in range(lifecycles):
        began = time.perf_counter()
        workflow = runtime.new_workflow(spec, subprocess_specs, {**START, "number": f"INC{i:07d}"})
        report = runtime.Run(workflow, spec, subprocess_specs).advance()
        timings.append(time.perf_counter() - began)
        for element, data in STEPS:
            began = time.perf_counter()
            (task,) = [t for t in report.workflow.get_tasks(state=runtime.TaskState.READY, manual=True)]
            assert task.task_spec.bpmn_id == element
            run = runtime.Run(report.workflow, spec, subprocess_specs)
            run.complete_task(str(task.id), data)
            report = run.advance()
            timings.append(time.perf_counter() - began)
        assert report.completed
    return timings


def persisted(kind: str, lifecycles: int) -> list[float]:
    database = fresh_database(kind)
    timings = []
    for i in range(lifecycles):
        number = f"INC{i:07d}"
        began = time.perf_counter()
        with database.unit_of_work() as db:
            instance_id = engine.start(
                db, process_id="incident", data={**START, "number": number}, actor="alice", business_key=number
            ).instance.id
        timings.append(time.perf_counter() - began)
        for element, data in STEPS:
            began = time.perf_counter()
            with database.unit_of_work() as db:
                task = db.scalar(
                    select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
                )
                assert task.element_id == element
                engine.complete_task(db, task=task, data=data, actor="sam")
            timings.append(time.perf_counter() - began)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=200)
    args = parser.parse_args()
    memory = statistics.median(in_memory(args.lifecycles))
    print(f"{'run':22} {'median ms/step':>15} {'ratio to memory':>16}")  # noqa: T201 - the benchmark's table
    print(f"{'in memory':22} {memory * 1000:15.2f} {1:16.2f}")  # noqa: T201
    for kind in ("sqlite", "postgresql"):
        step = statistics.median(persisted(kind, args.lifecycles))
        print(f"{'persisted, ' + kind:22} {step * 1000:15.2f} {step / memory:16.2f}")  # noqa: T201


if __name__ == "__main__":
    main()
