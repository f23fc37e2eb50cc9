"""A million tickets on PostgreSQL: the inbox, the group queue, ticket search and the ticket page at p95.

    .venv/bin/python -m bench.scale [--tickets 1000000] [--requests 200]

Fills a fresh database in SQL (generate_series) with --tickets tickets, one in ten open (incidents and
requests): 80 % incidents, 15 % requests, 5 % problems over three years, titles from 20 subjects whatever the
kind, 5,000 requesters (alice among them), the four agent groups;
each ticket with its human task (open for open tickets, one in a thousand of them assigned to sam, the others
waiting in their group's queue), a service of 50 and a CI of 5,000, an SLA target (open ones: a tenth past
due, some past three quarters of it; closed ones: one in fifty breached), five audit events and, for one in
five, a comment. The generated tickets
share one real process instance: none of the pages measured here reads an instance's state (loading an
instance is measured by bench.rounds). Then one gunicorn worker serves, and each page or API call is asked
--requests times in a row (different tickets and search words each time), by sam (service desk) unless said:
the ticket list with each of its filters, views, sorts and searches, and the page of one heavy ticket (200
comments, 50 attachments, 2,000 history entries). Last, a bulk assignment of 100 real incidents (each with its
own instance), ten times, to sara and back to sam.
"""

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.config import normalise_database_url
from app.identity.service import principal_by_name
from app.migrate import upgrade
from app.tickets import intake
from app.wiring import open_database
from bench.common import PG_URL, Visitor, fresh_database, gunicorn, median_ms, percentile_ms, tokens_for

SUBJECTS = [
    "Printer jammed",
    "Mail is down",
    "VPN drops",
    "Laptop will not boot",
    "Password expired",
    "Slow network",
    "Disk full",
    "Cannot print",
    "Teams crashes",
    "Monitor flickers",
    "Badge refused",
    "Wifi unstable",
    "Backup failed",
    "Database timeout",
    "App error 500",
    "Phone dead",
    "Keyboard broken",
    "Share not mounted",
    "Certificate expired",
    "Calendar out of sync",
]
GROUPS = ["service-desk", "network-ops", "app-support", "infrastructure-l3"]

FILL = [
    # Tickets: one in ten open; kinds by i mod 20; alice is one of the 5,000 requesters.
    """
    INSERT INTO ticket (number, kind, title, description, status, priority, impact, urgency, category, requester,
        opened_by, assignment_group, assignee, reopen_count, reassignment_count, process_id, process_version,
        instance_id, sla_breached, sla_paused_seconds, major_incident, details, created_at, updated_at, closed_at,
        service, ci, resolution_due, sla_warning_due)
    SELECT p.prefix || lpad(i::text, 7, '0'), p.kind,
        (CAST(:subjects AS text[]))[(i / 20) % 20 + 1] || ' on floor ' || (i / 400) % 30 || ' host-' || i % 100000,
        'Reported by the user; seen on host-' || i % 100000,
        CASE WHEN i % 10 = 7 THEN 'In Progress' ELSE 'Closed' END,
        (ARRAY['critical', 'high', 'medium', 'low'])[i % 4 + 1], 'medium', 'medium', 'network',
        CASE WHEN i % 5000 = 0 THEN 'alice' ELSE 'user' || i % 5000 END, 'sam',
        (CAST(:groups AS text[]))[(i / 20) % 4 + 1], CASE WHEN i % 10000 = 7 THEN 'sam' END, 0, 0, p.process, 1,
        :instance,
        i % 50 = 0, 0, false, '{}', now() - (:n - i) * interval '90 seconds',
        now() - (:n - i) * interval '90 seconds',
        CASE WHEN i % 10 <> 7 THEN now() - (:n - i) * interval '90 seconds' + interval '1 day' END,
        'service-' || i % 50, 'ci-' || i % 5000,
        CASE WHEN i % 10 = 7 THEN now() + ((i / 10) % 100 - 10) * interval '1 hour'
            ELSE now() - (:n - i) * interval '90 seconds' + interval '1 day' END,
        CASE WHEN i % 10 = 7 THEN now() + ((i / 10) % 100 - 16) * interval '1 hour'
            ELSE now() - (:n - i) * interval '90 seconds' + interval '18 hours' END
    FROM generate_series(1, :n) AS i
    CROSS JOIN LATERAL (SELECT CASE WHEN i % 20 < 16 THEN 'incident' WHEN i % 20 < 19 THEN 'request'
        ELSE 'problem' END AS kind) AS k
    JOIN (VALUES ('incident', 'INC', 'incident'), ('request', 'REQ', 'request_fulfillment'),
        ('problem', 'PRB', 'problem')) AS p(kind, prefix, process) ON p.kind = k.kind
    """,
    """
    INSERT INTO human_task (id, instance_id, business_key, element_id, name, lane, status, assignee,
        assigned_by_process, created_at, completed_at, completed_by, data)
    SELECT md5(t.number)::uuid::text, :instance, t.number, 'diagnose', 'Diagnose and resolve', 'service-desk',
        CASE WHEN t.status = 'Closed' THEN 'completed' ELSE 'open' END, t.assignee, false, t.created_at,
        t.closed_at, CASE WHEN t.status = 'Closed' THEN 'sam' END, '{}'
    FROM ticket t WHERE t.instance_id = :instance AND t.number <> :real
    """,
    """
    INSERT INTO human_task_group (task_id, group_name, position, open)
    SELECT md5(t.number)::uuid::text, t.assignment_group, 0, t.status <> 'Closed'
    FROM ticket t WHERE t.instance_id = :instance AND t.number <> :real
    """,
    """
    INSERT INTO audit_event (at, actor, kind, ticket, instance_id, process_id, process_version, element_id,
        element_name, changes, public, prev_hash, hash)
    SELECT t.created_at + e * interval '1 hour', CASE WHEN e = 0 THEN t.requester ELSE 'sam' END,
        (ARRAY['ticket_created', 'instance_started', 'task_claimed', 'task_completed', 'status_changed'])[e + 1],
        t.number, :instance, t.process_id, 1, 'diagnose', 'Diagnose and resolve',
        '{"status": ["New", "In Progress"]}', e <> 1, repeat('0', 64),
        md5(t.number || '/' || e) || md5(t.number || '\\' || e)
    FROM ticket t CROSS JOIN generate_series(0, 4) AS e
    WHERE t.instance_id = :instance AND t.number <> :real
    """,
    """
    INSERT INTO ticket_comment (ticket_id, at, author, body, visibility)
    SELECT t.id, t.created_at + interval '2 hours', 'sam', 'Looking into it on ' || t.title, 'public'
    FROM ticket t WHERE t.id % 5 = 0 AND t.instance_id = :instance AND t.number <> :real
    """,
    # The real incident is the heavy ticket of the page measured: 200 comments, 2,000 history entries ...
    """
    INSERT INTO ticket_comment (ticket_id, at, author, body, visibility)
    SELECT t.id, t.created_at + c * interval '1 minute', CASE WHEN c % 3 = 0 THEN 'alice' ELSE 'sam' END,
        'Comment ' || c || ': still looking at the relay, ' || repeat('details ', 20),
        CASE WHEN c % 4 = 0 THEN 'internal' ELSE 'public' END
    FROM ticket t CROSS JOIN generate_series(1, 200) AS c WHERE t.number = :real
    """,
    """
    INSERT INTO audit_event (at, actor, kind, ticket, instance_id, process_id, process_version, element_id,
        element_name, changes, public, prev_hash, hash)
    SELECT now() - interval '1 day' + e * interval '1 second', 'sam', 'ticket_updated', CAST(:real AS text), :instance,
        'incident', 1, 'diagnose', 'Diagnose and resolve', '{"assignee": ["sam", "sara"]}', e % 2 = 0,
        repeat('0', 64), md5(CAST(:real AS text) || '/' || e) || md5(CAST(:real AS text) || '|' || e)
    FROM generate_series(1, 2000) AS e
    """,
    # ... and 50 attachments of 50 kB (one in five internal), each its own blob.
    """
    INSERT INTO attachment_blob (sha256, size, data, created_at)
    SELECT encode(sha256(d.data), 'hex'), length(d.data), d.data, now()
    FROM (SELECT decode(repeat(md5(a::text), 3125), 'hex') AS data FROM generate_series(1, 50) AS a) AS d
    """,
    """
    INSERT INTO ticket_attachment (ticket_id, filename, size, content_type, sha256, visibility, author, at)
    SELECT t.id, 'capture-' || b.a || '.png', b.size, 'image/png', b.sha256,
        CASE WHEN b.a % 5 = 0 THEN 'internal' ELSE 'public' END, 'sam', t.created_at + b.a * interval '1 minute'
    FROM ticket t CROSS JOIN (SELECT sha256, size, row_number() OVER (ORDER BY sha256) AS a FROM attachment_blob) AS b
    WHERE t.number = :real
    """,
    "INSERT INTO ticket_counter (kind, last) VALUES ('request', 0), ('problem', 0) ON CONFLICT DO NOTHING",
    "UPDATE ticket_counter SET last = :n",
]


BULK = 100  # real incidents (each with its own instance) that a bulk assignment moves between two agents


def fill(database, count: int) -> None:
    with database.unit_of_work() as db:
        alice = principal_by_name(db, username="alice")
        for n in range(BULK):  # numbered apart from the generated tickets
            bulk = intake.create_incident(
                db, user=alice, title=f"Bulk {n}", description="", impact="low", urgency="low"
            )
            bulk.number = f"INC98{n:05d}"
            db.execute(
                text("UPDATE human_task SET business_key = :b WHERE instance_id = :i"),
                {"b": bulk.number, "i": bulk.instance_id},
            )
        real = intake.create_incident(
            db, user=alice, title="A real incident", description="", impact="medium", urgency="medium"
        )
        real.number, instance = "INC9999999", real.instance_id
        db.execute(text("UPDATE human_task SET business_key = 'INC9999999' WHERE instance_id = :i"), {"i": instance})
    with database.engine.begin() as conn:
        for statement in FILL:
            began = time.perf_counter()
            conn.execute(
                text(statement),
                {"n": count, "instance": instance, "subjects": SUBJECTS, "groups": GROUPS, "real": "INC9999999"},
            )
            print(f"  {statement.split()[2]:18} {time.perf_counter() - began:6.1f} s", flush=True)  # noqa: T201
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def timed(session: Visitor, paths: list[str]) -> dict:
    timings = []
    for path in paths:
        began = time.perf_counter()
        status, body = session.get(path)
        timings.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return {"requests": len(paths), "median_ms": median_ms(timings), "p95_ms": percentile_ms(timings, 95)}


def measure(port: int, tokens: dict[str, str], count: int, requests: int) -> dict[str, dict]:
    pick = random.Random(6)  # noqa: S311 - which tickets to ask for, not a secret
    browser = Visitor(port)
    browser.sign_in("sam")
    api, requester = Visitor(port, tokens["sam"]), Visitor(port, tokens["alice"])
    open_numbers = [f"INC{pick.randrange(1, count // 20) * 20 + 7:07d}" for _ in range(requests)]
    hosts = [f"host-{pick.randrange(100000)}" for _ in range(requests)]
    subjects = [pick.choice(SUBJECTS).split()[0].lower() for _ in range(requests)]
    warm = [browser.get("/inbox") for _ in range(5)]
    assert all(status == 200 for status, _ in warm)
    return {
        **_lists(api, browser, pick, count, requests),
        **_pages(api, requester, browser, open_numbers, hosts, subjects, requests),
    }


def _lists(api: Visitor, browser: Visitor, pick: random.Random, count: int, requests: int) -> dict[str, dict]:
    """The ticket list (GET /api/v1/tickets) with each filter, the searches, the views and sorts, the page."""
    words = [pick.choice(SUBJECTS).split()[-1].lower() for _ in range(requests)]
    week = [(400 + pick.randrange(300)) for _ in range(requests)]  # a week that many days ago
    filters = {
        "kind=problem": ["kind=problem"],
        "status=In Progress": ["status=In%20Progress"],
        "priority=critical": ["priority=critical"],
        "assignment_group=network-ops": ["assignment_group=network-ops"],
        "assignee=sam (100 tickets)": ["assignee=sam"],
        "requester=userN (200 tickets)": [f"requester=user{pick.randrange(1, 5000)}" for _ in range(requests)],
        "service=service-N": [f"service=service-{pick.randrange(50)}" for _ in range(requests)],
        "ci=ci-N (200 tickets)": [f"ci=ci-{pick.randrange(5000)}" for _ in range(requests)],
        "sla=breached": ["sla=breached"],
        "sla=at_risk": ["sla=at_risk"],
        "view Breached (open, breached, due first)": ["view=breached"],
        "view At risk (due first)": ["view=at-risk"],
        "view Unassigned in my groups": ["view=unassigned"],
        "created in one week, a year ago": [f"created_from={_day_ago(d)}&created_to={_day_ago(d - 6)}" for d in week],
        "sort=priority": ["sort=priority"],
        "q: a rare word (host-N, ~10 hits)": [f"q=host-{pick.randrange(100000)}" for _ in range(requests)],
        "q: a common word (~50,000 hits), ranked": [f"q={w}" for w in words],
        "q: a common word, newest first": [f"q={w}&sort=-created_at" for w in words],
        "q: two words in any order": [f"q={w}%20floor" for w in words],
        "q: a word found nowhere": [f"q=zebra{n}" for n in range(requests)],
        "q: a ticket number": [f"q=INC{pick.randrange(1, count // 20) * 20 + 7:07d}" for _ in range(requests)],
        "q and filters (common word, open, network-ops)": [
            f"q={w}&open=true&assignment_group=network-ops" for w in words
        ],
    }
    found = {}
    for name, queries in filters.items():
        paths = [f"/api/v1/tickets?{queries[n % len(queries)]}" for n in range(requests)]
        found[f"GET /api/v1/tickets?{name}"] = timed(api, paths)
    found["ticket list page (sam, view Unassigned in my groups)"] = timed(
        browser, ["/tickets?view=unassigned"] * requests
    )
    return found


def _day_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def _pages(api, requester, browser, open_numbers, hosts, subjects, requests) -> dict[str, dict]:
    return {
        "inbox page (sam: his tasks and his group's queue, 50 of each)": timed(browser, ["/inbox"] * requests),
        "GET /api/v1/tasks?scope=mine": timed(api, ["/api/v1/tasks?scope=mine"] * requests),
        "GET /api/v1/tasks?scope=group (service-desk queue)": timed(api, ["/api/v1/tasks?scope=group"] * requests),
        "GET /api/v1/incidents?assignment_group=network-ops&status=In Progress": timed(
            api, ["/api/v1/incidents?assignment_group=network-ops&status=In%20Progress"] * requests
        ),
        "search, a rare word (host-N, ~10 hits)": timed(api, [f"/api/v1/incidents?q={h}" for h in hosts]),
        "search, a common word (~50,000 hits, first page)": timed(api, [f"/api/v1/incidents?q={s}" for s in subjects]),
        "search, a word found nowhere": timed(api, [f"/api/v1/incidents?q=zebra{n}" for n in range(requests)]),
        "GET /api/v1/incidents as alice (her own 160)": timed(requester, ["/api/v1/incidents"] * requests),
        "ticket page (an open incident)": timed(browser, [f"/tickets/{n}" for n in open_numbers]),
        "GET /api/v1/tickets/{number}": timed(api, [f"/api/v1/tickets/{n}" for n in open_numbers]),
        "ticket page with 200 comments, 50 attachments and 2,000 history entries": timed(
            browser, ["/tickets/INC9999999"] * requests
        ),
    }


def bulk_assignment(api: Visitor, rounds: int = 10) -> dict:
    """One bulk assignment of the BULK real incidents, to sara and back to sam in turns (each pushes the open
    task to that agent and tells the process)."""
    numbers = [f"INC98{n:05d}" for n in range(BULK)]
    timings = []
    for r in range(rounds):
        body = {"tickets": numbers, "action": "assign", "assignee": ("sara", "sam")[r % 2]}
        began = time.perf_counter()
        result = api.json("POST", "/api/v1/tickets/bulk", body)
        timings.append(time.perf_counter() - began)
        if result["failed"]:
            raise RuntimeError(f"bulk assignment: {result['failed'][:3]}")
    return {"requests": rounds, "median_ms": median_ms(timings), "p95_ms": percentile_ms(timings, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="measure the database of the last run (migrated)")
    args = parser.parse_args()
    if args.reuse:
        database = open_database(normalise_database_url(PG_URL))
        upgrade(database)
    else:
        database = fresh_database("postgresql")
        began = time.perf_counter()
        fill(database, args.tickets)
        print(f"filled {args.tickets:,} tickets in {time.perf_counter() - began:.0f} s", flush=True)  # noqa: T201
    tokens = tokens_for(database, "alice", "sam")
    url = database.url
    database.dispose()
    with gunicorn(url, workers=1) as (port, _):
        for name, result in measure(port, tokens, args.tickets, args.requests).items():
            print(json.dumps({"what": name, **result}), flush=True)  # noqa: T201
        result = bulk_assignment(Visitor(port, tokens["sam"]))
        print(json.dumps({"what": f"bulk assignment of {BULK} tickets", **result}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
