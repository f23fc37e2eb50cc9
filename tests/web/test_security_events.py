"""The security probe's findings (issue #23), each reproduced and now refused safely: sign-in throttling per client
and per account instead of a lock anyone could set, sessions ended on the server at sign-out and deactivation,
and security events in the audit log for auditors to filter."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select, update

from app.alerts.models import AlertRule
from app.audit.models import AuditEvent
from app.identity import sessions
from app.identity.models import User
from tests.conftest import sign_in

TODAY = datetime.now(UTC).date().isoformat()


def attempt(app, username, password, client="10.0.0.1"):
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client().post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": client}
    )


def events(database, kind):
    with database.reading() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def test_wrong_passwords_from_one_client_do_not_keep_the_admin_out_of_another(app):
    for _ in range(12):
        assert attempt(app, "admin", "guess", client="10.0.0.66").status_code in (401, 429)
    assert attempt(app, "admin", "demo", client="10.0.0.7").status_code == 302


def test_repeated_failures_from_one_client_wait_growing_delays_and_are_audited(app, database):
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            assert attempt(app, "sam", "guess").status_code == 401
        waits = []
        for _ in range(3):
            assert attempt(app, "sam", "guess").status_code == 401
            refused = attempt(app, "sam", "demo")  # even the right password waits: it is not checked
            assert refused.status_code == 429
            assert "Too many failed attempts" in refused.get_data(as_text=True)
            waits.append(int(refused.headers["Retry-After"]))
            clock.move_to(datetime.now(UTC) + timedelta(seconds=waits[-1]))
        assert waits == [1, 2, 4]
        assert attempt(app, "sam", "demo").status_code == 302, "the right password works once the wait is over"
    failed = events(database, "sign_in_failed")
    assert len(failed) == 8 and failed[-1].changes == {"username": "sam", "client": "10.0.0.1", "delay_seconds": 4}
    assert all("guess" not in str(e.changes) for e in failed), "a password is never written down"
    assert events(database, "sign_in")[-1].actor == "sam"


def test_the_french_page_says_how_long_to_wait(app):
    for _ in range(6):
        attempt(app, "nobody", "guess")
    response = app.test_client().post(
        "/login",
        data={"username": "nobody", "password": "x"},
        headers={"Accept-Language": "fr"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert response.status_code == 429 and "Trop de tentatives" in response.get_data(as_text=True)


def test_a_cookie_copied_before_sign_out_no_longer_signs_in(app, database):
    client = sign_in(app, "alice")
    copied = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/portal")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert [e.actor for e in events(database, "sign_out")] == ["alice"]
    assert sign_in(app, "alice").get("/portal").status_code == 200


def test_a_deactivated_user_loses_session_and_token_at_once(app, api, database):
    client = sign_in(app, "sam")
    assert api.get("sam", "/api/v1/tasks")[0] == 200
    with database.unit_of_work() as db:
        sessions.deactivate(db, username="sam", actor="admin")
    assert client.get("/inbox").status_code == 302
    assert api.get("sam", "/api/v1/tasks")[0] == 401
    assert attempt(app, "sam", "demo").status_code == 401
    assert [e.changes["user"] for e in events(database, "token_revoked")] == ["sam"]
    assert events(database, "user_deactivated")[0].actor == "admin"


def test_the_database_flag_alone_stops_the_session_too(app, database):
    client = sign_in(app, "sara")
    with database.unit_of_work() as db:
        db.execute(update(User).where(User.username == "sara").values(active=False))
    assert client.get("/inbox").status_code == 302


def test_the_auditor_claiming_a_task_is_refused_and_audited(app, api, database):
    status, ticket = api.post(
        "alice",
        "/api/v1/incidents",
        {"title": "Mail down", "description": "", "impact": "low", "urgency": "low"},
    )
    assert status == 201
    (task,) = api.get("admin", f"/api/v1/tickets/{ticket['number']}/tasks")[1]
    assert api.post("audrey", f"/api/v1/tasks/{task['id']}/claim")[0] == 403
    assert sign_in(app, "audrey").post(f"/tasks/{task['id']}/claim").status_code == 403
    denied = events(database, "permission_denied")
    assert [(e.actor, e.changes["method"], e.changes["path"]) for e in denied] == [
        ("audrey", "POST", f"/api/v1/tasks/{task['id']}/claim"),
        ("audrey", "POST", f"/tasks/{task['id']}/claim"),
    ]
    assert api.get("admin", f"/api/v1/tickets/{ticket['number']}/tasks")[1][0]["assignee"] is None


def test_deleting_an_alert_rule_is_audited_and_the_auditor_filters_security_events(app, api, database):
    with database.reading() as db:
        rule = db.scalars(select(AlertRule).order_by(AlertRule.id)).first()
    assert sign_in(app, "admin").post(f"/admin/alerts/{rule.id}/delete").status_code == 302
    (deleted,) = events(database, "alert_rule_deleted")
    assert deleted.actor == "admin" and deleted.changes["rule"][0]["label"] == rule.label
    attempt(app, "admin", "guess")
    status, found = api.get("audrey", f"/api/v1/audit/events?from={TODAY}&to={TODAY}&category=security")
    kinds = {e["kind"] for e in found}
    assert status == 200 and {"alert_rule_deleted", "sign_in_failed", "sign_in", "token_created"} <= kinds
    status, found = api.get("audrey", f"/api/v1/audit/events?from={TODAY}&to={TODAY}&kind=sign_in_failed")
    assert status == 200 and [e["changes"]["username"] for e in found] == ["admin"]
    page = sign_in(app, "audrey").get("/audit/security?kind=alert_rule_deleted")
    assert page.status_code == 200 and "Alert rule deleted" in page.get_data(as_text=True)
