"""The REST API under /api/v1: bearer-token authentication, JSON errors, and the route modules."""

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.engine import BundleError, EngineError
from app.errors import ServiceError, Unauthorized, ValidationFailed
from app.http import commit_on_success, get_db, record_refusal
from app.identity import service as identity

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


@bp.before_request
def authenticate():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "public", False):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = (
        identity.principal_for_token(get_db(), token=token.strip()) if scheme.lower() == "bearer" and token else None
    )
    if principal is None:
        raise Unauthorized("a valid bearer token is required")
    g.user = principal
    return None


@bp.errorhandler(ServiceError)
def on_service_error(err: ServiceError):
    if err.status == 403 and "user" in g:
        record_refusal(actor=g.user.username, reason=err.message)
    return error_response(err.status, err.code, err.message, err.fields)


commit_on_success(bp, on_service_error)


@bp.errorhandler(BundleError)
def on_bundle_error(err: BundleError):
    fields: dict[str, list[str]] = {}
    for problem in err.problems:
        fields.setdefault(problem.element_id or problem.file, []).append(str(problem))
    return error_response(
        422, "invalid_process", "the diagram was refused: " + "; ".join(map(str, err.problems)), fields
    )


@bp.errorhandler(EngineError)
def on_engine_error(err: EngineError):
    fields = {err.element_id: [str(err)]} if err.element_id else {}
    return error_response(422, "process_error", f"the process could not go on: {err}", fields)


@bp.errorhandler(HTTPException)
def on_http_error(err: HTTPException):
    return error_response(err.code or 500, (err.name or "error").lower().replace(" ", "_"), err.description or err.name)


MAX_OFFSET = 10**9


def paging(default: int = 50, most: int = 500) -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit", default))
        offset = int(request.args.get("offset", 0))
    except ValueError as err:
        raise ValidationFailed("limit and offset are whole numbers", {"limit": ["Expected a whole number."]}) from err
    if not 1 <= limit <= most:
        raise ValidationFailed(f"limit is 1 to {most}", {"limit": [f"Between 1 and {most}."]})
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(f"offset is 0 to {MAX_OFFSET}", {"offset": [f"Between 0 and {MAX_OFFSET}."]})
    return limit, offset


from app.api import alerts, attachments, audit, edits, processes, ticket_lists, tickets  # noqa: E402,F401 - route modules register on bp
