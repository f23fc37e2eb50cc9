"""The flowdesk command line: upgrade, deploy, seed-demo, token, audit verify."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.cli import main
from tests.conftest import tamper
from tests.payloads import incident

MINI = Path(__file__).parent / "data" / "mini"


@pytest.fixture
def cli(database, monkeypatch):
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", database.url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_upgrade_is_idempotent(cli):
    result = cli("db", "upgrade")
    assert result.exit_code == 0 and "latest schema" in result.output


def test_deploy_prints_versions_and_keeps_unchanged_ones(cli, tmp_path):
    root = tmp_path / "bundle"
    shutil.copytree(MINI, root)
    first = cli("deploy", str(root))
    assert first.exit_code == 0 and "mini version 1 (deployed)" in first.output
    again = cli("deploy", str(root))
    assert "mini version 1 (unchanged)" in again.output


def test_deploy_refuses_a_broken_bundle_with_one_line_per_problem(cli, tmp_path):
    root = tmp_path / "bundle"
    shutil.copytree(MINI, root)
    bpmn = root / "processes" / "mini.bpmn"
    bpmn.write_text(
        bpmn.read_text()
        .replace('targetRef="end_done"', 'targetRef="Nowhere"')
        .replace("rounds = rounds + 1 if rounds else 1", "import os")
    )
    result = CliRunner().invoke(main, ["deploy", str(root)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any("mini.bpmn" in line and "f_done" in line and "Nowhere" in line for line in lines), lines
    assert any("mini.bpmn" in line and "prep" in line and "import" in line for line in lines), lines


def test_the_projects_own_processes_are_deployed_by_default(cli):
    result = cli("deploy")
    assert result.exit_code == 0 and "incident version 1 (unchanged)" in result.output


def test_seed_demo_is_idempotent_and_tokens_work(cli, api):
    assert cli("seed-demo").exit_code == 0
    assert "0 users created" in cli("seed-demo").output
    token = cli("token", "sam").output.strip().splitlines()[-1]
    response = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert CliRunner().invoke(main, ["token", "nobody"]).exit_code == 2


def test_audit_verify_names_the_first_edited_event(cli, api, database):
    api.post("alice", "/api/v1/incidents", incident("Printer jam"))
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with database.reader() as db:
        victim = db.execute(text("SELECT min(id) FROM audit_event WHERE kind = 'ticket_created'")).scalar()
    tamper(database, "UPDATE audit_event SET actor = 'mallory' WHERE id = :id", id=victim)
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1 and f"event {victim}" in result.output


def test_deactivate_stops_the_users_tokens_at_once(cli, api):
    assert api.get("nina", "/api/v1/tasks")[0] == 200
    result = cli("deactivate", "nina")
    assert result.exit_code == 0 and "nina is deactivated" in result.output
    assert api.get("nina", "/api/v1/tasks")[0] == 401
    assert cli("deactivate", "nobody").exit_code == 2


@pytest.fixture
def english_after(cli, monkeypatch):
    """The PostgreSQL database outlives a test: its index is built in English again afterwards."""
    yield
    monkeypatch.setenv("FLOWDESK_SEARCH_LANGUAGE", "english")
    assert cli("search", "reindex").exit_code == 0


def test_search_reindex_indexes_in_the_language_set_now(cli, api, monkeypatch, english_after):
    status, ticket = api.post("alice", "/api/v1/incidents", incident("Les réseaux tombent"))
    assert status == 201, ticket
    assert api.get("sam", "/api/v1/tickets?q=réseau")[1] == []  # English stems keep "réseaux" whole
    monkeypatch.setenv("FLOWDESK_SEARCH_LANGUAGE", "french")
    result = cli("search", "reindex")
    assert result.exit_code == 0 and "tickets indexed in french" in result.output
    assert [t["number"] for t in api.get("sam", "/api/v1/tickets?q=réseau")[1]] == [ticket["number"]]
    monkeypatch.setenv("FLOWDESK_SEARCH_LANGUAGE", "klingon")
    refused = cli("search", "reindex")
    assert refused.exit_code == 2 and "choose one of" in refused.output
