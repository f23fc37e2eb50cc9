"""Signing in (throttled after repeated failures) and out (which ends the session on the server too)."""

from urllib.parse import urlparse

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from app.errors import TooManyAttempts
from app.http import commit, get_db
from app.identity import service as identity
from app.identity import sessions
from app.web import bp


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlparse(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _client() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", error=None, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        principal = identity.authenticate(get_db(), username=username, password=password, client=_client())
    except TooManyAttempts as err:
        error = ngettext(
            "Too many failed attempts. Try again in %(num)d second.",
            "Too many failed attempts. Try again in %(num)d seconds.",
            err.retry_after,
        )
        page = render_template("login.html", error=error, username=username)
        return page, 429, {"Retry-After": str(err.retry_after)}
    commit()  # the throttle's counts and the audit event are kept whether the sign-in succeeded or not
    if principal is None:
        error = _("Unknown user or wrong password.")
        return render_template("login.html", error=error, username=username), 401
    login_user(principal)
    return redirect(_safe_next(request.args.get("next")) or url_for("web.home"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.sign_out(get_db(), user_id=current_user.id, username=current_user.username, client=_client())
    commit()
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("web.login"))
