"""What changed between two versions of a diagram, element by element (ids are the identity)."""

from lxml import etree

from app.engine.xml import parse_xml

_MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _elements(text: str) -> dict[str, bytes]:
    """Every identified element of the processes (not the drawing), with a canonical form of its content."""
    root = parse_xml(text)
    found = {}
    for process in root.iter(f"{{{_MODEL}}}process"):
        for element in process.iter():
            ident = element.get("id") if isinstance(element.tag, str) else None
            if ident and element is not process:
                found[ident] = etree.tostring(element, method="c14n")
    return found


def diff(old_text: str, new_text: str) -> dict[str, list[str]]:
    """{added, removed, changed}: element ids, sorted."""
    old, new = _elements(old_text), _elements(new_text)
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(i for i in set(old) & set(new) if old[i] != new[i]),
    }
