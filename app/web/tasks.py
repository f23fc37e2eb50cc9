"""The task page: the task's JSON Schema form, rendered and checked on the server."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import ValidationFailed
from app.forms.render import coerce, render
from app.http import get_db
from app.tickets import comments as ticket_comments
from app.tickets import work as ticket_work
from app.web import bp, local_back


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id):
    db = get_db()
    detail = ticket_work.get_task(db, user=current_user, task_id=task_id)
    carried = frozenset(detail.task.data or {})  # what the diagram carries over into this form
    data, errors, status = dict(detail.task.data or {}), {}, 200
    if request.method == "POST":
        data = coerce(detail.schema, request.form)
        try:
            ticket, _next = ticket_work.complete_task(db, user=current_user, task_id=task_id, data=data)
        except ValidationFailed as err:
            errors, status = err.fields, 422
        else:
            flash(_("“%(name)s” is done.", name=detail.task.name))
            back = local_back(request.args.get("back"), "/tickets/")
            if back:  # opened from the ticket's page: back to it
                return redirect(back)
            if current_user.is_agent:
                return redirect(url_for("web.inbox"))
            return redirect(url_for("web.ticket", number=ticket.number) if ticket else url_for("web.home"))
    fields = render(detail.schema, detail.ui_schema, data, errors, carried=carried)
    latest = _latest_comments(db, detail.ticket)
    return render_template("task.html", detail=detail, fields=fields, errors=errors, latest=latest), status


LATEST = 5  # comments the task page shows above its form


def _latest_comments(db, ticket) -> list:
    """The newest comments of the task's ticket the user may read, oldest of them first."""
    if ticket is None:
        return []
    return ticket_comments.comments(db, user=current_user, number=ticket.number)[-LATEST:]
