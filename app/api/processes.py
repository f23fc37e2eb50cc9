"""API routes for process definitions (versions, deploys) and process instances."""

from flask import g, jsonify, request

from app import engine
from app.api import bp
from app.api.openapi import json_body, route
from app.api.serializers import event_json, instance_json, iso, version_json
from app.audit import service as audit
from app.errors import Forbidden, NotFound, ValidationFailed
from app.http import get_db
from app.tasks import service as tasks

READERS = ("process_owner", "auditor", "admin")
# A trial run: the data the process starts with (a ticket hands its own).
TRIAL = {"type": "object", "properties": {"data": {"type": "object"}}}


def _require(*roles: str) -> None:
    if not g.user.has(*roles):
        raise Forbidden("this needs the role " + " or ".join(roles))


@route(bp, "/processes", "GET", summary="Deployed processes and their versions")
def list_processes():
    _require(*READERS)
    db = get_db()
    grouped: dict[str, list] = {}
    for definition in engine.all_definitions(db):
        grouped.setdefault(definition.process_id, []).append(definition)
    body = [
        {
            "process_id": pid,
            "name": versions[-1].name,
            "latest_version": versions[-1].version,
            "versions": [version_json(v) for v in versions],
        }
        for pid, versions in grouped.items()
    ]
    return jsonify(body)


def _definition(process_id: str, version: int):
    definition = engine.get_definition(get_db(), process_id=process_id, version=version)
    if definition is None:
        raise NotFound(f"no version {version} of process {process_id}")
    return definition


@route(bp, "/processes/<process_id>/versions/<int:version>", "GET", summary="One version with its BPMN")
def get_version(process_id, version):
    _require(*READERS)
    d = _definition(process_id, version)
    return jsonify(
        {
            "process_id": d.process_id,
            "version": d.version,
            "name": d.name,
            "bpmn": d.files[d.bpmn_file],
            "files": sorted(d.files),
            "deployed_at": iso(d.deployed_at),
            "deployed_by": d.deployed_by,
            "checksum": d.checksum,
        }
    )


@route(
    bp,
    "/processes/<process_id>/versions",
    "POST",
    summary="Deploy a new version from BPMN XML",
    body={"type": "string"},
    content_type="application/xml",
    responses={201: "deployed", 200: "unchanged"},
)
def deploy_version(process_id):
    _require("process_owner")
    text = request.get_data(as_text=True)
    if not text.strip():
        raise ValidationFailed("the body must be the BPMN XML", {"bpmn": ["Empty body."]})
    result = engine.deploy_bpmn(get_db(), process_id=process_id, bpmn_text=text, actor=g.user.username)
    body = {
        "process_id": result.definition.process_id,
        "version": result.definition.version,
        "checksum": result.definition.checksum,
    }
    return jsonify(body), 201 if result.created else 200


@route(
    bp,
    "/processes/<process_id>/instances",
    "POST",
    summary="Start the latest version (to try a diagram)",
    body=TRIAL,
    responses={201: "started"},
)
def start_instance(process_id):
    _require("process_owner", "admin")
    data = json_body().get("data", {})
    if engine.latest_definition(get_db(), process_id=process_id) is None:
        raise NotFound(f"no process {process_id}")
    outcome = engine.start(get_db(), process_id=process_id, data=data, actor=g.user.username)
    i = outcome.instance
    return jsonify(
        {"id": i.id, "process_id": process_id, "process_version": i.definition.version, "status": i.status}
    ), 201


def _instance(instance_id: int):
    _require(*READERS)
    instance = engine.get_instance(get_db(), instance_id=instance_id)
    if instance is None:
        raise NotFound(f"no instance {instance_id}")
    return instance


@route(bp, "/instances/<int:instance_id>", "GET", summary="One process instance")
def get_instance(instance_id):
    instance = _instance(instance_id)
    db = get_db()
    return jsonify(
        instance_json(
            instance, tasks.of_instance(db, instance_id=instance.id), engine.waiting_timers(db, instance_id=instance.id)
        )
    )


@route(bp, "/instances/<int:instance_id>/history", "GET", summary="An instance's history, oldest first")
def instance_history(instance_id):
    instance = _instance(instance_id)
    return jsonify([event_json(e) for e in audit.history(get_db(), instance_id=instance.id)])
