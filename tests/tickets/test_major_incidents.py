"""Major incidents: critical or promoted incidents are coordinated by a manager, stakeholders get updates on a
rhythm (a timer cycle) until service is restored, and a post-incident review follows."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app import engine
from app.jobs import worker
from app.jobs.models import Job
from app.tickets.models import Ticket
from tests.conftest import work
from tests.payloads import RESOLVE

CHARGE = {
    "major_reason": "Nobody in the company can send mail.",
    "stakeholders": ["ceo@example.org", "it-director@example.org"],
    "update_interval": "PT30M",
    "first_update": "Mail is down everywhere; the network team is on it.",
}
REVIEW = {
    "review_summary": "The relay's disk filled up with bounced mail and the relay stopped.",
    "to_improve": "Alert on relay disk usage at 80 % (owner: nina).",
}
MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)


def critical(api, user="alice"):
    body = {"title": "Mail is down", "description": "For everyone", "impact": "high", "urgency": "high"}
    status, ticket = api.post(user, "/api/v1/incidents", body)
    assert status == 201 and ticket["priority"] == "critical"
    return ticket["number"]


def tasks_of(api, number):
    return {t["element_id"]: t for t in api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]}


def mails(database, to=None):
    with database.reader() as db:
        jobs = db.scalars(select(Job).where(Job.kind == "mail").order_by(Job.id))
        return [j.payload for j in jobs if to is None or j.payload["to"] == to]


def test_a_critical_incident_is_coordinated_by_a_manager_and_reviewed(api, database, smtp):
    with time_machine.travel(MONDAY, tick=True):
        number = critical(api)
        open_now = tasks_of(api, number)
        assert set(open_now) == {"diagnose", "take_charge"}, "the service desk works it while a manager takes charge"
        assert open_now["take_charge"]["candidate_groups"] == ["managers"]
        ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
        assert ticket["major_incident"] is True and ticket["assignment_group"] == "service-desk"

        work(api, "maria", number, CHARGE, "take_charge")
        comments = api.get("alice", f"/api/v1/tickets/{number}/comments")[1]
        assert (comments[-1]["author"], comments[-1]["body"]) == ("maria", CHARGE["first_update"])
        worker.run_once(database)
        to_ceo = [m for rcpt, m in smtp.messages if rcpt == ["ceo@example.org"]]
        assert len(to_ceo) == 1 and to_ceo[0]["Subject"] == f"[{number}] Major incident update: Mail is down"
        assert "Nobody in the company can send mail." in to_ceo[0].get_payload()

    # The next update is due 30 minutes later; it carries the latest public news.
    api.post(
        "sam", f"/api/v1/tickets/{number}/comments", {"body": "Relay disk full; cleaning up.", "visibility": "public"}
    )
    for minutes in (31, 61):
        with time_machine.travel(MONDAY + timedelta(minutes=minutes), tick=True):
            worker.run_once(database)
            worker.run_once(database)
    updates = [m for rcpt, m in smtp.messages if rcpt == ["it-director@example.org"]]
    assert len(updates) == 3 and all("Relay disk full; cleaning up." in m.get_payload() for m in updates[1:])

    with time_machine.travel(MONDAY + timedelta(minutes=70), tick=True):
        resolved = work(api, "sam", number, {**RESOLVE, "category": "network"}, "diagnose")
    assert resolved["status"] == "Resolved"
    review = tasks_of(api, number)["post_incident_review"]
    assert review["candidate_groups"] == ["managers"]
    with time_machine.travel(MONDAY + timedelta(hours=5), tick=True):
        worker.run_once(database)
    assert len([m for rcpt, m in smtp.messages if rcpt == ["ceo@example.org"]]) == 3, "no update after restoration"
    work(api, "maria", number, REVIEW, "post_incident_review")
    with database.reader() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.number == number))
        assert engine.get_instance(db, instance_id=ticket.major_instance_id).status == "completed"
    history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
    kinds = [e["kind"] for e in history]
    assert kinds.count("stakeholder_update") == 2 and "major_incident_declared" in kinds


def test_service_restored_before_a_manager_takes_charge_goes_straight_to_the_review(api):
    number = critical(api)
    work(api, "sam", number, {**RESOLVE, "category": "network"}, "diagnose")
    open_now = tasks_of(api, number)
    assert set(open_now) == {"confirm_resolution", "post_incident_review"}


def test_an_agent_promotes_an_incident_once(api):
    status, ticket = api.post(
        "alice", "/api/v1/incidents", {"title": "VPN slow", "description": "", "impact": "medium", "urgency": "medium"}
    )
    number = ticket["number"]
    assert ticket["major_incident"] is False and set(tasks_of(api, number)) == {"diagnose"}
    assert api.post("alice", f"/api/v1/incidents/{number}/major")[0] == 403
    status, promoted = api.post("sam", f"/api/v1/incidents/{number}/major")
    assert status == 200 and promoted["major_incident"] is True
    assert set(tasks_of(api, number)) == {"diagnose", "take_charge"}
    status, body = api.post("sara", f"/api/v1/incidents/{number}/major")
    assert status == 409 and "already a major incident" in body["error"]["message"]
    history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
    declared = next(e for e in history if e["kind"] == "major_incident_declared")
    assert declared["actor"] == "sam" and declared["changes"]["reason"] == [None, "promoted by an agent"]


def test_a_resolved_incident_is_not_promoted(api):
    status, ticket = api.post(
        "alice", "/api/v1/incidents", {"title": "Printer", "description": "", "impact": "low", "urgency": "low"}
    )
    work(api, "sam", ticket["number"], {**RESOLVE, "category": "hardware"})
    status, body = api.post("sam", f"/api/v1/incidents/{ticket['number']}/major")
    assert status == 409 and "Resolved" in body["error"]["message"]


def test_stakeholder_addresses_are_checked(api):
    number = critical(api)
    task = tasks_of(api, number)["take_charge"]
    bad = {**CHARGE, "stakeholders": ["not an address"]}
    status, body = api.post("maria", f"/api/v1/tasks/{task['id']}/complete", {"data": bad})
    assert status == 422 and "stakeholders" in body["error"]["fields"]
