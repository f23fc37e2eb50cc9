"""The browser pages, driven through Flask's client: sign-in, portal, inbox, task forms, ticket pages."""

import re

from app.identity.service import principal_by_name
from app.tickets import intake
from tests.payloads import incident


def page(response) -> str:
    return response.get_data(as_text=True)


def report(client, **fields):
    data = {"title": "Mail is down", "description": "Outlook says offline", "impact": "high", "urgency": "medium"}
    return client.post("/portal/incidents", data={**data, **fields})


def task_link(html: str, name: str) -> str:
    match = re.search(r'href="(/tasks/[0-9a-f-]+)(?:\?back=[^"]*)?">' + re.escape(name), html)
    assert match, f"no link to {name}"
    return match.group(1)


def test_sign_in_and_a_wrong_password(app):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    wrong = client.post("/login", data={"username": "alice", "password": "nope"})
    assert wrong.status_code == 401 and "Unknown user or wrong password" in page(wrong)
    assert 'value="alice"' in page(wrong)
    right = client.post("/login?next=https://evil.example/", data={"username": "alice", "password": "demo"})
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/portal"


def test_pages_need_a_sign_in(app):
    response = app.test_client().get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_post_without_csrf_token_is_refused(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "alice", "password": "demo"}).status_code == 400


def test_a_requester_reports_an_incident_and_sees_it(signed_in):
    alice = signed_in("alice")
    response = report(alice)
    assert response.status_code == 302 and response.headers["Location"] == "/tickets/INC0000001"
    html = page(alice.get("/tickets/INC0000001"))
    assert "Mail is down" in html and "INC0000001 is reported" in html
    assert "High" in html and "New" in html
    assert "INC0000001" in page(alice.get("/portal"))


def test_invalid_portal_input_keeps_what_was_typed(signed_in):
    alice = signed_in("alice")
    response = report(alice, title="Printer on fire", impact="")
    html = page(response)
    assert response.status_code == 422
    assert 'value="Printer on fire"' in html
    assert re.search(r'id="impact"[^>]*aria-describedby="impact-help impact-error"', html)
    assert 'id="impact-error"' in html


def test_the_inbox_queue_claim_and_release(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    html = page(sam.get("/inbox"))
    queue = html.split('id="queue"')[1]
    assert "Diagnose incident" in queue and "INC0000001" in queue and "High" in queue
    assert "On track" in queue, "the resolution clock shows"
    task = task_link(queue, "Diagnose incident")
    assert sam.post(f"{task}/claim").status_code == 302
    html = page(sam.get("/inbox"))
    assert "Diagnose incident" in html.split('id="mine"')[1].split('id="queue"')[0]
    assert "Diagnose incident" not in page(signed_in("sara").get("/inbox")).split('id="queue"')[1]
    sam.post(f"{task}/unclaim")
    assert "Diagnose incident" in page(sam.get("/inbox")).split('id="queue"')[1]


def test_a_long_queue_comes_in_pages_of_fifty_newest_first(signed_in, database):
    with database.unit_of_work() as db:
        alice = principal_by_name(db, username="alice")
        for n in range(1, 53):
            intake.create_incident(
                db, user=alice, title=f"Printer {n:02d}", description="", impact="low", urgency="low"
            )
    sam = signed_in("sam")
    first = page(sam.get("/inbox")).split('id="queue"')[1]
    assert first.count("Diagnose incident</a>") == 50
    assert "Printer 52" in first and "Printer 03" in first and "Printer 02" not in first, "newest first"
    older = re.search(r'href="(/inbox\?[^"]+)#queue">Older tasks', first)
    assert older and "Newer tasks" not in first
    second = page(sam.get(older.group(1).replace("&amp;", "&"))).split('id="queue"')[1]
    assert second.count("Diagnose incident</a>") == 2 and "Printer 01" in second and "Printer 02" in second
    assert "Newer tasks" in second and "Older tasks" not in second
    assert sam.get("/inbox?queue=abc&mine=-3").status_code == 200, "a bad page number shows the first page"


def test_a_bad_task_submission_is_422_with_errors_by_the_fields(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    task = task_link(page(sam.get("/inbox")), "Diagnose incident")
    form = page(sam.get(task))
    assert 'name="outcome"' in form and 'for="field-category"' in form
    response = sam.post(task, data={"category": "network", "resolution_notes": "Typed with care"})
    html = page(response)
    assert response.status_code == 422
    assert 'id="field-outcome-error"' in html
    assert "Typed with care" in html
    assert 'value="network" selected' in html


def test_the_whole_incident_in_the_browser(signed_in):
    alice = signed_in("alice")
    report(alice)
    sam = signed_in("sam")
    task = task_link(page(sam.get("/inbox")), "Diagnose incident")
    done = sam.post(
        task,
        data={
            "category": "application",
            "outcome": "resolve",
            "resolution_code": "fix",
            "resolution_notes": "Restarted the mail relay",
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    html = page(alice.get("/tickets/INC0000001"))
    assert "Resolved" in html and "Restarted the mail relay" in html
    confirm = task_link(html, "Confirm the resolution")
    assert alice.post(confirm, data={"accepted": "true"}).headers["Location"] == "/tickets/INC0000001"
    closure = task_link(page(sam.get("/inbox")), "Document closure")
    sam.post(closure, data={"closure_code": "solved_permanently", "closure_notes": "Relay restarted, all good"})
    html = page(sam.get("/tickets/INC0000001"))
    assert 'id="ticket-status"><span class="badge status">Closed' in html
    history = html.split('id="history-title"')[1]
    assert "sam" in history and "alice" in history
    assert "Diagnose incident" in history and "<code>diagnose</code>" in history


def test_requesters_see_only_their_own(signed_in):
    report(signed_in("alice"))
    ramon = signed_in("ramon")
    assert ramon.get("/tickets/INC0000001").status_code == 404
    task = task_link(page(signed_in("sam").get("/inbox")), "Diagnose incident")
    assert ramon.get(task).status_code == 404


def test_the_auditor_reads_everything_and_changes_nothing(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    task = task_link(page(sam.get("/inbox")), "Diagnose incident")
    audrey = signed_in("audrey")
    assert "Ticket raised" in page(audrey.get("/tickets/INC0000001"))
    assert audrey.post(task, data={"outcome": "escalate", "category": "network"}).status_code == 403
    assert audrey.post(f"{task}/claim").status_code == 403
    assert audrey.post(f"{task}/unclaim").status_code == 403
    assert audrey.post("/portal/incidents", data=incident("x")).status_code == 403
    assert audrey.post("/portal/catalog/password-reset", data={"account": "audrey"}).status_code == 403
    assert audrey.post("/tickets/INC0000001/comments", data={"body": "hi", "visibility": "public"}).status_code == 403


def test_work_notes_are_hidden_from_the_requester(signed_in):
    alice = signed_in("alice")
    report(alice)
    sam = signed_in("sam")
    sam.post("/tickets/INC0000001/comments", data={"body": "Relay logs show OOM", "visibility": "internal"})
    sam.post("/tickets/INC0000001/comments", data={"body": "We are on it", "visibility": "public"})
    html = page(alice.get("/tickets/INC0000001"))
    assert "We are on it" in html and "Relay logs show OOM" not in html
    assert "Relay logs show OOM" in page(sam.get("/tickets/INC0000001"))


def test_pages_carry_security_headers(signed_in):
    response = signed_in("alice").get("/portal")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_request_ordered_in_the_portal_is_approved_by_the_manager_there(signed_in):
    alice = signed_in("alice")
    assert "Software access" in page(alice.get("/portal"))
    bad = alice.post("/portal/catalog/software-access", data={"application": "crm"})
    assert bad.status_code == 422 and 'id="field-justification-error"' in page(bad)
    good = alice.post(
        "/portal/catalog/software-access",
        data={"application": "crm", "access_level": "read", "justification": "I join the sales team"},
    )
    assert good.headers["Location"] == "/tickets/REQ0000001"
    assert "Awaiting Approval" in page(alice.get("/tickets/REQ0000001"))
    maria = signed_in("maria")
    waiting = page(maria.get("/portal")).split('id="waiting"')[1]
    task = task_link(waiting, "Approve as manager")
    assert "REQ0000001" in waiting and "alice" in waiting
    done = maria.post(task, data={"decision": "approve", "comment": "Welcome"})
    assert done.headers["Location"] == "/tickets/REQ0000001"
    assert "In Fulfillment" in page(alice.get("/tickets/REQ0000001"))
    assert alice.get("/portal/catalog/yacht").status_code == 404


def test_an_agent_raises_a_problem_from_an_incident(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    assert "Raise a problem from this incident" in page(sam.get("/tickets/INC0000001"))
    assert "Raise a problem" not in page(signed_in("alice").get("/tickets/INC0000001"))
    bad = sam.post("/tickets/INC0000001/problem", data={"title": " "})
    assert bad.status_code == 422 and 'id="problem_title-error"' in page(bad)
    done = sam.post("/tickets/INC0000001/problem", data={"title": "Relay keeps crashing"})
    assert done.headers["Location"] == "/tickets/PRB0000001"
    assert "Assessment" in page(sam.get("/tickets/PRB0000001"))
    assert 'href="/tickets/PRB0000001"' in page(sam.get("/tickets/INC0000001"))


def test_an_agent_logs_an_incident_for_a_caller(signed_in):
    sam = signed_in("sam")
    assert 'id="caller"' in page(sam.get("/portal"))
    assert 'id="caller"' not in page(signed_in("alice").get("/portal"))
    bad = report(sam, caller="nobody")
    assert bad.status_code == 422 and 'id="caller-error"' in page(bad)
    assert report(sam, caller="ramon").headers["Location"] == "/tickets/INC0000001"
    assert "Mail is down" in page(signed_in("ramon").get("/tickets/INC0000001"))


def test_an_agent_links_an_incident_to_a_problem_in_the_page(signed_in):
    report(signed_in("alice"))
    report(signed_in("alice"), title="Mail is slow")
    sam = signed_in("sam")
    sam.post("/tickets/INC0000001/problem", data={"title": "Relay keeps crashing"})
    bad = sam.post("/tickets/INC0000002/problem/link", data={"problem": "PRB0000009"})
    assert bad.status_code == 422 and 'id="link_problem-error"' in page(bad)
    assert sam.post("/tickets/INC0000002/problem/link", data={"problem": "PRB0000001"}).status_code == 302
    assert 'href="/tickets/PRB0000001"' in page(sam.get("/tickets/INC0000002"))


def test_pages_speak_french_to_a_french_browser(app):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    html = page(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert '<html lang="fr">' in html and "Se connecter à Flowdesk" in html and "Mot de passe" in html
    client.post("/login", data={"username": "alice", "password": "demo"})
    portal = page(client.get("/portal", headers={"Accept-Language": "fr"}))
    assert "Signaler un incident" in portal and "Mes tickets" in portal
    assert "Sign in to Flowdesk" in page(app.test_client().get("/login", headers={"Accept-Language": "en"}))


def test_an_agent_promotes_an_incident_and_sees_its_service_level(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    html = page(sam.get("/tickets/INC0000001"))
    assert "Promote to a major incident" in html and "Clock started" in html and "On track" in html
    assert "Promote to a major incident" not in page(signed_in("alice").get("/tickets/INC0000001"))
    assert signed_in("alice").post("/tickets/INC0000001/major").status_code == 403
    assert sam.post("/tickets/INC0000001/major").status_code == 302
    html = page(sam.get("/tickets/INC0000001"))
    assert "Coordinated by the managers" in html and "Promote to a major incident" not in html
    assert "Take charge of the major incident" in html
    assert sam.post("/tickets/INC0000001/major").status_code == 409


def test_an_incident_on_hold_shows_its_clock_paused(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    link = task_link(page(sam.get("/tickets/INC0000001")), "Diagnose incident")
    sam.post(link, data={"category": "network", "outcome": "on_hold", "hold_reason": "awaiting_vendor"})
    html = page(sam.get("/tickets/INC0000001"))
    assert "Paused: on hold" in html and 'class="badge sla-paused"' in html
    assert 'class="badge sla-paused"' in page(sam.get("/inbox"))


def test_a_requester_follows_a_ticket_and_reads_her_notifications(signed_in):
    report(signed_in("alice"))
    sam = signed_in("sam")
    assert sam.post("/tickets/INC0000001/watch").status_code == 302
    assert "Stop following" in page(sam.get("/tickets/INC0000001"))
    alice = signed_in("alice")
    html = page(alice.get("/notifications"))
    assert "We received: Mail is down" in html and 'class="badge count">1' in page(alice.get("/portal"))
    assert alice.post("/notifications/read").status_code == 302
    assert 'class="badge count">' not in page(alice.get("/portal"))
    assert sam.post("/tickets/INC0000001/watch", data={"stop": "1"}).status_code == 302
    assert "Follow this ticket" in page(sam.get("/tickets/INC0000001"))


def test_the_portal_offers_the_known_services_and_keeps_mail_typed_any_way(signed_in, api):
    """The affected service field lists the services by name; "Mail" typed in it is the mail service, whose
    incidents count round the clock (processes/sla_calendar.dmn), and the ticket page names it so."""
    alice = signed_in("alice")
    form = page(alice.get("/portal"))
    assert re.search(r'id="service"[^>]*list="known-services"', form)
    assert '<option value="mail">Mail</option>' in form and '<option value="vpn">VPN</option>' in form
    number = report(alice, service=" MAIL ").headers["Location"].rsplit("/", 1)[1]
    assert api.get("alice", f"/api/v1/tickets/{number}")[1]["service"] == "mail"
    assert '<dd id="ticket-service">Mail</dd>' in page(alice.get(f"/tickets/{number}"))


def test_a_title_longer_than_allowed_is_refused_with_the_limit_and_kept_as_typed(signed_in):
    """The title field does not silently drop what goes past 200 characters: the page says the limit."""
    alice = signed_in("alice")
    title = "Outlook shows " + "x" * 240
    response = report(alice, title=title)
    html = page(response)
    assert response.status_code == 422 and "At most 200 characters." in html
    assert f'value="{title}"' in html and 'maxlength="200"' not in html
