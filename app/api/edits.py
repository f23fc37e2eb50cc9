"""API routes that change a ticket from outside its process: edit it (PATCH, with its version as ETag and
If-Match), cancel it, link it to a parent or an original, open a follow-up of a closed one; and the single-ticket
body with its links."""

from flask import g, jsonify, request
from sqlalchemy.orm import Session

from app.api import bp
from app.api.openapi import json_body, route
from app.api.serializers import ticket_json
from app.errors import ValidationFailed
from app.http import get_db
from app.tickets import attachments, cancel, edits, follow_ups, links, queries


def ticket_body(db: Session, ticket) -> dict:
    """A single ticket with its links looked up: children, duplicates, a problem's incidents; and the count of
    attachments the caller may see."""
    children = [t.number for t in queries.children_of(db, parent=ticket)]
    duplicates = [t.number for t in queries.duplicates_of(db, original=ticket)]
    files = attachments.counts(db, user=g.user, ticket_ids=[ticket.id]).get(ticket.id, 0)
    body = ticket_json(ticket, children=children, duplicates=duplicates, attachments=files)
    body["links"]["follow_ups"] = [t.number for t in queries.follow_ups_of(db, original=ticket)]
    if ticket.kind == "problem":
        body["links"]["incidents"] = [t.number for t in queries.linked_incidents(db, problem=ticket)]
    return body


def tickets_body(db: Session, tickets: list) -> list[dict]:
    """A page of tickets, each with its children, duplicates and count of attachments (looked up for the whole
    page at once)."""
    children, duplicates = queries.linked_numbers(db, numbers=[t.number for t in tickets])
    files = attachments.counts(db, user=g.user, ticket_ids=[t.id for t in tickets])
    return [
        ticket_json(
            t, children=children.get(t.number), duplicates=duplicates.get(t.number), attachments=files.get(t.id, 0)
        )
        for t in tickets
    ]


def tagged(ticket, status: int = 200):
    response = jsonify(ticket_body(get_db(), ticket))
    response.status_code = status
    response.headers["ETag"] = f'"{ticket.version}"'
    return response


def _if_match() -> int | None:
    """The version an If-Match header names ("3", W/"3" or 3); None without one."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    value = header.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValidationFailed("If-Match names a ticket version", {"If-Match": ["Send the ETag the ticket had."]})
    return int(value)


@route(
    bp,
    "/tickets/<number>",
    "PATCH",
    summary="Edit a ticket (agents): title, impact, urgency, category, service, ci, assignment_group, assignee",
    body=edits.EDIT,
    responses={200: "the ticket", 409: "changed by someone else since the version sent (If-Match or version)"},
)
def edit_ticket(number):
    body = json_body()
    changes = {k: v for k, v in body.items() if k != "version"}
    version = _if_match() or body.get("version")
    ticket = edits.update_ticket(get_db(), user=g.user, number=number, changes=changes, version=version)
    return tagged(ticket)


@route(
    bp,
    "/tickets/<number>/cancel",
    "POST",
    summary="Cancel a ticket (its requester before it is resolved or fulfilled, or an agent)",
    body=cancel.CANCEL,
    responses={200: "the ticket, Cancelled", 409: "too late: resolved, closed, cancelled or in fulfilment"},
)
def cancel_ticket(number):
    ticket = cancel.cancel_ticket(get_db(), user=g.user, number=number, reason=json_body().get("reason"))
    return tagged(ticket)


@route(
    bp,
    "/tickets/<number>/links",
    "POST",
    summary="Link a ticket (agents): under a parent incident, or closed as the duplicate of an original",
    body=links.LINK,
    responses={201: "the ticket", 409: "the ticket is closed"},
)
def link_ticket(number):
    body = json_body()
    ticket = links.link_ticket(get_db(), user=g.user, number=number, kind=body.get("kind"), target=body.get("ticket"))
    return tagged(ticket, 201)


@route(
    bp,
    "/tickets/<number>/follow-up",
    "POST",
    summary="Open a follow-up incident of a closed ticket (its requester, or an agent for them), linked to it",
    body=follow_ups.FOLLOW_UP,
    responses={201: "the new incident", 409: "the ticket is not closed"},
)
def open_follow_up(number):
    description = json_body().get("description")
    incident = follow_ups.open_follow_up(get_db(), user=g.user, number=number, description=description)
    return tagged(incident, 201)
