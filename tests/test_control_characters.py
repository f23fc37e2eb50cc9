"""A NUL byte or another control character in any text is refused naming the field, on SQLite and PostgreSQL
alike (PostgreSQL refuses NUL in text: it must never surface as a 500); tabs and line breaks are kept."""

from tests.payloads import incident


def test_a_control_character_in_a_body_is_refused_naming_the_field(api):
    status, body = api.post("alice", "/api/v1/incidents", incident("Mail\x00 down"))
    assert status == 422 and "U+0000" in body["error"]["fields"]["title"][0]
    status, body = api.post("alice", "/api/v1/incidents", incident("Mail down", description="bell\x07"))
    assert status == 422 and "U+0007" in body["error"]["fields"]["description"][0]
    status, ticket = api.post("alice", "/api/v1/incidents", incident("Mail down", description="line one\n\tline two"))
    assert status == 201 and ticket["description"] == "line one\n\tline two"
    status, body = api.post("alice", f"/api/v1/tickets/{ticket['number']}/comments", {"body": "x", "\x00": "y"})
    assert status == 422


def test_a_control_character_in_a_query_or_a_form_is_refused_naming_the_field(api, signed_in):
    status, body = api.get("sam", "/api/v1/tickets?q=a%00b")
    assert status == 422 and list(body["error"]["fields"]) == ["q"]
    assert api.get("sam", "/api/v1/tickets?status=New%00")[0] == 422
    response = signed_in("alice").post(
        "/portal/incidents", data={"title": "Mail\x00", "impact": "low", "urgency": "low"}
    )
    assert response.status_code == 422 and "U+0000" in response.get_data(as_text=True)
    client = signed_in("sam")
    client.get("/logout")
    assert client.post("/login", data={"username": "sam\x00", "password": "demo"}).status_code == 422
