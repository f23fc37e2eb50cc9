"""JSON shapes of the API (tickets, tasks, history entries): plain dicts, no ORM or engine objects."""

from datetime import datetime

from app.audit.export import event_row
from app.engine import OpenTask, ProcessDefinition, ProcessInstance
from app.tasks.models import HumanTask
from app.tickets import sla as ticket_sla
from app.tickets.models import Attachment, Comment, Ticket


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_json(t: Ticket, *, children: list | None = None, duplicates: list | None = None, attachments=0) -> dict:
    """A ticket; its links (numbers) and the count of attachments the reader may see come from the caller."""
    state = ticket_sla.sla_state(t)
    return {
        "number": t.number,
        "kind": t.kind,
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": t.priority,
        "impact": t.impact,
        "urgency": t.urgency,
        "category": t.category,
        "service": t.service,
        "ci": t.ci,
        "requester": t.requester,
        "opened_by": t.opened_by,
        "assignment_group": t.assignment_group,
        "assignee": t.assignee,
        "hold_reason": t.hold_reason,
        "resolution_code": t.resolution_code,
        "resolution_notes": t.resolution_notes,
        "reopen_count": t.reopen_count,
        "reassignment_count": t.reassignment_count,
        "process_id": t.process_id,
        "process_version": t.process_version,
        "instance_id": t.instance_id,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "cancelled_at": iso(t.cancelled_at),
        "cancel_reason": t.cancel_reason,
        "version": t.version,
        "parent": t.parent_number,
        "children": children or [],
        "duplicate_of": t.duplicate_of,
        "attachments": attachments,
        "sla": {
            "response_due": iso(t.response_due),
            "resolution_due": iso(t.resolution_due),
            "breached": state == "breached",
            "state": "running" if state == "warning" else state,  # the API's states: running, paused, breached, met
            "paused_seconds": t.sla_paused_seconds,
            "paused_since": iso(t.sla_held_since),
            "warned_at": iso(t.sla_warned_at),
            "breached_at": iso(t.sla_breached_at),
        },
        "major_incident": t.major_incident,
        "links": {
            "parent": t.parent_number,
            "children": children or [],
            "duplicate_of": t.duplicate_of,
            "duplicates": duplicates or [],
            "follow_up_of": t.follow_up_of,
            "problem": t.problem_number,
            "incidents": [],
        },
        "item": t.item_key,
        "details": t.details or {},
    }


def task_json(task: HumanTask | OpenTask) -> dict:
    return {
        "id": task.id,
        "name": task.name,
        "element_id": task.element_id,
        "ticket": task.business_key,
        "instance_id": task.instance_id,
        "candidate_groups": task.candidate_groups,
        "assignee": task.assignee,
        "status": task.status,
        "created_at": iso(task.created_at),
        "due_at": iso(task.due_at),
    }


event_json = event_row  # a history entry in the API is an exported audit row


def notification_json(n) -> dict:
    return {
        "id": n.id,
        "at": iso(n.created_at),
        "kind": n.kind,
        "ticket": n.ticket,
        "text": n.text,
        "read_at": iso(n.read_at),
    }


def comment_json(c: Comment) -> dict:
    return {"id": c.id, "at": iso(c.at), "author": c.author, "body": c.body, "visibility": c.visibility}


def attachment_json(a: Attachment) -> dict:
    return {
        "id": a.id,
        "filename": a.filename,
        "size": a.size,
        "content_type": a.content_type,
        "sha256": a.sha256,
        "visibility": a.visibility,
        "author": a.author,
        "at": iso(a.at),
        "comment": a.comment_id,
    }


def version_json(d: ProcessDefinition) -> dict:
    return {
        "version": d.version,
        "deployed_at": iso(d.deployed_at),
        "deployed_by": d.deployed_by,
        "checksum": d.checksum,
    }


def instance_json(i: ProcessInstance, open_tasks: list[HumanTask], waiting: list[dict]) -> dict:
    return {
        "id": i.id,
        "process_id": i.definition.process_id,
        "process_version": i.definition.version,
        "status": i.status,
        "ticket": i.business_key,
        "round": i.round,
        "open_tasks": [task_json(t) for t in open_tasks],
        "waiting_timers": waiting,
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
    }
