"""Upgrading a database that holds data keeps the data (SQLite table rebuilds included)."""

import pytest
from sqlalchemy import text

from app.migrate import upgrade
from app.wiring import open_database
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="the table rebuilds that could lose rows are SQLite's")
def test_upgrading_keeps_comments_memberships_and_tokens(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(database, "0003")
    with database.write_engine.begin() as conn:
        conn.execute(text("INSERT INTO user_group (id, name, title, role) VALUES (1, 'service-desk', 'SD', 'agent')"))
        conn.execute(
            text(
                "INSERT INTO user_account (id, username, email, full_name, password_hash, active, locale, "
                "failed_logins, created_at) VALUES (1, 'sam', 's@x', 'Sam', 'h', 1, 'en', 0, '2026-01-01')"
            )
        )
        conn.execute(text("INSERT INTO membership (user_id, group_id) VALUES (1, 1)"))
        conn.execute(
            text(
                "INSERT INTO ticket (id, number, kind, title, description, status, requester, opened_by, "
                "process_id, process_version, sla_breached, reopen_count, created_at, updated_at) VALUES "
                "(1, 'INC0000001', 'incident', 't', '', 'New', 'sam', 'sam', 'incident', 1, 0, 0, "
                "'2026-01-01', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ticket_comment (ticket_id, at, author, body, visibility) "
                "VALUES (1, '2026-01-01', 'sam', 'kept', 'public')"
            )
        )
    upgrade(database)
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM ticket_comment")).scalars().all() == ["kept"]
        assert conn.execute(text("SELECT count(*) FROM membership")).scalar() == 1
        assert conn.execute(text("SELECT locale FROM user_account")).scalar() is None
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="an old schema is built on a fresh SQLite file")
def test_an_old_sha256_chain_stays_provable_and_the_keyed_chain_follows_it(tmp_path):
    from datetime import UTC, datetime

    from app.audit import service as audit
    from app.audit.chain import GENESIS, plain_digest
    from tests.conftest import tamper

    database = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(database, "0014")
    previous = GENESIS
    with database.write_engine.begin() as conn:
        for number in (1, 2):
            fields = dict.fromkeys(("actor", "ticket", "instance_id", "process_id", "process_version"))
            fields |= {"element_id": None, "element_name": None, "changes": {}, "public": False}
            fields |= {"at": datetime(2026, 1, number, tzinfo=UTC), "kind": "process_deployed", "prev_hash": previous}
            previous, prev = plain_digest(fields), previous
            conn.execute(
                text(
                    "INSERT INTO audit_event (id, at, kind, changes, public, prev_hash, hash) "
                    "VALUES (:id, :at, 'process_deployed', '{}', 0, :prev, :hash)"
                ),
                {"id": number, "at": f"2026-01-0{number} 00:00:00.000000", "prev": prev, "hash": previous},
            )
    upgrade(database)
    with database.unit_of_work() as db:
        audit.record(db, kind="process_deployed", actor="olivia")
    with database.reader() as db:
        kinds = db.execute(text("SELECT hash_kind FROM audit_event ORDER BY id")).scalars().all()
        report = audit.verify(db)
    assert kinds == ["sha256", "sha256", "hmac"]
    assert report.ok and report.checked == 3, report
    tamper(database, "UPDATE audit_event SET actor = 'mallory' WHERE id = 1")
    with database.reader() as db:
        report = audit.verify(db)
    assert not report.ok and report.bad_event_id == 1
    database.dispose()
