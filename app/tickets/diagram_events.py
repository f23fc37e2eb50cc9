"""What a diagram element marked with the property ticketEvent means for its ticket, and telling people of the
tasks a run left waiting for them.

ticketEvent values: sla_warning (warn the group), sla_breach (record it, tell the group's manager),
major_declared (post the first update, mail the stakeholders), stakeholder_update (mail them the latest public
news), approval_reminder (remind whoever may answer the approvals).
"""

from sqlalchemy.orm import Session

from app.db import utcnow
from app.engine import OpenTask, Outcome
from app.identity import service as identity
from app.notify import service as notify
from app.tasks import service as tasks
from app.tickets import journal
from app.tickets.models import Ticket

EVENT = "ticketEvent"  # the element property


def ticket_event(db: Session, ticket: Ticket, event: str, data: dict, *, actor: str | None) -> None:
    """What a diagram element marked with ticketEvent means for the ticket: recorded once, told to people."""
    if event in SLA_EVENTS:
        _sla_event(db, ticket, event)
    elif event == "approval_reminder":
        _remind_approvers(db, ticket, reminded_at=data.get("reminded_at"))
    elif event in ("major_declared", "stakeholder_update"):
        news = data.get("first_update") if event == "major_declared" else journal.latest_public_comment(db, ticket)
        if event == "major_declared":
            journal.post_comment(db, ticket=ticket, author=actor or "flowdesk", body=news, visibility="public")
        sent = data.get("update_sent_at") or "declared"
        changes = {"stakeholders": [None, data.get("stakeholders")]}
        journal.record(db, ticket, kind=event, actor=None, changes=changes)
        for address in data.get("stakeholders") or []:
            notify.queue_mail_to(
                db,
                address=address,
                template="stakeholder_update",
                key=f"{ticket.number}:update:{sent}:{address}",
                ticket=ticket,
                reason=data.get("major_reason", ""),
                news=news,
                interval=data.get("update_interval"),
            )


# ticketEvent -> (the ticket column that records it, its audit event kind); the mail template is the event.
SLA_EVENTS = {"sla_warning": ("sla_warned_at", "sla_warning"), "sla_breach": ("sla_breached_at", "sla_breached")}


def _sla_event(db: Session, ticket: Ticket, event: str) -> None:
    """75 % used: warn the assignment group. Breached: record it and tell the group's manager. Once each."""
    column, kind = SLA_EVENTS[event]
    if getattr(ticket, column) is not None:
        return  # a later tier's timer fired for a moment already passed
    setattr(ticket, column, utcnow())
    group = ticket.assignment_group or ""
    if event == "sla_warning":
        recipients = identity.members_of(db, groups=[group])
        changes = {"resolution_due": [None, journal.iso(ticket.resolution_due)]}
    else:
        ticket.sla_breached = True
        manager = identity.manager_of(db, group=group)
        recipients, changes = ([manager] if manager else []), {"escalated_to": [None, manager]}
    journal.record(db, ticket, kind=kind, actor=None, changes=changes)
    told = {username: f"{ticket.number}:{event}:{username}" for username in recipients}
    notify.inform(db, told=told, template=event, ticket=ticket, due=journal.iso(ticket.resolution_due))


def _remind_approvers(db: Session, ticket: Ticket, *, reminded_at: str | None) -> None:
    """An approval waits for 2 working days: remind whoever may answer it."""
    for task in tasks.waiting_for_form(db, key=ticket.number, form="approval.schema.json"):
        people = people_for(db, task)
        journal.record(db, ticket, kind="approval_reminder", actor=None, changes={"reminded": [None, people]})
        told = {username: f"{ticket.number}:reminder:{task.id}:{username}:{reminded_at}" for username in people}
        notify.inform(db, told=told, template="approval_reminder", ticket=ticket, task=task)


def tell_who_works_it(db: Session, ticket: Ticket, outcome: Outcome) -> None:
    """A new task waits: tell its assignee, or every member of its groups (the requester hears of their own
    tasks through the status mails)."""
    for task in outcome.new_tasks:
        if task.assignee == ticket.requester:
            continue
        told = {username: f"task:{task.id}:{username}" for username in people_for(db, task)}
        notify.inform(db, told=told, template="task_arrived", ticket=ticket, task=task)


def people_for(db: Session, task: OpenTask) -> list[str]:
    """Who may answer a task: its assignee, or else every member of its candidate groups."""
    if task.assignee:
        return [task.assignee]
    return identity.members_of(db, groups=task.candidate_groups)


def tell_assignee(db: Session, ticket: Ticket, task, *, key: str) -> None:
    """An agent gave a task to someone: tell them (a notification and a mail), once for this assignment."""
    told = {task.assignee: f"task:{task.id}:assigned:{task.assignee}:{key}"}
    notify.inform(db, told=told, template="task_arrived", ticket=ticket, task=task)
