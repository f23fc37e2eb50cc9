"""A log worth tampering with: incidents with comments, and `flowdesk audit` run as a user would run it."""

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.payloads import incident


@pytest.fixture
def cli(database, monkeypatch):
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", database.url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def numbers(api):
    """Three incidents, each with a public comment by its requester and a work note by an agent."""
    made = []
    for title in ("Printer jam", "VPN drops", "Mail bounces"):
        status, body = api.post("alice", "/api/v1/incidents", incident(title))
        assert status == 201, body
        number = body["number"]
        assert api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "still broken"})[0] == 201
        note = {"body": "looking", "visibility": "internal"}
        assert api.post("sam", f"/api/v1/tickets/{number}/comments", note)[0] == 201
        made.append(number)
    return made
