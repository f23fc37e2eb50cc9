"""The requester's portal: report an incident and follow my tickets."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog import service as catalog
from app.errors import NotFound, ValidationFailed
from app.forms.render import coerce, render
from app.http import get_db
from app.tasks import service as tasks
from app.tickets import intake, queries
from app.tickets.filters import TicketFilter
from app.web import bp
from app.web.attachments import UPLOAD_ERRORS, attach_files, chosen_files, upload_error

INCIDENT_FIELDS = ("title", "description", "impact", "urgency", "service", "category", "caller")


def _page(form: dict, errors: dict, status: int = 200):
    db = get_db()
    mine = queries.list_tickets(db, user=current_user, wanted=TicketFilter(requester=current_user.username, limit=100))
    waiting = tasks.open_tasks_for(db, user=current_user, limit=100)
    related = queries.tickets_by_number(db, numbers={t.business_key for t in waiting if t.business_key})
    return render_template(
        "portal.html",
        tickets=mine,
        form=form,
        errors=errors,
        waiting=waiting,
        related=related,
        catalog_items=catalog.active_items(db),
    ), status


@bp.route("/portal")
@login_required
def portal():
    return _page({}, {})


@bp.route("/portal/catalog/<key>", methods=["GET", "POST"])
@login_required
def order(key):
    db = get_db()
    item = catalog.item_by_key(db, key=key)
    if item is None:
        raise NotFound(_("There is no such catalog item."))
    data, errors, status = {}, {}, 200
    if request.method == "POST":
        data = coerce(item.form, request.form)
        try:
            ticket = intake.create_request(db, user=current_user, item=key, fields=data)
        except ValidationFailed as err:
            errors, status = err.fields, 422
        else:
            flash(_("Request %(number)s is submitted.", number=ticket.number))
            return redirect(url_for("web.ticket", number=ticket.number))
    fields = render(item.form, item.ui_form, data, errors)
    return render_template("order.html", item=item, fields=fields, errors=errors), status


@bp.route("/portal/incidents", methods=["POST"])
@login_required
def report_incident():
    form = {name: request.form.get(name, "") for name in INCIDENT_FIELDS}
    values = {k: (v or None) for k, v in form.items()}
    try:
        ticket = intake.create_incident(get_db(), user=current_user, **values)
    except ValidationFailed as err:
        return _page(form, err.fields, 422)
    try:  # the report and its files are kept together or not at all
        attach_files(chosen_files("files"), number=ticket.number, visibility="public")
    except UPLOAD_ERRORS as err:
        return _page(form, upload_error(err, "files"), err.status)
    flash(_("Incident %(number)s is reported. The service desk will pick it up.", number=ticket.number))
    return redirect(url_for("web.ticket", number=ticket.number))
