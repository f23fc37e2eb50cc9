"""The agent's inbox: my tasks and my groups' queue, with claim and release."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.http import get_db
from app.tasks import service as tasks
from app.tickets import queries
from app.tickets import work as ticket_work
from app.web import bp

PAGE = 50  # tasks per list and page, newest first
LISTS = {"mine": "mine", "queue": "group"}  # list name (and its page parameter) -> open_tasks_for scope
MOST_PAGES = 10_000


@bp.route("/inbox")
@login_required
def inbox():
    db = get_db()
    pages = {name: min(max(request.args.get(name, 1, type=int), 1), MOST_PAGES) for name in LISTS}
    lists = {
        name: tasks.open_tasks_for(db, user=current_user, scope=scope, limit=PAGE + 1, offset=(pages[name] - 1) * PAGE)
        for name, scope in LISTS.items()
    }
    shown = {name: tasks[:PAGE] for name, tasks in lists.items()}
    more = {name: len(tasks) > PAGE for name, tasks in lists.items()}
    numbers = {t.business_key for tasks in shown.values() for t in tasks if t.business_key}
    return render_template(
        "inbox.html",
        mine=shown["mine"],
        queue=shown["queue"],
        pages=pages,
        more=more,
        tickets=queries.tickets_by_number(db, numbers=numbers),
    )


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@login_required
def claim(task_id):
    task = ticket_work.claim_task(get_db(), user=current_user, task_id=task_id)
    flash(_("You claimed “%(name)s”.", name=task.name))
    return redirect(url_for("web.inbox"))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id):
    task = ticket_work.unclaim_task(get_db(), user=current_user, task_id=task_id)
    flash(_("“%(name)s” is back in the queue.", name=task.name))
    return redirect(url_for("web.inbox"))
