"""Several processes on one PostgreSQL: app nodes (gunicorn) and `flowdesk worker`s share the job table.

Each timer fires exactly once whatever the number of workers and nodes, and a worker killed with SIGKILL
while it holds leases loses nothing: its leases expire and another worker fires those timers, once.
"""

import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from app import db as db_module
from app import engine
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.engine import ProcessInstance
from app.jobs.models import Job
from tests.conftest import PG_URL, free_port
from tests.payloads import incident

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not PG_URL, reason="several nodes need PostgreSQL (FLOWDESK_TEST_DATABASE_URL)"),
]
BIN = Path(sys.executable).parent
TIMERS = Path(__file__).parent / "data" / "timers"
LEASE_SECONDS = "3"


class Node:
    """A process of the cluster, killed (its whole process group) when the test ends."""

    def __init__(self, args: list[str], env: dict):
        self.args = args
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def kill(self, sig=signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(20)


@pytest.fixture
def cluster(database):
    with database.unit_of_work() as db:
        engine.deploy_directory(db, root=TIMERS)
    env = dict(
        os.environ,
        FLOWDESK_DATABASE_URL=PG_URL,
        FLOWDESK_SECRET_KEY="cluster-test",
        FLOWDESK_JOB_LEASE_SECONDS=LEASE_SECONDS,
    )
    env.pop("FLOWDESK_SMTP_URL", None)
    nodes: list[Node] = []
    started = nodes

    class Cluster:
        urls: list[str] = []
        nodes = started

        def app(self) -> str:
            port = free_port()
            bind = f"127.0.0.1:{port}"
            nodes.append(Node([str(BIN / "gunicorn"), "-w", "2", "-b", bind, "app:create_app()"], env))
            url = f"http://{bind}/api/v1"
            _wait_for(url)
            self.urls.append(url)
            return url

        def worker(self) -> Node:
            node = Node([str(BIN / "flowdesk"), "worker"], env)
            nodes.append(node)
            return node

    yield Cluster()
    for node in nodes:
        node.kill()


def _wait_for(url: str) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def _start(url: str, token: str, delay: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + "/processes/wait/instances",
        method="POST",
        data=json.dumps({"data": {"delay": delay, "divisor": 5}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())["id"]


def _start_many(cluster, token: str, count: int, delay: str) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: _start(cluster.urls[i % len(cluster.urls)], token, delay), range(count)))


def _wait_until_completed(database, ids: list[int], seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        with database.reader() as db:
            done = db.scalar(
                select(func.count())
                .select_from(ProcessInstance)
                .where(ProcessInstance.id.in_(ids), ProcessInstance.status == "completed")
            )
        if done == len(ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def _fired_once_each(database, ids: list[int], *, first_attempt: bool = True) -> None:
    with database.reader() as db:
        passes = dict(
            db.execute(
                select(AuditEvent.instance_id, func.count())
                .where(AuditEvent.instance_id.in_(ids), AuditEvent.element_id == "pause")
                .group_by(AuditEvent.instance_id)
            ).all()
        )
        jobs = db.execute(select(Job.status, Job.attempts).where(Job.instance_id.in_(ids), Job.kind == "timer")).all()
    assert sorted(passes) == sorted(ids), "every timer fired"
    assert set(passes.values()) == {1}, "and each exactly once"
    assert len(jobs) == len(ids) and {status for status, _ in jobs} == {"done"}, "one job each, done"
    if first_attempt:
        assert {attempts for _, attempts in jobs} == {1}, "each at its first attempt"


def test_a_thousand_timers_fire_once_each_with_two_app_nodes_and_two_workers(cluster, database, api):
    token = api.token("olivia")
    cluster.app()
    cluster.app()
    cluster.worker()
    cluster.worker()
    ids = _start_many(cluster, token, 1000, "PT2S")
    assert len(set(ids)) == 1000
    assert _wait_until_completed(database, ids, seconds=240) == 1000
    _fired_once_each(database, ids)


def test_a_worker_killed_while_holding_leases_loses_no_timer(cluster, database, api):
    token = api.token("olivia")
    cluster.app()
    ids = _start_many(cluster, token, 300, "PT1S")
    time.sleep(1.5)
    doomed = cluster.worker()
    owner = f":{doomed.process.pid}:"
    deadline = time.monotonic() + 60
    held = 0
    while time.monotonic() < deadline and not held:
        with database.reader() as db:
            held = db.scalar(
                select(func.count()).select_from(Job).where(Job.status == "running", Job.lease_owner.contains(owner))
            )
    assert held, "the worker was seen holding leases"
    doomed.kill(signal.SIGKILL)
    with database.reader() as db:
        orphaned = db.scalar(
            select(func.count()).select_from(Job).where(Job.status == "running", Job.lease_owner.contains(owner))
        )
    assert orphaned, "it died holding leases"
    cluster.worker()
    assert _wait_until_completed(database, ids, seconds=120) == 300
    _fired_once_each(database, ids)
    print(f"killed holding {orphaned} leases; all 300 timers fired once")  # noqa: T201 - the test's own record


PROJECT = Path(__file__).resolve().parent.parent
ACCEPTANCE = PROJECT.parent / "shared" / "acceptance"
WRAPPER = """#!/bin/sh
# `flowdesk serve` becomes the production shape: two gunicorn app nodes (two workers each), two workers.
if [ "$1" = "serve" ]; then shift; cd "{project}" && exec "{python}" -m tools.cluster --apps 2 --gunicorn-workers 2 \\
  --workers 2 "$@"; fi
exec "{flowdesk}" "$@"
"""


@pytest.mark.skipif(not ACCEPTANCE.exists(), reason="the shared acceptance folder is not beside the project")
def test_the_shared_acceptance_folder_passes_against_two_app_nodes_and_two_workers(tmp_path):
    cluster_db = PG_URL.rsplit("/", 1)[0] + "/flowdesk_cluster"
    for sql in ("DROP DATABASE IF EXISTS flowdesk_cluster WITH (FORCE)", "CREATE DATABASE flowdesk_cluster"):
        subprocess.run(["psql", "-q", PG_URL, "-c", sql], check=True, capture_output=True)
    fake = tmp_path / ".venv" / "bin" / "flowdesk"
    fake.parent.mkdir(parents=True)
    fake.write_text(WRAPPER.format(project=PROJECT, python=sys.executable, flowdesk=BIN / "flowdesk"))
    fake.chmod(0o755)
    env = dict(os.environ, FLOWDESK_ACCEPTANCE_DATABASE_URL=cluster_db, FLOWDESK_SECRET_KEY="cluster-acceptance")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ACCEPTANCE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout


def test_agents_racing_on_the_same_task_across_nodes_end_in_one_200_and_409s(cluster, database, api):
    cluster.app()
    cluster.app()
    tokens = [api.token(user) for user in ("sam", "sara")]
    numbers = [
        api.post("alice", "/api/v1/incidents", {"title": f"Race {i}", "impact": "low", "urgency": "low"})[1]["number"]
        for i in range(10)
    ]
    resolve = {
        "outcome": "resolve",
        "resolution_code": "fix",
        "resolution_notes": "Fixed in the race",
        "category": "network",
    }

    def complete(task_id, attempt):
        url = cluster.urls[attempt % 2] + f"/tasks/{task_id}/complete"
        request = urllib.request.Request(  # noqa: S310 - loopback
            url,
            method="POST",
            data=json.dumps({"data": resolve}).encode(),
            headers={"Authorization": f"Bearer {tokens[attempt % 2]}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    for number in numbers:
        (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
        with ThreadPoolExecutor(12) as pool:
            statuses = sorted(pool.map(lambda i, t=task["id"]: complete(t, i), range(12)))
        assert statuses == [200] + [409] * 11, (number, statuses)
        history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
        assert [e["kind"] for e in history if e["element_id"] == "diagnose"].count("task_completed") == 1
        assert api.get("sam", f"/api/v1/tickets/{number}")[1]["status"] == "Resolved"


KILLS = int(os.environ.get("FLOWDESK_CRASH_KILLS", "20"))  # `make crash` runs 200


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_processes_killed_at_random_moments_lose_and_half_write_nothing(cluster, database, api):
    """SIGKILL to app node workers and to `flowdesk worker`s, KILLS times, while agents work and timers
    fall due: afterwards every instance loads and agrees with its tasks, every timer fired exactly once,
    and the audit chain verifies."""
    token = api.token("olivia")
    agent = api.token("sam")
    cluster.app()
    cluster.app()
    workers = [cluster.worker(), cluster.worker()]
    stop = threading.Event()
    started: list[int] = []
    kills = 0

    def call(method, path, body=None, auth=token):
        url = random.choice(cluster.urls) + path  # noqa: S311 - load, not security
        request = urllib.request.Request(  # noqa: S310 - loopback
            url,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {auth}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, None
        except (OSError, http.client.HTTPException):
            return None, None  # the node died under us, perhaps mid-answer: the client tries again later

    def load():
        while not stop.is_set():
            status, body = call("POST", "/processes/wait/instances", {"data": {"delay": "PT1S", "divisor": 5}})
            if status == 201:
                started.append(body["id"])
            status, ticket = call("POST", "/incidents", incident("Crash load"), auth=agent)
            if status == 201:
                status, tasks = call("GET", f"/tickets/{ticket['number']}/tasks", auth=agent)
                if status == 200 and tasks:
                    data = {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Done in a crash"}
                    call(
                        "POST",
                        f"/tasks/{tasks[0]['id']}/complete",
                        {"data": {**data, "category": "network"}},
                        auth=agent,
                    )

    threads = [threading.Thread(target=load, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    gunicorn_masters = [node.process.pid for node in cluster.nodes if "gunicorn" in node.args[0]]
    while kills < KILLS:
        time.sleep(random.uniform(0.3, 1.0))  # noqa: S311
        _wait_for_progress(started, beyond=kills, seconds=120)
        if random.random() < 0.5:  # noqa: S311
            victims = [pid for master in gunicorn_masters for pid in _children(master)]
            if victims:
                os.kill(random.choice(victims), signal.SIGKILL)  # noqa: S311 - the master starts another
                kills += 1
        else:
            index = random.randrange(len(workers))  # noqa: S311
            workers[index].kill(signal.SIGKILL)
            workers[index] = cluster.worker()
            kills += 1
    stop.set()
    for thread in threads:
        thread.join(60)
    assert len(started) >= KILLS, "the load ran through the kills"
    assert _wait_until_completed(database, started, seconds=180) == len(started)
    _fired_once_each(database, started, first_attempt=False)
    with database.reader() as db:
        for instance in db.scalars(select(ProcessInstance)):
            metrics = engine.state_metrics(db, instance=instance)  # loads: nothing half-written
            assert metrics["tasks"] > 0
        report = audit.verify(db)
        assert report.ok, report
    print(f"{kills} kills, {len(started)} timers, all fired once")  # noqa: T201 - the test's record


def _wait_for_progress(started: list[int], *, beyond: int, seconds: float) -> None:
    """Each kill waits for the load to start one more timer than there were kills so far: a slow machine makes
    the test longer, while a cluster that stops taking work fails it."""
    deadline = time.monotonic() + seconds
    while len(started) <= beyond:
        assert time.monotonic() < deadline, f"no timer started after {beyond} kills: the cluster stopped serving"
        time.sleep(0.1)


def test_a_node_whose_database_connections_were_cut_answers_the_next_request(api, database, monkeypatch):
    """What a database restart does to a running node: the server closes every connection the node pooled. A
    connection that sat idle is tested before it is lent again and replaced, so the user sees no error."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.2)
    assert api.get("alice", "/api/v1/tasks")[0] == 200
    with database.engine.connect() as connection:
        pooled = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with psycopg.connect(PG_URL, autocommit=True) as other:  # from outside the node's pool
        other.execute("SELECT pg_terminate_backend(%s)", (pooled,))
    time.sleep(0.3)
    status, tasks = api.get("alice", "/api/v1/tasks")
    assert status == 200, tasks
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pooled
