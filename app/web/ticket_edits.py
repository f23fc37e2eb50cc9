"""The ticket page's forms that change a ticket from outside its process: an agent's edit (a 409 shows what
changed meanwhile, the form kept), cancelling (the requester on their own ticket too), and links to a parent or
an original, a follow-up of a closed ticket; and what the page shows of them (the choices, the linked tickets)."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.http import get_db
from app.identity import service as identity
from app.tickets import cancel, edits, follow_ups, links, queries
from app.tickets.models import Ticket
from app.web import bp
from app.web.tickets import _page


def edit_context(db: Session, ticket: Ticket) -> dict:
    """What the page needs for the forms and links: the groups and their members, the linked tickets."""
    groups = edits.group_choices(db) if current_user.is_agent else []
    own = ticket.requester == current_user.username and ticket.status not in cancel.IN_FULFILMENT
    return {
        "groups": groups,
        "members": {group: identity.members_of(db, groups=[group]) for group in groups},
        "children": queries.children_of(db, parent=ticket),
        "duplicates": queries.duplicates_of(db, original=ticket),
        "follow_ups": queries.follow_ups_of(db, original=ticket),
        "may_follow_up": follow_ups.may_follow_up(current_user, ticket),
        "ended": ticket.status in edits.ENDED,
        "may_cancel": ticket.status not in cancel.TOO_LATE and (current_user.is_agent or own),
    }


@bp.route("/tickets/<number>/edit", methods=["POST"])
@login_required
def edit_ticket(number):
    form = {name: request.form[name].strip() for name in edits.FIELDS if name in request.form}
    # A level left blank (a request has none) is no change; a group changed with the old assignee still selected
    # (the page works without JavaScript) leaves the assignee to the service, which drops one not in the group.
    changes = {k: v or None for k, v in form.items() if v or k not in ("impact", "urgency")}
    group_moved = "assignment_group" in form and form["assignment_group"] != request.form.get("assignment_group_was")
    if group_moved and form.get("assignee") == request.form.get("assignee_was"):
        changes.pop("assignee", None)
    seen = request.form.get("version", "")
    version = int(seen) if seen.isdigit() else None
    try:
        edits.update_ticket(get_db(), user=current_user, number=number, changes=changes, version=version)
    except edits.StaleVersion as err:
        return _page(number, status=409, edit_form=form, edit_conflict=err)
    except ValidationFailed as err:
        return _page(number, errors={f"edit_{k}": v for k, v in err.fields.items()}, status=422, edit_form=form)
    flash(_("%(number)s is updated.", number=number))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/tickets/<number>/cancel", methods=["POST"])
@login_required
def cancel_ticket(number):
    reason = request.form.get("reason", "")
    try:
        cancel.cancel_ticket(get_db(), user=current_user, number=number, reason=reason)
    except ValidationFailed as err:
        errors = {f"cancel_{k}": v for k, v in err.fields.items()}
        return _page(number, errors=errors, status=422, cancel_form={"reason": reason})
    flash(_("%(number)s is cancelled.", number=number))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/tickets/<number>/links", methods=["POST"])
@login_required
def link_ticket(number):
    form = {"kind": request.form.get("kind", ""), "ticket": request.form.get("ticket", "")}
    try:
        links.link_ticket(get_db(), user=current_user, number=number, kind=form["kind"] or None, target=form["ticket"])
    except ValidationFailed as err:
        return _page(number, errors={f"relate_{k}": v for k, v in err.fields.items()}, status=422, link_form=form)
    if form["kind"] == "duplicate_of":
        flash(_("%(number)s is closed as a duplicate of %(other)s.", number=number, other=form["ticket"].upper()))
    else:
        flash(_("%(number)s is now below %(other)s.", number=number, other=form["ticket"].upper()))
    return redirect(url_for("web.ticket", number=number))


@bp.route("/tickets/<number>/follow-up", methods=["POST"])
@login_required
def follow_up(number):
    description = request.form.get("description", "")
    try:
        opened = follow_ups.open_follow_up(get_db(), user=current_user, number=number, description=description)
    except ValidationFailed as err:
        errors = {f"follow_up_{k}": v for k, v in err.fields.items()}
        return _page(number, errors=errors, status=422, follow_up_form={"description": description})
    flash(_("%(number)s is open: it follows up %(original)s.", number=opened.number, original=number))
    return redirect(url_for("web.ticket", number=opened.number))
