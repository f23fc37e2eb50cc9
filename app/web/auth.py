"""Signing in and out."""

from urllib.parse import urlparse

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from app.http import commit, get_db
from app.identity import service as identity
from app.web import bp


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlparse(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        principal = identity.authenticate(get_db(), username=username, password=request.form.get("password", ""))
        commit()  # failure counters are kept even when the sign-in fails
        if principal is not None:
            login_user(principal)
            return redirect(_safe_next(request.args.get("next")) or url_for("web.home"))
        error = _("Unknown user or wrong password.")
    return render_template("login.html", error=error, username=username), 401 if error else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("web.login"))
