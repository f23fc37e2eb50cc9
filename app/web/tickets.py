"""The ticket page: details, open tasks, history and comments, for requesters and agents alike."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import ValidationFailed
from app.http import get_db
from app.notify import service as notify
from app.tasks.access import may_work
from app.tickets import access as ticket_access
from app.tickets import attachments as ticket_attachments
from app.tickets import comments as ticket_comments
from app.tickets import intake, problems
from app.tickets import sla as ticket_sla
from app.tickets import watchers as ticket_watchers
from app.tickets import work as ticket_work
from app.tickets.follow_ups import CLOSED
from app.web import bp
from app.web.attachments import UPLOAD_ERRORS, attach_files, chosen_files, upload_error


def _page(number: str, comment_form: dict | None = None, errors: dict | None = None, status: int = 200, **forms):
    """The ticket page; forms are the kept input of another form of the page (edit_form, cancel_form ...)."""
    from app.web.ticket_edits import edit_context

    db = get_db()
    ticket = ticket_access.get_ticket(db, user=current_user, number=number)
    sees_tasks = current_user.sees_all_tickets or ticket.requester == current_user.username
    open_tasks = ticket_work.ticket_tasks(db, user=current_user, number=number) if sees_tasks else []
    history = ticket_comments.history(db, user=current_user, number=number) if sees_tasks else []
    files = ticket_attachments.attachments(db, user=current_user, number=number)
    return render_template(
        "ticket.html",
        ticket=ticket,
        open_tasks=open_tasks,
        history=history,
        comments=ticket_comments.comments(db, user=current_user, number=number),
        attachments=files,
        comment_files=_by_comment(files),
        sla_moments=ticket_sla.sla_timeline(db, ticket=ticket) if sees_tasks else [],
        watching=current_user.username in ticket_watchers.watchers(db, ticket=ticket),
        may_work=lambda task: may_work(current_user, task),
        comment_form=comment_form or {},
        errors=errors or {},
        **edit_context(db, ticket),
        **forms,
    ), status


def _by_comment(files: list) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for attachment in files:
        if attachment.comment_id is not None:
            grouped.setdefault(attachment.comment_id, []).append(attachment)
    return grouped


@bp.route("/tickets/<number>")
@login_required
def ticket(number):
    return _page(number)


@bp.route("/tickets/<number>/problem", methods=["POST"])
@login_required
def raise_problem(number):
    """An agent raises a problem from an incident; the incident is linked to it."""
    title = request.form.get("title", "")
    try:
        problem = intake.create_problem(
            get_db(),
            user=current_user,
            title=title,
            description=request.form.get("description", ""),
            incidents=[number],
        )
    except ValidationFailed as err:
        return _page(number, errors={f"problem_{k}": v for k, v in err.fields.items()}, status=422)
    flash(_("Problem %(problem)s is raised and linked to %(number)s.", problem=problem.number, number=number))
    return redirect(url_for("web.ticket", number=problem.number))


@bp.route("/tickets/<number>/problem/link", methods=["POST"])
@login_required
def link_problem(number):
    try:
        problems.link_to_problem(get_db(), user=current_user, number=number, problem_number=request.form.get("problem"))
    except ValidationFailed as err:
        return _page(number, errors={f"link_{k}": v for k, v in err.fields.items()}, status=422)
    flash(_("%(number)s is linked to its problem.", number=number))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/tickets/<number>/watch", methods=["POST"])
@login_required
def watch(number):
    if request.form.get("stop"):
        ticket_watchers.unwatch(get_db(), user=current_user, number=number)
        flash(_("You no longer follow %(number)s.", number=number))
    else:
        ticket_watchers.watch(get_db(), user=current_user, number=number)
        flash(_("You follow %(number)s: its status changes reach you.", number=number))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/notifications")
@login_required
def notifications():
    return render_template("notifications.html", items=notify.notifications(get_db(), username=current_user.username))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def notifications_read():
    notify.mark_read(get_db(), username=current_user.username)
    return redirect(url_for("web.notifications"))


@bp.route("/tickets/<number>/major", methods=["POST"])
@login_required
def declare_major(number):
    problems.declare_major(get_db(), user=current_user, number=number)
    flash(_("%(number)s is a major incident: the managers are asked to take charge.", number=number))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/tickets/<number>/comments", methods=["POST"])
@login_required
def comment(number):
    form = {"body": request.form.get("body", ""), "visibility": request.form.get("visibility", "public")}
    try:
        added = ticket_comments.add_comment(get_db(), user=current_user, number=number, **form)
    except ValidationFailed as err:
        return _page(number, form, err.fields, 422)
    try:  # the comment and its files are kept together or not at all
        attach_files(chosen_files("comment_file"), number=number, visibility=added.visibility, comment_id=added.id)
    except UPLOAD_ERRORS as err:
        return _page(number, form, upload_error(err, "comment_file"), err.status)
    ticket = ticket_access.get_ticket(get_db(), user=current_user, number=number)
    if added.visibility == "public" and ticket.requester == current_user.username and ticket.status == CLOSED:
        flash(_("Your comment is sent to the group that worked on this closed ticket."))
        return redirect(url_for("web.ticket", number=number) + "#follow-up")
    flash(_("Your comment is added."))
    return redirect(url_for("web.ticket", number=number) + "#comments")
