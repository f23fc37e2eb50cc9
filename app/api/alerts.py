"""API route for monitoring: the Prometheus Alertmanager webhook."""

from flask import g, jsonify, request

from app.alerts import service as alerts
from app.api import bp
from app.api.openapi import route
from app.http import get_db

WEBHOOK = {
    "type": "object",
    "required": ["version", "alerts"],
    "properties": {
        "version": {"type": "string"},
        "status": {"type": "string"},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "fingerprint"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "fingerprint": {"type": "string"},
                    "labels": {"type": "object"},
                    "annotations": {"type": "object"},
                },
            },
        },
    },
}


@route(
    bp,
    "/alerts/alertmanager",
    "POST",
    summary="Prometheus Alertmanager webhook (version 4)",
    body=WEBHOOK,
    responses={200: "{created, updated, resolved}: ticket numbers"},
)
def alertmanager():
    result = alerts.receive(get_db(), user=g.user, payload=request.get_json(silent=True))
    return jsonify({"created": result.created, "updated": result.updated, "resolved": result.resolved})
