"""Server-rendered pages: sign-in, the requester's portal, the agent's inbox, tickets and task forms."""

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import ServiceError
from app.http import commit_on_success, get_db

bp = Blueprint("web", __name__)

STATUS_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    409: _l("Changed meanwhile"),
    422: _l("Check the form"),
}


@bp.errorhandler(ServiceError)
def on_service_error(err: ServiceError):
    title = STATUS_TITLES.get(err.status) or _("Error")
    return render_template("error.html", title=title, message=err.message, status=err.status), err.status


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    return redirect(url_for("web.inbox" if current_user.is_agent else "web.portal"))


def register(app: Flask) -> None:
    from app import login_manager
    from app.identity.service import principal_by_id
    from app.web import admin, audit, auth, inbox, portal, studio, tasks, tickets  # noqa: F401 - routes register
    from app.web.filters import register_filters

    @login_manager.user_loader
    def load_user(user_id: str):
        return principal_by_id(get_db(), user_id=int(user_id)) if user_id.isdigit() else None

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

    @app.errorhandler(404)
    def not_found(_err):
        if request.path.startswith("/api/"):
            return {"error": {"code": "not_found", "message": "no such endpoint", "fields": {}}}, 404
        return render_template("error.html", title=_("Not found"), message=_("There is no such page."), status=404), 404

    @app.errorhandler(400)
    def bad_request(err):
        if request.path.startswith("/api/"):
            return {"error": {"code": "bad_request", "message": str(err.description), "fields": {}}}, 400
        return render_template("error.html", title=_("Bad request"), message=err.description, status=400), 400


commit_on_success(bp, on_service_error)
