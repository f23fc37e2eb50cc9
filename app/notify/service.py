"""Telling people: an in-app notification and a mail for a Flowdesk user (inform), a mail for a plain
address (queue_mail_to), each written in the transaction that causes it; the worker sends the mails.

A mail is a job of kind "mail" with an idempotency key, so a change that is retried never queues it
twice and a send that is retried after a crash sends the same message (with the same Message-ID).
"""

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlparse

from flask import Flask, render_template
from flask_babel import force_locale
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.identity.models import Group, User, membership
from app.jobs.models import Job
from app.notify.models import Notification
from app.validation import validate

# Marking notifications read: the input, also the API's published request body; no ids means all of them.
MARK_READ = {
    "type": "object",
    "properties": {
        "ids": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
    },
}
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


@dataclass(frozen=True)
class Recipient:
    """What a mail needs to know of the Flowdesk user it is written for."""

    username: str
    full_name: str
    email: str
    locale: str | None


def inform(db: Session, *, told: dict[str, str], template: str, **context) -> list[str]:
    """Tell users (told maps each user name to the key of this news for them): a notification in Flowdesk and,
    when they have an address, a mail; inactive users and integrations such as monitoring get neither. Each
    key is told once, so a retried change never tells twice. The text is the template's subject in each
    user's language. Three statements however many are told: the users, one insert of the notifications and
    one of the mails, each insert skipping the keys already there. Returns the user names told now."""
    if not told:
        return []
    recipients = _recipients(db, list(told))
    ticket = getattr(context.get("ticket"), "number", None)
    notes, mails = [], {}
    for user in recipients:
        key = told[user.username]
        subject, body = _render(template, user=user, context=context)
        notes.append({"username": user.username, "kind": template, "ticket": ticket, "text": subject[:300], "key": key})
        if user.email:
            mails[key] = _mail_job(to=user.email, subject=subject, body=body, key=key)
    new = _insert_new(db, Notification.__table__, notes, key="key")
    _insert_new(db, Job.__table__, [mail for key, mail in mails.items() if key in new], key="idempotency_key")
    return [note["username"] for note in notes if note["key"] in new]


_INSERTS: dict[tuple[str, str], object] = {}  # (dialect, table) -> its insert skipping known keys, built once


def _insert_new(db: Session, table: Table, rows: list[dict], *, key: str) -> set[str]:
    """Insert the rows whose key is not in the table yet (one statement); the keys inserted."""
    if not rows:
        return set()
    dialect = db.get_bind().dialect.name
    statement = _INSERTS.get((dialect, table.name))
    if statement is None:
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        _INSERTS[(dialect, table.name)] = statement
    return set(db.scalars(statement, rows))


_INTEGRATION = (
    select(membership.c.user_id)
    .join(Group, Group.id == membership.c.group_id)
    .where(membership.c.user_id == User.id, Group.role == "integration")
)
_RECIPIENTS = select(User.username, User.full_name, User.email, User.locale).where(
    User.username.in_(bindparam("usernames", expanding=True)), User.active.is_(True), ~_INTEGRATION.exists()
)


def _recipients(db: Session, usernames: list[str]) -> list[Recipient]:
    """The active users among usernames that are people (not integrations), in the order given."""
    found = {row.username: Recipient(*row) for row in db.execute(_RECIPIENTS, {"usernames": usernames})}
    return [found[name] for name in usernames if name in found]


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
    ids = validate(schema=MARK_READ, data={"ids": ids}, what="the request")["ids"]
    query = update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return db.execute(query.values(read_at=utcnow())).rowcount


def queue_mail_to(db: Session, *, address: str, template: str, key: str, **context) -> bool:
    """Queue the mail template for an address that is not a Flowdesk user (major-incident stakeholders); False
    when this key was queued already."""
    subject, body = _render(template, user=None, context=context)
    mail = _mail_job(to=address, subject=subject, body=body, key=key)
    return bool(_insert_new(db, Job.__table__, [mail], key="idempotency_key"))


def _render(template: str, *, user: Recipient | None, context: dict) -> tuple[str, str]:
    settings = Settings.from_env(secret_key="unused-by-mail")  # noqa: S106
    with _renderer().app_context(), force_locale((user.locale if user else None) or "en"):
        subject = render_template(f"mail/{template}.subject.txt", base_url=settings.base_url, **context).strip()
        body = render_template(f"mail/{template}.txt", base_url=settings.base_url, user=user, **context)
    return subject, body


def _mail_job(*, to: str, subject: str, body: str, key: str) -> dict:
    """The row of an outbox job that sends this mail."""
    payload = {"to": to, "subject": subject, "body": body, "message_id": make_msgid(domain="flowdesk")}
    return {"kind": "mail", "due_at": utcnow(), "idempotency_key": key, "payload": payload}


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
