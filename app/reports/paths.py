"""Paths drawn on diagrams, read from the audit log: where one instance went, and where many went.

The audit log is the history (the task tree is bounded and forgets); each element_completed or
task_completed event names the element passed, with the instance and the diagram version.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.jobs.models import Job
from app.tasks.models import HumanTask

PASSED = ("element_completed", "task_completed")


def instance_path(db: Session, *, instance_id: int) -> dict:
    """{completed: {element_id: times passed}, active: [element ids waiting now]} for one instance."""
    passed = db.scalars(
        select(AuditEvent.element_id).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind.in_(PASSED), AuditEvent.element_id.isnot(None)
        )
    )
    open_tasks = db.scalars(
        select(HumanTask.element_id).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    )
    timers = db.scalars(
        select(Job.element_id).where(Job.instance_id == instance_id, Job.kind == "timer", Job.status == "waiting")
    )
    return {"completed": dict(Counter(passed)), "active": sorted(set(open_tasks) | set(timers))}


@dataclass
class Heat:
    count: int
    median_wait_seconds: float | None


def process_heat(
    db: Session, *, process_id: str, version: int, since: datetime, until: datetime
) -> tuple[dict[str, Heat], list[tuple[tuple[str, ...], int]], int]:
    """How many instances passed each element in the range, the median time people took on each user task,
    the variants of paths (the user tasks in the order they were done) with how many instances took each,
    and how many instances the range holds."""
    events = db.execute(
        select(AuditEvent.instance_id, AuditEvent.element_id, AuditEvent.kind)
        .where(
            AuditEvent.process_id == process_id,
            AuditEvent.process_version == version,
            AuditEvent.kind.in_(PASSED),
            AuditEvent.element_id.isnot(None),
            AuditEvent.at >= since,
            AuditEvent.at < until,
        )
        .order_by(AuditEvent.id)
    ).all()
    passes: dict[str, set[int]] = {}
    paths: dict[int, list[str]] = {}
    for instance_id, element_id, kind in events:
        passes.setdefault(element_id, set()).add(instance_id)
        if kind == "task_completed":
            paths.setdefault(instance_id, []).append(element_id)
        else:
            paths.setdefault(instance_id, [])
    waits: dict[str, list[float]] = {}
    done = db.execute(
        select(HumanTask.element_id, HumanTask.created_at, HumanTask.completed_at).where(
            HumanTask.instance_id.in_(list(paths) or [-1]),
            HumanTask.status == "completed",
            HumanTask.completed_at >= since,
            HumanTask.completed_at < until,
        )
    ).all()
    for element_id, created, completed in done:
        waits.setdefault(element_id, []).append((completed - created).total_seconds())
    heat = {e: Heat(len(ids), median(waits[e]) if e in waits else None) for e, ids in passes.items()}
    variants = Counter(tuple(path) for path in paths.values()).most_common(10)
    return heat, variants, len(paths)
