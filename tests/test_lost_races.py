"""Which integrity errors are lost races (HTTP 409) and which are defects that must not pass for one."""

import pytest
from sqlalchemy.exc import IntegrityError

from app.db import lost_race
from app.identity.models import User
from app.notify.models import Watcher
from app.tickets.models import TicketCounter
from tests.payloads import incident


def _violation(database, *rows) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, database.unit_of_work() as db:
        for row in rows:
            db.add(row)
            db.flush()
    return caught.value


def test_numbering_the_first_ticket_of_a_kind_twice_is_a_lost_race(database):
    # The seeded counters exist: a second row for one kind is what two first tickets racing write.
    assert lost_race(_violation(database, TicketCounter(kind="incident", last=1)))


def test_following_a_ticket_twice_at_once_is_a_lost_race(database, api):
    _, raised = api.post("alice", "/api/v1/incidents", incident("Printer"))
    status, _ = api.post("sam", f"/api/v1/tickets/{raised['number']}/watchers", {})
    assert status == 200
    with database.reader() as db:
        (ticket_id, username) = db.query(Watcher.ticket_id, Watcher.username).one()
    assert lost_race(_violation(database, Watcher(ticket_id=ticket_id, username=username)))


def test_a_duplicate_user_name_is_not_dressed_up_as_a_race(database):
    error = _violation(
        database, User(username="alice", full_name="Alice again", email="a2@example.org", password_hash="x")
    )
    assert not lost_race(error)
