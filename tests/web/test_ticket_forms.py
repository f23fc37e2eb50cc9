"""The ticket page's edit, cancel and link forms, driven through Flask's client (no JavaScript involved)."""

import re

from tests.conftest import work
from tests.web.test_web import page, report


def edit_form(ticket_html: str) -> dict:
    """What the page's edit form would send unchanged (its version among it)."""
    form = ticket_html.split('id="edit"')[1].split("</form>")[0]
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form))
    for name in ("impact", "urgency", "assignment_group"):
        select = form.split(f'name="{name}"')[1].split("</select>")[0]
        fields[name] = re.search(r'<option value="([^"]*)" selected', select).group(1)
    return fields


def test_an_agent_edits_the_ticket_and_the_priority_follows(signed_in):
    report(signed_in("alice"), impact="low", urgency="low")
    sam = signed_in("sam")
    html = page(sam.get("/tickets/INC0000001"))
    assert '<label for="edit-impact">Impact</label>' in html and 'label for="edit-assignee"' in html
    form = {**edit_form(html), "impact": "high", "urgency": "high", "assignee": "sara"}
    response = sam.post("/tickets/INC0000001/edit", data=form)
    assert response.status_code == 302, page(response)
    html = page(sam.get("/tickets/INC0000001"))
    assert "INC0000001 is updated." in html and "priority-critical" in html
    assert "<dd>sara</dd>" in html


def test_an_edit_on_a_stale_page_shows_what_changed_and_keeps_the_form(signed_in):
    report(signed_in("alice"), impact="low", urgency="low")
    sam, sara = signed_in("sam"), signed_in("sara")
    stale = edit_form(page(sara.get("/tickets/INC0000001")))
    assert sam.post("/tickets/INC0000001/edit", data={**stale, "urgency": "high"}).status_code == 302
    response = sara.post("/tickets/INC0000001/edit", data={**stale, "title": "Mail relay down"})
    html = page(response)
    assert response.status_code == 409 and 'id="edit-conflict"' in html
    assert "<strong>Urgency</strong>: sam changed it from low to high." in html
    assert 'value="Mail relay down"' in html, "sara's title is kept in the form"
    again = edit_form(html)
    assert again["title"] == "Mail relay down" and again["version"] == "2"
    assert sara.post("/tickets/INC0000001/edit", data=again).status_code == 302


def test_a_requester_cancels_her_ticket_with_a_reason(signed_in):
    alice = signed_in("alice")
    report(alice)
    html = page(alice.get("/tickets/INC0000001"))
    assert 'label for="cancel-reason"' in html and 'id="edit"' not in html, "no edit form for a requester"
    response = alice.post("/tickets/INC0000001/cancel", data={"reason": " "})
    assert response.status_code == 422 and 'id="cancel_reason-error"' in page(response)
    assert alice.post("/tickets/INC0000001/cancel", data={"reason": "It works again"}).status_code == 302
    html = page(alice.get("/tickets/INC0000001"))
    assert "Cancelled" in html and "It works again" in html and 'label for="cancel-reason"' not in html


def test_linked_tickets_are_shown_both_ways(signed_in):
    alice = signed_in("alice")
    report(alice)
    report(alice, title="Mail is slow")
    sam = signed_in("sam")
    response = sam.post("/tickets/INC0000002/links", data={"kind": "parent", "ticket": "INC0000002"})
    assert response.status_code == 422 and "cannot be linked to itself" in page(response)
    assert sam.post("/tickets/INC0000002/links", data={"kind": "parent", "ticket": "inc0000001"}).status_code == 302
    parent = page(sam.get("/tickets/INC0000001"))
    assert 'id="ticket-children"' in parent and 'href="/tickets/INC0000002"' in parent
    assert 'href="/tickets/INC0000001"' in page(alice.get("/tickets/INC0000002"))


def test_the_forms_speak_french(signed_in):
    report(signed_in("alice"))
    html = page(signed_in("sam").get("/tickets/INC0000001", headers={"Accept-Language": "fr"}))
    assert "Modifier le ticket" in html and "Lier à un autre ticket" in html and "Annuler le ticket" in html


def test_a_task_opened_from_its_ticket_shows_the_latest_comments_and_comes_back_to_the_ticket(api, signed_in):
    from tests.payloads import RESOLVE_APPLICATION
    from tests.tickets.test_incident_api import open_task, raise_incident

    number = raise_incident(api)["number"]
    api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "It started after the update"})
    api.post("sam", f"/api/v1/tickets/{number}/comments", {"body": "Relay logs checked", "visibility": "internal"})
    sam = signed_in("sam")
    ticket_page = sam.get(f"/tickets/{number}").get_data(as_text=True)
    task = open_task(api, number)
    link = f"/tasks/{task['id']}?back=/tickets/{number}"
    assert f'href="{link}"' in ticket_page
    task_page = sam.get(link).get_data(as_text=True)
    assert "It started after the update" in task_page and "Relay logs checked" in task_page
    response = sam.post(link, data=RESOLVE_APPLICATION)
    assert response.status_code == 302 and response.headers["Location"] == f"/tickets/{number}"
    from app.web import local_back

    assert [local_back(b, "/tickets/") for b in ("https://evil.example/", "//evil.example/tickets/", "/inbox")] == [
        None,
        None,
        None,
    ]  # a task page sends nobody off the site


def test_a_second_round_starts_from_empty_work_fields_and_says_which_value_it_carries_over(api, signed_in):
    from tests.payloads import RESOLVE
    from tests.tickets.test_incident_api import open_task, raise_incident

    number = raise_incident(api)["number"]
    work(api, "sam", number, {**RESOLVE, "category": "application", "work_notes": "Restarted the relay"})
    work(api, "alice", number, {"accepted": False, "feedback": "Still cannot send mail"})
    page = signed_in("sam").get(f"/tasks/{open_task(api, number)['id']}").get_data(as_text=True)
    for field in ("work_notes", "resolution_notes"):  # last round's words are not typed again
        assert re.search(rf'<textarea id="field-{field}"[^>]*></textarea>', page), field
    category = page[page.index('id="field-category"') :]
    category = category[: category.index("</select>")]
    assert 'value="application" selected' in category
    assert "Filled in from earlier work on this ticket" in page
