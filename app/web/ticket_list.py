"""The ticket list page: filters, search, sort and pages over every kind of ticket, the user's views, the CSV
export and bulk actions on the rows picked. Agents act on rows; auditors, process owners and admins read, and
reach each ticket's audit page from its row."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.errors import ValidationFailed
from app.http import get_db
from app.tickets import bulk, edits, queries, saved_views
from app.tickets.export import MOST_ROWS, tickets_csv
from app.tickets.filters import KINDS, PRIORITIES, SORTS, TicketFilter, parse_filter
from app.web import bp, local_back

PAGE = 50


def _wanted(args: MultiDict) -> tuple[TicketFilter, str | None, dict]:
    """The page's filter (its view's, with the page's own parameters on top), the view's key, and the
    problems of a filter that could not be used (the page then lists nothing and says why)."""
    key = args.get("view") or None
    own = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in ("view", "page") and v != ""])
    try:
        if key:
            view = saved_views.get_view(get_db(), user=current_user, key=key).filter.as_query()
            own = MultiDict([*MultiDict(view).items(multi=True), *own.items(multi=True)])
        page = max(1, min(args.get("page", 1, type=int) or 1, 10_000))
        own.setlist("limit", [str(PAGE + 1)])
        own.setlist("offset", [str((page - 1) * PAGE)])
        return parse_filter(own), key, {}
    except ValidationFailed as err:
        return TicketFilter(limit=PAGE + 1), key, err.fields


@bp.route("/tickets")
@login_required
def tickets():
    db = get_db()
    wanted, key, problems = _wanted(request.args)
    found = [] if problems else queries.list_tickets(db, user=current_user, wanted=wanted)
    page = wanted.offset // PAGE + 1
    here = {k: v for k, v in request.args.lists() if k != "page"}
    return render_template(
        "tickets.html",
        tickets=found[:PAGE],
        more=len(found) > PAGE,
        page=page,
        here=here,
        wanted=wanted,
        problems=problems,
        view_key=key,
        views=saved_views.views_for(db, user=current_user),
        groups=edits.group_choices(db),
        kinds=KINDS,
        priorities=PRIORITIES,
        sorts=SORTS,
        acts=current_user.is_agent,
        audits=current_user.has("auditor", "process_owner", "admin"),
    ), (422 if problems else 200)


@bp.route("/tickets.csv")
@login_required
def tickets_export():
    wanted, _key, problems = _wanted(request.args)
    if problems:
        raise ValidationFailed(_("These filters cannot be used: %(names)s", names=", ".join(problems)), problems)
    found = queries.every_ticket(get_db(), user=current_user, wanted=wanted, most=MOST_ROWS)
    text, _rows = tickets_csv(found)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="tickets.csv"'
    return response


@bp.route("/tickets/views", methods=["POST"])
@login_required
def save_ticket_view():
    filters = {k: v for k, v in request.form.lists() if k not in ("csrf_token", "name", "view", "page") and any(v)}
    try:
        view = saved_views.save_view(get_db(), user=current_user, name=request.form.get("name"), filters=filters)
    except ValidationFailed as err:
        flash(_("The view was not saved: %(why)s", why=_reasons(err)))
        return redirect(url_for("web.tickets", **filters))
    flash(_("The view “%(name)s” is saved.", name=view.name))
    return redirect(url_for("web.tickets", view=view.key))


@bp.route("/tickets/views/<int:view_id>/delete", methods=["POST"])
@login_required
def delete_ticket_view(view_id):
    saved_views.delete_view(get_db(), user=current_user, view_id=view_id)
    flash(_("The view is deleted."))
    return redirect(url_for("web.tickets"))


@bp.route("/tickets/bulk", methods=["POST"])
@login_required
def bulk_tickets():
    """Do the chosen action on each ticket picked; the page that follows names each one that failed and why."""
    form = request.form
    values = {k: form.get(k) or None for k in ("assignment_group", "assignee", "body", "visibility")}
    action = form.get("action")
    try:
        results = bulk.run(db=get_db(), user=current_user, tickets=form.getlist("ticket"), action=action, **values)
    except ValidationFailed as err:
        flash(_("Nothing was done: %(why)s", why=_reasons(err)))
        return redirect(url_for("web.tickets"))
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    if done:
        flash(ngettext("Done on %(num)d ticket.", "Done on %(num)d tickets.", len(done)))
    for row in failed:
        flash(_("%(ticket)s: not done: %(why)s", ticket=row.ticket, why=row.error), "error")
    return redirect(local_back(form.get("back"), "/tickets") or url_for("web.tickets"))


def _reasons(err: ValidationFailed) -> str:
    return " ".join(m for messages in err.fields.values() for m in messages) or err.message
