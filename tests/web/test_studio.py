"""The studio's and the audit pages' server side: checks, deploys, previews, diffs, heatmaps and exports."""

import csv
import io
import json
import re
from datetime import datetime, timedelta
from html import unescape

from tests.conftest import work
from tests.payloads import incident


def latest_xml(api, process_id="incident", version=1):
    return api.get("olivia", f"/api/v1/processes/{process_id}/versions/{version}")[1]["bpmn"]


def test_the_studio_lists_versions_with_who_deployed_them_and_how_many_run(signed_in, api):
    api.post("alice", "/api/v1/incidents", incident("Mail"))
    html = signed_in("olivia").get("/studio").get_data(as_text=True)
    assert "Incident management" in html and "Open version 1" in html
    assert signed_in("sam").get("/studio").status_code == 403
    assert signed_in("audrey").get("/studio").status_code == 403


def test_a_check_names_the_element_of_each_problem_and_stores_nothing(signed_in, api):
    olivia = signed_in("olivia")
    broken = latest_xml(api).replace("sla_at(sla, 0.75)", "sla_at(sla, ", 1)
    body = olivia.post("/studio/incident/check", json={"bpmn": broken}).get_json()
    assert any(p["element_id"].startswith("sla_warning_") and "timer" in p["message"] for p in body["problems"])
    assert olivia.post("/studio/incident/check", json={"bpmn": latest_xml(api)}).get_json() == {"problems": []}
    response = olivia.post("/studio/incident/deploy", json={"bpmn": broken})
    assert response.status_code == 422 and response.get_json()["problems"]
    assert api.get("olivia", "/api/v1/processes/incident/versions/2")[0] == 404


def test_a_decision_table_edited_in_the_studio_deploys_with_its_process(signed_in, api):
    olivia = signed_in("olivia")
    page = olivia.get("/studio/incident/versions/1/files/sla.dmn").get_data(as_text=True)
    assert "decisions.js" in page
    faster = _decision_xml(page).replace('"PT4H"', '"PT2H"', 1)  # critical: resolve within 2 hours
    response = olivia.post("/studio/incident/deploy", json={"files": {"sla.dmn": faster}})
    assert response.status_code == 201 and response.get_json()["version"] == 2
    ticket = api.post("alice", "/api/v1/incidents", incident("Down", impact="high", urgency="high"))[1]
    created = datetime.fromisoformat(ticket["created_at"])
    due = datetime.fromisoformat(ticket["sla"]["resolution_due"])
    assert ticket["process_version"] == 2 and due - created == timedelta(hours=2)
    unknown = olivia.post("/studio/incident/deploy", json={"files": {"evil.py": "print(1)"}})
    assert unknown.status_code == 422 and unknown.get_json()["problems"][0]["file"] == "evil.py"


def _decision_xml(html: str) -> str:
    start = html.index('id="decision-xml">') + len('id="decision-xml">')
    return json.loads(html[start : html.index("</script>", start)])


def test_a_form_preview_is_rendered_by_the_servers_renderer(signed_in):
    olivia = signed_in("olivia")
    schema = {"type": "object", "properties": {"reason": {"type": "string", "title": "Why?"}}, "required": ["reason"]}
    body = olivia.post("/studio/forms/preview", json={"schema": schema, "ui": {}}).get_json()
    assert '<label for="field-reason">Why?' in body["html"] and "required" in body["html"]
    bad = olivia.post("/studio/forms/preview", json={"schema": "nope"})
    assert bad.status_code == 422
    assert signed_in("audrey").post("/studio/forms/preview", json={"schema": schema}).status_code == 403


def test_the_diff_marks_changed_elements(signed_in, api):
    olivia = signed_in("olivia")
    renamed = latest_xml(api).replace('name="Diagnose incident"', 'name="Diagnose the incident"')
    assert olivia.post("/studio/incident/deploy", json={"bpmn": renamed}).status_code == 201
    html = olivia.get("/studio/incident/diff?from=1&to=2").get_data(as_text=True)
    assert "Changed: diagnose" in html and "Added: —" in html and "Removed: —" in html


def test_the_auditor_sees_a_heatmap_and_exports_a_range(signed_in, api):
    number = api.post("alice", "/api/v1/incidents", incident("Mail"))[1]["number"]
    work(
        api,
        "sam",
        number,
        {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Restarted it", "category": "network"},
    )
    audrey = signed_in("audrey")
    html = audrey.get("/audit/processes/incident").get_data(as_text=True)
    assert "1 instances in this range" in html
    assert "<tr><td>1</td><td>Diagnose incident</td></tr>" in html, "the one variant: diagnosed and resolved"
    exported = audrey.get(f"/audit/tickets/{number}/history.csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert exported.mimetype == "text/csv" and any(r["element_id"] == "diagnose" and r["actor"] == "sam" for r in rows)
    today = rows[0]["at"][:10]
    status, events = api.get("audrey", f"/api/v1/audit/events?from={today}&to={today}")
    assert status == 200 and {e["ticket"] for e in events if e["ticket"]} == {number}
    assert api.get("alice", f"/api/v1/audit/events?from={today}&to={today}")[0] == 403
    status, body = api.get("audrey", f"/api/v1/audit/events?from=yesterday&to={today}")
    assert status == 422 and "from" in body["error"]["fields"]


def test_a_deploy_names_the_new_version_for_the_pages_heading(signed_in, api):
    olivia = signed_in("olivia")
    renamed = latest_xml(api).replace('name="Diagnose incident"', 'name="Diagnose the incident"')
    body = olivia.post("/studio/incident/deploy", json={"bpmn": renamed}).get_json()
    assert body["heading"] == "Incident management, version 2"
    assert body["help"].endswith("by olivia. Deploying makes version 3.")
    assert body["url"] == "/studio/incident/versions/2"
    page = olivia.get(body["url"]).get_data(as_text=True)
    assert '<h1 id="edit-title">Incident management, version 2</h1>' in page


def _text_of(html: str, start: str, end: str) -> str:
    """The words of a part of a page, tags dropped, as a reader sees them."""
    part = html[html.index(start) : html.index(end, html.index(start))]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", part)).split())


def test_the_diff_says_what_changed_on_each_element_before_and_after(signed_in, api):
    olivia = signed_in("olivia")
    edited = (
        latest_xml(api)
        .replace('name="Diagnose incident"', 'name="Diagnose the incident"')
        .replace('value="incident_diagnose.schema.json"', 'value="incident_hold.schema.json"')
        .replace("resume_at = None</bpmn:script>", "resume_at = ''</bpmn:script>")
        .replace("resume_at == 'l2'</bpmn:conditionExpression>", "resume_at in ('l2',)</bpmn:conditionExpression>")
        .replace('name="candidateGroupsExpression" value="tier_group"/>', 'name="candidateGroups" value="l3"/>', 1)
    )
    assert olivia.post("/studio/incident/deploy", json={"bpmn": edited}).status_code == 201
    html = olivia.get("/studio/incident/diff?from=1&to=2").get_data(as_text=True)
    table = _text_of(html, '<table class="element-changes"', "</table>")
    assert "Element What In version 1 In version 2" in table
    assert (
        "Resume when the hold is cleared await_hold_l1 Candidate groups (expression) tier_group none "
        "Candidate groups none l3"
    ) in table
    assert (
        "Diagnose the incident diagnose Name Diagnose incident Diagnose the incident "
        "Form incident_diagnose.schema.json incident_hold.schema.json"
    ) in table
    assert "Second level flow_resume_l2 Condition resume_at == 'l2' resume_at in ('l2',)" in table
    assert "Log incident log_incident Script reopen_count = 0 reassignment_count = 0 resume_at = None" in table
    assert "resume_at = ''" in table
