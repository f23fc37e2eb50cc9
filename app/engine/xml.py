"""The one hardened XML parser every diagram and decision table goes through."""

from lxml import etree

# The namespaces of the BPMN documents Flowdesk reads.
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}

MAX_XML_BYTES = 2_000_000


class XmlError(ValueError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_xml(text: str | bytes, *, filename: str = "<upload>") -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_XML_BYTES:
        raise XmlError(f"{filename} is larger than {MAX_XML_BYTES} bytes")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise XmlError(f"{filename}: a DOCTYPE or entity declaration is not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
        dtd_validation=False,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as err:
        raise XmlError(f"{filename}: {err.msg}", err.lineno) from err
    if root.getroottree().docinfo.doctype:
        raise XmlError(f"{filename}: a DOCTYPE is not allowed")
    return root
