"""Fixtures: a migrated, deployed and seeded database per test, on SQLite by default or on the
PostgreSQL named by FLOWDESK_TEST_DATABASE_URL; the Flask app and an API client on top of it."""

import os
import shutil
import socket
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from app import create_app, engine
from app.alerts import service as alerts
from app.config import Settings, normalise_database_url
from app.db import Database
from app.demo import seed
from app.identity.service import create_token, principal_by_name
from app.migrate import upgrade
from app.models import Base
from app.wiring import open_database

PG_URL = os.environ.get("FLOWDESK_TEST_DATABASE_URL")
# One audit key for the whole session and the servers and workers it starts (the template's events are chained
# under it).
os.environ.setdefault("FLOWDESK_AUDIT_KEY", "flowdesk-test-audit-key")


def _prepare(database: Database) -> None:
    with database.unit_of_work() as db:
        engine.deploy_directory(db)
        seed(db)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """SQLite: one prepared database file copied for each test. PostgreSQL: the migrated schema."""
    if PG_URL:
        database = open_database(normalise_database_url(PG_URL))
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(database)
        database.dispose()
        return None
    path = tmp_path_factory.mktemp("template") / "flowdesk.db"
    database = open_database(f"sqlite:///{path}")
    upgrade(database)
    _prepare(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def database(template, tmp_path, monkeypatch):
    if PG_URL:
        # The PostgreSQL database is the same for every test: each gets a checkpoint folder of its own (on SQLite
        # the default folder is beside each test's own database file).
        monkeypatch.setenv("FLOWDESK_AUDIT_CHECKPOINTS", str(tmp_path / "audit-checkpoints"))
        database = open_database(normalise_database_url(PG_URL))
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            conn.execute(
                text("INSERT INTO ticket_counter (kind, last) VALUES ('incident', 0), ('request', 0), ('problem', 0)")
            )
        with database.unit_of_work() as db:
            alerts.restore_default_rules(db)  # what migration 0012 wrote
        _prepare(database)
    else:
        path = tmp_path / "flowdesk.db"
        shutil.copy(template, path)
        database = open_database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def db(database):
    """A writer session for service-level tests (commit yourself, or use database.unit_of_work())."""
    session = database.writer()
    yield session
    session.rollback()
    session.close()


def who(db, username):
    return principal_by_name(db, username=username)


@pytest.fixture
def app(database):
    app = create_app(Settings.from_env(database_url=database.url, secret_key="test-secret"))
    app.config.update(TESTING=True)
    app.extensions["flowdesk.db"].dispose()
    app.extensions["flowdesk.db"] = database
    return app


class ApiClient:
    """Calls the API as a named demo user with a real bearer token."""

    def __init__(self, app, database):
        self.client = app.test_client()
        self.database = database
        self.tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self.tokens:
            with self.database.unit_of_work() as db:
                self.tokens[user] = create_token(db, username=user)
        return self.tokens[user]

    def call(self, user, method, path, body=None, raw=None, content_type="application/json"):
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        kwargs = {"headers": headers}
        if raw is not None:
            kwargs.update(data=raw, content_type=content_type)
        elif body is not None:
            kwargs["json"] = body
        response = self.client.open(path, method=method, **kwargs)
        return response.status_code, response.get_json(silent=True)

    def get(self, user, path):
        return self.call(user, "GET", path)

    def post(self, user, path, body=None, **kw):
        return self.call(user, "POST", path, body if body is not None else {}, **kw)


@pytest.fixture
def api(app, database):
    return ApiClient(app, database)


def sign_in(app, username: str):
    """A test client signed in as a demo user through the sign-in form (CSRF checks off: the authorization
    matrix signs in with the token instead)."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "demo"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def signed_in(app):
    """signed_in("sam"): a test client signed in as sam."""
    return lambda username: sign_in(app, username)


def work(api, user, number, data, element=None):
    """Complete the ticket's only open task (or its open task for element) as user; returns the ticket after it."""
    status, tasks = api.get("admin", f"/api/v1/tickets/{number}/tasks")
    if element:
        tasks = [t for t in tasks if t["element_id"] == element]
    assert status == 200 and len(tasks) == 1, tasks
    status, body = api.post(user, f"/api/v1/tasks/{tasks[0]['id']}/complete", {"data": data})
    assert status == 200, body
    return body["ticket"]


PROJECT = Path(__file__).resolve().parent.parent


# --- sequence-flow coverage of the bundled diagrams -------------------------------------------------

TAKEN: set[tuple[str, str, str]] = set()


def pytest_configure(config):
    from app.engine import runtime
    from app.wiring import wire

    wire()  # tests that run the engine alone (no database opened) still offer the diagrams their helpers
    runtime.flow_observer = lambda process, source, target: TAKEN.add((process, source, target))


def flow_coverage() -> dict[str, tuple[int, list[str]]]:
    """Process id -> (flows taken, ids of the flows no test took)."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    result = {}
    for path in sorted((PROJECT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path))
        process = tree.find("bpmn:process", ns).get("id")
        flows = tree.findall(".//bpmn:sequenceFlow", ns)
        missing = [f.get("id") for f in flows if (process, f.get("sourceRef"), f.get("targetRef")) not in TAKEN]
        result[process] = (len(flows) - len(missing), missing)
    return result


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TAKEN:
        return
    terminalreporter.section("sequence-flow coverage")
    for process, (taken, missing) in flow_coverage().items():
        total = taken + len(missing)
        terminalreporter.write_line(f"{process}: {taken}/{total} flows taken ({100 * taken / total:.0f}%)")
        if missing:
            terminalreporter.write_line(f"  not taken: {', '.join(missing)}")


def pytest_sessionfinish(session, exitstatus):
    # `make test` sets this on the full run: a flow no test takes fails the suite.
    required = os.environ.get("FLOWDESK_REQUIRE_FLOW_COVERAGE") == "1" and exitstatus == 0 and TAKEN
    if required and any(missing for _taken, missing in flow_coverage().values()):
        session.exitstatus = 1


def tamper(database, statement: str, **params) -> None:
    """Change audit rows behind Flowdesk's back, as someone with the database owner's rights could:
    the append-only triggers are switched off for the statement (and back on, on PostgreSQL)."""
    with database.write_engine.begin() as conn:
        if database.is_sqlite:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            conn.execute(text(statement), params)
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
            conn.execute(text(statement), params)
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


# --- a real mail server for the tests that read mail ---------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("FLOWDESK_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    yield inbox
    controller.stop()
