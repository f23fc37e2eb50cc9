"""Process bundles: a BPMN file with the decision tables and forms it uses, read, checked and parsed.

A bundle is what one process definition version is made of. Its checksum covers every file, so a
deploy that changes any of them makes a new version and a deploy that changes none keeps the old one.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine.decisions import input_in_place
from app.engine.parser import build_specs
from app.engine.sandbox import SandboxError, check_compiles
from app.engine.xml import NS, XmlError, parse_xml

DMN_NS = {"dmn": "*"}
EXPRESSION_PROPERTIES = ("candidateGroupsExpression", "assigneeExpression", "dueExpression", "titleExpression")
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
FORM_PREFIX = "forms/"
NAMED_ELEMENTS = {
    "userTask",
    "scriptTask",
    "businessRuleTask",
    "serviceTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "subProcess",
    "callActivity",
    "lane",
}


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.element_id or '-'}: {self.message}"


class BundleError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Bundle:
    process_id: str
    name: str
    bpmn_file: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()


def _executable_processes(root: etree._Element) -> list[etree._Element]:
    return root.xpath("bpmn:process[@isExecutable='true']", namespaces=NS)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _decision_ids(dmn_root: etree._Element) -> list[str]:
    return [d.get("id") for d in dmn_root.iter() if isinstance(d.tag, str) and _local(d.tag) == "decision"]


def _referenced_decisions(root: etree._Element) -> set[str]:
    return {(el.text or "").strip() for el in root.iterfind(".//spiffworkflow:calledDecisionId", NS)}


def _referenced_forms(root: etree._Element) -> set[str]:
    names = set()
    for prop in root.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") in FORM_PROPERTIES and prop.get("value"):
            names.add(prop.get("value"))
    return names


def read_directory(root: Path) -> list[Bundle]:
    """One bundle per BPMN file in root/processes, with the DMN files of root/processes and root/forms."""
    processes, forms = root / "processes", root / "forms"
    problems: list[Problem] = []
    dmn_files: dict[str, str] = {}
    decisions: dict[str, str] = {}
    for path in sorted(processes.glob("*.dmn")):
        text = path.read_text(encoding="utf-8")
        dmn_files[path.name] = text
        try:
            for decision_id in _decision_ids(parse_xml(text, filename=path.name)):
                decisions[decision_id] = path.name
        except XmlError as err:
            problems.append(Problem(path.name, None, str(err), err.line))
    form_files = {
        FORM_PREFIX + str(p.relative_to(forms)): p.read_text(encoding="utf-8")
        for p in sorted(forms.rglob("*.json"))
        if forms.is_dir()
    }
    bundles = []
    for path in sorted(processes.glob("*.bpmn")):
        text = path.read_text(encoding="utf-8")
        try:
            tree = parse_xml(text, filename=path.name)
        except XmlError as err:
            problems.append(Problem(path.name, None, str(err), err.line))
            continue
        executable = _executable_processes(tree)
        if len(executable) != 1:
            problems.append(Problem(path.name, None, "a process file must hold exactly one executable process"))
            continue
        files = {path.name: text}
        for decision_id in _referenced_decisions(tree):
            if decision_id in decisions:
                files[decisions[decision_id]] = dmn_files[decisions[decision_id]]
        for form in _referenced_forms(tree):
            if FORM_PREFIX + form in form_files:
                files[FORM_PREFIX + form] = form_files[FORM_PREFIX + form]
        process = executable[0]
        bundles.append(Bundle(process.get("id"), process.get("name") or process.get("id"), path.name, files))
    if problems:
        raise BundleError(problems)
    return bundles


def with_new_bpmn(previous: Bundle, bpmn_text: str) -> Bundle:
    """The previous version's bundle with its diagram replaced (how the API deploys an edited diagram)."""
    files = {name: text for name, text in previous.files.items() if name != previous.bpmn_file}
    files[previous.bpmn_file] = bpmn_text
    name = previous.name
    try:
        executable = _executable_processes(parse_xml(bpmn_text, filename=previous.bpmn_file))
        if len(executable) == 1:
            name = executable[0].get("name") or name
    except XmlError:
        pass  # validate() reports it with its line
    return Bundle(previous.process_id, name, previous.bpmn_file, files)


def validate(bundle: Bundle) -> list[Problem]:
    """Every problem found in the bundle; an empty list means it can be deployed."""
    bpmn_name = bundle.bpmn_file
    try:
        tree = parse_xml(bundle.files[bpmn_name], filename=bpmn_name)
    except XmlError as err:
        return [Problem(bpmn_name, None, str(err), err.line)]
    processes = _executable_processes(tree)
    if [p.get("id") for p in processes] != [bundle.process_id]:
        found = ", ".join(p.get("id") for p in processes) or "none"
        return [
            Problem(bpmn_name, None, f"the file must define executable process {bundle.process_id} (found {found})")
        ]
    problems = [
        *_check_references(tree, bpmn_name),
        *_check_schema(tree, bpmn_name),
        *_check_forms(tree, bundle, bpmn_name),
        *_check_decisions(tree, bundle, bpmn_name),
        *_check_scripts(tree, bpmn_name),
    ]
    if problems:
        return problems
    try:
        build_specs(bundle)
    except ValidationException as err:
        message = str(err.args[0] if err.args else err)
        return [Problem(err.file_name or bpmn_name, err.id or None, message, err.line_number or None)]
    return []


def _check_schema(tree: etree._Element, file: str) -> list[Problem]:
    """The BPMN XSD, as SpiffWorkflow's validator applies it."""
    try:
        VALIDATOR.validate(tree, file)
    except ValidationException as err:
        return [Problem(file, err.id or None, str(err.args[0] if err.args else err), err.line_number or None)]
    return []


def _check_decisions(tree: etree._Element, bundle: Bundle, file: str) -> list[Problem]:
    """The bundle's decision tables parse and check, and every business rule task calls one of them."""
    problems, dmn_trees = [], {}
    for name, text in bundle.files.items():
        if name.endswith(".dmn"):
            try:
                dmn_trees[name] = parse_xml(text, filename=name)
            except XmlError as err:
                problems.append(Problem(name, None, str(err), err.line))
    for name, dmn in dmn_trees.items():
        problems += _check_dmn(dmn, name)
    known = {d for dmn in dmn_trees.values() for d in _decision_ids(dmn)}
    for task in tree.xpath(".//bpmn:businessRuleTask", namespaces=NS):
        called = task.findtext(".//spiffworkflow:calledDecisionId", namespaces=NS)
        if not called or called.strip() not in known:
            problems.append(
                Problem(file, task.get("id"), f"calls decision {called!r}, which no decision table defines")
            )
    return problems


def _check_references(tree: etree._Element, file: str) -> list[Problem]:
    ids = {el.get("id") for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}
    problems = []
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        for attr in ("sourceRef", "targetRef"):
            ref = flow.get(attr)
            if ref not in ids:
                problems.append(
                    Problem(file, flow.get("id"), f"{attr} {ref!r} names no element of the diagram", flow.sourceline)
                )
    return problems + _check_defaults_and_names(tree, file, ids)


def _check_defaults_and_names(tree: etree._Element, file: str, ids: set[str]) -> list[Problem]:
    problems = []
    for el in (el for el in tree.iter() if isinstance(el.tag, str)):
        if el.get("default") and el.get("default") not in ids:
            problems.append(
                Problem(file, el.get("id"), f"default flow {el.get('default')!r} does not exist", el.sourceline)
            )
        if _local(el.tag) in NAMED_ELEMENTS and not (el.get("name") or "").strip():
            problems.append(Problem(file, el.get("id"), "every element needs a name a person can read", el.sourceline))
    return problems


def _check_forms(tree: etree._Element, bundle: Bundle, file: str) -> list[Problem]:
    problems = []
    for task in tree.xpath(".//bpmn:userTask", namespaces=NS):
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
        schema_name = props.get("formJsonSchemaFilename")
        if not schema_name:
            problems.append(Problem(file, task.get("id"), "a user task needs a form (formJsonSchemaFilename)"))
        for key in FORM_PROPERTIES:
            name = props.get(key)
            if not name:
                continue
            text = bundle.files.get(FORM_PREFIX + name)
            if text is None:
                problems.append(Problem(file, task.get("id"), f"form file {name} does not exist"))
                continue
            try:
                document = json.loads(text)
            except ValueError as err:
                problems.append(Problem(FORM_PREFIX + name, task.get("id"), f"not JSON: {err}"))
                continue
            if key == "formJsonSchemaFilename":
                try:
                    Draft202012Validator.check_schema(document)
                except SchemaError as err:
                    problems.append(
                        Problem(FORM_PREFIX + name, task.get("id"), f"not a valid JSON Schema: {err.message}")
                    )
    return problems


def _compile(problems: list[Problem], file: str, element_id: str | None, what: str, source: str, mode: str):
    try:
        check_compiles(source, mode=mode)
    except SandboxError as err:
        line = f" (line {err.line})" if err.line else ""
        problems.append(Problem(file, element_id, f"{what} refused{line}: {err}"))


def _check_dmn(dmn: etree._Element, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for el in dmn.iter():
        if not isinstance(el.tag, str):
            continue
        kind = _local(el.tag)
        text = (
            (el.findtext("{*}text") or "").strip() if kind in ("inputExpression", "inputEntry", "outputEntry") else ""
        )
        if not text or text == "-":
            continue
        owner = el.getparent().get("id") or el.get("id")
        if kind == "inputEntry":
            in_place = input_in_place(text)
            if in_place != text:  # "4 < ? < 6": the engine puts the input in place of the ?
                _compile(problems, file, owner, "input entry", in_place, "eval")
                continue
            try:
                check_compiles(text, mode="eval")
            except SandboxError:
                _compile(problems, file, owner, "input entry", f"dmninputexpr {text}", "eval")
        else:
            _compile(problems, file, owner, kind, text, "eval")
    return problems


def _owner_id(el: etree._Element) -> str | None:
    while el is not None and not el.get("id"):
        el = el.getparent()
    return el.get("id") if el is not None else None


def _check_scripts(tree: etree._Element, file: str) -> list[Problem]:
    """Compile every script and expression of the diagram in the sandbox, straight from the XML."""
    problems: list[Problem] = []
    checks = (
        (".//bpmn:scriptTask/bpmn:script", "script", "exec"),
        (".//spiffworkflow:preScript", "pre-script", "exec"),
        (".//spiffworkflow:postScript", "post-script", "exec"),
        (".//bpmn:conditionExpression", "condition", "eval"),
        (".//bpmn:timeDuration", "timer expression", "eval"),
        (".//bpmn:timeDate", "timer expression", "eval"),
        (".//bpmn:timeCycle", "timer expression", "eval"),
        (".//bpmn:loopCardinality", "cardinality", "eval"),
        (".//bpmn:completionCondition", "completion condition", "eval"),
        (".//spiffworkflow:messagePayload", "message payload", "eval"),
    )
    for xpath, what, mode in checks:
        for el in tree.xpath(xpath, namespaces=NS):
            if (el.text or "").strip():
                _compile(problems, file, _owner_id(el), what, el.text.strip(), mode)
    for prop in tree.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") in EXPRESSION_PROPERTIES and (prop.get("value") or "").strip():
            _compile(problems, file, _owner_id(prop), prop.get("name"), prop.get("value"), "eval")
    return problems
