"""The least CPU an incident lifecycle of bench.http can cost on this machine, part by part, beside what the HTTP
target leaves it: the floors no code of Flowdesk's can go below, each measured alone.

    .venv/bin/python -m bench.floor [--seconds 15] [--lifecycles 200]

A lifecycle of bench.http is 6 HTTP requests (report an incident, read its tasks twice, complete three tasks)
and 4 workflow steps (the start and three completions). 150 completions per second are 50 lifecycles per
second; on 2 cores that leaves each lifecycle 40 ms of CPU for everything: the app, the database and the
clients. The floors, each with nothing of Flowdesk around it:

1. HTTP: gunicorn (4 sync workers) answering the health check (no token, no database) to 8 client threads on a
   new connection per request, as bench.http's clients do: CPU per request of the server and the clients, x 6.
2. Workflow: the lifecycle's 4 steps run by SpiffWorkflow in memory with Flowdesk's sandboxed script engine and
   its run bookkeeping (bench.engine's "in memory"), plus one serialisation of the state per step (what any
   persistence has to write).
3. Database: per step, the statements a step cannot do without, as raw psycopg on the real schema (no ORM):
   lock the instance row, write its new state (the lifecycle's real states, 12 kB), close the completed task,
   open the next one, append five audit events, commit (fsync'd): the PostgreSQL server's CPU and this
   client's, x 4.

Their sum is what a lifecycle would cost if Flowdesk did nothing but join these parts; what the budget leaves
above it is all that authentication, form validation, tickets, SLAs, notifications, mails and the ORM may use.
"""

import argparse
import hashlib
import json
import threading
import time
import uuid

import psycopg

from app.engine import serializer
from bench.common import Visitor, cpu_seconds, fresh_database, gunicorn, median_ms
from bench.engine import InMemory

BUDGET_MS = 2 * 1000 / 50  # two cores, 50 lifecycles per second (150 completions)
HTTP_REQUESTS, STEPS_PER_LIFECYCLE = 6, 4


def http_floor(port: int, server: int, seconds: float, clients: int = 8) -> dict:
    """CPU per request of gunicorn answering the health check, and of the clients asking for it."""
    until = time.perf_counter() + seconds
    counts = [0] * clients

    def client(index: int) -> None:
        visitor = Visitor(port)
        while time.perf_counter() < until:
            status, _ = visitor.get("/api/v1/health")
            if status != 200:
                raise RuntimeError(f"health check: {status}")
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    app_before, clients_before = cpu_seconds(group=server), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    requests = sum(counts)
    return {
        "requests_per_s": round(requests / seconds),
        "app_ms": (cpu_seconds(group=server) - app_before) * 1000 / requests,
        "clients_ms": (time.process_time() - clients_before) * 1000 / requests,
    }


def workflow_floor(lifecycles: int) -> tuple[dict, list[list[str]]]:
    """CPU per lifecycle of bench.engine's in-memory lifecycle, and of serialising the state after each of its
    steps; the states, for the database part."""
    memory = InMemory()
    for i in range(20):  # warm-up: parse caches, sandbox compilation
        memory.lifecycle(i)
    began = time.process_time()
    for i in range(lifecycles):
        memory.lifecycle(i)  # the run alone, as bench.engine measures it
    run_ms = (time.process_time() - began) * 1000 / lifecycles
    states: list[list[str]] = []
    dumping = 0.0

    def dump(workflow) -> None:
        nonlocal dumping
        began = time.process_time()
        states[-1].append(serializer.dump(workflow))
        dumping += time.process_time() - began

    for i in range(lifecycles):
        states.append([])
        memory.lifecycle(i, after_step=dump)
    return {"run_ms": run_ms, "dump_ms": dumping * 1000 / lifecycles}, states


STEP_SQL = (
    "SELECT state FROM process_instance WHERE id = %(instance)s FOR UPDATE",
    "UPDATE process_instance SET state = %(state)s, lock_version = lock_version + 1, updated_at = now() "
    "WHERE id = %(instance)s",
    "UPDATE human_task SET status = 'completed', completed_at = now(), completed_by = 'sam' WHERE id = %(done)s",
    "INSERT INTO human_task (id, instance_id, business_key, element_id, name, status, assigned_by_process, "
    "created_at, data) VALUES (%(new)s, %(instance)s, %(number)s, 'next', 'Next', 'open', false, now(), '{}')",
)
AUDIT_SQL = (
    "INSERT INTO audit_event (at, actor, kind, ticket, instance_id, changes, public, prev_hash, hash) "
    "VALUES (now(), 'sam', 'element_completed', %s, %s, '{}', false, %s, %s)"
)


def database_floor(url: str, definition_id: int, states: list[list[str]]) -> dict:
    """CPU per step of PostgreSQL and of this client for the raw statements a persisted step needs."""
    connection = psycopg.connect(url.replace("+psycopg", ""))
    instances = []
    for i, saved in enumerate(states):
        number = f"FLR{i:07d}"
        row = connection.execute(
            "INSERT INTO process_instance (definition_id, business_key, status, state, serializer_version, round, "
            "created_at, updated_at, lock_version) VALUES (%s, %s, 'waiting', %s, 'floor', 1, now(), now(), 1) "
            "RETURNING id",
            (definition_id, number, saved[0]),
        ).fetchone()
        task = str(uuid.uuid4())
        connection.execute(
            "INSERT INTO human_task (id, instance_id, business_key, element_id, name, status, assigned_by_process, "
            "created_at, data) VALUES (%s, %s, %s, 'first', 'First', 'open', false, now(), '{}')",
            (task, row[0], number),
        )
        instances.append((row[0], number, task, saved))
    connection.commit()
    tail = "0" * 64
    steps = 0
    server_before, client_before = cpu_seconds(command="postgres"), time.process_time()
    wall: list[float] = []
    for instance, number, task, saved in instances:
        for state in saved[1:]:
            began = time.perf_counter()
            new = str(uuid.uuid4())
            values = {"instance": instance, "state": state, "done": task, "new": new, "number": number}
            for statement in STEP_SQL:
                connection.execute(statement, values)
            events = []
            for _ in range(5):
                digest = hashlib.sha256(json.dumps([tail, number, steps]).encode()).hexdigest()
                events.append((number, instance, tail, digest))
                tail = digest
            with connection.cursor() as cursor:
                cursor.executemany(AUDIT_SQL, events)
            connection.commit()
            wall.append(time.perf_counter() - began)
            task, steps = new, steps + 1
    result = {
        "server_ms": (cpu_seconds(command="postgres") - server_before) * 1000 / steps,
        "client_ms": (time.process_time() - client_before) * 1000 / steps,
        "wall_median_ms": median_ms(wall),
    }
    connection.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--lifecycles", type=int, default=200)
    args = parser.parse_args()
    database = fresh_database("postgresql")
    url = database.url
    with database.engine.connect() as conn:
        definition_id = conn.exec_driver_sql(
            "SELECT id FROM process_definition WHERE process_id = 'incident' ORDER BY version DESC LIMIT 1"
        ).scalar_one()
    database.dispose()
    workflow, states = workflow_floor(args.lifecycles)
    step = database_floor(url, definition_id, states)
    with gunicorn(url, workers=4) as (port, server):
        http = http_floor(port, server, args.seconds)
    rows = [
        ("HTTP: gunicorn and the clients, 6 requests", HTTP_REQUESTS * (http["app_ms"] + http["clients_ms"])),
        ("workflow: 4 steps run in memory", workflow["run_ms"]),
        ("workflow: 4 states serialised", workflow["dump_ms"]),
        ("database: 4 steps' statements, PostgreSQL", STEPS_PER_LIFECYCLE * step["server_ms"]),
        ("database: 4 steps' statements, the driver", STEPS_PER_LIFECYCLE * step["client_ms"]),
    ]
    floor = sum(ms for _, ms in rows)
    print(f"{'CPU per lifecycle, at the least':45} {'ms':>8}")  # noqa: T201 - the benchmark's table
    for name, ms in rows:
        print(f"{name:45} {ms:8.1f}")  # noqa: T201
    print(f"{'floor in all':45} {floor:8.1f}")  # noqa: T201
    print(f"{'budget at 150 completions/s on 2 cores':45} {BUDGET_MS:8.1f}")  # noqa: T201
    print(f"{'left for all of Flowdesk beyond the floor':45} {BUDGET_MS - floor:8.1f}")  # noqa: T201
    print(  # noqa: T201
        json.dumps(
            {
                "http": {k: round(v, 3) for k, v in http.items()},
                "workflow": {k: round(v, 2) for k, v in workflow.items()},
                "database_step": {k: round(v, 3) for k, v in step.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
