"""API routes for the ticket list: filtered and searched pages, the CSV export, saved views, bulk actions."""

from flask import Response, g, jsonify, request

from app.api import bp
from app.api.edits import tickets_body
from app.api.openapi import json_body, route
from app.http import get_db
from app.tickets import bulk, queries, saved_views
from app.tickets.export import MOST_ROWS, tickets_csv
from app.tickets.filters import KINDS, PRIORITIES, SLA_STATES, SORTS, parse_filter

_TEXT = {"type": "string"}
LIST_QUERY = {
    "kind": {"type": "string", "enum": list(KINDS)},
    "status": _TEXT,
    "priority": {"type": "string", "enum": list(PRIORITIES)},
    "assignment_group": _TEXT,
    "assignee": _TEXT,
    "unassigned": {"type": "boolean"},
    "requester": _TEXT,
    "service": _TEXT,
    "ci": _TEXT,
    "sla": {"type": "string", "enum": list(SLA_STATES)},
    "open": {"type": "boolean"},
    "created_from": {"type": "string", "format": "date"},
    "created_to": {"type": "string", "format": "date"},
    "q": _TEXT,
    "sort": {"type": "string", "enum": list(SORTS)},
    "view": _TEXT,
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0},
}


def _wanted():
    """The filter of the query string; with `view`, that view's filter, the page's own parameters on top."""
    wanted = parse_filter(request.args)
    key = request.args.get("view")
    if not key:
        return wanted
    view = saved_views.get_view(get_db(), user=g.user, key=key).filter
    own = {k: v for k, v in request.args.lists() if k != "view"}
    return parse_filter({**view.as_query(), **own})


@route(bp, "/tickets", "GET", summary="Tickets of every kind: filtered, searched, sorted and paged", query=LIST_QUERY)
def list_tickets():
    found = queries.list_tickets(get_db(), user=g.user, wanted=_wanted())
    return jsonify(tickets_body(get_db(), found))


@route(
    bp,
    "/tickets.csv",
    "GET",
    summary=f"The ticket list as CSV (the same filters; at most {MOST_ROWS} rows)",
    query=LIST_QUERY,
    responses={200: "text/csv"},
)
def export_tickets():
    found = queries.every_ticket(get_db(), user=g.user, wanted=_wanted(), most=MOST_ROWS + 1)
    text, rows = tickets_csv(t for i, t in enumerate(found) if i < MOST_ROWS)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="tickets.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Flowdesk-Rows"] = str(rows)
    return response


def _view_json(view) -> dict:
    return {"key": view.key, "name": view.name, "built_in": view.built_in, "filters": view.filter.as_query()}


@route(bp, "/views", "GET", summary="The ticket list's views: the built-in ones, then my own")
def list_views():
    return jsonify([_view_json(v) for v in saved_views.views_for(get_db(), user=g.user)])


@route(
    bp,
    "/views",
    "POST",
    summary="Keep the list's filters as a view of mine",
    body=saved_views.VIEW,
    responses={201: "the view", 409: "a view of that name exists"},
)
def save_view():
    body = json_body()
    view = saved_views.save_view(get_db(), user=g.user, name=body.get("name"), filters=body.get("filters"))
    return jsonify(_view_json(view)), 201


@route(bp, "/views/<int:view_id>", "DELETE", summary="Delete a view of mine", responses={204: "deleted"})
def delete_view(view_id):
    saved_views.delete_view(get_db(), user=g.user, view_id=view_id)
    return "", 204


@route(
    bp,
    "/tickets/bulk",
    "POST",
    summary=f"Assign, comment on or watch up to {bulk.MOST_TICKETS} tickets, each done or refused on its own",
    body=bulk.BULK,
)
def bulk_action():
    body = json_body()
    results = bulk.run(get_db(), user=g.user, **body)
    return jsonify(
        {
            "done": [r.ticket for r in results if r.ok],
            "failed": [{"ticket": r.ticket, "status": r.status, "error": r.error} for r in results if not r.ok],
        }
    )
