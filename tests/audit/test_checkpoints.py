"""Checkpoints of the chain's head outside the database: written by the worker loop and by
`flowdesk audit checkpoint`, refused when forged, and never written over a log that lost what the last one saw."""

import json
import threading

from sqlalchemy import text

from app.config import audit_checkpoints
from app.jobs.worker import run_forever
from tests.conftest import tamper


def checkpoint_files(database):
    return sorted(audit_checkpoints(database.url).glob("checkpoint-*.json"))


def test_the_worker_writes_a_checkpoint_when_it_starts_and_when_it_stops(database, numbers):
    stop = threading.Event()
    stop.set()  # one turn of the loop: the checkpoint on the way in and on the way out
    run_forever(database, stop)
    files = checkpoint_files(database)
    assert len(files) == 2
    written = json.loads(files[-1].read_text())
    assert set(written) == {"events", "last_id", "last_hash", "at", "mac"} and written["events"] > 10


def test_a_checkpoint_is_written_atomically_and_old_ones_are_pruned(cli, database, numbers, monkeypatch):
    monkeypatch.setattr("app.audit.checkpoints.KEEP", 3)
    for _ in range(5):
        assert cli("audit", "checkpoint").exit_code == 0
    folder = audit_checkpoints(database.url)
    assert len(checkpoint_files(database)) == 3
    assert not list(folder.glob(".*.tmp"))


def test_a_checkpoint_edited_without_the_key_is_refused(cli, database, numbers):
    assert cli("audit", "checkpoint").exit_code == 0
    path = checkpoint_files(database)[-1]
    forged = json.loads(path.read_text()) | {"events": 3}
    path.write_text(json.dumps(forged))
    result = cli("audit", "verify")
    assert result.exit_code == 1 and path.name in result.output and "audit key" in result.output


def test_no_checkpoint_is_written_over_a_truncated_log(cli, database, numbers):
    assert cli("audit", "checkpoint").exit_code == 0
    tamper(database, "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
    refused = cli("audit", "checkpoint")
    assert refused.exit_code == 1 and "no longer holds" in refused.output
    assert len(checkpoint_files(database)) == 1
    assert cli("audit", "verify").exit_code == 1


def test_an_empty_log_gets_no_checkpoint(cli, database):
    tamper(database, "DELETE FROM audit_event")
    with database.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_comment"))
    result = cli("audit", "checkpoint")
    assert result.exit_code == 0 and "empty" in result.output
