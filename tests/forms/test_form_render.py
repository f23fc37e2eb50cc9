"""Rendering JSON Schema forms to HTML and reading typed data back from submitted fields."""

import json
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app import create_app
from app.config import Settings
from app.forms.render import coerce, render

FORMS = Path(__file__).resolve().parent.parent.parent / "forms"


@pytest.fixture(autouse=True)
def request_context():
    app = create_app(Settings.from_env(database_url="sqlite://", secret_key="x"))
    with app.test_request_context():
        yield


def load(name):
    return json.loads((FORMS / name).read_text())


def test_every_field_has_a_label_and_its_help():
    html = render(load("incident_diagnose.schema.json"), load("incident_diagnose.uischema.json"), {}, {})
    for name in load("incident_diagnose.schema.json")["properties"]:
        assert f'name="{name}"' in html
    assert '<label for="field-category">Category' in html
    assert "<legend>Outcome" in html and 'type="radio" name="outcome" value="escalate"' in html
    assert "Required when Outcome is “Resolve it”." in html


def test_titles_are_escaped():
    schema = {"type": "object", "properties": {"x": {"type": "string", "title": "<script>alert(1)</script>"}}}
    html = render(schema, {}, {"x": '"><b>'}, {})
    assert "<script>" not in html and "&lt;script&gt;" in html and "&#34;&gt;&lt;b&gt;" in html


def test_errors_are_linked_to_their_field_and_values_kept():
    schema = load("incident_confirm.schema.json")
    html = render(
        schema,
        load("incident_confirm.uischema.json"),
        {"accepted": False, "feedback": "meh"},
        {"feedback": ["Too short."]},
    )
    assert 'aria-describedby="field-feedback-help field-feedback-error"' in html
    assert 'id="field-feedback-error">Too short.' in html
    radios = dict(re.findall(r'<input type="radio" name="accepted" value="(\w+)"([^>]*)>', html))
    assert "checked" in radios["false"] and "checked" not in radios["true"], "the answer given stays chosen"
    assert ">meh</textarea>" in html


def test_coerce_types_booleans_choices_and_drops_empty_fields():
    schema = {
        "type": "object",
        "properties": {
            "accepted": {"type": "boolean"},
            "count": {"type": "integer"},
            "note": {"type": "string"},
            "code": {"type": "string", "enum": ["fix", "workaround"]},
        },
    }
    form = MultiDict({"accepted": "false", "count": "3", "note": "", "code": "fix"})
    assert coerce(schema, form) == {"accepted": False, "count": 3, "code": "fix"}
    assert coerce(schema, MultiDict({"count": "three"})) == {"count": "three"}
