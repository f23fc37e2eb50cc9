"""Process definitions: deploying a bundle as a new version, reading versions, their files, forms and specs."""

import json
from pathlib import Path

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import PROJECT_ROOT
from app.engine import store
from app.engine.bundle import Bundle, BundleError, Problem, read_directory, validate, with_new_bpmn
from app.engine.models import ProcessDefinition, ProcessInstance
from app.engine.results import DefinitionRef, DeployResult
from app.engine.serializer import specs_for
from app.errors import Conflict

_LATEST = (
    select(ProcessDefinition)
    .where(ProcessDefinition.process_id == bindparam("process_id"))
    .order_by(ProcessDefinition.version.desc())
    .limit(1)
)


def latest_definition(db: Session, *, process_id: str) -> ProcessDefinition | None:
    return db.scalar(_LATEST, {"process_id": process_id})


def get_definition(db: Session, *, process_id: str, version: int) -> ProcessDefinition | None:
    return db.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
        )
    )


def all_definitions(db: Session) -> list[ProcessDefinition]:
    return list(db.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id, ProcessDefinition.version)))


def instance_counts(db: Session) -> dict[int, int]:
    rows = db.execute(select(ProcessInstance.definition_id, func.count()).group_by(ProcessInstance.definition_id))
    return dict(rows.all())


def bundle_of(definition: ProcessDefinition | DefinitionRef, *, files: dict[str, str] | None = None) -> Bundle:
    files = definition.files if files is None else files
    return Bundle(definition.process_id, definition.name, definition.bpmn_file, dict(files))


def deploy_bundle(db: Session, *, bundle: Bundle, actor: str | None) -> DeployResult:
    latest = latest_definition(db, process_id=bundle.process_id)
    if latest is not None and latest.checksum == bundle.checksum:
        return DeployResult(latest, False)
    problems = validate(bundle)
    if problems:
        raise BundleError(problems)
    definition = ProcessDefinition(
        process_id=bundle.process_id,
        version=(latest.version + 1) if latest else 1,
        name=bundle.name,
        checksum=bundle.checksum,
        files=bundle.files,
        bpmn_file=bundle.bpmn_file,
        deployed_by=actor,
    )
    db.add(definition)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as err:
        raise Conflict(f"another deploy of {bundle.process_id} won the race") from err
    audit.record(
        db,
        kind="process_deployed",
        actor=actor,
        process_id=definition.process_id,
        process_version=definition.version,
        changes={"checksum": [latest.checksum if latest else None, definition.checksum]},
    )
    return DeployResult(definition, True)


def deploy_directory(db: Session, *, root: Path = PROJECT_ROOT, actor: str | None = None) -> list[DeployResult]:
    bundles = read_directory(root)
    problems: list[Problem] = []
    for bundle in bundles:
        problems += validate(bundle) if _changed(db, bundle) else []
    if problems:
        raise BundleError(problems)
    return [deploy_bundle(db, bundle=b, actor=actor) for b in bundles]


def _changed(db: Session, bundle: Bundle) -> bool:
    latest = latest_definition(db, process_id=bundle.process_id)
    return latest is None or latest.checksum != bundle.checksum


def edited_bundle(
    db: Session, *, process_id: str, bpmn_text: str | None = None, files: dict[str, str] | None = None
) -> Bundle:
    """The latest version's bundle with an edited diagram and/or edited decision tables and forms. Only files
    the process already has can be replaced: a new form or table comes with a deploy of the directory."""
    latest = latest_definition(db, process_id=process_id)
    if latest is None:
        raise BundleError([Problem(f"{process_id}.bpmn", None, f"process {process_id} is not deployed")])
    bundle = bundle_of(latest)
    if bpmn_text is not None:
        bundle = with_new_bpmn(bundle, bpmn_text)
    unknown = [name for name in files or {} if name not in bundle.files or name == bundle.bpmn_file]
    if unknown:
        raise BundleError([Problem(n, None, "not a decision table or form of this process") for n in unknown])
    return Bundle(bundle.process_id, bundle.name, bundle.bpmn_file, {**bundle.files, **(files or {})})


def check_bundle(bundle: Bundle) -> list[Problem]:
    """Every problem that would refuse the deploy of this bundle (nothing is stored)."""
    return validate(bundle)


def deploy_bpmn(db: Session, *, process_id: str, bpmn_text: str, actor: str | None) -> DeployResult:
    """A new version from an edited diagram; it keeps the decision tables and forms of the latest version."""
    latest = latest_definition(db, process_id=process_id)
    base = bundle_of(latest) if latest else Bundle(process_id, process_id, f"{process_id}.bpmn", {})
    return deploy_bundle(db, bundle=with_new_bpmn(base, bpmn_text), actor=actor)


# A definition never changes: its files are read once per process, its forms parsed once.
_files: dict[str, dict[str, str]] = {}
_forms: dict[tuple[str, str], dict] = {}


def files_of(db: Session, definition: ProcessDefinition | DefinitionRef) -> dict[str, str]:
    """Every file of the definition's bundle, read once per process (treat it as read-only)."""
    files = _files.get(definition.checksum)
    if files is None:
        files = _files[definition.checksum] = store.files_of(db, definition_id=definition.id)
    return files


def form_document(db: Session, definition: ProcessDefinition | DefinitionRef, name: str | None) -> dict:
    """A form of the definition's bundle, parsed once per process (treat it as read-only)."""
    if not name:
        return {}
    key = (definition.checksum, name)
    if key not in _forms:
        text = files_of(db, definition).get(f"forms/{name}")
        _forms[key] = json.loads(text) if text else {}
    return _forms[key]


def specs_of(db: Session, definition: ProcessDefinition | DefinitionRef):
    """The definition's parsed specs (parsed once per process, cached by its checksum)."""
    return specs_for(definition.checksum, lambda: bundle_of(definition, files=files_of(db, definition)))
