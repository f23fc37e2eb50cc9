"""Every table of Flowdesk, imported in one place (migrations and tests need the whole metadata)."""

from app.alerts.models import AlertLink, AlertRule
from app.audit.models import AuditEvent
from app.catalog.models import CatalogItem
from app.db import Base
from app.engine.models import ProcessDefinition, ProcessInstance
from app.identity.models import ApiToken, Group, User
from app.jobs.models import Job
from app.notify.models import Notification, Watcher
from app.tasks.models import HumanTask, HumanTaskGroup
from app.tickets.models import Comment, Ticket, TicketCounter

__all__ = [
    "CatalogItem",
    "AlertLink",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Comment",
    "Group",
    "HumanTask",
    "HumanTaskGroup",
    "Job",
    "ProcessDefinition",
    "ProcessInstance",
    "Ticket",
    "TicketCounter",
    "User",
    "AlertRule",
    "Notification",
    "Watcher",
]
