"""API routes for incidents, tickets, their comments and history, and human tasks."""

from dataclasses import replace

from flask import g, jsonify, request

from app.api import bp, paging
from app.api.edits import tagged as _tagged
from app.api.edits import ticket_body, tickets_body
from app.api.openapi import json_body, route
from app.api.serializers import comment_json, event_json, notification_json, task_json, ticket_json
from app.audit.export import export_response
from app.catalog import service as catalog
from app.errors import ValidationFailed
from app.http import get_db
from app.notify import service as notify
from app.tasks import service as tasks
from app.tickets import access as ticket_access
from app.tickets import comments as ticket_comments
from app.tickets import intake, problems, queries
from app.tickets import watchers as ticket_watchers
from app.tickets import work as ticket_work
from app.tickets.filters import parse_filter

LIST_QUERY = {
    "status": {"type": "string"},
    "priority": {"type": "string"},
    "assignment_group": {"type": "string"},
    "q": {"type": "string"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0},
}
# Completing a task: data is checked against the task's own form.
TASK_DATA = {"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}


@route(bp, "/health", "GET", summary="Liveness", public=True, responses={200: "ok"})
def health():
    return jsonify({"status": "ok"})


@route(bp, "/openapi.json", "GET", summary="This API's OpenAPI document", public=True)
def openapi():
    from app.api.openapi import document

    return jsonify(document())


@route(bp, "/incidents", "POST", summary="Report an incident", body=intake.INCIDENT, responses={201: "the new ticket"})
def create_incident():
    body = json_body()
    ticket = intake.create_incident(get_db(), user=g.user, **{k: body.get(k) for k in intake.INCIDENT["properties"]})
    return jsonify(ticket_json(ticket)), 201


@route(bp, "/catalog", "GET", summary="What can be ordered, each item with its form")
def list_catalog():
    return jsonify(
        [
            {
                "key": i.key,
                "name": i.name,
                "description": i.description,
                "cost": i.cost,
                "needs_approval": i.approval != "none",
                "form": {"schema": i.form, "ui_schema": i.ui_form},
            }
            for i in catalog.active_items(get_db())
        ]
    )


@route(bp, "/requests", "POST", summary="Order a catalog item", body=intake.REQUEST, responses={201: "the new request"})
def create_request():
    body = json_body()
    ticket = intake.create_request(get_db(), user=g.user, item=body.get("item"), fields=body.get("fields"))
    return jsonify(_ticket(ticket)), 201


@route(
    bp,
    "/problems",
    "POST",
    summary="Raise a problem linked to incidents",
    body=intake.PROBLEM,
    responses={201: "the new problem"},
)
def create_problem():
    body = json_body()
    problem = intake.create_problem(
        get_db(),
        user=g.user,
        title=body.get("title"),
        description=body.get("description"),
        incidents=body.get("incidents", []),
    )
    return jsonify(_ticket(problem)), 201


def _ticket(ticket) -> dict:
    return ticket_body(get_db(), ticket)


@route(
    bp,
    "/tickets/<number>/problem",
    "POST",
    summary="Link an incident to an existing problem",
    body=problems.LINK,
)
def link_problem(number):
    incident = problems.link_to_problem(get_db(), user=g.user, number=number, problem_number=json_body().get("problem"))
    return jsonify(_ticket(incident))


@route(
    bp,
    "/incidents/<number>/major",
    "POST",
    summary="Promote an incident to a major incident (agents): the managers take charge of it",
    responses={200: "the ticket", 409: "already major, or no longer open"},
)
def declare_major(number):
    incident = problems.declare_major(get_db(), user=g.user, number=number)
    return jsonify(_ticket(incident))


@route(bp, "/incidents", "GET", summary="List incidents (GET /api/v1/tickets takes every filter)", query=LIST_QUERY)
def list_incidents():
    wanted = replace(parse_filter(request.args), kind="incident")
    return jsonify(tickets_body(get_db(), queries.list_tickets(get_db(), user=g.user, wanted=wanted)))


@route(bp, "/incidents/<number>", "GET", summary="One incident")
def get_incident(number):
    return _tagged(ticket_access.get_ticket(get_db(), user=g.user, number=number, kind="incident"))


@route(bp, "/tickets/<number>", "GET", summary="Any ticket (its ETag is its version, for If-Match on PATCH)")
def get_ticket(number):
    return _tagged(ticket_access.get_ticket(get_db(), user=g.user, number=number))


@route(bp, "/tickets/<number>/tasks", "GET", summary="A ticket's open tasks")
def ticket_tasks(number):
    return jsonify([task_json(t) for t in ticket_work.ticket_tasks(get_db(), user=g.user, number=number)])


@route(bp, "/tickets/<number>/history", "GET", summary="A ticket's history, oldest first")
def ticket_history(number):
    return jsonify([event_json(e) for e in ticket_comments.history(get_db(), user=g.user, number=number)])


@route(
    bp,
    "/tickets/<number>/history.csv",
    "GET",
    summary="A ticket's history as CSV (for auditors' exports)",
    responses={200: "text/csv"},
)
def ticket_history_csv(number):
    events = ticket_comments.history(get_db(), user=g.user, number=number)
    return export_response(events, fmt="csv", filename=f"{number.upper()}-history")


@route(bp, "/tickets/<number>/comments", "GET", summary="A ticket's comments, oldest first")
def list_comments(number):
    return jsonify([comment_json(c) for c in ticket_comments.comments(get_db(), user=g.user, number=number)])


@route(
    bp,
    "/tickets/<number>/comments",
    "POST",
    summary="Comment on a ticket",
    body=ticket_comments.COMMENT,
    responses={201: "the comment"},
)
def add_comment(number):
    body = json_body()
    comment = ticket_comments.add_comment(
        get_db(), user=g.user, number=number, body=body.get("body"), visibility=body.get("visibility", "public")
    )
    return jsonify(comment_json(comment)), 201


@route(
    bp,
    "/tasks",
    "GET",
    summary="Open tasks I may work on",
    query={
        "scope": {"type": "string", "enum": ["mine", "group"]},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
)
def list_tasks():
    scope = request.args.get("scope")
    if scope not in (None, "", "mine", "group"):
        raise ValidationFailed("scope is mine or group", {"scope": ["Choose mine or group."]})
    limit, offset = paging()
    found = tasks.open_tasks_for(get_db(), user=g.user, scope=scope, limit=limit, offset=offset)
    return jsonify([task_json(t) for t in found])


@route(bp, "/tasks/<task_id>", "GET", summary="A task with its form and current data")
def get_task(task_id):
    detail = ticket_work.get_task(get_db(), user=g.user, task_id=task_id)
    body = task_json(detail.task)
    body["form"] = {"schema": detail.schema, "ui_schema": detail.ui_schema}
    body["data"] = detail.task.data
    return jsonify(body)


@route(bp, "/tasks/<task_id>/claim", "POST", summary="Claim a task")
def claim_task(task_id):
    return jsonify(task_json(ticket_work.claim_task(get_db(), user=g.user, task_id=task_id)))


@route(bp, "/tasks/<task_id>/unclaim", "POST", summary="Release a claimed task")
def unclaim_task(task_id):
    return jsonify(task_json(ticket_work.unclaim_task(get_db(), user=g.user, task_id=task_id)))


@route(bp, "/tasks/<task_id>/complete", "POST", summary="Complete a task with its form data", body=TASK_DATA)
def complete_task(task_id):
    body = json_body()
    ticket, next_tasks = ticket_work.complete_task(get_db(), user=g.user, task_id=task_id, data=body.get("data"))
    return jsonify(
        {"ticket": ticket_json(ticket) if ticket else None, "next_tasks": [task_json(t) for t in next_tasks]}
    )


@route(
    bp,
    "/tickets/<number>/watchers",
    "POST",
    summary="Follow a ticket (an agent may add someone else who may see it)",
    body=ticket_watchers.WATCH,
    body_required=False,
)
def add_watcher(number):
    username = json_body(optional=True).get("username")
    return jsonify(ticket_watchers.watch(get_db(), user=g.user, number=number, username=username))


@route(bp, "/tickets/<number>/watchers/<username>", "DELETE", summary="Stop following a ticket")
def remove_watcher(number, username):
    return jsonify(ticket_watchers.unwatch(get_db(), user=g.user, number=number, username=username))


@route(
    bp,
    "/notifications",
    "GET",
    summary="My notifications, newest first",
    query={"unread": {"type": "boolean"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}},
)
def list_notifications():
    limit, offset = paging()
    unread = request.args.get("unread", "").lower() in ("1", "true", "yes")
    found = notify.notifications(get_db(), username=g.user.username, unread_only=unread, limit=limit, offset=offset)
    return jsonify([notification_json(n) for n in found])


@route(
    bp,
    "/notifications/read",
    "POST",
    summary="Mark my notifications read (all, or those ids)",
    body=notify.MARK_READ,
    body_required=False,
)
def read_notifications():
    ids = json_body(optional=True).get("ids")
    return jsonify({"marked": notify.mark_read(get_db(), username=g.user.username, ids=ids)})
