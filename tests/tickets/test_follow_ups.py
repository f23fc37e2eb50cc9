"""After a ticket is closed: the requester's "it broke again" reaches the group that worked on it, and a
follow-up incident linked to the closed ticket takes the problem up again."""

from app.jobs import worker
from tests.conftest import sign_in, work
from tests.payloads import CLOSE, RESOLVE


def closed_incident(api, **extra) -> str:
    body = {"title": "Mail is down", "description": "Outlook cannot connect", "impact": "high", "urgency": "medium"}
    status, ticket = api.post("alice", "/api/v1/incidents", {**body, "service": "email", **extra})
    assert status == 201, ticket
    number = ticket["number"]
    work(api, "sam", number, {**RESOLVE, "category": "application"}, "diagnose")
    work(api, "alice", number, {"accepted": True})
    assert work(api, "sam", number, CLOSE, "document_closure")["status"] == "Closed"
    return number


def told(api, user, number) -> list[str]:
    return [n["text"] for n in api.get(user, "/api/v1/notifications")[1] if n["kind"] == "comment_after_close"]


def test_a_requesters_comment_on_a_closed_ticket_reaches_its_last_group_by_mail(api, database, smtp):
    number = closed_incident(api)
    assert api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "It broke again this morning"})[0] == 201
    worker.run_once(database)
    for agent in ("sam", "sara"):  # the service desk resolved it
        assert told(api, agent, number) == [f"[{number}] alice wrote on your closed ticket"]
    assert told(api, "nina", number) == [], "another group does not hear of it"
    mails = [mail for rcpt, mail in smtp.messages if "sara@example.org" in rcpt and "closed ticket" in mail["Subject"]]
    assert len(mails) == 1 and "It broke again this morning" in mails[0].get_payload()


def test_comments_on_open_tickets_and_agents_notes_on_closed_ones_tell_nobody_new(api):
    number = closed_incident(api)
    api.post("sam", f"/api/v1/tickets/{number}/comments", {"body": "Closing remark", "visibility": "public"})
    status, other = api.post("alice", "/api/v1/incidents", {"title": "VPN", "impact": "low", "urgency": "low"})
    api.post("alice", f"/api/v1/tickets/{other['number']}/comments", {"body": "Any news?"})
    assert told(api, "sara", number) == [] and told(api, "sara", other["number"]) == []


def test_a_follow_up_incident_is_linked_both_ways_and_keeps_the_service(api):
    number = closed_incident(api)
    status, follow_up = api.post("alice", f"/api/v1/tickets/{number}/follow-up", {"description": "Broke again"})
    assert status == 201, follow_up
    assert (follow_up["kind"], follow_up["status"], follow_up["requester"]) == ("incident", "New", "alice")
    assert (follow_up["title"], follow_up["service"], follow_up["impact"]) == ("Again: Mail is down", "mail", "high")
    assert follow_up["links"]["follow_up_of"] == number
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["links"]["follow_ups"] == [follow_up["number"]]
    history = api.get("alice", f"/api/v1/tickets/{number}/history")[1]
    assert any(e["changes"].get("follow_up") == [None, follow_up["number"]] for e in history)


def test_an_agent_opens_the_follow_up_for_the_requester(api):
    number = closed_incident(api)
    status, follow_up = api.post("sam", f"/api/v1/tickets/{number}/follow-up", {"description": "Caller phoned"})
    assert status == 201 and (follow_up["requester"], follow_up["opened_by"]) == ("alice", "sam")


def test_a_follow_up_is_only_for_a_closed_ticket_and_its_people(api):
    number = closed_incident(api)
    assert api.post("ramon", f"/api/v1/tickets/{number}/follow-up", {"description": "x"})[0] == 404
    status, body = api.post("alice", f"/api/v1/tickets/{number}/follow-up", {"description": " "})
    assert status == 422 and "description" in body["error"]["fields"]
    status, other = api.post("alice", "/api/v1/incidents", {"title": "VPN", "impact": "low", "urgency": "low"})
    status, body = api.post("alice", f"/api/v1/tickets/{other['number']}/follow-up", {"description": "x"})
    assert status == 409 and "only a closed ticket" in body["error"]["message"]
    assert len(api.get("sam", "/api/v1/incidents")[1]) == 2, "nothing was opened"


def test_the_closed_ticket_page_offers_the_follow_up_with_the_requesters_words(app, api):
    number = closed_incident(api)
    browser = sign_in(app, "alice")
    page = browser.post(f"/tickets/{number}/comments", data={"body": "It broke again", "visibility": "public"})
    assert page.status_code == 302 and page.headers["Location"].endswith("#follow-up")
    html = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "sent to the group that worked on this closed ticket" in html
    assert "Open a follow-up incident" in html and ">It broke again</textarea>" in html
    opened = browser.post(f"/tickets/{number}/follow-up", data={"description": "It broke again"})
    new = opened.headers["Location"].rsplit("/", 1)[-1]
    html = browser.get(opened.headers["Location"]).get_data(as_text=True)
    assert f"{new} is open: it follows up {number}." in html and 'id="ticket-follow-up-of"' in html
    other = sign_in(app, "ramon").get(f"/tickets/{new}")
    assert other.status_code == 404
