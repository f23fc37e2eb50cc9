"""The studio: process owners list the processes and their versions, edit a version in the modeller (its
decision tables and forms too), check it, deploy it as the next version, and compare two versions.

Pages are for process owners and admins (auditors read the same diagrams in the audit pages); the JSON
endpoints the modeller calls are refused to anyone who may not deploy.
"""

from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import engine
from app.engine import BundleError, diagram_changes, diagram_diff
from app.errors import Forbidden, NotFound, ValidationFailed
from app.forms.render import render
from app.http import get_db
from app.web import bp
from app.web.filters import when as format_when

EDITORS = ("process_owner", "admin")

# What a version diff calls each field of a changed element (app.engine.diff names them).
FIELD_LABELS = {
    "name": _l("Name"),
    "script": _l("Script"),
    "pre_script": _l("Script before the task"),
    "post_script": _l("Script after the task"),
    "condition": _l("Condition"),
    "timer": _l("Timer"),
    "decision": _l("Decision called"),
    "instructions": _l("Instructions"),
    "sourceRef": _l("Comes from"),
    "targetRef": _l("Goes to"),
    "default": _l("Default flow"),
    "attachedToRef": _l("Attached to"),
    "property:formJsonSchemaFilename": _l("Form"),
    "property:formUiSchemaFilename": _l("Form layout"),
    "property:candidateGroups": _l("Candidate groups"),
    "property:candidateGroupsExpression": _l("Candidate groups (expression)"),
    "property:assigneeExpression": _l("Assignee"),
    "property:groupKey": _l("Group of the lane"),
    "property:ticketStatus": _l("Ticket status"),
    "property:ticketEvent": _l("Ticket event"),
    "property:titleExpression": _l("Title"),
    "property:dueExpression": _l("Due"),
    "property:continueAsNew": _l("Continue as new"),
    "other": _l("Something else"),
}


def _field_label(field: str) -> str:
    if field in FIELD_LABELS:
        return str(FIELD_LABELS[field])
    return _("Property %(name)s", name=field.removeprefix("property:"))


def _owner() -> None:
    if not current_user.has(*EDITORS):
        raise Forbidden("the studio is for process owners")


def _version(process_id: str, version: int):
    definition = engine.get_definition(get_db(), process_id=process_id, version=version)
    if definition is None:
        raise NotFound(f"no version {version} of process {process_id}")
    return definition


def _problems(problems) -> list[dict]:
    return [{"file": p.file, "element_id": p.element_id, "message": p.message, "line": p.line} for p in problems]


def _heading(definition) -> str:
    """The edit page's heading, also sent after a deploy so the page names the version it now shows."""
    return _("%(name)s, version %(version)s", name=definition.name, version=definition.version)


def _edit_help(definition, latest) -> str:
    return _(
        "Deployed %(when)s by %(who)s. Deploying makes version %(next)s.",
        when=format_when(definition.deployed_at),
        who=definition.deployed_by or _("Flowdesk"),
        next=latest.version + 1,
    )


def _edit_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object", {"_form": ["Expected {bpmn, files}."]})
    bpmn, files = body.get("bpmn"), body.get("files") or {}
    if bpmn is not None and not isinstance(bpmn, str):
        raise ValidationFailed("bpmn must be the diagram's XML text", {"bpmn": ["Expected the XML text."]})
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ValidationFailed("files must map file names to their text", {"files": ["Expected {name: text}."]})
    return {"bpmn_text": bpmn, "files": files}


@bp.route("/studio")
@login_required
def studio():
    _owner()
    db = get_db()
    counts = engine.instance_counts(db)
    processes: dict[str, list] = {}
    for definition in engine.all_definitions(db):
        processes.setdefault(definition.process_id, []).append(definition)
    return render_template("studio.html", processes=processes, counts=counts)


@bp.route("/studio/<process_id>/versions/<int:version>")
@login_required
def studio_edit(process_id, version):
    _owner()
    definition = _version(process_id, version)
    latest = engine.latest_definition(get_db(), process_id=process_id)
    others = sorted(name for name in definition.files if name != definition.bpmn_file)
    return render_template(
        "studio_edit.html",
        definition=definition,
        heading=_heading(definition),
        edit_help=_edit_help(definition, latest),
        xml=definition.files[definition.bpmn_file],
        others=others,
    )


@bp.route("/studio/<process_id>/check", methods=["POST"])
@login_required
def studio_check(process_id):
    _owner()
    try:
        bundle = engine.edited_bundle(get_db(), process_id=process_id, **_edit_body())
    except BundleError as err:
        return jsonify({"problems": _problems(err.problems)})
    return jsonify({"problems": _problems(engine.check_bundle(bundle))})


@bp.route("/studio/<process_id>/deploy", methods=["POST"])
@login_required
def studio_deploy(process_id):
    _owner()
    db = get_db()
    try:
        bundle = engine.edited_bundle(db, process_id=process_id, **_edit_body())
        result = engine.deploy_bundle(db, bundle=bundle, actor=current_user.username)
    except BundleError as err:
        message = _("Not deployed: %(count)s problems.", count=len(err.problems))
        return jsonify({"message": message, "problems": _problems(err.problems)}), 422
    definition = result.definition
    shown = {
        "version": definition.version,
        "url": url_for("web.studio_edit", process_id=process_id, version=definition.version),
        "heading": _heading(definition),
        "help": _edit_help(definition, definition),
    }
    if not result.created:
        return jsonify({**shown, "message": _("Nothing changed.")}), 200
    return jsonify({**shown, "message": _("Deployed as version %(version)s.", version=definition.version)}), 201


@bp.route("/studio/<process_id>/versions/<int:version>/files/<path:name>")
@login_required
def studio_file(process_id, version, name):
    """A decision table (dmn-js) or a form (JSON with a live preview) of a version."""
    _owner()
    definition = _version(process_id, version)
    if name not in definition.files or name == definition.bpmn_file:
        raise NotFound(f"{process_id} version {version} has no file {name}")
    text = definition.files[name]
    if name.endswith(".dmn"):
        return render_template("studio_decisions.html", definition=definition, name=name, xml=text)
    schema_name = name.replace(".uischema.json", ".schema.json")
    ui_name = schema_name.replace(".schema.json", ".uischema.json")
    return render_template(
        "studio_form.html",
        definition=definition,
        schema_name=schema_name,
        ui_name=ui_name if ui_name in definition.files else "",
        schema_text=definition.files.get(schema_name, "{}"),
        ui_text=definition.files.get(ui_name, "{}"),
    )


@bp.route("/studio/forms/preview", methods=["POST"])
@login_required
def studio_form_preview():
    _owner()
    body = request.get_json(silent=True) or {}
    schema, ui = body.get("schema"), body.get("ui") or {}
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        return jsonify({"message": _("The schema and the layout must be JSON objects.")}), 422
    try:
        html = render(schema, ui, {}, {})
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        return jsonify({"message": _("This form cannot be rendered: %(error)s", error=err)}), 422
    return jsonify({"html": str(html)})


@bp.route("/studio/<process_id>/diff")
@login_required
def studio_diff(process_id):
    _owner()
    older = _version(process_id, request.args.get("from", type=int) or 0)
    newer = _version(process_id, request.args.get("to", type=int) or 0)
    old_xml, new_xml = older.files[older.bpmn_file], newer.files[newer.bpmn_file]
    changes = diagram_diff(old_xml, new_xml)
    details = diagram_changes(old_text=old_xml, new_text=new_xml)
    return render_template(
        "studio_diff.html",
        process_id=process_id,
        older=older,
        newer=newer,
        old_xml=old_xml,
        new_xml=new_xml,
        changes=changes,
        details=details,
        labels={f.field: _field_label(f.field) for change in details["changed"] for f in change.fields},
        old_marks={"diff": {"removed": changes["removed"], "changed": changes["changed"]}},
        new_marks={"diff": {"added": changes["added"], "changed": changes["changed"]}},
    )
