"""The requester's portal: report an incident and follow my tickets."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import ValidationFailed
from app.http import get_db
from app.tickets import service as tickets
from app.web import bp

INCIDENT_FIELDS = ("title", "description", "impact", "urgency", "service", "category")


def _page(form: dict, errors: dict, status: int = 200):
    mine = tickets.list_tickets(get_db(), user=current_user, requester=current_user.username, limit=100)
    return render_template("portal.html", tickets=mine, form=form, errors=errors), status


@bp.route("/portal")
@login_required
def portal():
    return _page({}, {})


@bp.route("/portal/incidents", methods=["POST"])
@login_required
def report_incident():
    form = {name: request.form.get(name, "") for name in INCIDENT_FIELDS}
    values = {k: (v or None) for k, v in form.items()}
    try:
        ticket = tickets.create_incident(get_db(), user=current_user, **values)
    except ValidationFailed as err:
        return _page(form, err.fields, 422)
    flash(_("Incident %(number)s is reported. The service desk will pick it up.", number=ticket.number))
    return redirect(url_for("web.ticket", number=ticket.number))
