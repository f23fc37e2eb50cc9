"""Rejection rounds: an incident resolved and rejected 600 times; time per round, stored state size, and the
time to load the instance (read its row and restore its workflow) after the first and the last round.

.venv/bin/python -m bench.rounds [--rounds 600] [--db sqlite|postgresql|both]
"""

import argparse
import time

from sqlalchemy import select

from app import engine
from app.engine import ProcessInstance
from app.identity.service import principal_by_name
from app.tasks.models import HumanTask
from app.tickets import intake
from app.tickets import work as ticket_work
from bench.common import fresh_database, median_ms

RESOLVE = {
    "outcome": "resolve",
    "resolution_code": "fix",
    "resolution_notes": "Restarted the mail relay",
    "category": "application",
}


def _complete(database, username: str, number: str, data: dict) -> None:
    with database.unit_of_work() as db:
        user = principal_by_name(db, username=username)
        task = db.scalar(select(HumanTask).where(HumanTask.business_key == number, HumanTask.status == "open"))
        ticket_work.complete_task(db, user=user, task_id=task.id, data=data)


def run(kind: str, rounds: int) -> dict:
    database = fresh_database(kind)
    with database.unit_of_work() as db:
        alice = principal_by_name(db, username="alice")
        number = intake.create_incident(
            db, user=alice, title="Mail is down", description="", impact="high", urgency="medium"
        ).number
    timings, sizes, loads = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        _complete(database, "sam", number, RESOLVE)
        _complete(database, "alice", number, {"accepted": False, "feedback": "Still broken"})
        timings.append(time.perf_counter() - started)
        with database.reader() as db:
            started = time.perf_counter()
            instance = db.scalar(select(ProcessInstance).where(ProcessInstance.business_key == number))
            sizes.append(engine.state_metrics(db, instance=instance))
            loads.append(time.perf_counter() - started)
    database.dispose()
    return {
        "db": kind,
        "rounds": rounds,
        "round_ms_first10_median": median_ms(timings[:10]),
        "round_ms_last10_median": median_ms(timings[-10:]),
        "state_bytes_round1": sizes[0]["bytes"],
        "state_bytes_last": sizes[-1]["bytes"],
        "tree_tasks_round1": sizes[0]["tasks"],
        "tree_tasks_last": sizes[-1]["tasks"],
        "load_ms_first10_median": median_ms(loads[:10]),
        "load_ms_last10_median": median_ms(loads[-10:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        print(run(kind, args.rounds))


if __name__ == "__main__":
    main()
