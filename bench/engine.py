"""Engine overhead: one incident lifecycle (log, diagnose and resolve, confirm, document closure) run by the
workflow engine in memory, then by Flowdesk's engine service with persistence on SQLite and PostgreSQL.

.venv/bin/python -m bench.engine [--lifecycles 200]

In memory: SpiffWorkflow with Flowdesk's sandboxed script engine (the diagrams call its helpers), no
database. Persisted: engine.start / engine.complete_task, each in its own transaction: restore the
workflow, run the step, save it, project tasks and timers, append the audit events. The three run one
lifecycle each in turn. Reported per step (a start or a task completion), medians.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app import engine
from app.engine import runtime
from app.engine.bundle import build_specs, read_directory
from app.tasks.models import HumanTask
from app.wiring import wire
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


class InMemory:
    """The lifecycle run by the workflow engine alone."""

    def __init__(self):
        wire()  # the diagrams' helpers (SLA clocks), as a server process has them
        (bundle,) = [b for b in read_directory(ROOT) if b.process_id == "incident"]
        self.spec, self.subprocess_specs = build_specs(bundle)

    def lifecycle(self, i: int, after_step: Callable | None = None) -> list[float]:
        """The time of each step; after_step, if given, is called with the workflow after each step, untimed."""
        timings = []
        began = time.perf_counter()
        workflow = runtime.new_workflow(self.spec, self.subprocess_specs, {**START, "number": f"INC{i:07d}"})
        report = runtime.Run(workflow, self.spec, self.subprocess_specs).advance()
        timings.append(time.perf_counter() - began)
        for element, data in STEPS:
            if after_step is not None:
                after_step(report.workflow)
            began = time.perf_counter()
            (task,) = [t for t in report.workflow.get_tasks(state=runtime.TaskState.READY, manual=True)]
            assert task.task_spec.bpmn_id == element
            run = runtime.Run(report.workflow, self.spec, self.subprocess_specs)
            run.complete_task(str(task.id), data)
            report = run.advance()
            timings.append(time.perf_counter() - began)
        if after_step is not None:
            after_step(report.workflow)
        assert report.completed
        return timings


# The open task with its groups in one query built once, as the app reads a task it is asked to complete.
OPEN_TASK = (
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open")
    .options(joinedload(HumanTask.groups))
)


class Persisted:
    """The lifecycle run by Flowdesk's engine service on a database, one transaction per step."""

    def __init__(self, kind: str):
        self.database = fresh_database(kind)

    def lifecycle(self, i: int) -> list[float]:
        timings = []
        number = f"INC{i:07d}"
        began = time.perf_counter()
        with self.database.unit_of_work() as db:
            instance_id = engine.start(
                db, process_id="incident", data={**START, "number": number}, actor="alice", business_key=number
            ).instance.id
        timings.append(time.perf_counter() - began)
        for element, data in STEPS:
            began = time.perf_counter()
            with self.database.unit_of_work() as db:
                task = db.scalars(OPEN_TASK, {"instance_id": instance_id}).unique().one()
                assert task.element_id == element
                engine.complete(db, instance_id=task.instance_id, task_id=task.id, data=data, actor="sam")
            timings.append(time.perf_counter() - began)
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=200)
    args = parser.parse_args()
    runs = {
        "in memory": InMemory(),
        "persisted, sqlite": Persisted("sqlite"),
        "persisted, postgresql": Persisted("postgresql"),
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(args.lifecycles):  # in turns, so that the machine's ups and downs touch every run alike
        for name, run in runs.items():
            timings[name].extend(run.lifecycle(i))
    memory = statistics.median(timings["in memory"])
    print(f"{'run':22} {'median ms/step':>15} {'ratio to memory':>16}")  # noqa: T201 - the benchmark's table
    for name, steps in timings.items():
        step = statistics.median(steps)
        print(f"{name:22} {step * 1000:15.2f} {step / memory:16.2f}")  # noqa: T201


if __name__ == "__main__":
    main()
