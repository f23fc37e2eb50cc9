"""Admin pages: failed background jobs (inspect, retry) and the rules that turn alert labels into incidents."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.alerts import service as alerts
from app.alerts.service import FIELDS
from app.errors import Forbidden, ValidationFailed
from app.http import get_db
from app.jobs import service as jobs
from app.web import bp


def _admin() -> None:
    if not current_user.has("admin"):
        raise Forbidden("this page is for admins")


@bp.route("/admin/jobs")
@login_required
def admin_jobs():
    _admin()
    return render_template("admin_jobs.html", jobs=jobs.failed_jobs(get_db()))


@bp.route("/admin/jobs/<int:job_id>/retry", methods=["POST"])
@login_required
def admin_retry_job(job_id):
    _admin()
    jobs.retry(get_db(), job_id=job_id, actor=current_user.username)
    flash(_("Job %(id)s will run again now.", id=job_id))
    return redirect(url_for("web.admin_jobs"))


def _rules_page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    return render_template(
        "admin_alerts.html", rules=alerts.rules(get_db()), fields=FIELDS, form=form or {}, errors=errors or {}
    ), status


@bp.route("/admin/alerts")
@login_required
def admin_alert_rules():
    _admin()
    return _rules_page()


@bp.route("/admin/alerts", methods=["POST"])
@login_required
def admin_add_alert_rule():
    _admin()
    form = {k: request.form.get(k, "") for k in ("label", "match", "field", "value")}
    try:
        alerts.add_rule(
            get_db(),
            label=form["label"],
            match=form["match"],
            field_name=form["field"],
            value=form["value"],
            actor=current_user.username,
        )
    except ValidationFailed as err:
        return _rules_page(form, err.fields, 422)
    flash(_("The rule is added; the next alerts use it."))
    return redirect(url_for("web.admin_alert_rules"))


@bp.route("/admin/alerts/<int:rule_id>/delete", methods=["POST"])
@login_required
def admin_delete_alert_rule(rule_id):
    _admin()
    alerts.delete_rule(get_db(), rule_id=rule_id, actor=current_user.username)
    flash(_("The rule is deleted."))
    return redirect(url_for("web.admin_alert_rules"))


@bp.route("/admin/alerts/defaults", methods=["POST"])
@login_required
def admin_restore_alert_rules():
    _admin()
    alerts.reset_rules(get_db(), actor=current_user.username)
    flash(_("The default rules are back."))
    return redirect(url_for("web.admin_alert_rules"))
