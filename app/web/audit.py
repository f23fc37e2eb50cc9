"""Audit pages: a ticket's timeline beside the diagram of the exact version it ran on (its path marked), a
process's heatmap and path variants over a date range, and exports. Read-only for everyone."""

from datetime import UTC, datetime, timedelta

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import engine
from app.audit import service as audit_log
from app.audit.export import export_response
from app.audit.security import SECURITY_KINDS, events_of_kinds
from app.engine import parse_xml
from app.errors import Forbidden, NotFound, ValidationFailed
from app.http import get_db
from app.reports import paths
from app.tickets import access as ticket_access
from app.tickets import comments as ticket_comments
from app.tickets import sla as ticket_sla
from app.web import bp

READERS = ("auditor", "process_owner", "admin")
SECURITY_TITLES = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_out": _l("Signed out"),
    "permission_denied": _l("Refused (not allowed)"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "user_deactivated": _l("User deactivated"),
    "alert_rule_added": _l("Alert rule added"),
    "alert_rule_deleted": _l("Alert rule deleted"),
    "alert_rules_restored": _l("Default alert rules restored"),
    "job_retried": _l("Failed job retried"),
}
SECURITY_PAGE = 500


def _reader() -> None:
    if not current_user.has(*READERS):
        raise Forbidden("the audit pages are for auditors, process owners and admins")


def _day(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(f"{name} is not a date", {name: [_("Use the form YYYY-MM-DD.")]}) from None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


@bp.route("/audit")
@login_required
def audit():
    _reader()
    number = (request.args.get("ticket") or "").strip().upper()
    if number:
        return redirect(url_for("web.audit_ticket", number=number))
    return render_template("audit.html", processes=sorted({d.process_id for d in engine.all_definitions(get_db())}))


@bp.route("/audit/security")
@login_required
def audit_security():
    """Security events of a date range, newest first: sign-ins and their failures, refusals, token and admin
    changes; one kind of them if asked."""
    _reader()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = _day("from", today - timedelta(days=7))
    until = _day("to", today) + timedelta(days=1)
    kind = request.args.get("kind") or ""
    kinds = [kind] if kind in SECURITY_KINDS else list(SECURITY_KINDS)
    events = events_of_kinds(get_db(), kinds=kinds, since=since, until=until, limit=SECURITY_PAGE, newest_first=True)
    return render_template(
        "audit_security.html",
        events=events,
        titles=SECURITY_TITLES,
        kind=kind if kind in SECURITY_KINDS else "",
        since=since.date(),
        until=(until - timedelta(days=1)).date(),
        most=SECURITY_PAGE,
    )


@bp.route("/audit/tickets/<number>")
@login_required
def audit_ticket(number):
    """The ticket's whole history and, for each of its instances, the diagram of its version with the path."""
    _reader()
    db = get_db()
    ticket = ticket_access.get_ticket(db, user=current_user, number=number)
    diagrams = []
    for instance_id in (ticket.instance_id, ticket.major_instance_id):
        instance = engine.get_instance(db, instance_id=instance_id) if instance_id else None
        if instance is None:
            continue
        definition = instance.definition
        diagrams.append(
            {
                "id": instance.id,
                "title": f"{definition.name} v{definition.version}",
                "xml": definition.files[definition.bpmn_file],
                "marks": paths.instance_path(db, instance_id=instance.id),
                "deployed": (definition.deployed_at, definition.deployed_by),
            }
        )
    return render_template(
        "audit_ticket.html",
        ticket=ticket,
        history=audit_log.history(db, ticket=ticket.number),
        comments=ticket_comments.comments(db, user=current_user, number=number),
        sla_moments=ticket_sla.sla_timeline(db, ticket=ticket),
        diagrams=diagrams,
    )


@bp.route("/audit/tickets/<number>/history.<fmt>")
@login_required
def audit_ticket_export(number, fmt):
    _reader()
    if fmt not in ("csv", "json"):
        raise NotFound(f"no {fmt} export")
    ticket = ticket_access.get_ticket(get_db(), user=current_user, number=number)
    events = audit_log.history(get_db(), ticket=ticket.number)
    return export_response(events, fmt=fmt, filename=f"{ticket.number}-history")


@bp.route("/audit/processes/<process_id>")
@login_required
def audit_process(process_id):
    """Where the instances of one version went over a date range, and which paths they took."""
    _reader()
    db = get_db()
    latest = engine.latest_definition(db, process_id=process_id)
    if latest is None:
        raise NotFound(f"no process {process_id}")
    version = request.args.get("version", type=int) or latest.version
    definition = engine.get_definition(db, process_id=process_id, version=version)
    if definition is None:
        raise NotFound(f"no version {version} of process {process_id}")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = _day("from", today - timedelta(days=30))
    until = _day("to", today) + timedelta(days=1)
    heat, variants, instances = paths.process_heat(db, process_id=process_id, version=version, since=since, until=until)
    labels = {e: " · ".join(filter(None, [str(h.count), _duration(h.median_wait_seconds)])) for e, h in heat.items()}
    marks = {"heat": {e: {"count": h.count, "label": labels[e]} for e, h in heat.items()}}
    names = _element_names(definition.files[definition.bpmn_file])
    return render_template(
        "audit_process.html",
        definition=definition,
        versions=[d.version for d in engine.all_definitions(db) if d.process_id == process_id],
        since=since.date(),
        until=(until - timedelta(days=1)).date(),
        heat=sorted(heat.items(), key=lambda item: -item[1].count),
        variants=[([names.get(e, e) for e in path], count) for path, count in variants],
        instances=instances,
        names=names,
        duration=_duration,
        xml=definition.files[definition.bpmn_file],
        marks=marks,
    )


def _element_names(xml: str) -> dict[str, str]:
    root = parse_xml(xml)
    return {el.get("id"): el.get("name") for el in root.iter() if isinstance(el.tag, str) and el.get("name")}
