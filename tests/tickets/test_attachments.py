"""Attachments through the API: who attaches and reads which, the type from the content, downloads that are never
rendered, the limits (413 and nothing stored), harmless names, the audit event with the hash, both stores."""

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.tickets.attachments import check_settings, clean_filename
from app.tickets.models import Attachment, AttachmentBlob
from tests.tickets.test_incident_api import raise_incident

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def upload(api, user, number, content, name="file.bin", visibility=None):
    form = {"file": (io.BytesIO(content), name)}
    if visibility:
        form["visibility"] = visibility
    return api.call(user, "POST", f"/api/v1/tickets/{number}/attachments", raw=form, content_type="multipart/form-data")


def download(api, user, attachment_id):
    headers = {"Authorization": f"Bearer {api.token(user)}"}
    return api.client.get(f"/api/v1/attachments/{attachment_id}", headers=headers)


def listed(api, user, number):
    status, found = api.get(user, f"/api/v1/tickets/{number}/attachments")
    assert status == 200, found
    return [a["filename"] for a in found]


@pytest.fixture
def ticket(api):
    return raise_incident(api)["number"]


def test_requester_and_agent_attach_and_the_requester_never_sees_internal_files(api, ticket):
    status, screenshot = upload(api, "alice", ticket, PNG, name="screenshot.txt")
    assert status == 201, screenshot
    assert screenshot["content_type"] == "image/png"  # from the bytes, not from the name
    assert (screenshot["filename"], screenshot["size"], screenshot["visibility"]) == (
        "screenshot.txt",
        len(PNG),
        "public",
    )
    assert screenshot["sha256"] == hashlib.sha256(PNG).hexdigest() and screenshot["author"] == "alice"
    status, log = upload(api, "sam", ticket, b"router log: link down\n", name="router.log", visibility="internal")
    assert status == 201 and log["content_type"] == "text/plain"
    assert listed(api, "sam", ticket) == ["screenshot.txt", "router.log"]
    assert listed(api, "alice", ticket) == ["screenshot.txt"]
    assert listed(api, "audrey", ticket) == ["screenshot.txt", "router.log"]  # auditors read everything
    assert api.get("alice", f"/api/v1/tickets/{ticket}")[1]["attachments"] == 1
    assert api.get("sam", f"/api/v1/tickets/{ticket}")[1]["attachments"] == 2
    row = next(t for t in api.get("sam", "/api/v1/tickets")[1] if t["number"] == ticket)
    assert row["attachments"] == 2
    assert download(api, "alice", log["id"]).status_code == 404  # hidden like an internal note
    assert download(api, "ramon", screenshot["id"]).status_code == 404  # not his ticket
    assert download(api, "sam", 999_999).status_code == 404


def test_a_download_is_always_an_attachment_never_rendered(api, ticket):
    page = b"<html><script>alert(document.cookie)</script></html>"
    status, attached = upload(api, "alice", ticket, page, name="invoice.html")
    assert status == 201 and attached["content_type"] == "text/html"
    response = download(api, "sam", attached["id"])
    assert response.status_code == 200 and response.data == page
    assert response.headers["Content-Disposition"] == "attachment; filename=invoice.html"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"  # a browser would run text/html
    assert "sandbox" in response.headers["Content-Security-Policy"]
    status, picture = upload(api, "alice", ticket, PNG, name="écran été.png")
    response = download(api, "alice", picture["id"])
    assert response.headers["Content-Type"] == "image/png"
    assert "filename*=UTF-8''%C3%A9cran%20%C3%A9t%C3%A9.png" in response.headers["Content-Disposition"]


def test_who_may_attach(api, ticket):
    status, body = upload(api, "alice", ticket, b"notes", visibility="internal")
    assert status == 403 and "internal" in body["error"]["message"]
    assert upload(api, "audrey", ticket, b"notes")[0] == 403  # auditors read, they do not write
    assert upload(api, "ramon", ticket, b"notes")[0] == 404  # someone else's ticket does not exist for him
    status, body = upload(api, "sam", ticket, b"notes", visibility="secret")
    assert status == 422 and "visibility" in body["error"]["fields"]
    status, body = api.call(
        "sam", "POST", f"/api/v1/tickets/{ticket}/attachments", raw={"other": "x"}, content_type="multipart/form-data"
    )
    assert status == 422 and "file" in body["error"]["fields"]
    assert listed(api, "sam", ticket) == []


def stored(database) -> tuple[int, int, int]:
    with database.reading() as db:
        return (
            db.scalar(select(func.count()).select_from(Attachment)),
            db.scalar(select(func.count()).select_from(AttachmentBlob)),
            db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "attachment_added")),
        )


def test_over_the_limits_is_413_and_nothing_is_stored(api, ticket, database, monkeypatch):
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_MAX_BYTES", "1000")
    status, body = upload(api, "alice", ticket, b"x" * 1001)
    assert status == 413 and "limit" in body["error"]["message"]
    assert stored(database) == (0, 0, 0)
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_TICKET_MAX_BYTES", "1500")
    assert upload(api, "alice", ticket, b"a" * 1000)[0] == 201
    status, body = upload(api, "alice", ticket, b"b" * 600)
    assert status == 413 and ticket in body["error"]["message"]
    assert upload(api, "alice", ticket, b"c" * 500)[0] == 201  # exactly what is left still fits
    assert stored(database) == (2, 2, 2)
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_MAX_BYTES", str(10 * 1024))  # the request body itself is limited too
    status, body = upload(api, "sam", ticket, b"z" * (200 * 1024))
    assert status == 413 and stored(database) == (2, 2, 2)


def zip_bomb() -> bytes:
    """A few kilobytes that would unpack to 100 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (100 * 1024 * 1024))
    return buffer.getvalue()


def test_odd_files_are_handled_without_harm(api, ticket, database):
    status, body = upload(api, "alice", ticket, b"", name="empty.txt")
    assert status == 422 and "empty" in body["error"]["message"]
    assert upload(api, "alice", ticket, b"data", name="../../etc/passwd")[1]["filename"] == "passwd"
    assert clean_filename("C:\\Users\\alice\\notes.txt") == "notes.txt"  # what an old browser sends
    assert upload(api, "alice", ticket, b"data", name="..")[1]["filename"] == "attachment"
    long = upload(api, "alice", ticket, b"data", name="n" * 300 + ".pdf")[1]["filename"]
    assert len(long) == 255 and long.endswith(".pdf")
    assert upload(api, "alice", ticket, b"data", name="invoice\u202egnp.exe")[1]["filename"] == "invoicegnp.exe"
    bomb = zip_bomb()
    status, attached = upload(api, "alice", ticket, bomb, name="holiday.png")
    assert status == 201 and attached["content_type"] == "application/zip" and attached["size"] == len(bomb)
    assert download(api, "sam", attached["id"]).data == bomb  # kept and served as it came, never unpacked


def test_each_upload_is_an_audit_event_with_its_hash_and_one_content_is_stored_once(api, ticket, database):
    first = upload(api, "alice", ticket, PNG, name="one.png")[1]
    second = upload(api, "sam", ticket, PNG, name="two.png", visibility="internal")[1]
    assert first["sha256"] == second["sha256"] and stored(database) == (2, 1, 2)
    history = api.get("sam", f"/api/v1/tickets/{ticket}/history")[1]
    added = [e for e in history if e["kind"] == "attachment_added"]
    assert [(e["actor"], e["changes"]["sha256"][1], e["changes"]["filename"][1]) for e in added] == [
        ("alice", first["sha256"], "one.png"),
        ("sam", first["sha256"], "two.png"),
    ]
    mine = api.get("alice", f"/api/v1/tickets/{ticket}/history")[1]
    assert [e["changes"]["filename"][1] for e in mine if e["kind"] == "attachment_added"] == ["one.png"]


def test_the_directory_store_keeps_files_by_their_hash(api, ticket, database, monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_STORE", f"directory:{tmp_path}")
    attached = upload(api, "alice", ticket, PNG, name="shot.png")[1]
    digest = hashlib.sha256(PNG).hexdigest()
    assert (tmp_path / digest[:2] / digest[2:4] / digest).read_bytes() == PNG
    assert stored(database) == (1, 0, 1)
    assert download(api, "sam", attached["id"]).data == PNG


def test_a_bad_setting_stops_the_server_at_start_naming_it(monkeypatch):
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_STORE", "s3")
    with pytest.raises(ValueError, match="FLOWDESK_ATTACHMENT_STORE"):
        check_settings()
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_STORE", "database")
    monkeypatch.setenv("FLOWDESK_ATTACHMENT_MAX_BYTES", "10MB")
    with pytest.raises(ValueError, match="FLOWDESK_ATTACHMENT_MAX_BYTES"):
        check_settings()
