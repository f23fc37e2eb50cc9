"""The agent's inbox: my tasks and my groups' queue, with claim and release."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.http import get_db
from app.tickets import service as tickets
from app.web import bp


@bp.route("/inbox")
@login_required
def inbox():
    db = get_db()
    mine = tickets.open_tasks_for(db, user=current_user, scope="mine", limit=200)
    queue = tickets.open_tasks_for(db, user=current_user, scope="group", limit=200)
    by_number = tickets.tickets_by_number(db, numbers={t.business_key for t in mine + queue if t.business_key})
    return render_template("inbox.html", mine=mine, queue=queue, tickets=by_number)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@login_required
def claim(task_id):
    task = tickets.claim_task(get_db(), user=current_user, task_id=task_id)
    flash(_("You claimed “%(name)s”.", name=task.name))
    return redirect(url_for("web.inbox"))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id):
    task = tickets.unclaim_task(get_db(), user=current_user, task_id=task_id)
    flash(_("“%(name)s” is back in the queue.", name=task.name))
    return redirect(url_for("web.inbox"))
