"""Mails: queued in the outbox with the change, sent by the worker to a real SMTP server (aiosmtpd)."""

from sqlalchemy import select

from app import worker
from app.engine.models import Job
from tests.conftest import free_port, work

RESOLVE = {
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
    "category": "application",
}


def test_the_requester_hears_of_the_ticket_and_its_resolution(api, database, smtp):
    number = api.post("alice", "/api/v1/incidents", {"title": "Mail is down", "impact": "low", "urgency": "low"})[1][
        "number"
    ]
    assert worker.run_once(database) == 1
    ((rcpt, mail),) = smtp.messages
    assert rcpt == ["alice@example.org"] and mail["Subject"] == f"[{number}] We received: Mail is down"
    assert f"/tickets/{number}" in mail.get_payload()
    work(api, "sam", number, RESOLVE)
    assert worker.run_once(database) == 1
    rcpt, mail = smtp.messages[-1]
    assert mail["Subject"] == f"[{number}] Mail is down is now Resolved"
    assert "Restarted the mail relay" in mail.get_payload() and "accept or reject" in mail.get_payload()
    assert worker.run_once(database) == 0, "each mail is sent once"


def test_monitoring_gets_no_mail(api, database, smtp):
    api.post("monitor", "/api/v1/incidents", {"title": "Disk full", "impact": "low", "urgency": "low"})
    worker.run_once(database)
    assert smtp.messages == []


def test_mails_wait_in_the_outbox_until_a_mail_server_is_configured(api, database, monkeypatch):
    monkeypatch.delenv("FLOWDESK_SMTP_URL", raising=False)
    api.post("alice", "/api/v1/incidents", {"title": "Printer", "impact": "low", "urgency": "low"})
    assert worker.run_once(database) == 0
    with database.reader() as db:
        (job,) = db.scalars(select(Job).where(Job.kind == "mail"))
        assert (job.status, job.attempts) == ("waiting", 0)


def test_an_unreachable_mail_server_is_retried(api, database, monkeypatch):
    monkeypatch.setenv("FLOWDESK_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    api.post("alice", "/api/v1/incidents", {"title": "Printer", "impact": "low", "urgency": "low"})
    assert worker.run_once(database) == 0
    with database.reader() as db:
        (job,) = db.scalars(select(Job).where(Job.kind == "mail"))
        assert (job.status, job.attempts) == ("waiting", 1) and "Connection refused" in job.last_error
