"""Real Chromium against a real server: requesters, agents, process owners and auditors at work.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; `make test` installs it when it is missing.
Screenshots land in artifacts/screenshots/ (kept by CI as test artifacts).
"""

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import free_port

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
CHROMIUM = os.environ.get("FLOWDESK_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "screenshots"
# A form sent back with its errors is a 422 page, which Chromium logs as a failed load: the page is the answer.
ANSWERED_FORM = re.compile(r"status of 422 \(UNPROCESSABLE ENTITY\)")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def chromium():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    port = free_port()
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    http.shutdown()


@pytest.fixture
def visit(chromium, server, request):
    """visit(user) -> a signed-in page; console errors and CSP violations fail the test."""
    contexts, errors = [], []

    def sign_in(username):
        context = chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: m.type == "error" and not ANSWERED_FORM.search(m.text) and errors.append(f"{username}: {m.text}"),
        )
        page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
        page.goto(f"{server}/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/(inbox|portal|tickets)$"))
        page.base = server
        return page

    yield sign_in
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i, context in enumerate(contexts):
        for page in context.pages:
            page.screenshot(path=str(SHOTS / f"{request.node.name}-{i}.png"), full_page=True)
        context.close()
    assert errors == [], errors


def report_incident(page, title="Mail is down"):
    page.goto(f"{page.base}/portal")
    page.get_by_label("What is wrong?").fill(title)
    page.get_by_label("Details").fill("Outlook says it is offline since this morning")
    page.get_by_label("Impact").select_option("medium")
    page.get_by_label("Urgency").select_option("medium")
    page.get_by_role("button", name="Report the incident").click()
    page.wait_for_url(re.compile(r".*/tickets/INC\d{7}$"))
    return page.url.rsplit("/", 1)[1]


def resolve_from_the_inbox(page, number):
    page.goto(f"{page.base}/inbox")
    row = page.get_by_role("row").filter(has_text=number)
    row.get_by_role("button", name=re.compile("^Claim")).click()
    page.get_by_role("link", name="Diagnose incident").first.click()
    page.get_by_label("Category").select_option("application")
    page.get_by_role("radio", name="Resolve it").check()
    page.get_by_role("radio", name="Fixed").check()
    page.get_by_label("Resolution notes").fill("Restarted the mail relay; mail flows again.")
    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(re.compile(r".*/inbox$"))
    page.goto(f"{page.base}/tickets/{number}")


def test_an_agent_works_an_incident_from_the_inbox(visit):
    number = report_incident(visit("alice"))
    sam = visit("sam")
    resolve_from_the_inbox(sam, number)
    assert sam.locator("#ticket-status").inner_text().strip() == "Resolved"


def test_a_requester_reports_and_confirms_an_incident(visit):
    alice = visit("alice")
    number = report_incident(alice)
    assert alice.locator("#ticket-status").inner_text().strip() == "New"
    resolve_from_the_inbox(visit("sam"), number)
    alice.goto(f"{alice.base}/portal")
    alice.get_by_role("link", name="Confirm the resolution").click()
    alice.get_by_role("radio", name=re.compile("Yes")).check()
    alice.get_by_role("button", name="Complete").click()
    alice.wait_for_url(re.compile(rf".*/tickets/{number}$"))
    assert alice.locator("#ticket-status").inner_text().strip() == "Resolved"
    assert "Document closure" in alice.locator("ul.tasks").inner_text(), "the service desk documents the closure next"


def open_in_studio(page, process_id="incident", version=1):
    page.goto(f"{page.base}/studio/{process_id}/versions/{version}")
    page.wait_for_selector("#studio[data-ready='true']")


def test_every_bundled_diagram_opens_in_the_modeller_without_warnings(visit):
    olivia = visit("olivia")
    for process_id in ("incident", "major_incident", "problem", "request_fulfillment"):
        open_in_studio(olivia, process_id)
        assert olivia.locator("#studio-status").inner_text() == "", process_id
        olivia.get_by_role("button", name="Check").click()
        expect(olivia.locator("#studio-status")).not_to_be_empty()
        assert olivia.locator("#studio-status").inner_text() == "No problem found: it can be deployed.", (
            process_id,
            olivia.locator("#studio-problems").inner_text(),
        )


def test_a_process_owner_renames_a_task_and_deploys_version_2(visit, api):
    olivia = visit("olivia")
    open_in_studio(olivia)
    olivia.evaluate(
        """() => {
          const modeler = window.flowdeskModeler;
          const element = modeler.get('elementRegistry').get('diagnose');
          modeler.get('selection').select(element);
        }"""
    )
    name = olivia.locator("#bio-properties-panel-name")
    if not name.is_visible():
        olivia.locator(".bio-properties-panel-group-header", has_text="General").click()
    name.fill("Diagnose the incident")
    name.press("Tab")
    olivia.get_by_role("button", name="Deploy as the next version").click()
    expect(olivia.locator("#studio-status")).to_have_text("Deployed as version 2.")
    status, deployed = api.get("olivia", "/api/v1/processes/incident/versions/2")
    assert status == 200 and deployed["deployed_by"] == "olivia"
    assert 'name="Diagnose the incident"' in deployed["bpmn"]
    olivia.goto(f"{olivia.base}/studio/incident/diff?from=1&to=2")
    olivia.wait_for_selector(".diagram[data-ready='true'] >> nth=1")
    assert "Changed: diagnose" in olivia.locator("ul.legend").inner_text()


def test_a_lint_error_blocks_the_deploy(visit, api):
    olivia = visit("olivia")
    open_in_studio(olivia)
    olivia.evaluate(
        """() => {
          const modeler = window.flowdeskModeler;
          const flow = modeler.get('elementRegistry').get('flow_diagnosed');
          modeler.get('modeling').removeElements([flow]);
        }"""
    )
    olivia.get_by_role("button", name="Deploy as the next version").click()
    expect(olivia.locator("#studio-status")).not_to_be_empty()
    assert re.fullmatch(r"Not deployed: fix the \d+ lint errors first\.", olivia.locator("#studio-status").inner_text())
    assert "diagnose" in olivia.locator("#studio-problems").inner_text()
    assert olivia.locator(".djs-element.has-problem").count() >= 1, "the problem is marked on the diagram"
    assert api.get("olivia", "/api/v1/processes/incident/versions/2")[0] == 404


def test_an_auditor_sees_the_path_of_a_ticket_on_its_diagram(visit, api):
    number = report_incident(visit("alice"))
    resolve_from_the_inbox(visit("sam"), number)
    audrey = visit("audrey")
    audrey.goto(f"{audrey.base}/audit/tickets/{number}")
    audrey.wait_for_selector(".diagram[data-ready='true']")
    diagram = audrey.locator(".diagram").first
    assert diagram.get_attribute("data-warnings") == "0"
    completed = audrey.locator(".djs-element.path-completed")
    assert completed.count() >= 6, "start, logging, decisions, diagnosis, gateways, resolution"
    assert audrey.locator(".djs-element.path-completed[data-element-id='diagnose']").count() == 1
    assert audrey.locator(".djs-element.path-active[data-element-id='confirm_resolution']").count() == 1
    assert audrey.locator(".djs-element.path-completed[data-element-id='investigate_l2']").count() == 0
    assert "Diagnose incident" in audrey.locator("table.history").inner_text()


def test_a_form_is_edited_as_json_with_a_live_preview(visit):
    olivia = visit("olivia")
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/forms/incident_hold.schema.json")
    expect(olivia.locator("#form-status")).to_have_text("Preview up to date.")
    expect(olivia.locator("#form-preview")).to_contain_text("What cleared the hold")
    schema = olivia.locator("#form-schema")
    schema.fill(schema.input_value().replace("What cleared the hold", "How the hold ended"))
    expect(olivia.locator("#form-preview")).to_contain_text("How the hold ended")
    schema.fill(schema.input_value() + "}")
    expect(olivia.locator("#form-status")).to_contain_text("JSON")
    expect(olivia.locator("#form-preview")).to_contain_text("How the hold ended")  # the last good preview stays


def test_a_decision_table_opens_in_the_dmn_editor(visit):
    olivia = visit("olivia")
    olivia.goto(f"{olivia.base}/studio/incident/versions/1/files/priority.dmn")
    olivia.wait_for_selector("#decisions[data-ready='true']")
    table = olivia.locator(".tjs-table")
    expect(table).to_contain_text("critical")
    expect(table).to_contain_text("Impact")


def test_an_agent_raises_the_priority_links_a_child_and_a_requester_cancels(visit):
    alice = visit("alice")
    parent = report_incident(alice, "Mail is down")
    child = report_incident(alice, "Mail is down on the second floor")
    extra = report_incident(alice, "Printer jam")
    sam = visit("sam")
    sam.goto(f"{sam.base}/tickets/{parent}")
    assert sam.locator(".badge.priority-medium").first.is_visible()
    sam.get_by_label("Impact").select_option("high")
    sam.get_by_label("Urgency").select_option("high")
    sam.get_by_role("button", name="Save changes").click()
    expect(sam.get_by_text(f"{parent} is updated.")).to_be_visible()
    expect(sam.locator(".badge.priority-critical").first).to_have_text("Critical")
    sam.goto(f"{sam.base}/tickets/{child}")
    sam.get_by_label("Below a parent incident").check()
    sam.get_by_label("Other ticket number").fill(parent)
    sam.get_by_role("button", name="Link the tickets").click()
    expect(sam.get_by_text(f"{child} is now below {parent}.")).to_be_visible()
    sam.get_by_role("link", name=parent).click()
    sam.wait_for_url(re.compile(rf".*/tickets/{parent}$"))
    expect(sam.locator("#ticket-children").get_by_role("link", name=child)).to_be_visible()
    alice.goto(f"{alice.base}/tickets/{extra}")
    alice.get_by_label("Why is it no longer needed?").fill("The printer works again")
    alice.get_by_role("button", name="Cancel this ticket").click()
    expect(alice.locator("#ticket-status")).to_have_text("Cancelled")
    expect(alice.locator("#ticket-cancel-reason")).to_have_text("The printer works again")


def test_an_agent_searches_saves_a_view_and_assigns_picked_tickets_in_bulk(visit):
    alice = visit("alice")
    printers = [report_incident(alice, "Printers jammed on floor 2"), report_incident(alice, "Printer out of toner")]
    mail = report_incident(alice, "Mail is down")
    sam = visit("sam")
    sam.get_by_role("link", name="Tickets", exact=True).click()
    sam.get_by_role("searchbox", name="Search").fill("printer")
    sam.get_by_role("button", name="Show").click()
    rows = sam.locator("table.tickets tbody tr")
    expect(rows).to_have_count(2)
    expect(sam.locator("table.tickets")).not_to_contain_text(mail)
    sam.get_by_label("Save these filters as a view named").fill("Printers")
    sam.get_by_role("button", name="Save view").click()
    expect(sam.get_by_text("The view “Printers” is saved.")).to_be_visible()
    sam.get_by_role("navigation", name="Views").get_by_role("link", name="Unassigned in my groups").click()
    expect(rows).to_have_count(3)
    sam.get_by_role("navigation", name="Views").get_by_role("link", name="Printers").click()
    for number in printers:
        sam.get_by_label(f"Pick {number}").check()
    sam.get_by_label("Action").select_option("assign")
    sam.get_by_label("Person").fill("sara")
    sam.get_by_role("button", name="Apply to the picked tickets").click()
    expect(sam.get_by_text("Done on 2 tickets.")).to_be_visible()
    for number in printers:
        expect(sam.get_by_role("row").filter(has_text=number)).to_contain_text("sara")
    sara = visit("sara")
    expect(sara.get_by_role("table").first).to_contain_text(printers[0])  # her inbox: the task pushed to her


def test_an_auditor_reaches_a_tickets_audit_page_by_links_alone(visit):
    number = report_incident(visit("alice"))
    audrey = visit("audrey")
    assert audrey.url.endswith("/tickets"), "an auditor's home is the ticket list"
    audrey.get_by_role("row").filter(has_text=number).get_by_role("link", name=f"Audit {number}").click()
    audrey.wait_for_url(re.compile(rf".*/audit/tickets/{number}$"))
    expect(audrey.locator("table.history")).to_contain_text("alice")  # who raised it, in its history


def test_files_go_up_with_a_report_and_a_comment_and_come_down_as_downloads(visit, tmp_path):
    screenshot = tmp_path / "error dialog.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    trace = tmp_path / "trace.txt"
    trace.write_text("ERROR relay refused the connection\n")
    alice = visit("alice")
    alice.goto(f"{alice.base}/portal")
    alice.get_by_label("What is wrong?").fill("Mail client shows an error")
    alice.get_by_label("Impact").select_option("low")
    alice.get_by_label("Urgency").select_option("low")
    alice.get_by_label("Screenshots or files").set_input_files(str(screenshot))
    alice.get_by_role("button", name="Report the incident").click()
    alice.wait_for_url(re.compile(r".*/tickets/INC\d{7}$"))
    number = alice.url.rsplit("/", 1)[1]
    expect(alice.locator("#attachments")).to_contain_text("error dialog.png")
    sam = visit("sam")
    sam.goto(f"{sam.base}/tickets/{number}")
    sam.get_by_label("Attach files").set_input_files(str(trace))
    sam.get_by_label("Internal: agents only").check()
    sam.get_by_role("button", name="Attach", exact=True).click()
    expect(sam.get_by_text("1 file is attached.")).to_be_visible()
    with sam.expect_download() as caught:
        sam.locator("#attachments").get_by_role("link", name="trace.txt").click()
    download = caught.value
    assert download.suggested_filename == "trace.txt"
    assert Path(download.path()).read_text() == "ERROR relay refused the connection\n"
    with sam.expect_download() as caught:
        sam.locator("#attachments").get_by_role("link", name="error dialog.png").click()
    assert Path(caught.value.path()).read_bytes() == screenshot.read_bytes()
    alice.reload()
    expect(alice.locator("#attachments")).to_contain_text("error dialog.png")
    expect(alice.locator("#attachments")).not_to_contain_text("trace.txt")  # an internal file stays with agents


def test_resolving_a_parent_resolves_its_children_and_asks_each_caller_to_confirm(visit):
    alice = visit("alice")
    parent = report_incident(alice, "Mail is down")
    ramon = visit("ramon")
    child = report_incident(ramon, "No mail since nine")
    sam = visit("sam")
    sam.goto(f"{sam.base}/tickets/{child}")
    sam.get_by_label("Below a parent incident").check()
    sam.get_by_label("Other ticket number").fill(parent)
    sam.get_by_role("button", name="Link the tickets").click()
    expect(sam.get_by_text(f"{child} is now below {parent}.")).to_be_visible()
    resolve_from_the_inbox(sam, parent)
    expect(sam.locator("#ticket-status")).to_have_text("Resolved")
    sam.goto(f"{sam.base}/tickets/{child}")
    expect(sam.locator("#ticket-status")).to_have_text("Resolved")
    for requester in (alice, ramon):
        requester.goto(f"{requester.base}/portal")
        expect(requester.get_by_role("link", name="Confirm the resolution")).to_be_visible()


def test_a_long_unbroken_title_wraps_and_typed_line_breaks_stay(visit):
    """A 200-character URL as a title does not widen the agents' inbox or the ticket page at 1280 or 390 px, and
    the lines a requester typed in the details show as lines."""
    alice = visit("alice")
    title = "https://intranet.example.org/" + "a" * 171
    alice.goto(f"{alice.base}/portal")
    alice.get_by_label("What is wrong?").fill(title)
    alice.get_by_label("Details").fill("Outlook says offline.\nWebmail works.\nSince 9:00.")
    alice.get_by_label("Impact").select_option("medium")
    alice.get_by_label("Urgency").select_option("medium")
    alice.get_by_role("button", name="Report the incident").click()
    alice.wait_for_url(re.compile(r".*/tickets/INC\d{7}$"))
    number = alice.url.rsplit("/", 1)[1]
    lines = alice.locator("p.description").inner_text().splitlines()
    assert lines == ["Outlook says offline.", "Webmail works.", "Since 9:00."]
    sam = visit("sam")
    for width in (1280, 390):
        sam.set_viewport_size({"width": width, "height": 900})
        for path in ("/inbox", f"/tickets/{number}"):
            sam.goto(f"{sam.base}{path}")
            wide = sam.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} is {wide} px wide at {width} px"
    sam.goto(f"{sam.base}/inbox")
    row = sam.get_by_role("row").filter(has_text=number)
    assert row.get_by_role("button", name=re.compile("^Claim")).is_visible(), "the row's button stays on screen"


def test_after_a_submit_with_errors_the_summary_has_the_focus_and_a_fixed_field_loses_its_error(visit):
    alice = visit("alice")
    alice.goto(f"{alice.base}/portal")
    alice.get_by_label("What is wrong?").fill("Printer jams")
    alice.get_by_role("button", name="Report the incident").click()
    summary = alice.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)  # impact and urgency
    expect(alice.locator("#impact-error")).to_have_text("This field is required.")
    expect(alice.get_by_label("What is wrong?")).to_have_value("Printer jams")
    alice.get_by_label("Impact").select_option("low")
    expect(alice.locator("#impact-error")).to_have_count(0)
    expect(summary.get_by_role("link")).to_have_count(1)
    alice.get_by_label("Urgency").select_option("low")
    expect(summary).to_be_hidden()
    alice.get_by_role("button", name="Report the incident").click()
    alice.wait_for_url(re.compile(r".*/tickets/INC\d{7}$"))
