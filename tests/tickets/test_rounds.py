"""600 rejected resolutions: the stored state and the task tree stay the size they were at round 1."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import engine
from app.engine import ProcessInstance
from app.jobs.models import Job
from app.tasks.models import HumanTask
from app.tickets import access as ticket_access
from app.tickets import coordination, intake
from app.tickets import work as ticket_work
from tests.conftest import who
from tests.payloads import RESOLVE_APPLICATION as RESOLVE


def _work(database, username, number, data):
    with database.unit_of_work() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.business_key == number, HumanTask.status == "open"))
        ticket_work.complete_task(db, user=who(db, username), task_id=task.id, data=data)


def _state(database, number):
    with database.reader() as db:
        instance = db.scalar(select(ProcessInstance).where(ProcessInstance.business_key == number))
        metrics = engine.state_metrics(db, instance=instance)
        return metrics["bytes"], metrics["tasks"], metrics["round"]


@pytest.mark.slow
def test_six_hundred_rejection_rounds_keep_state_and_tree_bounded(database):
    with database.unit_of_work() as db:
        number = intake.create_incident(
            db, user=who(db, "alice"), title="Mail is down", description="", impact="high", urgency="medium"
        ).number
    sizes = []
    for _ in range(600):
        _work(database, "sam", number, RESOLVE)
        _work(database, "alice", number, {"accepted": False, "feedback": "Still broken"})
        sizes.append(_state(database, number))
    (size_1, tree_1, round_1), (size_600, tree_600, round_600) = sizes[0], sizes[-1]
    assert tree_600 == tree_1, "the task tree does not grow"
    assert size_600 - size_1 < 64, (size_1, size_600)  # the round counters' digits only
    assert round_600 == round_1 + 599
    with database.reader() as db:
        ticket = ticket_access.get_ticket(db, user=who(db, "sam"), number=number)
        assert (ticket.status, ticket.reopen_count) == ("In Progress", 600)
        assert db.scalar(select(func.count()).select_from(ProcessInstance)) == 1


@pytest.mark.slow
def test_six_hundred_stakeholder_updates_keep_state_and_tree_bounded(database):
    """A timer cycle adds a branch each time it fires; the engine drops the finished ones."""
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False), database.unit_of_work() as db:
        number = intake.create_incident(
            db, user=who(db, "alice"), title="Mail is down", description="", impact="high", urgency="high"
        ).number
        ticket = ticket_access.get_ticket(db, user=who(db, "sam"), number=number)
        major = ticket.major_instance_id
        task = db.scalar(select(HumanTask).where(HumanTask.instance_id == major, HumanTask.status == "open"))
        charge = {
            "major_reason": "Nobody can send mail.",
            "stakeholders": ["ceo@example.org"],
            "update_interval": "PT30M",
            "first_update": "We are on it.",
        }
        ticket_work.complete_task(db, user=who(db, "maria"), task_id=task.id, data=charge)
    sizes = []
    for cycle in range(1, 601):
        with time_machine.travel(start + timedelta(minutes=30 * cycle, seconds=1), tick=False):
            with database.unit_of_work() as db:
                coordination.timer_fired(db, instance_id=major)
            with database.reader() as db:
                metrics = engine.state_metrics(db, instance=db.get(ProcessInstance, major))
                sizes.append((metrics["bytes"], metrics["tasks"]))
    (size_1, tree_1), (size_600, tree_600) = sizes[0], sizes[-1]
    assert tree_600 == tree_1, "the task tree does not grow"
    assert abs(size_600 - size_1) < 64, (size_1, size_600)
    with database.reader() as db:
        sent = db.scalar(select(func.count()).select_from(Job).where(Job.kind == "mail", Job.payload.isnot(None)))
        assert sent >= 601, "every cycle queued its update"
    # The pruned branches leave a workflow that still ends: service restored, review, done.
    with time_machine.travel(start + timedelta(days=13), tick=False):
        _work_element(database, "sam", number, "diagnose", {**RESOLVE, "category": "network"})
        review = {"review_summary": "Relay disk filled up with bounces.", "to_improve": "Alert on relay disk usage."}
        _work_element(database, "maria", number, "post_incident_review", review)
    with database.reader() as db:
        assert db.get(ProcessInstance, major).status == "completed"


def _work_element(database, username, number, element, data):
    with database.unit_of_work() as db:
        task = db.scalar(
            select(HumanTask).where(
                HumanTask.business_key == number, HumanTask.status == "open", HumanTask.element_id == element
            )
        )
        ticket_work.complete_task(db, user=who(db, username), task_id=task.id, data=data)
