"""Alertmanager webhook (version 4): one open incident per alert fingerprint, raised as the monitoring user.

A firing alert with no open incident raises one; firing again updates it (a count and an internal work
note); a resolved alert resolves its incident through the incident's process; firing again within 30
minutes of that reopens the same incident (if still Resolved) instead of raising a new one; a resolved
alert with an unknown fingerprint is ignored.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.alerts.models import AlertLink, AlertRule
from app.audit import service as audit
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.identity.service import Principal
from app.tickets import coordination, intake, journal
from app.tickets.models import Ticket
from app.validation import NOT_BLANK, text, validate

REOPEN_WINDOW = timedelta(minutes=30)
FIELDS = ("impact", "urgency", "service", "ci", "category")
TITLE_LIMIT = 200  # intake.INCIDENT's title: a longer summary is cut with an ellipsis, kept whole in the description
LEVELS = ("high", "medium", "low")
# An alert rule (admins add them in /admin/alerts): a label's value sets one incident field, impact and urgency
# to a level.
RULE = {
    "type": "object",
    "required": ["label", "field"],
    "properties": {
        "label": text(100, required=True),
        "match": text(200),
        "field": {"type": "string", "enum": list(FIELDS)},
        "value": text(200),
    },
    "if": {"required": ["field"], "properties": {"field": {"enum": ["impact", "urgency"]}}},
    "then": {"required": ["value"], "properties": {"value": {"type": "string", "enum": list(LEVELS)}}},
}
# What is read of a webhook, also the API's published request body; Alertmanager's other fields are ignored.
WEBHOOK = {
    "type": "object",
    "required": ["version", "alerts"],
    "properties": {
        "version": {"const": "4"},
        "status": {"type": "string"},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "fingerprint"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "fingerprint": {"type": "string", "pattern": NOT_BLANK, "maxLength": 128},
                    "labels": {"type": "object"},
                    "annotations": {"type": "object"},
                },
            },
        },
    },
}
# The rules a new installation starts with (migration 0012 wrote the same); admins edit them in /admin/alerts.
DEFAULT_RULES = [
    ("severity", "critical", "impact", "high"),
    ("severity", "critical", "urgency", "high"),
    ("severity", "major", "impact", "high"),
    ("severity", "major", "urgency", "medium"),
    ("severity", "warning", "impact", "medium"),
    ("severity", "warning", "urgency", "medium"),
    ("severity", "minor", "impact", "low"),
    ("severity", "minor", "urgency", "medium"),
    ("severity", "info", "impact", "low"),
    ("severity", "info", "urgency", "low"),
    ("service", "*", "service", ""),
    ("instance", "*", "ci", ""),
    ("category", "*", "category", ""),
]


def rules(db: Session) -> list[AlertRule]:
    return list(db.scalars(select(AlertRule).order_by(AlertRule.position, AlertRule.id)))


def restore_default_rules(db: Session) -> None:
    db.execute(delete(AlertRule))
    for i, (label, match, field_name, value) in enumerate(DEFAULT_RULES):
        db.add(AlertRule(position=i, label=label, match=match, field=field_name, value=value))
    db.flush()


def reset_rules(db: Session, *, actor: str) -> None:
    """An admin puts the default rules back (in the audit log)."""
    restore_default_rules(db)
    audit.record(db, kind="alert_rules_restored", actor=actor, changes={"rules": [None, len(DEFAULT_RULES)]})


def add_rule(db: Session, *, label, match, field_name, value, actor: str) -> AlertRule:
    """A new rule at the end of the list, checked before it is stored; the audit log keeps who added it."""
    given = {"label": label, "match": match, "field": field_name, "value": value}
    rule_values = validate(schema=RULE, data=given, what="the rule")
    last = db.scalar(select(AlertRule.position).order_by(AlertRule.position.desc()).limit(1)) or 0
    rule = AlertRule(
        position=last + 1,
        label=rule_values["label"],
        match=rule_values["match"] or "*",
        field=field_name,
        value=rule_values["value"] or "",
    )
    db.add(rule)
    db.flush()
    audit.record(db, kind="alert_rule_added", actor=actor, changes={"rule": [None, _described(rule)]})
    return rule


def delete_rule(db: Session, *, rule_id: int, actor: str) -> None:
    rule = db.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}")
    audit.record(db, kind="alert_rule_deleted", actor=actor, changes={"rule": [_described(rule), None]})
    db.delete(rule)
    db.flush()


def _described(rule: AlertRule) -> dict:
    return {"id": rule.id, "label": rule.label, "match": rule.match, "field": rule.field, "value": rule.value}


def incident_fields(labels: dict, rule_list: list[AlertRule]) -> dict[str, str | None]:
    """The incident's impact, urgency, service, ci and category from the alert's labels."""
    found: dict[str, str | None] = {}
    for rule in rule_list:
        if rule.field in found or rule.label not in labels:
            continue
        actual = str(labels[rule.label])
        if rule.match in ("*", actual) or rule.match.lower() == actual.lower():
            found[rule.field] = rule.value or actual
    return {
        "impact": found.get("impact", "medium"),
        "urgency": found.get("urgency", "medium"),
        **{name: found.get(name) for name in ("service", "ci", "category")},
    }


@dataclass
class WebhookResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def _open_link(db: Session, fingerprint: str) -> AlertLink | None:
    return db.scalar(select(AlertLink).where(AlertLink.fingerprint == fingerprint, AlertLink.is_open.is_(True)))


def _recently_resolved(db: Session, fingerprint: str) -> AlertLink | None:
    """The fingerprint's incident resolved less than REOPEN_WINDOW ago: a flapping alert reopens it."""
    since = utcnow() - REOPEN_WINDOW
    query = (
        select(AlertLink)
        .where(AlertLink.fingerprint == fingerprint, AlertLink.is_open.is_(False), AlertLink.resolved_at >= since)
        .order_by(AlertLink.resolved_at.desc())
        .limit(1)
    )
    return db.scalar(query)


def receive(db: Session, *, user: Principal, payload: object) -> WebhookResult:
    if not user.has("integration"):
        raise Forbidden("only the monitoring integration sends alerts")
    result = WebhookResult()
    rule_list = rules(db)
    for alert in validate(schema=WEBHOOK, data=payload, what="the webhook")["alerts"]:
        labels = alert.get("labels") or {}
        link = _open_link(db, alert["fingerprint"])
        if alert["status"] == "resolved":
            if link is not None:
                ticket = db.scalar(select(Ticket).where(Ticket.number == link.ticket))
                notes = f"Monitoring reports the alert {link.alertname} resolved at {alert.get('endsAt', 'now')}."
                coordination.resolve_elsewhere(
                    db, ticket=ticket, code="fix", notes=notes, actor=user.username, reason="alert resolved"
                )
                link.is_open, link.resolved_at = False, utcnow()
                result.resolved.append(link.ticket)
            continue
        if link is not None:
            link.fired += 1
            link.last_seen = utcnow()
            ticket = db.scalar(select(Ticket).where(Ticket.number == link.ticket))
            journal.post_comment(
                db,
                ticket=ticket,
                author=user.username,
                visibility="internal",
                body=f"Alert {link.alertname} fired again ({link.fired} times in all).",
            )
            result.updated.append(link.ticket)
            continue
        recent = _recently_resolved(db, alert["fingerprint"])
        if recent is not None:
            ticket = db.scalar(select(Ticket).where(Ticket.number == recent.ticket))
            if coordination.reopen_from_outside(db, ticket=ticket, actor=user.username, reason="alert fired again"):
                recent.is_open, recent.resolved_at, recent.last_seen = True, None, utcnow()
                recent.fired += 1
                result.updated.append(recent.ticket)
                continue
        name = str(labels.get("alertname") or "Alert")
        fields = incident_fields(labels, rule_list)
        title, description = _title_and_description(alert, name)
        ticket = intake.create_incident(
            db,
            user=user,
            title=title,
            description=description,
            **fields,
        )
        db.add(AlertLink(fingerprint=alert["fingerprint"], ticket=ticket.number, alertname=name))
        db.flush()
        result.created.append(ticket.number)
    return result


def _title_and_description(alert: dict, name: str) -> tuple[str, str]:
    """The incident's title from the alert's summary (cut with an ellipsis past TITLE_LIMIT, then kept whole in
    the description), and its description: the alert's own, its labels and where it came from."""
    annotations, labels = alert.get("annotations") or {}, alert.get("labels") or {}
    summary = str(annotations.get("summary") or name)
    title = summary if len(summary) <= TITLE_LIMIT else summary[: TITLE_LIMIT - 1] + "…"
    described = str(annotations.get("description") or summary)
    lines = [summary, ""] if title != summary and described != summary else []
    lines += [described, "", "Labels:", *(f"  {k}={v}" for k, v in sorted(labels.items()))]
    return title, "\n".join([*lines, f"Source: {alert.get('generatorURL', '')}"])
