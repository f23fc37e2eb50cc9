"""What every answer says about itself: security headers, caching of personal pages, errors under /api/v1."""

import csv
import io
from datetime import UTC, datetime

from app import create_app
from app.audit.export import as_csv
from app.audit.models import AuditEvent
from app.config import Settings


def test_a_signed_in_page_and_an_api_answer_are_not_cached_but_static_files_are(signed_in, api):
    page = signed_in("sam").get("/inbox")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    answer = api.client.get("/api/v1/health")
    assert answer.headers["Cache-Control"] == "no-store"
    static = api.client.get("/static/flowdesk.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_every_page_switches_off_the_browser_features_it_does_not_use(app):
    policy = app.test_client().get("/login").headers["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_hsts_only_when_the_public_address_is_https(app, database):
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    secure = create_app(
        Settings(database_url=database.url, secret_key="t", base_url="https://desk.example.org", smtp_url=None)
    )
    assert secure.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_method_a_route_does_not_take_is_the_contracts_json_error(api):
    status, body = api.call("sam", "PUT", "/api/v1/incidents", {})
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed" and body["error"]["fields"] == {}
    response = api.client.open(
        "/api/v1/incidents", method="PUT", headers={"Authorization": f"Bearer {api.token('sam')}"}
    )
    assert "POST" in response.headers["Allow"]


def test_a_page_that_does_not_exist_is_still_a_page(app):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404 and b"<html" in response.data.lower()


def test_the_audit_export_writes_formulas_as_text():
    """A process owner names an element "=HYPERLINK(...)": an auditor's spreadsheet shows the text, runs nothing."""
    named = AuditEvent(
        at=datetime(2026, 12, 3, tzinfo=UTC),
        actor="olivia",
        kind="element_completed",
        element_id="evil",
        element_name='=HYPERLINK("http://evil.example","Click")',
        changes={},
    )
    signed = AuditEvent(at=datetime(2026, 12, 3, tzinfo=UTC), actor="@admin", kind="-1+1", changes={})
    rows = list(csv.DictReader(io.StringIO(as_csv([named, signed]))))
    assert rows[0]["element_name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert (rows[1]["actor"], rows[1]["kind"]) == ("'@admin", "'-1+1")
    assert rows[0]["actor"] == "olivia", "plain text is left as it is"
