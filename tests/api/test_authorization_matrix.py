"""Who may call which route, checked route by route and role by role, and the web-security basics.

The matrix: every rule of the app's url_map (but static files), for each of its methods, is called by each demo
role and by an anonymous visitor (pages with a session cookie from a real sign-in, the API with a bearer token),
with route parameters naming real demo objects: alice's incident and its open task, the incident process, a
failed job, an alert rule. Each answer must be what the table below says for that role. A route missing from
the table fails, so a new route cannot slip past; no answer may be a 5xx; and a refused call changes nothing
in the database. Refused roles are called first, so what an allowed role changes cannot mask a refusal.

Object-level probes ride on the matrix: ramon (a requester) names alice's ticket and its task on every route,
and nina, lee, olivia, audrey and admin name a task of the service desk's queue. Two more probes below cover
tasks held by someone else. The auditor changing nothing is tests/api/test_permissions.py's; completing a task
from outside its groups through the API is tests/tickets/test_incident_api.py's.

Then: CSRF on every page that accepts a POST, the session cookie's flags, sign-in throttling, where a sign-in
may send the browser next, and the security headers of pages and API answers.
"""

import io
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import text as sql

from app import create_app
from app.alerts.models import AlertRule
from app.audit.models import AuditEvent
from app.audit.security import SECURITY_KINDS
from app.config import Settings
from app.identity import service as identity
from app.jobs.models import Job
from app.models import Base
from tests.conftest import PROJECT
from tests.payloads import incident

# --- who calls ------------------------------------------------------------------------------------------

# Column order of the table: the role each demo user stands for (None: nobody is signed in).
ACTORS = {
    "anonymous": None,
    "requester": "alice",  # raised the demo ticket
    "other requester": "ramon",
    "service desk (level 1)": "sam",
    "network specialist (level 2)": "nina",
    "infrastructure specialist (level 3)": "lee",
    "manager": "maria",
    "finance approver": "fred",
    "process owner": "olivia",
    "auditor": "audrey",
    "admin": "admin",
    "monitoring integration": "monitor",
}

# Outcome codes. Y: reaches the route (2xx, 3xx, or 400/409/422: the body or the object's state is refused,
# not the caller); F: 403; U: 401; H: 404 (the object is hidden from the caller); L: sent to sign in first.
OUTCOMES = set("YFUHL")

# fmt: off
TABLE = [
    # an al ra sa ni le ma fr ol au ad mo    an: anonymous, al: alice, ra: ramon, sa: sam, ni: nina, le: lee,
    #                                        ma: maria, fr: fred, ol: olivia, au: audrey, ad: admin, mo: monitor
    ("Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/"),  # anonymous: a redirect to the sign-in page
    ("Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/login"),
    ("Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/login"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/logout"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/inbox"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/notifications"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/notifications/read"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/portal"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/portal/catalog/<key>"),
    ("L  Y  Y  Y  Y  Y  Y  Y  F  F  Y  F", "POST", "/portal/catalog/<key>"),
    ("L  Y  Y  Y  Y  Y  Y  Y  F  F  Y  Y", "POST", "/portal/incidents"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/tickets"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/tickets.csv"),
    ("L  F  F  Y  Y  Y  F  F  F  F  F  F", "POST", "/tickets/bulk"),
    ("L  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/tickets/views"),
    ("L  H  H  Y  H  H  H  H  H  H  H  H", "POST", "/tickets/views/<int:view_id>/delete"),
    ("L  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/tickets/<number>"),
    ("L  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/comments"),
    ("L  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/attachments"),
    ("L  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/attachments/<int:attachment_id>"),
    ("L  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/major"),
    ("L  F  F  Y  Y  Y  F  F  F  F  F  F", "POST", "/tickets/<number>/problem"),
    ("L  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/problem/link"),
    ("L  Y  H  Y  Y  Y  H  H  Y  F  Y  H", "POST", "/tickets/<number>/watch"),
    ("L  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/edit"),
    ("L  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/cancel"),
    ("L  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/links"),
    ("L  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/tickets/<number>/follow-up"),
    ("L  F  H  Y  F  F  H  H  F  F  F  H", "GET", "/tasks/<task_id>"),
    ("L  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/tasks/<task_id>"),
    ("L  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/tasks/<task_id>/claim"),
    ("L  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/tasks/<task_id>/unclaim"),
    ("L  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/audit"),
    ("L  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/audit/processes/<process_id>"),
    ("L  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/audit/security"),
    ("L  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/audit/tickets/<number>"),
    ("L  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/audit/tickets/<number>/history.<fmt>"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "GET", "/studio"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "POST", "/studio/<process_id>/check"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "POST", "/studio/<process_id>/deploy"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "GET", "/studio/<process_id>/diff"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "GET", "/studio/<process_id>/versions/<int:version>"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "GET", "/studio/<process_id>/versions/<int:version>/files/<path:name>"),
    ("L  F  F  F  F  F  F  F  Y  F  Y  F", "POST", "/studio/forms/preview"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "GET", "/admin/jobs"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "POST", "/admin/jobs/<int:job_id>/retry"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "GET", "/admin/alerts"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "POST", "/admin/alerts"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "POST", "/admin/alerts/<int:rule_id>/delete"),
    ("L  F  F  F  F  F  F  F  F  F  Y  F", "POST", "/admin/alerts/defaults"),
    # an al ra sa ni le ma fr ol au ad mo    the REST API, with bearer tokens
    ("Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/health"),
    ("Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/openapi.json"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/catalog"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/incidents"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/tickets"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/tickets.csv"),
    ("U  F  F  Y  Y  Y  F  F  F  F  F  F", "POST", "/api/v1/tickets/bulk"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/views"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/api/v1/views"),
    ("U  H  H  Y  H  H  H  H  H  H  H  H", "DELETE", "/api/v1/views/<int:view_id>"),
    ("U  Y  Y  Y  Y  Y  Y  Y  F  F  Y  Y", "POST", "/api/v1/incidents"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/incidents/<number>"),
    ("U  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/incidents/<number>/major"),
    ("U  Y  Y  Y  Y  Y  Y  Y  F  F  Y  F", "POST", "/api/v1/requests"),
    ("U  F  F  Y  Y  Y  F  F  F  F  F  F", "POST", "/api/v1/problems"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>"),
    ("U  F  H  Y  Y  Y  H  H  F  F  F  H", "PATCH", "/api/v1/tickets/<number>"),
    ("U  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/cancel"),
    ("U  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/links"),
    ("U  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/follow-up"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>/tasks"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>/history"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>/history.csv"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>/comments"),
    ("U  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/comments"),
    ("U  F  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/problem"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/tickets/<number>/attachments"),
    ("U  Y  H  Y  Y  Y  H  H  F  F  F  H", "POST", "/api/v1/tickets/<number>/attachments"),
    ("U  Y  H  Y  Y  Y  H  H  Y  Y  Y  H", "GET", "/api/v1/attachments/<int:attachment_id>"),
    ("U  Y  H  Y  Y  Y  H  H  Y  F  Y  H", "POST", "/api/v1/tickets/<number>/watchers"),
    ("U  Y  H  Y  Y  Y  H  H  F  F  F  H", "DELETE", "/api/v1/tickets/<number>/watchers/<username>"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/tasks"),
    ("U  F  H  Y  F  F  H  H  F  F  F  H", "GET", "/api/v1/tasks/<task_id>"),
    ("U  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/api/v1/tasks/<task_id>/claim"),
    ("U  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/api/v1/tasks/<task_id>/unclaim"),
    ("U  F  H  Y  F  F  H  H  F  F  F  H", "POST", "/api/v1/tasks/<task_id>/complete"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "GET", "/api/v1/notifications"),
    ("U  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y", "POST", "/api/v1/notifications/read"),
    ("U  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/api/v1/processes"),
    ("U  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/api/v1/processes/<process_id>/versions/<int:version>"),
    ("U  F  F  F  F  F  F  F  Y  F  F  F", "POST", "/api/v1/processes/<process_id>/versions"),
    ("U  F  F  F  F  F  F  F  Y  F  Y  F", "POST", "/api/v1/processes/<process_id>/instances"),
    ("U  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/api/v1/instances/<int:instance_id>"),
    ("U  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/api/v1/instances/<int:instance_id>/history"),
    ("U  F  F  F  F  F  F  F  Y  Y  Y  F", "GET", "/api/v1/audit/events"),
    ("U  F  F  F  F  F  F  F  F  F  F  Y", "POST", "/api/v1/alerts/alertmanager"),
]
# fmt: on

EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    (method, rule): dict(zip(ACTORS, codes.split(), strict=True)) for codes, method, rule in TABLE
}

# --- what is sent ---------------------------------------------------------------------------------------

TICKET, PROBLEM, PARENT = "INC0000001", "PRB0000001", "INC0000002"
INCIDENT = incident("Printer on fire")
RESOLVE = {
    "category": "application",
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
}
COMMENT = {"body": "Any news?", "visibility": "public"}
NEW_PROBLEM = {"title": "Mail relay keeps crashing"}
# What a ticket hands its incident process, for a process owner trying the diagram without a ticket.
TRIAL_RUN = {
    "number": "TRY0000001",
    "requester": "olivia",
    "title": "Trying the diagram",
    "description": "",
    "resume_at": None,
    "raised_by_integration": False,
    "opened_at": "2026-01-05T09:00:00+00:00",
    "impact": "low",
    "urgency": "low",
    "service": None,
    "ci": None,
    "category": None,
}


def router_log(field: str) -> dict:
    return {"data": {field: (io.BytesIO(b"link down at 09:12"), "router.log")}, "content_type": "multipart/form-data"}


# Bodies an allowed role would really send (test client keyword arguments); others get an empty form or object.
# A body with a file is made again for each call (its stream is read once).
BODIES = {
    ("POST", "/tickets/<number>/attachments"): lambda: router_log("attach_file"),
    ("POST", "/api/v1/tickets/<number>/attachments"): lambda: router_log("file"),
    ("POST", "/login"): {"data": {"username": "alice", "password": "demo"}},
    ("POST", "/portal/catalog/<key>"): {"data": {"account": "alice"}},
    ("POST", "/portal/incidents"): {"data": INCIDENT},
    ("POST", "/tickets/<number>/comments"): {"data": COMMENT},
    ("POST", "/tickets/bulk"): {"data": {"ticket": TICKET, "action": "watch"}},
    ("POST", "/tickets/views"): {"data": {"name": "Incidents", "kind": "incident"}},
    ("POST", "/tickets/<number>/problem"): {"data": NEW_PROBLEM},
    ("POST", "/tickets/<number>/problem/link"): {"data": {"problem": PROBLEM}},
    ("POST", "/tasks/<task_id>"): {"data": RESOLVE},
    ("POST", "/tickets/<number>/edit"): {"data": {"title": "Mail is down for the whole floor", "impact": "medium"}},
    ("POST", "/tickets/<number>/cancel"): {"data": {"reason": "Raised twice"}},
    ("POST", "/tickets/<number>/links"): {"data": {"kind": "parent", "ticket": PARENT}},
    ("POST", "/tickets/<number>/follow-up"): {"data": {"description": "It broke again"}},
    ("POST", "/studio/<process_id>/check"): {"json": {"files": {}}},
    ("POST", "/studio/<process_id>/deploy"): {"json": {"files": {}}},
    ("POST", "/studio/forms/preview"): {"json": {"schema": {"type": "object", "properties": {}}, "ui": {}}},
    ("POST", "/admin/alerts"): {"data": {"label": "team", "match": "*", "field": "service", "value": ""}},
    ("POST", "/api/v1/incidents"): {"json": INCIDENT},
    ("POST", "/api/v1/requests"): {"json": {"item": "password-reset", "fields": {"account": "alice"}}},
    ("POST", "/api/v1/problems"): {"json": {**NEW_PROBLEM, "incidents": []}},
    ("POST", "/api/v1/tickets/<number>/comments"): {"json": COMMENT},
    ("POST", "/api/v1/tickets/bulk"): {"json": {"tickets": [TICKET], "action": "watch"}},
    ("POST", "/api/v1/views"): {"json": {"name": "Incidents", "filters": {"kind": "incident"}}},
    ("POST", "/api/v1/tickets/<number>/problem"): {"json": {"problem": PROBLEM}},
    ("PATCH", "/api/v1/tickets/<number>"): {"json": {"title": "Mail is down for the whole floor"}},
    ("POST", "/api/v1/tickets/<number>/cancel"): {"json": {"reason": "Raised twice"}},
    ("POST", "/api/v1/tickets/<number>/links"): {"json": {"kind": "parent", "ticket": PARENT}},
    ("POST", "/api/v1/tickets/<number>/follow-up"): {"json": {"description": "It broke again"}},
    ("POST", "/api/v1/tasks/<task_id>/complete"): {"json": {"data": RESOLVE}},
    ("POST", "/api/v1/processes/<process_id>/versions"): {
        "data": (PROJECT / "processes" / "incident.bpmn").read_text(encoding="utf-8"),
        "content_type": "application/xml",
    },
    ("POST", "/api/v1/processes/<process_id>/instances"): {"json": {"data": TRIAL_RUN}},
    ("POST", "/api/v1/alerts/alertmanager"): {"json": {"version": "4", "alerts": []}},
}
# Routes that need the demo ticket in another state than open: the change made before the calls.
CLOSED_FIRST = {"/tickets/<number>/follow-up", "/api/v1/tickets/<number>/follow-up"}
QUERIES = {
    "/studio/<process_id>/diff": {"from": 1, "to": 1},
    "/api/v1/audit/events": {"from": "2000-01-01", "to": "2100-12-31"},
}


def is_api(rule: str) -> bool:
    return rule.startswith("/api/")


def request_kwargs(method: str, rule: str) -> dict:
    """Test client arguments: the route's body (by default an empty form, or an empty JSON object for the API;
    none for GET and DELETE) and its query string."""
    if method in ("GET", "DELETE"):
        body = {}
    else:
        body = BODIES.get((method, rule)) or ({"json": {}} if is_api(rule) else {"data": {}})
        body = body() if callable(body) else body
    return {**body, "query_string": QUERIES.get(rule, {})}


def fill(rule: str, values: dict[str, str]) -> str:
    """The rule's path with each <converter:name> replaced by the demo object of that name."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


def app_routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def _collected_routes() -> list[tuple[str, str]]:
    """The routes at collection time, from an app on an unused in-memory database (the rules need none)."""
    app = create_app(Settings.from_env(database_url="sqlite:///:memory:", secret_key="routes-only"))
    app.extensions["flowdesk.db"].dispose()
    return app_routes(app)


ROUTES = _collected_routes()
PAGE_POSTS = [(method, rule) for method, rule in ROUTES if method == "POST" and not is_api(rule)]


def route_id(route: tuple[str, str]) -> str:
    return " ".join(route)


# --- answers --------------------------------------------------------------------------------------------


def outcome(response) -> str:
    """The outcome code of an answer (see OUTCOMES), or its status when it is none of them."""
    status = response.status_code
    if 300 <= status < 400 and is_sign_in_wall(response.headers.get("Location", "")):
        return "L"
    if status < 400 or status in (400, 409, 422):
        return "Y"
    return {401: "U", 403: "F", 404: "H"}.get(status, str(status))


def is_sign_in_wall(location: str) -> bool:
    """Flask-Login's redirect to the sign-in page, which names the page to return to."""
    parts = urlsplit(location)
    return parts.path == "/login" and "next" in parse_qs(parts.query)


def text(response) -> str:
    return response.get_data(as_text=True)


def snapshot(database) -> dict[str, list[str]]:
    """Every row of every table, to tell that a refused call changed nothing: but the security events of the audit
    log, where a refusal is written down (tests/web/test_security_events.py checks them)."""
    with database.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(_without_security_events(table)))
            for table in Base.metadata.sorted_tables
        }


def _without_security_events(table):
    if table.name != AuditEvent.__tablename__:
        return select(table)
    return select(table).where(table.c.kind.not_in(SECURITY_KINDS))


# --- signing in -----------------------------------------------------------------------------------------

# Session cookies from a real sign-in, one per user. Flask's cookie is signed with the test secret key and the
# demo users have the same ids in every test database, so a cookie serves every test (and a sign-in, with its
# password hash check, is done once per user rather than once per call).
_SESSION_COOKIES: dict[str, str] = {}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def signed_in(app, username: str | None) -> FlaskClient:
    """A test client signed in as username through the sign-in form (anonymous for None)."""
    client = app.test_client()
    if username is None:
        return client
    if username in _SESSION_COOKIES:
        client.set_cookie("session", _SESSION_COOKIES[username])
        return client
    token = csrf_token(text(client.get("/login")))
    response = client.post("/login", data={"username": username, "password": "demo", "csrf_token": token})
    assert response.status_code == 302, f"{username} cannot sign in: {response.status_code}"
    _SESSION_COOKIES[username] = client.get_cookie("session").value
    return client


@dataclass
class Caller:
    """One actor's way in: a browser session for the pages, a bearer token (and no cookie) for the API."""

    client: FlaskClient
    headers: dict

    def __call__(self, method: str, path: str, **kwargs):
        return self.client.open(path, method=method, headers=self.headers, **kwargs)


def caller(app, api, username: str | None, rule: str) -> Caller:
    if not is_api(rule):
        return Caller(signed_in(app, username), {})
    headers = {"Authorization": f"Bearer {api.token(username)}"} if username else {}
    return Caller(app.test_client(), headers)


# --- the demo objects the route parameters name ---------------------------------------------------------


@pytest.fixture
def demo(api, database) -> dict[str, str]:
    """alice's incident with the service desk's open task, a problem of sam's, an incident of sam's (a parent to
    link to), a failed job, an alert rule."""
    status, ticket = api.post("alice", "/api/v1/incidents", {**INCIDENT, "title": "Mail is down"})
    assert status == 201 and ticket["number"] == TICKET, ticket
    (task,) = api.get("admin", f"/api/v1/tickets/{TICKET}/tasks")[1]
    assert task["candidate_groups"] == ["service-desk"] and task["assignee"] is None
    status, problem = api.post("sam", "/api/v1/problems", {**NEW_PROBLEM, "incidents": []})
    assert status == 201 and problem["number"] == PROBLEM, problem
    status, parent = api.post("sam", "/api/v1/incidents", {**INCIDENT, "title": "The mail relay is down"})
    assert status == 201 and parent["number"] == PARENT, parent
    with database.unit_of_work() as db:
        job = db.scalars(select(Job).where(Job.instance_id == ticket["instance_id"]).order_by(Job.id)).first()
        job.status, job.last_error = "failed", "ZeroDivisionError: division by zero"
        job_id, rule_id = job.id, db.scalars(select(AlertRule.id).order_by(AlertRule.id)).first()
    status, view = api.post("sam", "/api/v1/views", {"name": "Critical", "filters": {"priority": "critical"}})
    assert status == 201, view
    status, attached = api.call(
        "alice",
        "POST",
        f"/api/v1/tickets/{TICKET}/attachments",
        raw={"file": (io.BytesIO(b"PNG?"), "screen.png")},
        content_type="multipart/form-data",
    )
    assert status == 201, attached
    return {
        "attachment_id": str(attached["id"]),  # alice's public file on her ticket
        "number": TICKET,
        "task_id": task["id"],
        "instance_id": str(ticket["instance_id"]),
        "process_id": "incident",
        "version": "1",
        "name": "forms/incident_diagnose.schema.json",
        "fmt": "csv",
        "key": "password-reset",
        "job_id": str(job_id),
        "rule_id": str(rule_id),
        "view_id": view["key"],  # sam's saved view
        "username": "alice",  # DELETE .../watchers/<username>: stop alice following her ticket
    }


# --- 1. the role x route matrix -------------------------------------------------------------------------


def test_the_table_lists_exactly_the_routes_of_the_app(app):
    rows = [(method, rule) for _codes, method, rule in TABLE]
    assert len(rows) == len(set(rows)), "a route is in the table twice"
    missing = sorted(set(app_routes(app)) - set(rows))
    stale = sorted(set(rows) - set(app_routes(app)))
    assert not missing, f"routes with no row in the authorization table: {missing}"
    assert not stale, f"rows for routes the app no longer has: {stale}"
    assert set(BODIES) <= set(rows) and set(QUERIES) <= {rule for _method, rule in rows}, "a body or query is stale"
    for key, expected in EXPECTED.items():
        assert set(expected.values()) <= OUTCOMES, key
        if is_api(key[1]):
            assert "L" not in expected.values(), f"the API answers 401, it never redirects to sign in: {key}"


@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=map(route_id, ROUTES))
def test_each_role_gets_what_the_table_says(method, rule, app, api, database, demo):
    expected = EXPECTED.get((method, rule))
    assert expected is not None, f"{method} {rule} has no row in the authorization table: add one"
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test below: here the answer is the role's
    path = fill(rule, demo)
    if rule in CLOSED_FIRST:  # a follow-up is opened only of a closed ticket
        with database.write_engine.begin() as conn:
            conn.execute(sql("UPDATE ticket SET status = 'Closed' WHERE number = :number"), {"number": TICKET})
    callers = {actor: caller(app, api, username, rule) for actor, username in ACTORS.items()}
    refused_first = sorted(ACTORS, key=lambda actor: expected[actor] == "Y")
    before = snapshot(database)
    wrong, succeeded = [], []
    for actor in refused_first:
        response = callers[actor](method, path, **request_kwargs(method, rule))
        assert response.status_code < 500, f"{actor}: {method} {path} failed with {response.status_code}"
        got = outcome(response)
        if got != expected[actor]:
            wrong.append(f"{actor} ({ACTORS[actor]}): expected {expected[actor]}, got {got} ({response.status})")
        if response.status_code < 400:
            succeeded.append(actor)
        if expected[actor] != "Y":
            assert snapshot(database) == before, f"the refused call of the {actor} changed the database"
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)
    assert succeeded, f"no role got a 2xx or 3xx from {method} {path}: do its parameters name real objects?"


# --- 2. object-level probes the matrix does not cover ---------------------------------------------------


def open_task_of(api, number: str) -> dict:
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    return task


def test_the_service_desk_cannot_confirm_a_resolution_for_the_requester(app, api, demo):
    api.post("sam", f"/api/v1/tasks/{demo['task_id']}/complete", {"data": RESOLVE})
    confirm = open_task_of(api, TICKET)
    assert (confirm["element_id"], confirm["assignee"]) == ("confirm_resolution", "alice")
    app.config["WTF_CSRF_ENABLED"] = False
    response = signed_in(app, "sam").post(f"/tasks/{confirm['id']}", data={"accepted": "true"})
    assert response.status_code == 403 and "for its candidate groups or its assignee" in text(response)
    assert open_task_of(api, TICKET)["id"] == confirm["id"], "the confirmation still waits for alice"
    assert api.get("alice", f"/api/v1/tickets/{TICKET}")[1]["status"] == "Resolved"


def test_a_task_claimed_by_one_agent_is_not_completed_by_a_colleague(app, api, demo):
    assert api.post("sam", f"/api/v1/tasks/{demo['task_id']}/claim")[0] == 200
    app.config["WTF_CSRF_ENABLED"] = False
    response = signed_in(app, "sara").post(f"/tasks/{demo['task_id']}", data=RESOLVE)
    assert response.status_code == 409 and "claimed by sam" in text(response)
    task = open_task_of(api, TICKET)
    assert (task["id"], task["assignee"]) == (demo["task_id"], "sam")
    assert api.get("alice", f"/api/v1/tickets/{TICKET}")[1]["status"] != "Resolved"


def test_the_api_does_not_take_the_session_cookie_for_a_token(app, database):
    """The API is exempt from CSRF because only a bearer token signs its calls in: a browser's cookie must not."""
    client = signed_in(app, "sam")
    before = snapshot(database)
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.post("/api/v1/incidents", json=INCIDENT).status_code == 401
    assert snapshot(database) == before


# --- 3. CSRF on every form ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "rule"), PAGE_POSTS, ids=map(route_id, PAGE_POSTS))
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(method, rule, app, database, demo):
    expected = EXPECTED[(method, rule)]
    username = next(ACTORS[actor] for actor, code in expected.items() if code == "Y" and ACTORS[actor])
    client = signed_in(app, username)
    before = snapshot(database)
    response = client.open(fill(rule, demo), method=method, **request_kwargs(method, rule))
    assert response.status_code == 400, f"{username} posted to {rule} without a token: {response.status}"
    assert "CSRF token is missing" in text(response)
    assert snapshot(database) == before
    assert client.get("/notifications").status_code == 200, f"{username} is still signed in"


def test_a_token_works_in_its_own_session_only(app, database):
    alice, sam = signed_in(app, "alice"), signed_in(app, "sam")
    token = csrf_token(text(alice.get("/portal")))
    forged = sam.post("/portal/incidents", data={**INCIDENT, "csrf_token": token})
    assert forged.status_code == 400, "a token read from alice's page does not sign sam's form"
    reported = alice.post("/portal/incidents", data={**INCIDENT, "csrf_token": token})
    assert reported.status_code == 302 and reported.headers["Location"] == f"/tickets/{TICKET}"


# --- 4. the session cookie ------------------------------------------------------------------------------


def session_cookie_attributes(response) -> set[str]:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def sign_in_response(app):
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/login", data={"username": "alice", "password": "demo"})
    assert response.status_code == 302
    return response


def test_the_session_cookie_is_http_only_and_same_site_lax(app):
    response = sign_in_response(app)
    attributes = session_cookie_attributes(response)
    assert {"httponly", "samesite=lax"} <= attributes
    assert "secure" not in attributes, "on a plain-http base URL the browser must still send it back"
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]


def test_behind_https_the_session_cookie_is_secure(database):
    settings = Settings.from_env(database_url=database.url, secret_key="test-secret", base_url="https://desk.example")
    app = create_app(settings)
    app.extensions["flowdesk.db"].dispose()
    app.extensions["flowdesk.db"] = database
    assert {"httponly", "samesite=lax", "secure"} <= session_cookie_attributes(sign_in_response(app))


# --- 5. sign-in throttling ------------------------------------------------------------------------------


def sign_in(app, username: str, password: str):
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client().post("/login", data={"username": username, "password": password})


def login_error(response) -> str:
    match = re.search(r'id="login-error">([^<]*)<', text(response))
    assert match, "no sign-in error is shown"
    return match.group(1)


def test_a_refused_sign_in_does_not_tell_whether_the_account_exists(app, monkeypatch):
    """Unknown name or wrong password: the same answer, after the same password check. Throttling (tests/web/
    test_sign_in_throttle.py) counts names that do not exist like names that do, so it tells nothing either."""
    checks = []
    real_verify = identity._verify

    def counted_verify(hashed: str, password: str) -> bool:
        checks.append(hashed)
        return real_verify(hashed, password)

    monkeypatch.setattr(identity, "_verify", counted_verify)
    answers = {}
    for case, (username, password) in {
        "unknown user": ("nobody", "demo"),
        "wrong password": ("alice", "guess"),
    }.items():
        checks.clear()
        response = sign_in(app, username, password)
        answers[case] = (response.status_code, login_error(response))
        assert len(checks) == 1, f"{case}: {len(checks)} password checks"
    assert len(set(answers.values())) == 1, answers
    assert answers["unknown user"] == (401, "Unknown user or wrong password.")


# --- where a sign-in sends the browser ------------------------------------------------------------------


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https:evil.example", "javascript:alert(1)"])
def test_the_sign_in_sends_the_browser_nowhere_off_the_site(app, target):
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post(
        "/login", query_string={"next": target}, data={"username": "alice", "password": "demo"}
    )
    location = response.headers["Location"]
    as_browser_reads_it = urlsplit(location.replace("\\", "/"))
    assert response.status_code == 302 and location.startswith("/")
    assert not as_browser_reads_it.scheme and not as_browser_reads_it.netloc, location


# --- 6. security headers --------------------------------------------------------------------------------

POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": ["'self'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}

# (what, who, path, status): pages, redirects, error pages, API answers and refusals, an export, a static file.
ANSWERS = [
    ("a page", "alice", "/portal", 200),
    ("the sign-in page", None, "/login", 200),
    ("the sign-in wall", None, "/inbox", 302),
    ("a refused page", "alice", "/admin/jobs", 403),
    ("a missing page", "alice", "/tickets/INC9999999", 404),
    ("a static file", None, "/static/flowdesk.css", 200),
    ("an API answer", "audrey", "/api/v1/processes", 200),
    ("an API export", "audrey", "/api/v1/audit/events?from=2000-01-01&to=2100-12-31&format=csv", 200),
    ("an API refusal", None, "/api/v1/tasks", 401),
    ("an unknown API path", "audrey", "/api/v1/nothing-here", 404),
]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize(("what", "username", "path", "status"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_every_answer_carries_strict_security_headers(what, username, path, status, app, api):
    headers = {"Authorization": f"Bearer {api.token(username)}"} if username and is_api(path) else {}
    client = app.test_client() if is_api(path) else signed_in(app, username)
    response = client.get(path, headers=headers)
    assert response.status_code == status, what
    policy = csp_directives(response.headers["Content-Security-Policy"])
    assert policy == POLICY
    assert not {"'unsafe-eval'", "'unsafe-inline'", "*", "data:", "http:", "https:"} & set(policy["script-src"])
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
