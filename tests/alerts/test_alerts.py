"""Monitoring alerts: one incident per fingerprint, updates, resolution through the incident's process."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.tickets import coordination
from app.tickets.models import Ticket
from tests.conftest import work
from tests.payloads import incident


def webhook(status, fingerprint, severity="critical", **labels):
    return {
        "version": "4",
        "status": status,
        "receiver": "flowdesk",
        "groupLabels": {},
        "commonLabels": {},
        "alerts": [
            {
                "status": status,
                "fingerprint": fingerprint,
                "labels": {"alertname": "MailDown", "severity": severity, "instance": "mail-01", **labels},
                "annotations": {"summary": "Mail relay mail-01 is down"},
                "startsAt": "2026-11-24T10:00:00Z",
                "endsAt": "2026-11-24T10:30:00Z",
                "generatorURL": "http://prometheus.local/graph",
            }
        ],
    }


def post(api, body, user="monitor"):
    return api.post(user, "/api/v1/alerts/alertmanager", body)


def test_an_alert_opens_one_incident_updates_it_and_resolves_it(api):
    status, first = post(api, webhook("firing", "fp1"))
    assert status == 200 and first == {"created": ["INC0000001"], "updated": [], "resolved": []}
    ticket = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert (ticket["requester"], ticket["priority"], ticket["ci"]) == ("monitor", "critical", "mail-01")
    assert ticket["title"] == "Mail relay mail-01 is down" and "alertname=MailDown" in ticket["description"]
    assert post(api, webhook("firing", "fp1"))[1] == {"created": [], "updated": ["INC0000001"], "resolved": []}
    notes = api.get("sam", "/api/v1/tickets/INC0000001/comments")[1]
    assert notes[-1]["visibility"] == "internal" and "fired again" in notes[-1]["body"]
    assert post(api, webhook("resolved", "fp1"))[1] == {"created": [], "updated": [], "resolved": ["INC0000001"]}
    resolved = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert resolved["status"] == "Resolved" and resolved["resolved_at"]
    # A critical alert is a major incident: the service desk closes it, the managers review it.
    closure, review = api.get("admin", "/api/v1/tickets/INC0000001/tasks")[1]
    assert (closure["element_id"], closure["candidate_groups"]) == ("document_closure", ["service-desk"])
    assert (review["element_id"], review["candidate_groups"]) == ("post_incident_review", ["managers"])
    task = closure
    history = api.get("audrey", "/api/v1/tickets/INC0000001/history")[1]
    assert any(e["kind"] == "restarted" and e["actor"] == "monitor" for e in history)
    status, _ = api.post(
        "sam",
        f"/api/v1/tasks/{task['id']}/complete",
        {"data": {"closure_code": "solved_permanently", "closure_notes": "Relay restarted by ops"}},
    )
    assert status == 200 and api.get("sam", "/api/v1/tickets/INC0000001")[1]["status"] == "Closed"


def test_a_resolved_alert_nobody_knows_is_ignored(api):
    assert post(api, webhook("resolved", "unknown"))[1] == {"created": [], "updated": [], "resolved": []}
    assert api.get("sam", "/api/v1/incidents")[1] == []


def test_an_alert_firing_again_within_30_minutes_reopens_its_incident(api):
    post(api, webhook("firing", "fp2"))
    post(api, webhook("resolved", "fp2"))
    assert post(api, webhook("firing", "fp2"))[1] == {"created": [], "updated": ["INC0000001"], "resolved": []}
    ticket = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert (ticket["status"], ticket["reopen_count"]) == ("In Progress", 1)
    tasks = api.get("admin", "/api/v1/tickets/INC0000001/tasks")[1]
    assert [t["element_id"] for t in tasks] == ["post_incident_review", "diagnose"]
    assert post(api, webhook("resolved", "fp2"))[1]["resolved"] == ["INC0000001"]


def test_an_alert_firing_again_later_opens_a_new_incident(api):
    post(api, webhook("firing", "fp5"))
    post(api, webhook("resolved", "fp5"))
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        assert post(api, webhook("firing", "fp5"))[1]["created"] == ["INC0000002"]


def test_a_closed_incident_is_not_reopened(api):
    post(api, webhook("firing", "fp6"))
    post(api, webhook("resolved", "fp6"))
    closure = {"closure_code": "solved_permanently", "closure_notes": "Relay replaced"}
    work(api, "sam", "INC0000001", closure, "document_closure")
    assert post(api, webhook("firing", "fp6"))[1]["created"] == ["INC0000002"]


def test_only_the_monitoring_user_posts_alerts_and_bad_payloads_are_named(api):
    assert post(api, webhook("firing", "fp3"), user="alice")[0] == 403
    assert post(api, webhook("firing", "fp3"), user="sam")[0] == 403
    status, body = post(api, {"version": "3", "alerts": [{"status": "firing"}]})
    assert status == 422
    assert set(body["error"]["fields"]) == {"version", "alerts[0].fingerprint"}
    assert api.get("sam", "/api/v1/incidents")[1] == []


def test_severity_sets_impact_and_urgency(api):
    post(api, webhook("firing", "fp4", severity="warning"))
    ticket = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert (ticket["impact"], ticket["urgency"], ticket["priority"]) == ("medium", "medium", "medium")


def test_a_persons_incident_resolved_elsewhere_asks_the_requester(api, database):
    api.post("alice", "/api/v1/incidents", incident("VPN drops", impact="medium", urgency="high"))
    with database.unit_of_work() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.number == "INC0000001"))
        assert coordination.resolve_elsewhere(
            db, ticket=ticket, code="workaround", notes="Known error: reconnect", actor="lee", reason="problem resolved"
        )
        assert not coordination.resolve_elsewhere(db, ticket=ticket, code="fix", notes="again", actor="lee", reason="x")
    ticket = api.get("alice", "/api/v1/tickets/INC0000001")[1]
    assert (ticket["status"], ticket["resolution_code"]) == ("Resolved", "workaround")
    (task,) = api.get("alice", "/api/v1/tickets/INC0000001/tasks")[1]
    assert (task["element_id"], task["assignee"]) == ("confirm_resolution", "alice")


def test_a_summary_longer_than_a_title_is_cut_with_an_ellipsis_and_kept_whole_in_the_description(api):
    body = webhook("firing", "fp-long")
    summary = "Mail relay mail-01 rejects every message: " + "queue full " * 30
    body["alerts"][0]["annotations"] = {"summary": summary, "description": "Postfix says 452"}
    assert post(api, body)[0] == 200
    ticket = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert len(ticket["title"]) == 200 and ticket["title"].endswith("…"), "the cut says so"
    assert ticket["description"].startswith(summary.strip()) and "Postfix says 452" in ticket["description"]
