"""Telling people: an in-app notification and a mail for a Flowdesk user (inform), a mail for a plain
address (queue_mail_to), each written in the transaction that causes it; the worker sends the mails.

A mail is a job of kind "mail" with an idempotency key, so a change that is retried never queues it
twice and a send that is retried after a crash sends the same message (with the same Message-ID).
"""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlparse

from flask import Flask, render_template
from flask_babel import force_locale
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.engine.models import Job
from app.identity import service as identity
from app.identity.models import User
from app.notify.models import Notification

SENDER = "Flowdesk <flowdesk@example.org>"
_mail_app: Flask | None = None


def _renderer() -> Flask:
    """A bare Flask app that renders the mail templates (the worker runs outside any request)."""
    global _mail_app
    if _mail_app is None:
        from flask_babel import Babel

        _mail_app = Flask("app")
        Babel(_mail_app)
    return _mail_app


def inform(db: Session, *, username: str, template: str, key: str, **context) -> Notification | None:
    """Tell a user: a notification in Flowdesk and, when they have an address, a mail (integrations such as
    monitoring get neither). Each key is told once, so a retried change never tells twice. The text is the
    template's subject in the user's language."""
    told, queued = db.execute(
        select(exists().where(Notification.key == key), exists().where(Job.idempotency_key == key))
    ).one()
    if told:
        return None
    user = identity.user_by_name(db, username=username)
    if user is None or not user.active or any(g.role == "integration" for g in user.groups):
        return None
    subject, body = _render(template, user=user, context=context)
    ticket = context.get("ticket")
    notification = Notification(
        username=username, kind=template, ticket=getattr(ticket, "number", None), text=subject[:300], key=key
    )
    db.add(notification)
    if user.email and not queued:
        db.add(_mail_job(to=user.email, subject=subject, body=body, key=key))
    return notification


def unread_count(db: Session, *, username: str) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.username == username, Notification.read_at.is_(None))
    )


def notifications(db: Session, *, username: str, unread_only: bool = False, limit: int = 50, offset: int = 0):
    query = select(Notification).where(Notification.username == username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(db.scalars(query.order_by(Notification.id.desc()).limit(limit).offset(offset)))


def mark_read(db: Session, *, username: str, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or those ids); returns how many changed."""
    query = update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return db.execute(query.values(read_at=utcnow())).rowcount


def queue_mail_to(db: Session, *, address: str, template: str, key: str, **context) -> Job | None:
    """Queue the mail template for an address that is not a Flowdesk user (major-incident stakeholders)."""
    if _queued(db, key):
        return None
    subject, body = _render(template, user=None, context=context)
    job = _mail_job(to=address, subject=subject, body=body, key=key)
    db.add(job)
    return job


def _queued(db: Session, key: str) -> bool:
    return db.scalar(select(Job.id).where(Job.idempotency_key == key)) is not None


def _render(template: str, *, user: User | None, context: dict) -> tuple[str, str]:
    settings = Settings.from_env(secret_key="unused-by-mail")  # noqa: S106
    with _renderer().app_context(), force_locale((user.locale if user else None) or "en"):
        subject = render_template(f"mail/{template}.subject.txt", base_url=settings.base_url, **context).strip()
        body = render_template(f"mail/{template}.txt", base_url=settings.base_url, user=user, **context)
    return subject, body


def _mail_job(*, to: str, subject: str, body: str, key: str) -> Job:
    payload = {"to": to, "subject": subject, "body": body, "message_id": make_msgid(domain="flowdesk")}
    return Job(kind="mail", due_at=utcnow(), idempotency_key=key, payload=payload)


def send(job: Job) -> None:
    """Send an outbox mail over FLOWDESK_SMTP_URL (smtp://host:port)."""
    url = Settings.from_env(secret_key="unused-by-mail").smtp_url  # noqa: S106
    if not url:
        raise RuntimeError("FLOWDESK_SMTP_URL is not set: the mail waits in the outbox")
    parts = urlparse(url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, job.payload["to"], job.payload["subject"]
    message["Message-ID"] = job.payload["message_id"]
    message.set_content(job.payload["body"])
    with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as smtp:
        smtp.send_message(message)
