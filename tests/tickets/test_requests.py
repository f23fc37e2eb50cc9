"""Service requests: catalog, approvals by the manager and finance, fulfilment by a group or automation."""

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.identity.models import User
from app.jobs import worker
from app.jobs.models import Job
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
    # The laptop's two fulfilment tasks are worked in parallel; the request closes when both are done.
    first, second = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert {first["name"], second["name"]} == {
        "Fulfil the request: Prepare and image the laptop",
        "Fulfil the request: Create the accounts and licences",
    }
    assert first["candidate_groups"] == second["candidate_groups"] == ["service-desk"]
    status, body = api.post(
        "sara", f"/api/v1/tasks/{second['id']}/complete", {"data": {"fulfilment_notes": "Accounts"}}
    )
    assert status == 200 and body["ticket"]["status"] == "In Fulfillment"
    status, body = api.post("sam", f"/api/v1/tasks/{first['id']}/complete", {"data": {"fulfilment_notes": "Imaged"}})
    assert status == 200 and body["ticket"]["status"] == "Closed" and body["next_tasks"] == []


def test_finance_starts_from_an_empty_form_and_its_decision_is_recorded_even_when_it_repeats_the_managers(api):
    order(api, "new-laptop", LAPTOP)
    work(api, "maria", "REQ0000001", {"decision": "approve", "comment": "Needed for the new job"}, "manager_approval")
    (task,) = api.get("fred", "/api/v1/tasks")[1]
    status, shown = api.get("fred", f"/api/v1/tasks/{task['id']}")
    assert status == 200 and shown["data"] == {}, "finance's form does not open with the manager's words"
    work(api, "fred", "REQ0000001", {"decision": "approve"}, "finance_approval")
    history = api.get("admin", "/api/v1/tickets/REQ0000001/history")[1]
    finance = [e for e in history if e["kind"] == "task_completed" and e["element_id"] == "finance_approval"]
    assert [e["actor"] for e in finance] == ["fred"]
    assert finance[0]["changes"]["decision"][1] == "approve", "the audit shows what finance decided"
    assert "comment" not in finance[0]["changes"], "finance wrote no comment, and none is put in their mouth"


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


MONDAY_10_PARIS = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_an_unanswered_approval_reminds_after_2_working_days_and_escalates_after_5(api, database):
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        order(api, "software-access", ACCESS, user="sam")  # sam's manager is maria, whose manager is nobody
    with time_machine.travel(datetime(2026, 11, 25, 8, 59, tzinfo=UTC), tick=False):
        assert worker.run_once(database) == 0, "Wednesday 09:59 in Paris: not yet 2 working days (20 hours)"
    with time_machine.travel(datetime(2026, 11, 25, 9, 1, tzinfo=UTC), tick=False):
        worker.run_once(database)
    (reminder,) = mails_with(database, "maria@example.org", "Reminder")
    assert "two working days" in reminder["body"]
    (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert (task["element_id"], task["assignee"]) == ("manager_approval", "maria"), "a reminder leaves it with her"
    # Five working days from Monday 10:00: the next Monday 10:00 (the weekend does not count).
    with time_machine.travel(datetime(2026, 11, 30, 9, 1, tzinfo=UTC), tick=False):
        worker.run_once(database)
    (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
    assert (task["element_id"], task["assignee"], task["candidate_groups"]) == (
        "manager_approval_escalated",
        None,
        ["managers"],
    ), "maria has no manager: any manager may answer"
    done = work(api, "mark", "REQ0000001", {"decision": "approve", "comment": "Approved in Maria's absence"})
    assert done["status"] == "In Fulfillment"


def test_an_escalated_approval_goes_to_the_approvers_manager(api, database):
    with database.unit_of_work() as db:
        maria, mark = (db.scalar(select(User).where(User.username == n)) for n in ("maria", "mark"))
        maria.manager_id = mark.id
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        order(api, "new-laptop", LAPTOP, user="sam")
    with time_machine.travel(datetime(2026, 11, 30, 9, 1, tzinfo=UTC), tick=False):
        worker.run_once(database)
        (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
        assert (task["element_id"], task["assignee"]) == ("manager_approval_escalated", "mark")
        work(api, "mark", "REQ0000001", {"decision": "reject", "comment": "Not this year"})
    assert api.get("admin", "/api/v1/tickets/REQ0000001")[1]["status"] == "Rejected"


def test_an_unanswered_cost_approval_reminds_finance_then_goes_to_its_manager(api, database):
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        order(api, "new-laptop", LAPTOP)
        work(api, "maria", "REQ0000001", {"decision": "approve"}, "manager_approval")
    with time_machine.travel(datetime(2026, 11, 25, 9, 1, tzinfo=UTC), tick=False):
        worker.run_once(database)
    assert len(mails_with(database, "fred@example.org", "Reminder")) == 1
    with time_machine.travel(datetime(2026, 11, 30, 9, 1, tzinfo=UTC), tick=False):
        worker.run_once(database)
        (task,) = api.get("admin", "/api/v1/tickets/REQ0000001/tasks")[1]
        assert (task["element_id"], task["assignee"]) == ("finance_approval_escalated", "maria")
        assert work(api, "maria", "REQ0000001", {"decision": "approve"})["status"] == "In Fulfillment"


def test_an_answer_in_time_cancels_the_reminder_and_the_escalation(api, database):
    with time_machine.travel(MONDAY_10_PARIS, tick=False):
        order(api, "software-access", ACCESS)
        work(api, "maria", "REQ0000001", {"decision": "approve"}, "manager_approval")
    with time_machine.travel(datetime(2026, 12, 7, 9, tzinfo=UTC), tick=False):
        assert worker.run_once(database) == 0
    assert mails_with(database, "maria@example.org", "Reminder") == []


def mails_with(database, address, word):
    with database.reader() as db:
        jobs = db.scalars(select(Job).where(Job.kind == "mail").order_by(Job.id))
        return [j.payload for j in jobs if j.payload["to"] == address and word in j.payload["subject"]]
