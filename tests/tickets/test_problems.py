"""Problems: linked incidents, known errors published to them, and resolution that resolves them."""

import pytest

from tests.conftest import work
from tests.payloads import RESOLVE_APPLICATION as RESOLVE
from tests.payloads import incident as incident_body


def incident(api, user="alice"):
    status, body = api.post(user, "/api/v1/incidents", incident_body("Mail is down", impact="medium", urgency="high"))
    assert status == 201
    return body["number"]


def problem(api, numbers):
    status, body = api.post(
        "sam", "/api/v1/problems", {"title": "Relay crashes nightly", "description": "OOM", "incidents": numbers}
    )
    assert status == 201, body
    return body


def test_a_problem_publishes_its_workaround_and_resolves_its_open_incidents(api):
    first, second, done = incident(api), incident(api, "ramon"), incident(api)
    work(api, "sam", done, RESOLVE, "diagnose")
    work(api, "sam", first, {"outcome": "on_hold", "hold_reason": "awaiting_vendor", "category": "network"}, "diagnose")
    prb = problem(api, [first, second, done])
    assert prb["number"] == "PRB0000001" and prb["status"] == "Assessment"
    assert prb["links"]["incidents"] == [first, second, done]
    assert api.get("sam", f"/api/v1/tickets/{first}")[1]["links"]["problem"] == "PRB0000001"
    work(api, "lee", prb["number"], {"assessment": "investigate"}, "assess")
    known = work(api, "lee", prb["number"], {"root_cause": "Memory leak", "workaround": "Restart the relay"}, "analyse")
    assert known["status"] == "Known Error"
    comments = api.get("ramon", f"/api/v1/tickets/{second}/comments")[1]
    assert comments[-1]["body"] == "Known error PRB0000001: Restart the relay"
    work(api, "lee", prb["number"], {"fix_decision": "fix", "change_reference": "CHG7"}, "decide_fix")
    assert work(api, "lee", prb["number"], {"fix_notes": "Patched the relay"}, "implement_fix")["status"] == "Resolved"
    for number, requester in ((first, "alice"), (second, "ramon")):
        ticket = api.get(requester, f"/api/v1/tickets/{number}")[1]
        assert (ticket["status"], ticket["resolution_code"]) == ("Resolved", "fix")
        assert "Resolved by problem PRB0000001" in ticket["resolution_notes"]
        (task,) = api.get(requester, f"/api/v1/tickets/{number}/tasks")[1]
        assert (task["element_id"], task["assignee"]) == ("confirm_resolution", requester)
    assert api.get("alice", f"/api/v1/tickets/{done}")[1]["resolution_notes"] == "Restarted the mail relay"
    assert work(api, "lee", prb["number"], {"closure_notes": "Held for a week"}, "review")["status"] == "Closed"


@pytest.mark.parametrize(
    "steps,final",
    [
        ([("assess", {"assessment": "not_a_problem", "assessment_notes": "Unrelated incidents"})], "Closed"),
        (
            [
                ("assess", {"assessment": "investigate"}),
                ("analyse", {"root_cause": "Old firmware", "workaround": "Reboot"}),
                ("decide_fix", {"fix_decision": "accept_risk", "decision_notes": "Hardware retires next month"}),
            ],
            "Closed",
        ),
    ],
)
def test_a_problem_can_end_without_a_fix(api, steps, final):
    number = incident(api)
    prb = problem(api, [number])["number"]
    for element, data in steps:
        ticket = work(api, "lee", prb, data, element)
    assert ticket["status"] == final and ticket["closed_at"]
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["status"] == "New"


def test_only_agents_raise_problems_and_unknown_incidents_are_named(api):
    number = incident(api)
    assert api.post("alice", "/api/v1/problems", {"title": "x", "incidents": [number]})[0] == 403
    status, body = api.post("sam", "/api/v1/problems", {"title": "x", "incidents": [number, "INC0000099"]})
    assert status == 422 and "INC0000099" in body["error"]["fields"]["incidents"][0]
    status, body = api.post("sam", "/api/v1/problems", {"title": "", "incidents": "INC0000001"})
    assert status == 422 and set(body["error"]["fields"]) == {"title", "incidents"}
    assert api.get("sam", "/api/v1/tickets/PRB0000001")[0] == 404


def test_an_agent_links_an_incident_to_an_existing_problem(api):
    first, later = incident(api), incident(api)
    prb = problem(api, [first])["number"]
    assert api.post("alice", f"/api/v1/tickets/{later}/problem", {"problem": prb})[0] == 403
    status, body = api.post("sam", f"/api/v1/tickets/{later}/problem", {"problem": "PRB0000099"})
    assert status == 422 and "problem" in body["error"]["fields"]
    status, linked = api.post("sam", f"/api/v1/tickets/{later}/problem", {"problem": prb.lower()})
    assert status == 200 and linked["links"]["problem"] == prb
    assert api.get("sam", f"/api/v1/tickets/{prb}")[1]["links"]["incidents"] == [first, later]
    history = api.get("audrey", f"/api/v1/tickets/{later}/history")[1]
    assert history[-1]["kind"] == "linked_to_problem" and history[-1]["actor"] == "sam"
