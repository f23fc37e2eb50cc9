"""Cancelling a ticket: its requester (before it is resolved or fulfilled) or an agent; the process stops there:
no task waits, no timer runs, and the history says who cancelled it and why."""

from tests.conftest import work
from tests.payloads import RESOLVE_APPLICATION as RESOLVE
from tests.payloads import incident
from tests.tickets.test_requests import ACCESS, order

REASON = {"reason": "The printer works again after a restart"}


def raise_incident(api, user="alice"):
    status, body = api.post(user, "/api/v1/incidents", incident("Printer jam"))
    assert status == 201, body
    return body


def instance(api, ticket):
    status, body = api.get("admin", f"/api/v1/instances/{ticket['instance_id']}")
    assert status == 200, body
    return body


def test_the_requester_cancels_an_open_incident_and_nothing_waits_any_more(api):
    ticket = raise_incident(api)
    assert instance(api, ticket)["waiting_timers"], "the SLA timers were waiting"
    status, body = api.post("alice", f"/api/v1/tickets/{ticket['number']}/cancel", REASON)
    assert status == 200, body
    assert (body["status"], body["cancel_reason"]) == ("Cancelled", REASON["reason"]) and body["cancelled_at"]
    assert api.get("alice", f"/api/v1/tickets/{ticket['number']}/tasks")[1] == []
    assert not [t for t in api.get("sam", "/api/v1/tasks")[1] if t["ticket"] == ticket["number"]]
    stopped = instance(api, ticket)
    assert (stopped["status"], stopped["open_tasks"], stopped["waiting_timers"]) == ("cancelled", [], [])
    history = api.get("alice", f"/api/v1/tickets/{ticket['number']}/history")[1]
    cancelled = next(e for e in history if e["kind"] == "ticket_cancelled")
    assert cancelled["actor"] == "alice" and cancelled["changes"]["reason"] == [None, REASON["reason"]]
    assert cancelled["changes"]["status"] == ["New", "Cancelled"]


def test_an_agent_cancels_an_incident_on_hold_and_the_requester_is_told(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, {"outcome": "on_hold", "hold_reason": "awaiting_vendor", "category": "hardware"})
    status, body = api.post("sam", f"/api/v1/tickets/{number}/cancel", {"reason": "Raised twice"})
    assert status == 200 and body["status"] == "Cancelled"
    news = api.get("alice", "/api/v1/notifications")[1]
    assert news[0]["ticket"] == number and "Cancelled" in news[0]["text"]


def test_it_is_too_late_once_resolved_and_a_cancelled_ticket_stays_cancelled(api):
    number = raise_incident(api)["number"]
    work(api, "sam", number, RESOLVE, "diagnose")
    status, body = api.post("alice", f"/api/v1/tickets/{number}/cancel", REASON)
    assert status == 409 and "Resolved" in body["error"]["message"] and "too late" in body["error"]["message"]
    other = raise_incident(api)["number"]
    assert api.post("sam", f"/api/v1/tickets/{other}/cancel", REASON)[0] == 200
    status, body = api.post("sam", f"/api/v1/tickets/{other}/cancel", REASON)
    assert status == 409 and "Cancelled" in body["error"]["message"]


def test_only_the_requester_and_agents_cancel_and_a_reason_is_needed(api):
    number = raise_incident(api)["number"]
    assert api.post("ramon", f"/api/v1/tickets/{number}/cancel", REASON)[0] == 404
    assert api.post("audrey", f"/api/v1/tickets/{number}/cancel", REASON)[0] == 403
    status, body = api.post("alice", f"/api/v1/tickets/{number}/cancel", {"reason": " "})
    assert status == 422 and "reason" in body["error"]["fields"]
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["status"] == "New"


def test_a_request_is_cancelled_before_fulfilment_but_not_by_its_requester_after(api):
    req = order(api, "software-access", ACCESS)
    status, body = api.post("alice", f"/api/v1/tickets/{req['number']}/cancel", {"reason": "Not needed any more"})
    assert status == 200 and body["status"] == "Cancelled"
    assert not [t for t in api.get("maria", "/api/v1/tasks")[1] if t["ticket"] == req["number"]], "no approval waits"
    later = order(api, "software-access", ACCESS)
    work(api, "maria", later["number"], {"decision": "approve", "comment": "Fine"}, "manager_approval")
    status, body = api.post("alice", f"/api/v1/tickets/{later['number']}/cancel", {"reason": "Changed my mind"})
    assert status == 409 and "already being fulfilled" in body["error"]["message"]
    status, body = api.post("arun", f"/api/v1/tickets/{later['number']}/cancel", {"reason": "Changed my mind"})
    assert status == 200 and body["status"] == "Cancelled"
