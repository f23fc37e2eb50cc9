"""Server-rendered pages: sign-in, the requester's portal, the agent's inbox, tickets and task forms."""

from flask import Blueprint, Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.errors import ServiceError
from app.http import commit_on_success, get_db, record_refusal

bp = Blueprint("web", __name__)

STATUS_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    409: _l("Changed meanwhile"),
    422: _l("Check the form"),
    413: _l("File too large"),
    429: _l("Too many attempts"),
}


def local_back(value: str | None, *prefixes: str) -> str | None:
    """A redirect target a form sent back, if it is a path of this site under one of the prefixes."""
    value = value or ""
    if value.startswith(prefixes) and "//" not in value and "\\" not in value:
        return value
    return None


@bp.errorhandler(ServiceError)
def on_service_error(err: ServiceError):
    if err.status == 403 and current_user.is_authenticated:
        record_refusal(actor=current_user.username, reason=err.message)
    title = STATUS_TITLES.get(err.status) or _("Error")
    return render_template("error.html", title=title, message=err.message, status=err.status), err.status


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    if current_user.is_agent:
        return redirect(url_for("web.inbox"))
    # Auditors, process owners and admins read every ticket: their home is the ticket list, not the portal.
    return redirect(url_for("web.tickets" if current_user.sees_all_tickets else "web.portal"))


def register(app: Flask) -> None:
    from app import login_manager
    from app.identity.service import principal_for_session
    from app.web import (  # noqa: F401 - routes register
        admin,
        attachments,
        audit,
        auth,
        inbox,
        portal,
        studio,
        tasks,
        ticket_edits,
        ticket_list,
        tickets,
    )
    from app.web.filters import register_filters

    @login_manager.user_loader
    def load_user(user_id: str):
        return principal_for_session(get_db(), session_id=user_id)

    app.register_blueprint(bp)
    register_filters(app)

    @app.context_processor
    def page_language():
        from flask_babel import get_locale

        return {"page_lang": str(get_locale() or "en")}

    @app.context_processor
    def unread_notifications():
        def count() -> int:
            from app.notify import service as notify

            return notify.unread_count(get_db(), username=current_user.username) if current_user.is_authenticated else 0

        return {"unread_notifications": count}

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        """Under /api/ every error is the contract's JSON error (a route that does not take the method too); a
        page shows its error page."""
        status = err.code or 500
        if request.path.startswith("/api/"):
            code = (err.name or "error").lower().replace(" ", "_")
            message = "no such endpoint" if status == 404 else str(err.description or err.name)
            response = jsonify({"error": {"code": code, "message": message, "fields": {}}})
            if status == 405 and getattr(err, "valid_methods", None):
                response.headers["Allow"] = ", ".join(err.valid_methods)
            return response, status
        if status == 404:
            return render_template(
                "error.html", title=_("Not found"), message=_("There is no such page."), status=404
            ), 404
        if status == 400:
            return render_template("error.html", title=_("Bad request"), message=err.description, status=400), 400
        return err


commit_on_success(bp, on_service_error)
