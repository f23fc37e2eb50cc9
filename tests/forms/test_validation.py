"""One validation style: request bodies checked against the schemas the OpenAPI document publishes, with errors
named by field and worded for a person, the same through the API and the web forms."""

import pytest

from app.api.openapi import document
from app.errors import ValidationFailed
from app.tickets import comments, intake
from app.validation import errors_of, text, validate
from tests.payloads import incident

INCIDENT = incident("Mail is down", impact="high", urgency="medium")


def incident_errors(api, **changes):
    body = {k: v for k, v in {**INCIDENT, **changes}.items() if v is not ...}
    status, answer = api.post("alice", "/api/v1/incidents", body)
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    return answer["error"]["fields"]


def test_a_missing_required_field_is_named(api):
    assert incident_errors(api, urgency=...) == {"urgency": ["This field is required."]}


@pytest.mark.parametrize("title", [" ", "", None])
def test_blank_or_null_required_text_counts_as_missing(api, title):
    assert incident_errors(api, title=title) == {"title": ["This field is required."]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", 42, "Expected text."),
        ("description", ["a"], "Expected text."),
        ("service", {"name": "mail"}, "Expected text."),
        ("impact", 3, "Choose high, medium or low."),
    ],
)
def test_a_value_of_the_wrong_kind_is_named(api, field, value, message):
    assert incident_errors(api, **{field: value}) == {field: [message]}


def test_over_long_text_is_named_with_its_limit(api):
    assert incident_errors(api, title="x" * 201) == {"title": ["At most 200 characters."]}
    assert incident_errors(api, category="x" * 41) == {"category": ["At most 40 characters."]}


def test_an_unknown_choice_is_named_with_the_choices(api):
    fields = incident_errors(api, impact="huge", urgency="soon")
    assert fields == {"impact": ["Choose high, medium or low."], "urgency": ["Choose high, medium or low."]}


def test_an_unknown_incident_field_is_refused(api):
    assert incident_errors(api, colour="red") == {"colour": ["No such field."]}


def test_no_message_is_jsonschema_text(api):
    fields = incident_errors(api, title=42, description=7, impact=[1], urgency=..., colour="red")
    messages = [m for found in fields.values() for m in found]
    assert set(fields) == {"title", "description", "impact", "urgency", "colour"}
    assert not [m for m in messages if "'" in m or "is not" in m or "valid under" in m], messages


def test_valid_text_is_stored_stripped(api):
    status, ticket = api.post("alice", "/api/v1/incidents", {**INCIDENT, "title": "  Mail is down  ", "ci": " "})
    assert status == 201 and ticket["title"] == "Mail is down" and ticket["ci"] is None


def test_a_body_that_is_not_an_object_is_400(api):
    for raw in ("[1, 2]", '"text"', "not json"):
        status, answer = api.call("alice", "POST", "/api/v1/incidents", raw=raw)
        assert status == 400 and answer["error"]["code"] == "bad_request", (raw, answer)


def test_every_declared_body_is_enforced_before_the_view(api):
    number = api.post("alice", "/api/v1/incidents", INCIDENT)[1]["number"]
    cases = [
        (f"/api/v1/tickets/{number}/comments", {"body": "x", "visibility": "secret"}, "visibility"),
        (f"/api/v1/tickets/{number}/comments", {"body": "x" * 20_001}, "body"),
        (f"/api/v1/tickets/{number}/watchers", {"username": 5}, "username"),
        (f"/api/v1/tickets/{number}/problem", {}, "problem"),
        ("/api/v1/notifications/read", {"ids": ["one"]}, "ids[0]"),
        ("/api/v1/notifications/read", {"ids": [0]}, "ids[0]"),
        ("/api/v1/problems", {"title": "x", "incidents": [7]}, "incidents[0]"),
        ("/api/v1/requests", {"item": 5}, "item"),
        ("/api/v1/processes/incident/instances", {"data": []}, "data"),
        ("/api/v1/tasks/none/complete", {"data": "done"}, "data"),
        ("/api/v1/alerts/alertmanager", {"version": "4", "alerts": [{"status": "on", "fingerprint": "f"}]}, None),
    ]
    for path, body, field in cases:
        status, answer = api.post("admin", path, body)
        assert status == 422, (path, body, answer)
        if field is not None:
            assert field in answer["error"]["fields"], (path, answer)
    # The webhook is checked before the monitoring user's right to send it, and names the alert's field.
    status, answer = api.post("monitor", "/api/v1/alerts/alertmanager", cases[-1][1])
    assert status == 422 and answer["error"]["fields"] == {"alerts[0].status": ["Choose firing or resolved."]}


def test_unknown_fields_are_still_ignored_where_they_were(api):
    number = api.post("alice", "/api/v1/incidents", INCIDENT)[1]["number"]
    status, _ = api.post("alice", f"/api/v1/tickets/{number}/comments", {"body": "Any news?", "mood": "calm"})
    assert status == 201
    status, _ = api.post("alice", f"/api/v1/tickets/{number}/watchers", {"username": None, "extra": 1})
    assert status == 200


def test_optional_bodies_may_be_empty(api):
    number = api.post("alice", "/api/v1/incidents", INCIDENT)[1]["number"]
    assert api.call("alice", "POST", f"/api/v1/tickets/{number}/watchers")[0] == 200
    assert api.call("alice", "POST", "/api/v1/notifications/read")[0] == 200


def test_the_published_body_schema_is_the_enforced_one():
    paths = document()["paths"]

    def body(path, method="post"):
        return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]

    assert body("/api/v1/incidents") is intake.INCIDENT
    assert body("/api/v1/problems") is intake.PROBLEM
    assert body("/api/v1/requests") is intake.REQUEST
    assert body("/api/v1/tickets/{number}/comments") is comments.COMMENT
    assert paths["/api/v1/tickets/{number}/watchers"]["post"]["requestBody"]["required"] is False


def test_the_services_check_their_input_with_the_same_schema(db):
    from tests.conftest import who

    with pytest.raises(ValidationFailed) as raised:
        intake.create_incident(db, user=who(db, "alice"), title="", description=None, impact="x", urgency="low")
    assert raised.value.fields == {"title": ["This field is required."], "impact": ["Choose high, medium or low."]}


def test_messages_name_nested_fields_and_each_kind():
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": text(5, required=True),
            "count": {"type": "integer", "minimum": 1, "maximum": 9},
            "tags": {"type": "array", "maxItems": 2, "items": {"type": "object", "required": ["key"]}},
            "day": {"type": "string", "format": "date"},
            "version": {"const": "4"},
            "note": text(20),
        },
    }
    data = {"name": "toolong", "count": 0, "tags": [{}, {}, {}], "day": "monday", "version": "3"}
    assert errors_of(schema=schema, data=data) == {
        "name": ["At most 5 characters."],
        "count": ["At least 1."],
        "tags": ["At most 2 items."],
        "tags[0].key": ["This field is required."],
        "tags[1].key": ["This field is required."],
        "tags[2].key": ["This field is required."],
        "day": ["Not a valid date."],
        "version": ["Only 4 is accepted."],
    }
    assert errors_of(schema=schema, data=[]) == {"_form": ["Expected an object."]}
    assert validate(schema=schema, data={"name": " ab ", "note": " "}, what="it") == {"name": "ab", "note": None}


def test_the_portal_shows_each_error_next_to_its_field(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": "alice", "password": "demo"})
    form = {"title": "x" * 201, "description": "", "impact": "huge", "urgency": "low"}
    response = client.post("/portal/incidents", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="title-error">At most 200 characters.</p>' in html
    assert '<p class="field-error" id="impact-error">Choose high, medium or low.</p>' in html
    response = client.post("/portal/incidents", data={**form, "title": "   ", "impact": "low"})
    assert '<p class="field-error" id="title-error">This field is required.</p>' in response.get_data(as_text=True)
