"""API route for monitoring: the Prometheus Alertmanager webhook."""

from flask import g, jsonify

from app.alerts import service as alerts
from app.api import bp
from app.api.openapi import json_body, route
from app.http import get_db


@route(
    bp,
    "/alerts/alertmanager",
    "POST",
    summary="Prometheus Alertmanager webhook (version 4)",
    body=alerts.WEBHOOK,
    responses={200: "{created, updated, resolved}: ticket numbers"},
)
def alertmanager():
    result = alerts.receive(get_db(), user=g.user, payload=json_body())
    return jsonify({"created": result.created, "updated": result.updated, "resolved": result.resolved})
