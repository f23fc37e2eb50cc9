"""The incident lifecycle through the REST API: each path of incident.bpmn, races, permissions, bad input."""

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from tests.conftest import work
from tests.payloads import CLOSE, RESOLVE, incident


def raise_incident(api, user="alice", **extra):
    body = {"title": "Mail is down", "description": "Outlook cannot connect", "impact": "high", "urgency": "medium"}
    status, ticket = api.post(user, "/api/v1/incidents", {**body, **extra})
    assert status == 201, ticket
    return ticket


def open_task(api, number):
    status, tasks = api.get("admin", f"/api/v1/tickets/{number}/tasks")
    assert status == 200 and len(tasks) == 1, tasks
    return tasks[0]


def test_a_new_incident_gets_its_priority_and_waits_for_the_service_desk(api):
    ticket = raise_incident(api)
    assert ticket["number"] == "INC0000001"
    assert (ticket["status"], ticket["priority"], ticket["assignment_group"]) == ("New", "high", "service-desk")
    task = open_task(api, ticket["number"])
    assert (task["element_id"], task["candidate_groups"], task["assignee"]) == ("diagnose", ["service-desk"], None)


def test_bad_incident_input_is_422_naming_each_field(api):
    status, body = api.post("alice", "/api/v1/incidents", incident(" ", impact="huge"))
    assert status == 422
    assert set(body["error"]["fields"]) == {"title", "impact"}
    assert api.get("alice", "/api/v1/incidents")[1] == [], "nothing was half-written"


def test_only_an_agent_logs_an_incident_for_a_caller(api):
    status, body = api.post(
        "alice", "/api/v1/incidents", {"title": "x", "impact": "low", "urgency": "low", "caller": "ramon"}
    )
    assert status == 422 and "caller" in body["error"]["fields"]
    ticket = raise_incident(api, "sam", caller="ramon")
    assert (ticket["requester"], ticket["opened_by"]) == ("ramon", "sam")
    assert api.get("ramon", f"/api/v1/tickets/{ticket['number']}")[0] == 200


def test_resolved_confirmed_and_closed_with_its_history(api):
    number = raise_incident(api)["number"]
    assert work(api, "sam", number, {**RESOLVE, "category": "application"}, "diagnose")["status"] == "Resolved"
    confirm = open_task(api, number)
    assert (confirm["element_id"], confirm["assignee"]) == ("confirm_resolution", "alice")
    assert work(api, "alice", number, {"accepted": True})["status"] == "Resolved"
    closed = work(api, "sam", number, CLOSE, "document_closure")
    assert closed["status"] == "Closed" and closed["resolved_at"] and closed["closed_at"]
    assert closed["resolution_code"] == "fix"
    status, history = api.get("audrey", f"/api/v1/tickets/{number}/history")
    assert status == 200
    passed = [e["element_id"] for e in history if e["element_id"]]
    assert passed[:3] == ["start_incident", "gw_entry", "log_incident"]
    for element in (
        "decide_priority",
        "diagnose",
        "record_resolution",
        "confirm_resolution",
        "document_closure",
        "end_closed",
    ):
        assert element in passed
    diagnosis = next(e for e in history if e["element_id"] == "diagnose")
    assert diagnosis["actor"] == "sam" and diagnosis["changes"]["outcome"] == [None, "resolve"]
    public = api.get("alice", f"/api/v1/tickets/{number}/history")[1]
    assert public and len(public) < len(history)
    assert all(e["element_id"] in (None, "confirm_resolution") for e in public), public


def test_a_rejected_resolution_reopens_for_the_service_desk(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {**RESOLVE, "category": "application"})
    reopened = work(api, "alice", number, {"accepted": False, "feedback": "Still cannot send mail"})
    assert (reopened["status"], reopened["reopen_count"], reopened["resolved_at"]) == ("In Progress", 1, None)
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("diagnose", ["service-desk"])
    assert work(api, "sam", number, {**RESOLVE, "category": "application"})["status"] == "Resolved"


def test_escalation_goes_to_the_routed_group_then_to_the_last_tier(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "network"})
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("investigate_l2", ["network-ops"])
    assert api.post("sam", f"/api/v1/tasks/{task['id']}/complete", {"data": RESOLVE})[0] == 403
    work(api, "nina", number, {"outcome": "escalate"})
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("investigate_l3", ["infrastructure-l3"])
    schema = api.get("lee", f"/api/v1/tasks/{task['id']}")[1]["form"]["schema"]
    assert "escalate" not in str(schema)
    status, body = api.post("lee", f"/api/v1/tasks/{task['id']}/complete", {"data": {"outcome": "escalate"}})
    assert status == 422 and "outcome" in body["error"]["fields"]
    assert work(api, "lee", number, RESOLVE)["assignment_group"] == "infrastructure-l3"


def test_unrouted_category_escalates_to_app_support(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "other"})
    assert open_task(api, number)["candidate_groups"] == ["app-support"]


def test_on_hold_for_the_caller_resumes_on_the_callers_public_reply(api):
    number = raise_incident(api)["number"]
    held = work(api, "sam", number, {"outcome": "on_hold", "hold_reason": "awaiting_caller", "category": "access"})
    assert (held["status"], held["hold_reason"]) == ("On Hold", "awaiting_caller")
    assert open_task(api, number)["element_id"] == "await_hold_l1"
    assert (
        api.post("sam", f"/api/v1/tickets/{number}/comments", {"body": "Which client?", "visibility": "public"})[0]
        == 201
    )
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["status"] == "On Hold", "an agent's comment resumes nothing"
    assert (
        api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "Outlook 2021", "visibility": "public"})[0]
        == 201
    )
    resumed = api.get("alice", f"/api/v1/tickets/{number}")[1]
    assert (resumed["status"], resumed["hold_reason"]) == ("In Progress", None)
    assert open_task(api, number)["element_id"] == "diagnose"


def test_on_hold_at_second_level_resumes_there_when_cleared(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "network"})
    work(api, "nina", number, {"outcome": "on_hold", "hold_reason": "awaiting_vendor"})
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("await_hold_l2", ["network-ops"])
    work(api, "nina", number, {"hold_cleared_note": "Vendor shipped the part"})
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("investigate_l2", ["network-ops"])
    assert api.get("admin", f"/api/v1/tickets/{number}")[1]["status"] == "In Progress"


def test_on_hold_at_third_level_resumes_there(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "application"})
    work(api, "arun", number, {"outcome": "escalate"})
    work(api, "lee", number, {"outcome": "on_hold", "hold_reason": "awaiting_change"})
    work(api, "lee", number, {"hold_cleared_note": "Change CHG42 implemented"})
    assert open_task(api, number)["element_id"] == "investigate_l3"


def test_invalid_task_data_is_422_naming_each_field_and_loses_nothing(api):
    number = raise_incident(api)["number"]
    task = open_task(api, number)
    before = api.get("admin", f"/api/v1/tickets/{number}")[1]
    data = {"outcome": "resolve", "resolution_code": "magic", "category": "application", "colour": "red"}
    status, body = api.post("sam", f"/api/v1/tasks/{task['id']}/complete", {"data": data})
    assert status == 422
    assert set(body["error"]["fields"]) == {"resolution_code", "resolution_notes", "colour"}, body
    assert open_task(api, number)["id"] == task["id"]
    assert api.get("admin", f"/api/v1/tickets/{number}")[1] == before


def test_two_simultaneous_completions_give_one_200_one_409_and_one_audit_entry(api, database):
    number = raise_incident(api)["number"]
    task = open_task(api, number)
    api.token("sam")
    payload = {"data": {**RESOLVE, "category": "application"}}
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(
            pool.map(lambda _: api.post("sam", f"/api/v1/tasks/{task['id']}/complete", payload)[0], range(2))
        )
    assert codes == [200, 409]
    with database.reader() as db:
        count = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.ticket == number, AuditEvent.element_id == "diagnose", AuditEvent.kind == "task_completed"
            )
        )
    assert count == 1
    assert [t["element_id"] for t in api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]] == ["confirm_resolution"]


@pytest.mark.parametrize("user,code", [("nina", 403), ("audrey", 403), ("ramon", 404), ("olivia", 403)])
def test_users_outside_the_task_cannot_complete_it(api, user, code):
    number = raise_incident(api)["number"]
    task = open_task(api, number)
    status, _ = api.post(user, f"/api/v1/tasks/{task['id']}/complete", {"data": RESOLVE})
    assert status == code
    assert open_task(api, number)["id"] == task["id"]


def test_claim_and_unclaim(api):
    number = raise_incident(api)["number"]
    task = open_task(api, number)
    assert api.post("nina", f"/api/v1/tasks/{task['id']}/claim")[0] == 403
    assert api.post("sam", f"/api/v1/tasks/{task['id']}/claim")[0] == 200
    assert api.get("admin", f"/api/v1/tickets/{number}")[1]["assignee"] == "sam"
    assert api.post("sara", f"/api/v1/tasks/{task['id']}/claim")[0] == 409
    assert api.post("sara", f"/api/v1/tasks/{task['id']}/unclaim")[0] == 409
    assert [t["id"] for t in api.get("sam", "/api/v1/tasks?scope=mine")[1]] == [task["id"]]
    assert api.post("sam", f"/api/v1/tasks/{task['id']}/unclaim")[0] == 200
    assert api.get("admin", f"/api/v1/tickets/{number}")[1]["assignee"] is None
    assert [t["id"] for t in api.get("sara", "/api/v1/tasks?scope=group")[1]] == [task["id"]]


def test_the_requesters_confirmation_cannot_be_released(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {**RESOLVE, "category": "application"})
    confirm = open_task(api, number)
    assert api.post("alice", f"/api/v1/tasks/{confirm['id']}/unclaim")[0] in (403, 409)
    assert [t["id"] for t in api.get("alice", "/api/v1/tasks")[1]] == [confirm["id"]]


def test_lists_are_paged_and_filtered(api):
    for _ in range(3):
        raise_incident(api)
    raise_incident(api, "ramon")
    status, page = api.get("sam", "/api/v1/incidents?limit=2")
    assert status == 200 and [t["number"] for t in page] == ["INC0000004", "INC0000003"]
    assert [t["number"] for t in api.get("sam", "/api/v1/incidents?limit=2&offset=2")[1]] == [
        "INC0000002",
        "INC0000001",
    ]
    assert len(api.get("alice", "/api/v1/incidents")[1]) == 3
    assert api.get("sam", "/api/v1/incidents?limit=0")[0] == 422
    assert len(api.get("sam", "/api/v1/incidents?priority=high&q=mail")[1]) == 4


def test_openapi_lists_every_route(api, app):
    status, doc = api.get(None, "/api/v1/openapi.json")
    assert status == 200
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    documented = {p.replace("{", "<").replace("}", ">") for p in doc["paths"]}
    normalised = {r.replace("<int:", "<") for r in rules}
    assert normalised == documented


def test_on_hold_at_first_level_resumes_there_when_cleared(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "on_hold", "hold_reason": "awaiting_vendor", "category": "hardware"})
    work(api, "sara", number, {"hold_cleared_note": "Replacement disk delivered"}, "await_hold_l1")
    assert (open_task(api, number)["element_id"], api.get("sam", f"/api/v1/tickets/{number}")[1]["status"]) == (
        "diagnose",
        "In Progress",
    )


@pytest.mark.parametrize("tier_users,element", [(("arun",), "investigate_l2"), (("arun", "lee"), "investigate_l3")])
def test_the_callers_reply_resumes_the_tier_that_waits_for_it(api, tier_users, element):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "application"})
    for user in tier_users[:-1]:
        work(api, user, number, {"outcome": "escalate"})
    work(api, tier_users[-1], number, {"outcome": "on_hold", "hold_reason": "awaiting_caller"})
    status, _ = api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "Here it is", "visibility": "public"})
    assert status == 201
    assert open_task(api, number)["element_id"] == element


MONDAY_10_PARIS = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "impact,urgency,response_due,resolution_due",
    [
        # critical: round the clock
        ("high", "high", "2026-11-23T09:15:00+00:00", "2026-11-23T13:00:00+00:00"),
        # high: PT1H and PT8H of business hours (Paris, 08:00-18:00 on working days)
        ("high", "medium", "2026-11-23T10:00:00+00:00", "2026-11-23T17:00:00+00:00"),
        # medium: PT4H, and P3D = three working days of 10 hours: Monday 10:00 -> Thursday 10:00
        ("medium", "medium", "2026-11-23T13:00:00+00:00", "2026-11-26T09:00:00+00:00"),
        # low: P1D -> Tuesday 10:00; P5D -> over the weekend to the next Monday 10:00
        ("low", "low", "2026-11-24T09:00:00+00:00", "2026-11-30T09:00:00+00:00"),
    ],
)
def test_sla_due_dates_follow_the_priority_and_its_calendar(api, impact, urgency, response_due, resolution_due):
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        ticket = raise_incident(api, impact=impact, urgency=urgency)
    assert (ticket["sla"]["response_due"], ticket["sla"]["resolution_due"]) == (response_due, resolution_due)
    assert (ticket["sla"]["breached"], ticket["sla"]["state"]) == (False, "running")


def test_a_late_resolution_is_a_breach(api):
    with time_machine.travel(MONDAY_10_PARIS, tick=True):
        number = raise_incident(api, impact="high", urgency="medium")["number"]
    # PT8H of business hours from Monday 10:00 end on Monday at 18:00: Tuesday 10:00 is late.
    with time_machine.travel(MONDAY_10_PARIS + timedelta(days=1), tick=True):
        assert work(api, "sam", number, {**RESOLVE, "category": "application"})["sla"]["breached"] is True


def test_an_auditor_exports_the_history_as_csv(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {**RESOLVE, "category": "application"})
    response = api.client.get(
        f"/api/v1/tickets/{number}/history.csv", headers={"Authorization": f"Bearer {api.token('audrey')}"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(api.get("audrey", f"/api/v1/tickets/{number}/history")[1])
    diagnosis = next(r for r in rows if r["element_id"] == "diagnose")
    assert diagnosis["actor"] == "sam" and '"outcome": [null, "resolve"]' in diagnosis["changes"]
    assert (
        api.client.get(
            f"/api/v1/tickets/{number}/history.csv", headers={"Authorization": f"Bearer {api.token('ramon')}"}
        ).status_code
        == 404
    )


def test_second_level_reassigns_to_another_group_and_counts_it(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "escalate", "category": "network"})
    schema = api.get("nina", f"/api/v1/tasks/{open_task(api, number)['id']}")[1]["form"]["schema"]
    status, body = api.post(
        "nina", f"/api/v1/tasks/{open_task(api, number)['id']}/complete", {"data": {"outcome": "reassign"}}
    )
    assert "reassign_to" in schema["properties"] and status == 422 and "reassign_to" in body["error"]["fields"]
    moved = work(api, "nina", number, {"outcome": "reassign", "reassign_to": "app-support"}, "investigate_l2")
    assert (moved["reassignment_count"], moved["assignment_group"], moved["status"]) == (
        1,
        "app-support",
        "In Progress",
    )
    task = open_task(api, number)
    assert (task["element_id"], task["candidate_groups"]) == ("investigate_l2", ["app-support"])
    back = work(api, "arun", number, {"outcome": "reassign", "reassign_to": "network-ops"})
    assert (back["reassignment_count"], back["assignment_group"]) == (2, "network-ops")
    assert work(api, "nina", number, RESOLVE)["status"] == "Resolved"
