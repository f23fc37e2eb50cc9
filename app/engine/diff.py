"""What changed between two versions of a diagram, element by element (ids are the identity): which elements
were added, removed or changed, and for a changed one what a process owner reads of it, before and after."""

from dataclasses import dataclass

from lxml import etree

from app.engine.xml import NS, parse_xml

_MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# What a reader of a changed element is told about, by field: the XPath of its text, from the element.
_TEXTS = {
    "script": "bpmn:script",
    "pre_script": "bpmn:extensionElements/spiffworkflow:preScript",
    "post_script": "bpmn:extensionElements/spiffworkflow:postScript",
    "condition": "bpmn:conditionExpression",
    "timer": "self::bpmn:timerEventDefinition/* | .//bpmn:timerEventDefinition/*",
    "decision": "bpmn:extensionElements/spiffworkflow:calledDecisionId",
    "instructions": "bpmn:extensionElements/spiffworkflow:instructionsForEndUser",
}
_ATTRIBUTES = ("name", "sourceRef", "targetRef", "default", "attachedToRef")


@dataclass(frozen=True)
class FieldChange:
    """One field of an element: `name`, `script`, `condition`, `property:formJsonSchemaFilename` ... or `other`
    (something else of its XML changed); old or new is None where the field is absent."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # the BPMN tag: userTask, sequenceFlow ...
    name: str | None  # the newer name (the older one for a removed element)
    fields: tuple[FieldChange, ...] = ()


def _identified(text: str) -> dict[str, etree._Element]:
    """Every identified element of the processes (not the drawing)."""
    root = parse_xml(text)
    found = {}
    for process in root.iter(f"{{{_MODEL}}}process"):
        for element in process.iter():
            ident = element.get("id") if isinstance(element.tag, str) else None
            if ident and element is not process:
                found[ident] = element
    return found


def _canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


def _fields(element: etree._Element) -> dict[str, str]:
    """What a process owner reads of an element, by field name (absent fields are left out)."""
    found = {a: element.get(a) for a in _ATTRIBUTES if element.get(a) is not None}
    for field, path in _TEXTS.items():
        texts = [(node.text or "").strip() for node in element.xpath(path, namespaces=NS)]
        if texts:
            found[field] = "\n".join(texts)
    for prop in element.xpath("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS):
        found[f"property:{prop.get('name')}"] = prop.get("value") or ""
    return found


def _field_changes(old: etree._Element, new: etree._Element) -> tuple[FieldChange, ...]:
    before, after = _fields(old), _fields(new)
    ordered = list(before) + [f for f in after if f not in before]
    changes = [FieldChange(f, before.get(f), after.get(f)) for f in ordered if before.get(f) != after.get(f)]
    return tuple(changes) or (FieldChange("other", None, None),)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _told_on_its_parent(element: etree._Element) -> bool:
    """An event's definition (its timer ...) is told on the event, a lane set's change on its lanes."""
    kind = _local(element.tag)
    return kind.endswith("EventDefinition") or kind == "laneSet"


def _ids(old: dict[str, etree._Element], new: dict[str, etree._Element]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(i for i in set(old) & set(new) if _canonical(old[i]) != _canonical(new[i])),
    }


def diff(old_text: str, new_text: str) -> dict[str, list[str]]:
    """{added, removed, changed}: element ids, sorted."""
    return _ids(_identified(old_text), _identified(new_text))


def changes(*, old_text: str, new_text: str) -> dict[str, list[ElementChange]]:
    """{added, removed, changed}: each element with its kind and name, a changed one with its fields before and
    after (event definitions and lane sets are told on their events and lanes); sorted by id."""
    old, new = _identified(old_text), _identified(new_text)
    ids = _ids(old, new)
    return {
        "added": [ElementChange(i, _local(new[i].tag), new[i].get("name")) for i in ids["added"]],
        "removed": [ElementChange(i, _local(old[i].tag), old[i].get("name")) for i in ids["removed"]],
        "changed": [
            ElementChange(i, _local(new[i].tag), new[i].get("name"), _field_changes(old[i], new[i]))
            for i in ids["changed"]
            if not _told_on_its_parent(new[i])
        ],
    }
