"""`flowdesk audit verify` on a log tampered with by someone holding the database (and not the audit key):
each tampering exits 1 naming the event, ticket or comment; a clean log exits 0."""

import pytest
from sqlalchemy import text

from app.audit.chain import CHAINED, keyed_digest, plain_digest
from app.audit.models import AuditEvent
from tests.conftest import tamper


def event_ids(database) -> list[int]:
    with database.reader() as db:
        return list(db.execute(text("SELECT id FROM audit_event ORDER BY id")).scalars())


def fields_of(database, event_id: int) -> dict:
    with database.reader() as db:
        event = db.get(AuditEvent, event_id)
        return {name: getattr(event, name) for name in CHAINED}


def rechain_from(database, first: int, digest) -> None:
    """Recompute prev_hash and hash of event first and every later one with digest(fields), as a forger would."""
    ids = [i for i in event_ids(database) if i >= first]
    with database.reader() as db:
        previous = db.scalar(
            text("SELECT hash FROM audit_event WHERE id < :id ORDER BY id DESC LIMIT 1"), {"id": first}
        )
    for event_id in ids:
        fields = fields_of(database, event_id) | {"prev_hash": previous}
        previous = digest(fields)
        tamper(
            database,
            "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id",
            p=fields["prev_hash"],
            h=previous,
            id=event_id,
        )


def test_a_clean_log_is_intact_with_and_without_a_checkpoint(cli, numbers):
    first = cli("audit", "verify")
    assert first.exit_code == 0, first.output
    assert "audit chain intact" in first.output and "no checkpoint yet" in first.output
    written = cli("audit", "checkpoint")
    assert written.exit_code == 0 and "checkpoint written" in written.output
    again = cli("audit", "verify")
    assert again.exit_code == 0 and "tickets and comments match" in again.output and "checkpoint-" in again.output


@pytest.mark.parametrize("deleted", [1, 25])
def test_events_deleted_from_the_end_after_a_checkpoint_are_found(cli, database, numbers, deleted):
    assert cli("audit", "checkpoint").exit_code == 0
    ids = event_ids(database)
    assert len(ids) > deleted
    tamper(database, "DELETE FROM audit_event WHERE id >= :id", id=ids[-deleted])
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"broken at event {ids[-1]}" in result.output and "truncated" in result.output
    assert f"{deleted} events were deleted" in result.output


def test_events_deleted_and_new_ones_appended_are_found(cli, api, database, numbers):
    assert cli("audit", "checkpoint").exit_code == 0
    last = event_ids(database)[-1]
    tamper(database, "DELETE FROM audit_event WHERE id = :id", id=last)
    api.post("alice", f"/api/v1/tickets/{numbers[0]}/comments", {"body": "hello?"})
    result = cli("audit", "verify")
    # SQLite hands the deleted id out again, PostgreSQL does not: either way the checkpoint's event is not there.
    assert result.exit_code == 1 and f"event {last}" in result.output and "checkpoint" in result.output


FORGE = (
    "INSERT INTO audit_event (id, at, actor, kind, ticket, changes, public, prev_hash, hash) "
    "VALUES (:id, :at, 'mallory', 'ticket_updated', :ticket, '{}', false, :prev, :hash)"
)
FORGE_KEYED = (
    "INSERT INTO audit_event (id, at, actor, kind, ticket, changes, public, prev_hash, hash, hash_kind) "
    "VALUES (:id, :at, 'mallory', 'ticket_updated', :ticket, '{}', false, :prev, :hash, :kind)"
)


@pytest.mark.parametrize("kind", [None, "hmac"])
def test_a_forged_event_with_a_recomputed_plain_hash_is_found(cli, database, numbers, kind):
    last = event_ids(database)[-1]
    forged = fields_of(database, last) | {"actor": "mallory", "kind": "ticket_updated"}
    with database.reader() as db:
        forged["prev_hash"] = db.get(AuditEvent, last).hash
    digest = plain_digest(forged)
    # Left out, hash_kind takes the column's default (a plain hash), as an insert written against the old
    # schema would; or the forger claims it is keyed.
    statement = FORGE_KEYED if kind else FORGE
    with database.write_engine.begin() as conn:
        conn.execute(
            text(statement),
            {
                "id": last + 1,
                "at": forged["at"],
                "ticket": forged["ticket"],
                "prev": forged["prev_hash"],
                "hash": digest,
                "kind": kind,
            },
        )
    result = cli("audit", "verify")
    assert result.exit_code == 1 and f"broken at event {last + 1}" in result.output


@pytest.mark.parametrize(
    "digest", [plain_digest, lambda fields: keyed_digest(fields, b"not-the-audit-key")], ids=["sha256", "wrong-key"]
)
def test_an_edited_event_with_every_later_hash_recomputed_is_found(cli, database, numbers, digest):
    ids = event_ids(database)
    victim = ids[len(ids) // 2]
    tamper(database, "UPDATE audit_event SET actor = 'mallory' WHERE id = :id", id=victim)
    rechain_from(database, victim, digest)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"broken at event {victim}" in result.output and "changed after it was written" in result.output


def test_two_events_swapped_are_found(cli, database, numbers):
    ids = event_ids(database)
    a, b = ids[3], ids[4]
    tamper(database, "UPDATE audit_event SET id = -1 WHERE id = :a", a=a)
    tamper(database, "UPDATE audit_event SET id = :a WHERE id = :b", a=a, b=b)
    tamper(database, "UPDATE audit_event SET id = :b WHERE id = -1", b=b)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"broken at event {a}" in result.output and "reordered" in result.output


def test_an_edited_comment_body_is_found(cli, database, numbers):
    with database.reader() as db:
        comment = db.scalar(text("SELECT min(id) FROM ticket_comment"))
    with database.write_engine.begin() as conn:
        conn.execute(text("UPDATE ticket_comment SET body = 'all fine now' WHERE id = :id"), {"id": comment})
    result = cli("audit", "verify")
    assert result.exit_code == 1 and f"comment {comment} differs" in result.output


EDIT_TICKET = {
    "status": "UPDATE ticket SET status = :v WHERE number = :n",
    "requester": "UPDATE ticket SET requester = :v WHERE number = :n",
}


@pytest.mark.parametrize(("column", "forged"), [("status", "Closed"), ("requester", "ramon")])
def test_an_edited_ticket_row_is_found(cli, database, numbers, column, forged):
    with database.write_engine.begin() as conn:
        conn.execute(text(EDIT_TICKET[column]), {"v": forged, "n": numbers[1]})
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"ticket {numbers[1]} has {column} '{forged}'" in result.output


def test_a_deleted_comment_is_found(cli, database, numbers):
    with database.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_comment WHERE id = (SELECT max(id) FROM ticket_comment)"))
    result = cli("audit", "verify")
    assert result.exit_code == 1 and "is gone" in result.output
