"""Agents edit tickets: priority and SLA targets follow impact and urgency, the assignment moves the open task,
every change is in the history, and of two concurrent edits one wins and the other is told what changed."""

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.jobs.models import Job
from tests.payloads import incident


def raise_incident(api, user="alice", **fields):
    status, body = api.post(user, "/api/v1/incidents", incident("Mail is down", **fields))
    assert status == 201, body
    return body


def patch(api, user, number, body, headers=None):
    headers = {"Authorization": f"Bearer {api.token(user)}", **(headers or {})}
    response = api.client.patch(f"/api/v1/tickets/{number}", json=body, headers=headers)
    return response.status_code, response.get_json(silent=True), response.headers


def timers(database, instance_id):
    with database.reader() as db:
        jobs = db.scalars(select(Job).where(Job.instance_id == instance_id, Job.status == "waiting"))
        return {job.element_id: job.due_at for job in jobs}


def test_raising_impact_and_urgency_recomputes_the_priority_and_moves_the_sla(api, database):
    ticket = raise_incident(api)
    assert (ticket["priority"], ticket["version"]) == ("low", 1)
    before = timers(database, ticket["instance_id"])
    status, edited, headers = patch(api, "sam", ticket["number"], {"impact": "high", "urgency": "high"})
    assert status == 200, edited
    assert (edited["priority"], edited["impact"], edited["urgency"]) == ("critical", "high", "high")
    assert headers["ETag"] == '"2"' and edited["version"] == 2
    due = datetime.fromisoformat(edited["sla"]["resolution_due"])
    assert due < datetime.fromisoformat(ticket["sla"]["resolution_due"])
    created = datetime.fromisoformat(ticket["created_at"])
    assert (due - created).total_seconds() == 4 * 3600, "critical: resolved within 4 hours, round the clock"
    after = timers(database, ticket["instance_id"])
    assert after["sla_breach_l1"] == due and after["sla_breach_l1"] != before["sla_breach_l1"]
    history = api.get("sam", f"/api/v1/tickets/{ticket['number']}/history")[1]
    edit = next(e for e in history if e["kind"] == "ticket_edited")
    assert edit["actor"] == "sam" and edit["changes"]["impact"] == ["low", "high"]
    assert edit["changes"]["urgency"] == ["low", "high"]
    assert any(e["changes"].get("priority") == ["low", "critical"] for e in history), "the new priority is recorded"
    assert api.get("alice", f"/api/v1/tickets/{ticket['number']}")[1]["priority"] == "critical"


def test_a_target_moved_into_the_past_is_breached_at_once(api):
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    with time_machine.travel(opened, tick=False):
        ticket = raise_incident(api)
    with time_machine.travel(opened + timedelta(hours=5), tick=False):
        status, edited, _ = patch(api, "sam", ticket["number"], {"impact": "high", "urgency": "high"})
    assert status == 200 and edited["priority"] == "critical"
    assert edited["sla"]["breached"] and edited["sla"]["breached_at"], "4 hours were over an hour ago"
    history = api.get("sam", f"/api/v1/tickets/{ticket['number']}/history")[1]
    assert [e["kind"] for e in history].count("sla_breached") == 1
    assert any(n["kind"] == "sla_breach" for n in api.get("maria", "/api/v1/notifications")[1]), "the manager is told"


def test_title_category_service_and_ci_are_kept_with_their_history(api):
    number = raise_incident(api)["number"]
    changes = {"title": "Mail relay down", "category": "network", "service": "Email", "ci": "relay-01"}
    status, edited, _ = patch(api, "sam", number, changes)
    assert status == 200 and {k: edited[k] for k in changes} == {**changes, "service": "mail"}, "the known name"
    public = api.get("alice", f"/api/v1/tickets/{number}/history")[1]
    edit = next(e for e in public if e["kind"] == "ticket_edited")
    assert edit["changes"]["title"] == ["Mail is down", "Mail relay down"]
    assert edit["changes"]["ci"] == [None, "relay-01"]


def test_an_assignee_gets_the_task_in_my_tasks_and_a_notification(api):
    number = raise_incident(api)["number"]
    status, edited, _ = patch(api, "sam", number, {"assignee": "sara"})
    assert status == 200 and edited["assignee"] == "sara"
    mine = api.get("sara", "/api/v1/tasks?scope=mine")[1]
    assert [(t["ticket"], t["element_id"]) for t in mine] == [(number, "diagnose")]
    assert not [t for t in api.get("sam", "/api/v1/tasks?scope=group")[1] if t["ticket"] == number]
    news = api.get("sara", "/api/v1/notifications")[1]
    assert news[0]["ticket"] == number and "New task for you" in news[0]["text"]


def test_an_assignee_outside_the_group_is_refused_naming_the_field(api):
    number = raise_incident(api)["number"]
    status, body, _ = patch(api, "sam", number, {"assignee": "nina"})
    assert status == 422 and "nina is not a member of service-desk" in body["error"]["fields"]["assignee"][0]
    assert api.get("sam", f"/api/v1/tickets/{number}")[1]["assignee"] is None


def test_a_new_group_takes_the_open_task_and_drops_an_assignee_not_in_it(api):
    number = raise_incident(api)["number"]
    assert patch(api, "sam", number, {"assignee": "sam"})[0] == 200
    status, edited, _ = patch(api, "sam", number, {"assignment_group": "network-ops"})
    assert status == 200 and (edited["assignment_group"], edited["assignee"]) == ("network-ops", None)
    (task,) = api.get("admin", f"/api/v1/tickets/{number}/tasks")[1]
    assert (task["candidate_groups"], task["assignee"]) == (["network-ops"], None)
    assert [t["ticket"] for t in api.get("nina", "/api/v1/tasks?scope=group")[1]] == [number]
    status, edited, _ = patch(api, "nina", number, {"assignee": "nina"})
    assert status == 200 and api.get("nina", "/api/v1/tasks?scope=mine")[1][0]["ticket"] == number
    assert patch(api, "sam", number, {"assignment_group": "finance"})[1]["error"]["fields"]["assignment_group"]


def test_unknown_fields_and_values_are_422_and_others_than_agents_403_or_404(api):
    number = raise_incident(api)["number"]
    status, body, _ = patch(api, "sam", number, {"status": "Closed", "impact": "huge"})
    assert status == 422 and set(body["error"]["fields"]) == {"status", "impact"}
    assert patch(api, "alice", number, {"title": "Mine"})[0] == 403
    assert patch(api, "ramon", number, {"title": "Not mine"})[0] == 404
    assert patch(api, "audrey", number, {"title": "Read only"})[0] == 403
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["title"] == "Mail is down"


def test_an_edit_on_an_old_version_is_409_naming_what_changed(api):
    number = raise_incident(api)["number"]
    assert patch(api, "sam", number, {"urgency": "high"}, {"If-Match": '"1"'})[0] == 200
    status, body, _ = patch(api, "sara", number, {"title": "Mail relay down"}, {"If-Match": '"1"'})
    assert status == 409 and "urgency" in body["error"]["fields"]
    assert "sam changed it from low to high" in body["error"]["fields"]["urgency"][0]
    assert api.get("sam", f"/api/v1/tickets/{number}")[1]["title"] == "Mail is down"
    assert patch(api, "sara", number, {"title": "Mail relay down", "version": 2})[0] == 200


def test_of_two_simultaneous_edits_one_wins_and_the_other_is_409(api):
    number = raise_incident(api)["number"]
    for user in ("sam", "sara"):
        api.token(user)
    barrier, answers = threading.Barrier(2), {}

    def edit(user, urgency):
        barrier.wait()
        answers[user] = patch(api, user, number, {"urgency": urgency}, {"If-Match": '"1"'})[:2]

    threads = [threading.Thread(target=edit, args=a) for a in (("sam", "high"), ("sara", "medium"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _body in answers.values())
    assert statuses == [200, 409], answers
    winner = next(user for user, (status, _b) in answers.items() if status == 200)
    loser_body = next(body for status, body in answers.values() if status == 409)
    assert "urgency" in loser_body["error"]["fields"] and winner in loser_body["error"]["fields"]["urgency"][0]
    ticket = api.get("sam", f"/api/v1/tickets/{number}")[1]
    assert ticket["version"] == 2 and ticket["urgency"] == {"sam": "high", "sara": "medium"}[winner]


def test_the_openapi_document_publishes_the_edit_body_with_no_other_field(api):
    document = api.get(None, "/api/v1/openapi.json")[1]
    schema = document["paths"]["/api/v1/tickets/{number}"]["patch"]["requestBody"]["content"]["application/json"]
    assert schema["schema"]["additionalProperties"] is False and "assignee" in schema["schema"]["properties"]
    assert (
        "reason"
        in document["paths"]["/api/v1/tickets/{number}/cancel"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["required"]
    )
