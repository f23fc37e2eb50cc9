"""600 rejected resolutions: the stored state and the task tree stay the size they were at round 1."""

from sqlalchemy import func, select

from app.engine import service as engine
from app.engine.models import HumanTask, ProcessInstance
from app.tickets import service as tickets
from tests.conftest import who

RESOLVE = {
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
    "category": "application",
}


def _work(database, username, number, data):
    with database.unit_of_work() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.business_key == number, HumanTask.status == "open"))
        tickets.complete_task(db, user=who(db, username), task_id=task.id, data=data)


def _state(database, number):
    with database.reader() as db:
        instance = db.scalar(select(ProcessInstance).where(ProcessInstance.business_key == number))
        metrics = engine.state_metrics(instance)
        return metrics["bytes"], metrics["tasks"], metrics["round"]


def test_six_hundred_rejection_rounds_keep_state_and_tree_bounded(database):
    with database.unit_of_work() as db:
        number = tickets.create_incident(
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
        ticket = tickets.get_ticket(db, user=who(db, "sam"), number=number)
        assert (ticket.status, ticket.reopen_count) == ("In Progress", 600)
        assert db.scalar(select(func.count()).select_from(ProcessInstance)) == 1
