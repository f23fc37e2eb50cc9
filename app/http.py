"""Per-request database sessions: one transaction per request, committed only when the request succeeded; a
refused request's audit event, committed apart from the request's work; the body limit of forms that carry
files and the one way an attachment is sent back."""

from io import BytesIO

from flask import Response, current_app, g, request, send_file
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import Database, lost_race
from app.errors import LOST_RACE, Conflict, ServiceError, ValidationFailed
from app.tickets import attachments

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database() -> Database:
    return current_app.extensions["flowdesk.db"]


def get_db() -> Session:
    """The request's session: a writer (BEGIN IMMEDIATE on SQLite) for changing methods, a reader otherwise."""
    if "db" not in g:
        g.db = database().reader() if request.method in SAFE_METHODS else database().writer()
    return g.db


def commit() -> None:
    """Commit the request's changes now; a lost race (a race key violated, a deadlock, a serialization failure)
    becomes a Conflict (HTTP 409). The engine's store checks the instance's version itself."""
    session = g.get("db")
    if session is None:
        return
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        if lost_race(err):
            raise Conflict(LOST_RACE) from err
        raise
    except OperationalError as err:
        session.rollback()
        if "deadlock" in str(err).lower() or "could not serialize" in str(err).lower():
            raise Conflict(LOST_RACE) from err
        raise


def commit_on_success(blueprint, on_error) -> None:
    """Commit each successful changing request of the blueprint; a failed commit is rendered by on_error."""

    @blueprint.after_request
    def _commit(response):
        if request.method not in SAFE_METHODS and response.status_code < 400:
            try:
                commit()
            except ServiceError as err:
                return on_error(err)
        return response


def close_db(_exc=None) -> None:
    session = g.pop("db", None)
    if session is not None:
        Database.end(session)


def record_refusal(*, actor: str, reason: str) -> None:
    """A refused request (403) in the audit log: who, which route and object, which method, and why. The
    request's own work is rolled back first; the event is then committed in a transaction of its own, so it is
    kept while nothing the request had begun is."""
    close_db()
    changes = {
        "method": request.method,
        "path": request.path,
        "route": request.url_rule.rule if request.url_rule else None,
        "object": request.view_args or {},
        "reason": reason,
        "client": request.remote_addr,
    }
    with database().unit_of_work() as session:
        audit.record(session, kind="permission_denied", actor=actor, changes=changes)


# The routes whose forms carry files (the API's upload, the ticket page's forms, the portal's report).
UPLOAD_ENDPOINTS = frozenset({"api.upload_attachment", "web.attach", "web.comment", "web.report_incident"})


def refuse_control_characters() -> None:
    """A query string or form field holding a control character (NUL ...) is refused naming the field, before any
    view could hand it to the database (PostgreSQL refuses NUL in text: it must never surface as a 500)."""
    from app.validation import controls

    sent = {name: "".join(values) for source in (request.args, request.form) for name, values in source.lists()}
    found = dict(controls(sent))
    if found:
        message = "; ".join(f"{name}: {text}" for name, text in sorted(found.items()))
        raise ValidationFailed(message, {name: [text] for name, text in found.items()})


def allow_uploads() -> None:
    """Before the body is read (CSRF reads the form first): a form with files may be larger than other bodies."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = attachments.request_limit()


def attachment_response(attachment, data: bytes) -> Response:
    """An attachment's bytes as a download that no browser renders or runs: Content-Disposition attachment
    (its name encoded for any browser), nosniff, a CSP that allows nothing, kept out of shared caches."""
    response = send_file(
        BytesIO(data),
        mimetype=attachments.served_type(attachment.content_type),
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        max_age=0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
