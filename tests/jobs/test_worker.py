"""The worker: waiting timers become jobs, fire once when due, retry with backoff, and run under serve."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from app import engine
from app.audit.models import AuditEvent
from app.jobs import service as job_service
from app.jobs import worker
from app.jobs.models import Job
from tests.conftest import PG_URL
from tests.payloads import RESOLVE_APPLICATION as RESOLVE
from tests.payloads import incident

TIMERS = Path(__file__).parent.parent / "data" / "timers"


def resolved_incident(api):
    number = api.post("alice", "/api/v1/incidents", incident("VPN"))[1]["number"]
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    assert api.post("sam", f"/api/v1/tasks/{task['id']}/complete", {"data": RESOLVE})[0] == 200
    return number


def jobs(database, status=None, element=None):
    with database.reader() as db:
        query = select(Job).where(Job.kind == "timer").order_by(Job.id)
        return [
            j
            for j in db.scalars(query)
            if (status is None or j.status == status) and (element is None or j.element_id == element)
        ]


def test_an_unanswered_resolution_closes_itself_after_three_days(api, database):
    number = resolved_incident(api)
    ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
    instance = api.get("olivia", f"/api/v1/instances/{ticket['instance_id']}")[1]
    (timer,) = instance["waiting_timers"]
    due = datetime.fromisoformat(timer["due_at"])
    assert timer["element_id"] == "no_answer"
    assert timedelta(days=3) - timedelta(minutes=1) < due - datetime.now(UTC) <= timedelta(days=3)
    assert worker.run_once(database) == 0, "nothing is due yet"
    with time_machine.travel(due + timedelta(seconds=1), tick=True):
        assert worker.run_once(database) == 1
    closed = api.get("alice", f"/api/v1/tickets/{number}")[1]
    assert closed["status"] == "Closed" and closed["closed_at"]
    assert api.get("admin", f"/api/v1/tickets/{number}/tasks")[1] == []
    history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
    closing = next(e for e in history if e["element_id"] == "close_unanswered")
    assert closing["actor"] is None and closing["changes"]["closure_code"] == [None, "no_answer"]
    assert [j.status for j in jobs(database, element="no_answer")] == ["done"]


def test_an_answer_before_the_deadline_cancels_the_timer(api, database):
    number = resolved_incident(api)
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    assert api.post("alice", f"/api/v1/tasks/{task['id']}/complete", {"data": {"accepted": True}})[0] == 200
    assert [j.status for j in jobs(database, element="no_answer")] == ["cancelled"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=4), tick=True):
        assert worker.run_once(database) == 0
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["status"] == "Resolved"


def test_two_workers_fire_a_due_timer_once(api, database):
    number = resolved_incident(api)
    (job,) = jobs(database, "waiting")
    with time_machine.travel(job.due_at + timedelta(seconds=1), tick=True):
        results = []
        threads = [
            threading.Thread(target=lambda i=i: results.append(worker.run_once(database, owner=f"w{i}")))
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == [0, 1]
    with database.reader() as db:
        fired = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.ticket == number, AuditEvent.element_id == "close_unanswered")
        )
    assert fired == 1


def _deploy_timers(database, tmp_path):
    root = tmp_path / "timers"
    shutil.copytree(TIMERS, root)
    with database.unit_of_work() as db:
        engine.deploy_directory(db, root=root)


def test_a_failing_job_is_retried_with_backoff_then_marked_failed(database, tmp_path):
    _deploy_timers(database, tmp_path)
    with database.unit_of_work() as db:
        instance_id = engine.start(
            db, process_id="wait", data={"delay": "PT1S", "divisor": 0}, actor="olivia"
        ).instance.id
    (job,) = jobs(database, "waiting")
    moment = job.due_at
    for attempt in range(1, job_service.MAX_ATTEMPTS + 1):
        moment += timedelta(seconds=2**attempt + 1)
        with time_machine.travel(moment, tick=False):
            assert worker.run_once(database) == 0
        (job,) = jobs(database)
        assert job.attempts == attempt and "After the pause" in job.last_error and "ZeroDivisionError" in job.last_error
    assert job.status == "failed"
    with database.reader() as db:
        assert engine.get_instance(db, instance_id=instance_id).status == "waiting", "nothing half-written"


def test_a_lease_left_by_a_dead_worker_is_taken_over(database, tmp_path):
    _deploy_timers(database, tmp_path)
    with database.unit_of_work() as db:
        instance_id = engine.start(
            db, process_id="wait", data={"delay": "PT1S", "divisor": 2}, actor="olivia"
        ).instance.id
    (job,) = jobs(database)
    with time_machine.travel(job.due_at + timedelta(seconds=1), tick=False):
        assert job_service.lease_due_jobs(database, owner="dead") == [job.id]  # leased, then the worker "dies"
        assert worker.run_once(database, owner="alive") == 0
    with time_machine.travel(job.due_at + job_service.LEASE + timedelta(seconds=5), tick=False):
        assert worker.run_once(database, owner="alive") == 1
    with database.reader() as db:
        assert engine.get_instance(db, instance_id=instance_id).status == "completed"


@pytest.mark.skipif(bool(PG_URL), reason="serve is exercised once, on SQLite; PostgreSQL runs the same worker code")
@pytest.mark.slow
def test_a_timer_due_in_two_seconds_fires_within_five_under_serve(tmp_path):
    env = dict(os.environ, FLOWDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", FLOWDESK_SECRET_KEY="t")
    exe = str(Path(os.sys.executable).with_name("flowdesk"))
    for args in (["db", "upgrade"], ["deploy", str(TIMERS)], ["deploy"], ["seed-demo"]):
        subprocess.run([exe, *args], env=env, check=True, capture_output=True)
    token = subprocess.run([exe, "token", "olivia"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    port = 5600 + os.getpid() % 300
    server = subprocess.Popen(
        [exe, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"

    def call(method, path, body=None):
        request = urllib.request.Request(  # noqa: S310 - loopback
            base + path,
            method=method,
            data=json.dumps(body).encode() if body else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    try:
        for _ in range(100):
            try:
                call("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        with urllib.request.urlopen(base + "/health", timeout=10) as response:  # noqa: S310 - loopback
            assert response.headers["Server"] == "Flowdesk", "the server does not name its software and versions"
        started = time.monotonic()
        instance = call("POST", "/processes/wait/instances", {"data": {"delay": "PT2S", "divisor": 5}})
        while time.monotonic() - started < 5 and call("GET", f"/instances/{instance['id']}")["status"] != "completed":
            time.sleep(0.2)
        assert call("GET", f"/instances/{instance['id']}")["status"] == "completed"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
