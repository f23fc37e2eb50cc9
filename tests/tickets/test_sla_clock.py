"""The SLA clock of an incident: warning at 75 % and escalation at breach (timer boundary events on each tier's
work), pauses while on hold, and the ticket's due dates that follow."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.jobs import worker
from app.jobs.models import Job
from tests.conftest import work

MONDAY_10_PARIS = datetime(2026, 11, 23, 9, tzinfo=UTC)  # 10:00 in Paris, a working Monday
HIGH = {"title": "VPN drops", "description": "Every hour", "impact": "high", "urgency": "medium"}  # PT8H business
RESOLVE = {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Replaced the VPN profile"}
# Which tier works the incident, how to get it there, and who manages that tier's group.
TIERS = {
    "l1": ([], "service-desk", "maria"),
    "l2": ([("sam", {"outcome": "escalate", "category": "network"})], "network-ops", "mark"),
    "l3": (
        [("sam", {"outcome": "escalate", "category": "network"}), ("nina", {"outcome": "escalate"})],
        "infrastructure-l3",
        "mark",
    ),
}


def mails_to(database, address, template_word):
    with database.reader() as db:
        jobs = db.scalars(select(Job).where(Job.kind == "mail").order_by(Job.id))
        return [j.payload for j in jobs if j.payload["to"] == address and template_word in j.payload["subject"]]


def at(hours, minutes=0):
    return MONDAY_10_PARIS + timedelta(hours=hours, minutes=minutes)


@pytest.mark.parametrize("tier", ["l1", "l2", "l3"])
def test_the_group_is_warned_at_75_percent_and_its_manager_at_breach(api, database, tier):
    steps, group, manager = TIERS[tier]
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        number = api.post("alice", "/api/v1/incidents", HIGH)[1]["number"]
        for user, data in steps:
            work(api, user, number, data)
    ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
    assert (ticket["assignment_group"], ticket["sla"]["resolution_due"]) == (group, "2026-11-23T17:00:00+00:00")

    with time_machine.travel(at(5, 59), tick=False):  # 75 % of 8 h is 6 h: 16:00 in Paris
        worker.run_once(database)
        assert api.get("sam", f"/api/v1/tickets/{number}")[1]["sla"]["warned_at"] is None
    with time_machine.travel(at(6, 1), tick=False):
        worker.run_once(database)
        ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
    assert ticket["sla"]["warned_at"] and ticket["sla"]["state"] == "running"
    members = {"service-desk": ["sam", "sara"], "network-ops": ["nina"], "infrastructure-l3": ["lee"]}[group]
    for member in members:
        (mail,) = mails_to(database, f"{member}@example.org", "75%")
        assert "2026-11-23T17:00:00+00:00" in mail["body"]

    with time_machine.travel(at(8, 1), tick=False):
        worker.run_once(database)
    ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
    assert ticket["sla"]["breached"] is True and ticket["sla"]["state"] == "breached" and ticket["sla"]["breached_at"]
    (mail,) = mails_to(database, f"{manager}@example.org", "breached")
    assert f"You manage the group that works it: {group}" in mail["body"]
    history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
    assert [e["kind"] for e in history].count("sla_warning") == 1
    breach = next(e for e in history if e["kind"] == "sla_breached")
    assert breach["changes"]["escalated_to"] == [None, manager]


def test_a_warning_is_given_once_even_when_the_next_tier_inherits_a_late_clock(api, database):
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        number = api.post("alice", "/api/v1/incidents", HIGH)[1]["number"]
    with time_machine.travel(at(6, 30), tick=False):
        worker.run_once(database)
        work(api, "sam", number, {"outcome": "escalate", "category": "network"})
        worker.run_once(database)  # the second-level task's warning timer is already due: it fires at once
    assert len(mails_to(database, "sam@example.org", "75%")) == 1
    assert mails_to(database, "nina@example.org", "75%") == [], "the group that was warned already knows"
    history = api.get("audrey", f"/api/v1/tickets/{number}/history")[1]
    assert [e["kind"] for e in history].count("sla_warning") == 1


def test_two_hours_on_hold_end_two_working_hours_later(api, database):
    with time_machine.travel(at(1), tick=False):  # 11:00 in Paris
        number = api.post("alice", "/api/v1/incidents", HIGH)[1]["number"]
        assert api.get("sam", f"/api/v1/tickets/{number}")[1]["sla"]["resolution_due"] == "2026-11-24T08:00:00+00:00"
    with time_machine.travel(at(2), tick=False):
        held = work(api, "sam", number, {"outcome": "on_hold", "hold_reason": "awaiting_vendor", "category": "network"})
    assert (held["status"], held["sla"]["state"]) == ("On Hold", "paused")
    with time_machine.travel(at(3), tick=False):
        assert worker.run_once(database) == 0, "no SLA timer runs while the incident is on hold"
    with time_machine.travel(at(4), tick=False):
        resumed = work(api, "sam", number, {"hold_cleared_note": "The vendor answered"}, "await_hold_l1")
    # 8 working hours from 11:00 end at 19:00 Paris, past closing time: Tuesday 09:00; two hours later: 11:00.
    assert resumed["sla"]["state"] == "running" and resumed["sla"]["paused_seconds"] == 7200
    assert resumed["sla"]["resolution_due"] == "2026-11-24T10:00:00+00:00"
    with time_machine.travel(datetime(2026, 11, 24, 9, 59, tzinfo=UTC), tick=False):
        resolved = work(api, "sam", number, {**RESOLVE, "category": "network"}, "diagnose")
    assert (resolved["sla"]["state"], resolved["sla"]["breached"]) == ("met", False)


def test_a_priority_of_critical_counts_round_the_clock(api):
    with time_machine.travel(datetime(2026, 11, 28, 22, tzinfo=UTC), tick=False):  # Saturday night
        ticket = api.post("alice", "/api/v1/incidents", {**HIGH, "urgency": "high"})[1]
    assert ticket["sla"]["resolution_due"] == "2026-11-29T02:00:00+00:00"


ROUND_THE_CLOCK, BUSINESS_HOURS = "2026-11-29T06:00:00+00:00", "2026-11-30T15:00:00+00:00"


@pytest.mark.parametrize(
    "service,due",
    [
        ("mail", ROUND_THE_CLOCK),
        ("Mail", ROUND_THE_CLOCK),
        ("E-mail", ROUND_THE_CLOCK),
        ("  messagerie ", ROUND_THE_CLOCK),
        ("Réseau", ROUND_THE_CLOCK),
        ("VPN", ROUND_THE_CLOCK),
        ("printing", BUSINESS_HOURS),
    ],
)
def test_the_service_chooses_the_calendar_whatever_its_case_or_synonym(api, service, due):
    """processes/sla_calendar.dmn: mail runs round the clock, whether typed "Mail", "E-mail" or "messagerie";
    printing counts in business hours."""
    with time_machine.travel(datetime(2026, 11, 28, 22, tzinfo=UTC), tick=False):  # Saturday night
        ticket = api.post("alice", "/api/v1/incidents", {**HIGH, "service": service})[1]
    assert ticket["sla"]["resolution_due"] == due


def test_a_service_changed_to_a_synonym_moves_to_its_calendar(api):
    """An agent correcting the service to "Email" moves the ticket onto the round-the-clock calendar."""
    with time_machine.travel(datetime(2026, 11, 28, 22, tzinfo=UTC), tick=False):
        ticket = api.post("alice", "/api/v1/incidents", {**HIGH, "service": "printing"})[1]
        assert ticket["sla"]["resolution_due"] == BUSINESS_HOURS
        status, edited = api.call("sam", "PATCH", f"/api/v1/tickets/{ticket['number']}", {"service": "Email"})
    assert status == 200 and (edited["service"], edited["sla"]["resolution_due"]) == ("mail", ROUND_THE_CLOCK)
