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
