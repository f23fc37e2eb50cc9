"""Attachments on the pages without JavaScript: the portal's report, the ticket page's upload form, a comment with
files, a task page's upload form; errors said beside the file field with nothing kept; downloads never inline."""

import io
import re

from tests.tickets.test_incident_api import open_task, raise_incident

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def links(html: str) -> list[str]:
    return re.findall(r'<a href="/attachments/\d+" download>([^<]+)</a>', html)


def test_a_requester_reports_an_incident_with_a_screenshot(signed_in):
    alice = signed_in("alice")
    form = {
        "title": "Printer shows an error",
        "impact": "low",
        "urgency": "low",
        "files": [(io.BytesIO(PDF), "error.pdf"), (io.BytesIO(b""), "")],  # the second input left empty
    }
    response = alice.post("/portal/incidents", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    page = alice.get(response.headers["Location"]).get_data(as_text=True)
    assert links(page) == ["error.pdf"] and "application/pdf" in page


def test_a_file_too_large_is_said_on_the_page_and_the_report_is_not_kept(api, signed_in, monkeypatch):
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_MAX_BYTES", "100")
    alice = signed_in("alice")
    form = {
        "title": "Printer shows an error",
        "impact": "low",
        "urgency": "low",
        "files": (io.BytesIO(PDF * 5), "a.pdf"),
    }
    response = alice.post("/portal/incidents", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'id="files-error"' in page and "at most 100 bytes" in page
    assert 'value="Printer shows an error"' in page  # what she typed is kept for another try
    assert api.get("alice", "/api/v1/tickets")[1] == []


def test_agent_attaches_internal_files_and_comments_with_files(api, signed_in):
    number = raise_incident(api)["number"]
    sam = signed_in("sam")
    form = {"attach_file": (io.BytesIO(b"trace"), "trace.txt"), "visibility": "internal"}
    response = sam.post(f"/tickets/{number}/attachments", data=form, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("#attachments")
    comment = {"body": "The log of the crash", "visibility": "public", "comment_file": (io.BytesIO(PDF), "crash.pdf")}
    assert sam.post(f"/tickets/{number}/comments", data=comment, content_type="multipart/form-data").status_code == 302
    page = sam.get(f"/tickets/{number}").get_data(as_text=True)
    assert links(page) == ["trace.txt", "crash.pdf", "crash.pdf"]  # the list, then under its comment
    requester_page = signed_in("alice").get(f"/tickets/{number}").get_data(as_text=True)
    assert links(requester_page) == ["crash.pdf", "crash.pdf"]  # never the internal trace


def test_an_empty_upload_form_names_the_field(api, signed_in):
    number = raise_incident(api)["number"]
    response = signed_in("alice").post(f"/tickets/{number}/attachments", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="attach_file-error"' in response.get_data(as_text=True)


def test_a_task_page_attaches_to_its_ticket_and_comes_back(api, signed_in):
    number = raise_incident(api)["number"]
    task = open_task(api, number)
    sam = signed_in("sam")
    assert "Attach files to" in sam.get(f"/tasks/{task['id']}").get_data(as_text=True)
    form = {"attach_file": (io.BytesIO(PDF), "quote.pdf"), "back": f"/tasks/{task['id']}"}
    response = sam.post(f"/tickets/{number}/attachments", data=form, content_type="multipart/form-data")
    assert response.headers["Location"] == f"/tasks/{task['id']}"
    elsewhere = {"attach_file": (io.BytesIO(PDF), "quote.pdf"), "back": "//evil.example/tasks/"}
    response = sam.post(f"/tickets/{number}/attachments", data=elsewhere, content_type="multipart/form-data")
    assert response.headers["Location"] == f"/tickets/{number}#attachments"  # never off the site


def test_a_download_from_the_page_is_a_file_never_shown(api, signed_in):
    number = raise_incident(api)["number"]
    alice = signed_in("alice")
    form = {"attach_file": (io.BytesIO(b"<svg onload=alert(1)></svg>"), "logo.svg")}
    alice.post(f"/tickets/{number}/attachments", data=form, content_type="multipart/form-data")
    (attached,) = api.get("alice", f"/api/v1/tickets/{number}/attachments")[1]
    response = alice.get(f"/attachments/{attached['id']}")
    assert response.status_code == 200 and response.data == b"<svg onload=alert(1)></svg>"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert signed_in("ramon").get(f"/attachments/{attached['id']}").status_code == 404
