"""Who may do what: the auditor changes nothing anywhere; sign-in is throttled; tokens are stored hashed."""

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.security import SECURITY_KINDS
from app.identity.models import ApiToken
from tests.payloads import incident

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def test_the_auditor_cannot_change_anything_through_the_api(api, app, database):
    number = api.post("alice", "/api/v1/incidents", incident("Mail"))[1]["number"]
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    instance = api.get("sam", f"/api/v1/tickets/{number}")[1]["instance_id"]
    values = {"number": number, "task_id": task["id"], "process_id": "incident", "instance_id": str(instance)}
    bodies = {"/api/v1/incidents": incident("x")}
    api.token("audrey")
    with database.reader() as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind.not_in(SECURITY_KINDS)))
    tried = 0
    # Marking one's own notifications read changes no ticket, process or log: the auditor may do it.
    personal = {"/api/v1/notifications/read"}
    for rule in (r for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and r.rule not in personal):
        for method in sorted((rule.methods or set()) & CHANGING):
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<{name}>", value).replace(f"<int:{name}>", value)
            status, _ = api.call("audrey", method, path, bodies.get(path, {"data": {}}))
            assert status in (403, 404, 422), (method, path, status)
            tried += 1
    assert tried >= 10
    with database.reader() as db:
        assert (
            db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind.not_in(SECURITY_KINDS)))
            == before
        ), "nothing was written (but the refusals, as security events)"


def test_repeated_wrong_passwords_slow_that_client_down_but_lock_nobody_out(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    for _ in range(6):
        assert client.post("/login", data={"username": "sam", "password": "guess"}).status_code == 401
    waiting = client.post("/login", data={"username": "sam", "password": "demo"})
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    elsewhere = app.test_client().post(
        "/login", data={"username": "sam", "password": "demo"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert elsewhere.status_code == 302, "sam signs in from another address"


def test_api_tokens_are_stored_as_hashes(api, database):
    token = api.token("sam")
    with database.reader() as db:
        stored = db.scalars(select(ApiToken.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


OWN_THINGS = ("web.login", "web.logout", "web.notifications_read", "web.save_ticket_view", "web.delete_ticket_view")


def test_the_auditor_cannot_change_anything_through_the_pages(api, app, database):
    """Every POST route of the web pages, signed in as the auditor (with CSRF off so the check is the role's)."""
    number = api.post("alice", "/api/v1/incidents", incident("Mail"))[1]["number"]
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    values = {"number": number, "task_id": task["id"], "process_id": "incident"}
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "audrey", "password": "demo"}).status_code == 302
    with database.reader() as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind.not_in(SECURITY_KINDS)))
    tried = 0
    for rule in app.url_map.iter_rules():
        # Their own sign-in, notifications read and views of the ticket list are the auditor's, not the desk's data.
        if rule.rule.startswith("/api/") or rule.endpoint in OWN_THINGS:
            continue
        for method in sorted((rule.methods or set()) & CHANGING):
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<{name}>", value)
            response = client.open(path, method=method, json={"bpmn": "<x/>", "files": {}}, data=None)
            assert response.status_code in (403, 404, 422), (method, path, response.status_code)
            tried += 1
    assert tried >= 10, tried
    with database.reader() as db:
        assert (
            db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind.not_in(SECURITY_KINDS)))
            == before
        ), "nothing was written (but the refusals, as security events)"
