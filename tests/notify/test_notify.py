"""Mails: queued in the outbox with the change, sent by the worker to a real SMTP server (aiosmtpd)."""

import pytest
from sqlalchemy import insert, select, update

from app.db import utcnow
from app.identity.models import User
from app.jobs import worker
from app.jobs.models import Job
from app.notify import service as notify
from app.notify.models import Notification
from tests.conftest import free_port, work
from tests.payloads import RESOLVE_APPLICATION as RESOLVE
from tests.payloads import incident


def by_recipient(smtp) -> dict[str, list]:
    found: dict[str, list] = {}
    for rcpt, mail in smtp.messages:
        for address in rcpt:
            found.setdefault(address, []).append(mail)
    return found


def test_the_requester_hears_of_the_ticket_and_its_resolution(api, database, smtp):
    number = api.post("alice", "/api/v1/incidents", incident("Mail is down"))[1]["number"]
    assert worker.run_once(database) == 3, "the requester, and each member of the service desk"
    mails = by_recipient(smtp)
    ((received,),) = [mails["alice@example.org"]]
    assert received["Subject"] == f"[{number}] We received: Mail is down"
    assert f"/tickets/{number}" in received.get_payload()
    for agent in ("sam", "sara"):
        (arrived,) = mails[f"{agent}@example.org"]
        assert arrived["Subject"] == f"[{number}] New task for you: Diagnose incident"
        assert "Claim it in your inbox" in arrived.get_payload()
        assert '"Mail is down" (priority low)' in arrived.get_payload(), "the priority the process has just set"
    work(api, "sam", number, RESOLVE)
    assert worker.run_once(database) == 1, "the requester only: her confirmation is her own task"
    rcpt, mail = smtp.messages[-1]
    assert rcpt == ["alice@example.org"] and mail["Subject"] == f"[{number}] Mail is down is now Resolved"
    assert "Restarted the mail relay" in mail.get_payload() and "accept or reject" in mail.get_payload()
    assert worker.run_once(database) == 0, "each mail is sent once"


def test_watchers_hear_of_status_changes_and_everyone_has_an_in_app_list(api, database, smtp):
    number = api.post("alice", "/api/v1/incidents", incident("VPN drops"))[1]["number"]
    status, watching = api.post("ramon", f"/api/v1/tickets/{number}/watchers")
    assert status == 404, "ramon may not see alice's ticket, so he cannot follow it"
    assert api.post("sam", f"/api/v1/tickets/{number}/watchers", {"username": "mark"})[0] == 422, "he cannot see it"
    status, watching = api.post("sam", f"/api/v1/tickets/{number}/watchers", {"username": "nina"})
    assert status == 200 and watching == ["nina"]
    assert api.post("alice", f"/api/v1/tickets/{number}/watchers", {"username": "ramon"})[0] == 403
    work(api, "sam", number, RESOLVE)
    worker.run_once(database)
    (mail,) = by_recipient(smtp)["nina@example.org"]
    assert "which you follow, is now Resolved" in mail.get_payload()
    assert "accept or reject" not in mail.get_payload(), "only the requester decides"
    status, mine = api.get("alice", "/api/v1/notifications")
    assert status == 200 and [n["text"] for n in mine] == [
        f"[{number}] VPN drops is now Resolved",
        f"[{number}] We received: VPN drops",
    ]
    assert all(n["read_at"] is None for n in mine) and all(n["ticket"] == number for n in mine)
    assert api.post("alice", "/api/v1/notifications/read", {})[1] == {"marked": 2}
    assert api.get("alice", "/api/v1/notifications?unread=true")[1] == []
    assert api.call("sam", "DELETE", f"/api/v1/tickets/{number}/watchers/nina", None)[1] == []


def test_monitoring_gets_no_mail(api, database, smtp):
    api.post("monitor", "/api/v1/incidents", incident("Disk full"))
    worker.run_once(database)
    assert "monitor@example.org" not in by_recipient(smtp)
    assert api.get("monitor", "/api/v1/notifications")[1] == []


def test_mails_wait_in_the_outbox_until_a_mail_server_is_configured(api, database, monkeypatch):
    monkeypatch.delenv("FLOWDESK_SMTP_URL", raising=False)
    api.post("alice", "/api/v1/incidents", incident("Printer"))
    assert worker.run_once(database) == 0
    with database.reader() as db:
        jobs = list(db.scalars(select(Job).where(Job.kind == "mail")))
        assert len(jobs) == 3 and {(j.status, j.attempts) for j in jobs} == {("waiting", 0)}


def test_an_unreachable_mail_server_is_retried(api, database, monkeypatch):
    monkeypatch.setenv("FLOWDESK_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    api.post("alice", "/api/v1/incidents", incident("Printer"))
    assert worker.run_once(database) == 0
    with database.reader() as db:
        jobs = list(db.scalars(select(Job).where(Job.kind == "mail")))
        assert len(jobs) == 3 and {(j.status, j.attempts) for j in jobs} == {("waiting", 1)}
        assert all("Connection refused" in j.last_error for j in jobs)


def test_each_news_is_told_once_to_each_person_who_can_hear_it(database):
    """A retried change tells nobody twice; a mail already queued for a key is not queued again; a user who
    left (inactive) and the monitoring integration hear nothing."""
    with database.unit_of_work() as db:
        db.execute(update(User).where(User.username == "ramon").values(active=False))
    told = {name: f"news:{name}" for name in ("alice", "sam", "ramon", "monitor", "nobody")}
    with database.unit_of_work() as db:
        db.execute(insert(Job.__table__), [{"kind": "mail", "idempotency_key": "news:sam", "due_at": utcnow()}])
        assert notify.inform(db, told=told, template="ticket_created", ticket=None) == ["alice", "sam"]
    with database.unit_of_work() as db:
        assert notify.inform(db, told=told, template="ticket_created", ticket=None) == [], "a retry tells nobody"
    with database.reader() as db:
        noted = db.execute(select(Notification.username, Notification.key).order_by(Notification.username)).all()
        mails = db.execute(select(Job.idempotency_key, Job.payload).where(Job.kind == "mail")).all()
    assert [tuple(row) for row in noted] == [("alice", "news:alice"), ("sam", "news:sam")]
    assert sorted(key for key, _ in mails) == ["news:alice", "news:sam"], "sam's mail was queued before: once"
    assert [payload["to"] for key, payload in mails if key == "news:alice"] == ["alice@example.org"]


def test_a_read_only_session_refuses_to_write(database):
    with database.reader() as db:
        db.add(Notification(username="alice", kind="ticket_created", text="sneaked in", key="sneaked"))
        with pytest.raises(RuntimeError, match="read-only session"):
            db.flush()
    with database.reader() as db:
        assert db.scalar(select(Notification).where(Notification.key == "sneaked")) is None
