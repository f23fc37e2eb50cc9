"""The API's routes and their OpenAPI description, declared together so the document follows the code.

A route's JSON body schema is both published and enforced: the request's JSON object is checked against it
(app.validation) before the view runs, 422 naming each bad field; a body that is not a JSON object is 400."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, request

from app.errors import BadRequest
from app.validation import validate

PREFIX = "/api/v1"


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    body: dict | None
    responses: dict[int, str]
    query: dict[str, dict] = field(default_factory=dict)
    public: bool = False
    content_type: str = "application/json"
    body_required: bool = True


OPERATIONS: list[Operation] = []


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    body: dict | None = None,
    responses: dict[int, str] | None = None,
    query: dict[str, dict] | None = None,
    public: bool = False,
    content_type: str = "application/json",
    body_required: bool = True,
) -> Callable:
    """Register view on bp and describe it; with body_required=False an empty body counts as {}."""

    def register(view):
        op = Operation(method.lower(), path, summary, body, responses or {200: "OK"}, query or {}, public)
        op.content_type, op.body_required = content_type, body_required
        OPERATIONS.append(op)
        if body is not None and content_type == "application/json":
            view = _checked(view, body, optional=not body_required)
        bp.add_url_rule(path, view_func=view, methods=[method], endpoint=view.__name__)
        view.public = public
        return view

    return register


def json_body(*, optional: bool = False) -> dict:
    """The request's JSON object; with optional, an empty or missing body is an empty object."""
    body = request.get_json(silent=True)
    if optional and body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _checked(view: Callable, schema: dict, *, optional: bool) -> Callable:
    @wraps(view)
    def checked(*args, **kwargs):
        validate(schema=schema, data=json_body(optional=optional), what="the request body")
        return view(*args, **kwargs)

    return checked


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}


def _openapi_path(path: str) -> str:
    out = path
    for conv in ("<int:", "<"):
        out = out.replace(conv, "{")
    return PREFIX + out.replace(">", "}")


def document() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        path = _openapi_path(op.path)
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer"} if f"<int:{name}>" in op.path else {"type": "string"},
            }
            for name in _path_names(op.path)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in op.query.items()
        ]
        responses = {
            str(code): {"description": text, "content": {"application/json": {"schema": {}}}}
            for code, text in op.responses.items()
        }
        for code, text in (
            (400, "Bad request"),
            (401, "No or bad token"),
            (403, "Not allowed"),
            (404, "Not found"),
            (409, "Conflict"),
            (422, "Validation failed"),
        ):
            if op.public and code in (401, 403):
                continue
            responses.setdefault(
                str(code),
                {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            )
        entry = {
            "summary": op.summary,
            "operationId": f"{op.method}_{path}",
            "parameters": params,
            "responses": responses,
        }
        if not op.public:
            entry["security"] = [{"bearer": []}]
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required, "content": {op.content_type: {"schema": op.body}}}
        paths.setdefault(path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flowdesk API", "version": "1", "description": "IT service management driven by BPMN."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
    }


def _path_names(path: str) -> list[str]:
    names = []
    for part in path.split("<")[1:]:
        names.append(part.split(">", 1)[0].split(":")[-1])
    return names
