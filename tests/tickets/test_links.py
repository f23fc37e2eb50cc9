"""Links between tickets: incidents under a parent incident are resolved with it (their requesters confirm), a
duplicate is closed with a link to its original and its requester follows the original."""

from tests.conftest import work
from tests.payloads import RESOLVE_APPLICATION as RESOLVE
from tests.payloads import incident


def raise_incident(api, user="alice", title="Mail is down"):
    status, body = api.post(user, "/api/v1/incidents", incident(title))
    assert status == 201, body
    return body["number"]


def link(api, number, kind, other, user="sam"):
    return api.post(user, f"/api/v1/tickets/{number}/links", {"kind": kind, "ticket": other})


def test_resolving_a_parent_resolves_its_open_children_and_each_requester_confirms(api):
    parent, first, second = raise_incident(api), raise_incident(api, "ramon"), raise_incident(api, "alice")
    done = raise_incident(api, "ramon")
    for child in (first, second, done):
        status, body = link(api, child, "parent", parent.lower())
        assert status == 201 and body["parent"] == parent, body
    work(api, "sam", done, RESOLVE, "diagnose")
    work(api, "ramon", done, {"accepted": True}, "confirm_resolution")
    assert api.get("sam", f"/api/v1/tickets/{parent}")[1]["children"] == [first, second, done]
    assert work(api, "sam", parent, RESOLVE, "diagnose")["status"] == "Resolved"
    for child, requester in ((first, "ramon"), (second, "alice")):
        ticket = api.get(requester, f"/api/v1/tickets/{child}")[1]
        assert ticket["status"] == "Resolved" and f"parent incident {parent}" in ticket["resolution_notes"]
        (task,) = api.get(requester, f"/api/v1/tickets/{child}/tasks")[1]
        assert (task["element_id"], task["assignee"]) == ("confirm_resolution", requester)
    assert api.get("sam", f"/api/v1/tickets/{done}")[1]["resolution_notes"] == RESOLVE["resolution_notes"]


def test_cycles_self_links_problems_and_closed_tickets_are_refused(api):
    top, middle, bottom = raise_incident(api), raise_incident(api), raise_incident(api)
    assert link(api, middle, "parent", top)[0] == 201 and link(api, bottom, "parent", middle)[0] == 201
    status, body = link(api, top, "parent", bottom)
    assert status == 422 and f"{bottom} is already below {top}" in body["error"]["fields"]["ticket"][0]
    status, body = link(api, top, "parent", top)
    assert status == 422 and "itself" in body["error"]["fields"]["ticket"][0]
    status, problem = api.post("sam", "/api/v1/problems", {"title": "Relay", "incidents": []})
    status, body = link(api, top, "parent", problem["number"])
    assert status == 422 and "Only an incident" in body["error"]["fields"]["ticket"][0]
    assert link(api, top, "parent", "INC0009999")[1]["error"]["fields"]["ticket"] == ["No such ticket."]
    api.post("sam", f"/api/v1/tickets/{bottom}/cancel", {"reason": "Raised twice"})
    status, body = link(api, top, "parent", bottom)
    assert status == 422 and "Cancelled" in body["error"]["fields"]["ticket"][0]
    status, body = link(api, bottom, "parent", top)
    assert status == 409 and "can no longer be linked" in body["error"]["message"]
    assert link(api, top, "parent", middle, user="alice")[0] == 403
    assert api.get("sam", f"/api/v1/tickets/{top}")[1]["parent"] is None


def test_a_duplicate_is_closed_linked_and_its_requester_follows_the_original(api):
    original, duplicate = raise_incident(api, "alice"), raise_incident(api, "ramon", "Mail down again")
    status, body = link(api, duplicate, "duplicate_of", original)
    assert status == 201, body
    assert (body["status"], body["duplicate_of"], body["links"]["duplicate_of"]) == ("Closed", original, original)
    assert body["closed_at"] and api.get("ramon", f"/api/v1/tickets/{duplicate}/tasks")[1] == []
    instance = api.get("admin", f"/api/v1/instances/{body['instance_id']}")[1]
    assert (instance["status"], instance["waiting_timers"]) == ("cancelled", [])
    assert api.get("sam", f"/api/v1/tickets/{original}")[1]["links"]["duplicates"] == [duplicate]
    history = api.get("audrey", f"/api/v1/tickets/{original}/history")[1]
    assert any(e["kind"] == "watcher_added" and e["changes"]["watcher"] == [None, "ramon"] for e in history)
    work(api, "sam", original, RESOLVE, "diagnose")
    news = api.get("ramon", "/api/v1/notifications")[1]
    assert news[0]["ticket"] == original and "Resolved" in news[0]["text"], "the original's news reaches ramon"


def test_a_list_of_incidents_carries_each_ones_children(api):
    parent, child = raise_incident(api), raise_incident(api)
    assert link(api, child, "parent", parent)[0] == 201
    listed = {t["number"]: t for t in api.get("sam", "/api/v1/incidents")[1]}
    assert (listed[parent]["children"], listed[child]["parent"]) == ([child], parent)
