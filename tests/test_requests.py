"""Service requests: catalog, approvals by the manager and finance, fulfilment by a group or automation."""

import pytest

from tests.conftest import work

ACCESS = {"application": "crm", "access_level": "read", "justification": "I join the sales team on Monday"}
LAPTOP = {"model": "standard-14", "keyboard_layout": "fr", "justification": "My laptop is five years old"}


def order(api, item, fields, user="alice"):
    status, body = api.post(user, "/api/v1/requests", {"item": item, "fields": fields})
    assert status == 201, body
    return body


def test_the_catalog_lists_each_item_with_its_form(api):
    status, items = api.get("ramon", "/api/v1/catalog")
    assert status == 200
    by_key = {i["key"]: i for i in items}
    assert set(by_key) == {"software-access", "new-laptop", "password-reset"}
    assert by_key["new-laptop"]["cost"] == 1500 and by_key["password-reset"]["needs_approval"] is False
    assert by_key["software-access"]["form"]["schema"]["required"] == ["application", "access_level", "justification"]


def test_software_access_needs_the_managers_approval_then_is_fulfilled(api):
    req = order(api, "software-access", ACCESS)
    assert (req["number"], req["status"], req["title"], req["item"]) == (
        "REQ0000001",
        "Awaiting Approval",
        "Software access",
        "software-access",
    )
    (task,) = api.get("maria", "/api/v1/tasks?scope=mine")[1]
    assert task["ticket"] == "REQ0000001" and task["assignee"] == "maria"
    assert api.get("maria", "/api/v1/tickets/REQ0000001")[0] == 200, "the approver sees what she approves"
    assert api.get("mark", "/api/v1/tickets/REQ0000001")[0] == 404
    work(api, "maria", "REQ0000001", {"decision": "approve", "comment": "Welcome aboard"}, "manager_approval")
    (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert (task["element_id"], task["candidate_groups"]) == ("fulfil", ["app-support"])
    assert api.get("admin", "/api/v1/tickets/REQ0000001")[1]["status"] == "In Fulfillment"
    done = work(api, "arun", "REQ0000001", {"fulfilment_notes": "CRM read role granted"}, "fulfil")
    assert done["status"] == "Closed" and done["closed_at"]
    assert api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1] == [], "the requester is told, not asked"


def test_a_laptop_needs_finance_after_the_manager(api):
    order(api, "new-laptop", LAPTOP)
    work(api, "maria", "REQ0000001", {"decision": "approve"}, "manager_approval")
    (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert (task["element_id"], task["candidate_groups"], task["assignee"]) == ("finance_approval", ["finance"], None)
    assert api.get("fred", "/api/v1/tickets/REQ0000001")[0] == 200
    assert api.get("admin", "/api/v1/tickets/REQ0000001")[1]["status"] == "Awaiting Approval"
    assert work(api, "fred", "REQ0000001", {"decision": "approve"}, "finance_approval")["status"] == "In Fulfillment"
    assert work(api, "sam", "REQ0000001", {"fulfilment_notes": "Laptop handed over"}, "fulfil")["status"] == "Closed"


@pytest.mark.parametrize(
    "steps",
    [
        [("maria", "manager_approval", {"decision": "reject", "comment": "Not in your role"})],
        [
            ("maria", "manager_approval", {"decision": "approve"}),
            ("fred", "finance_approval", {"decision": "reject", "comment": "No budget this quarter"}),
        ],
    ],
)
def test_a_rejection_ends_the_request_without_fulfilment(api, steps):
    order(api, "new-laptop", LAPTOP)
    for user, element, data in steps:
        ticket = work(api, user, "REQ0000001", data, element)
    assert ticket["status"] == "Rejected"
    assert api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1] == []


def test_a_rejection_needs_a_reason(api):
    order(api, "software-access", ACCESS)
    (task,) = api.get("maria", "/api/v1/tasks")[1]
    status, body = api.post("maria", f"/api/v1/tasks/{task['id']}/complete", {"data": {"decision": "reject"}})
    assert status == 422 and "comment" in body["error"]["fields"]


def test_a_password_reset_is_fulfilled_without_a_person(api):
    req = order(api, "password-reset", {"account": "alice.martin"})
    assert req["status"] == "Closed"
    history = api.get("audrey", f"/api/v1/tickets/{req['number']}/history")[1]
    assert "fulfil_automatically" in [e["element_id"] for e in history]


def test_without_a_manager_any_manager_approves(api):
    order(api, "software-access", ACCESS, user="admin")
    (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert (task["assignee"], task["candidate_groups"]) == (None, ["managers"])
    work(api, "mark", "REQ0000001", {"decision": "approve"}, "manager_approval")


def test_bad_orders_name_the_field(api):
    status, body = api.post("alice", "/api/v1/requests", {"item": "yacht", "fields": {}})
    assert status == 422 and "item" in body["error"]["fields"]
    status, body = api.post("alice", "/api/v1/requests", {"item": "new-laptop", "fields": {"model": "gold"}})
    assert status == 422 and {"model", "keyboard_layout", "justification"} <= set(body["error"]["fields"])
    assert api.post("audrey", "/api/v1/requests", {"item": "password-reset", "fields": {"account": "x1"}})[0] == 403
    assert api.get("alice", "/api/v1/tickets/REQ0000001")[0] == 404
