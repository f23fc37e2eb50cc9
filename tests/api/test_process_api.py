"""Process owners deploy versions over the API; broken diagrams are refused; instances can be inspected."""

import json
import re
import shutil
from pathlib import Path

import pytest

from app import engine

MINI = Path(__file__).parent.parent / "data" / "mini"


@pytest.fixture
def mini(database, tmp_path):
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    with database.unit_of_work() as db:
        engine.deploy_directory(db, root=root)
    return root


def test_processes_are_listed_for_owners_and_auditors_only(api, mini):
    status, processes = api.get("olivia", "/api/v1/processes")
    assert status == 200
    (entry,) = [p for p in processes if p["process_id"] == "mini"]
    assert entry["latest_version"] == 1 and entry["versions"][0]["checksum"]
    assert api.get("audrey", "/api/v1/processes")[0] == 200
    assert api.get("sam", "/api/v1/processes")[0] == 403
    assert api.get("olivia", "/api/v1/processes/mini/versions/9")[0] == 404


def test_deploying_an_edited_diagram_makes_the_next_version(api, mini):
    xml = api.get("olivia", "/api/v1/processes/mini/versions/1")[1]["bpmn"]
    edited = xml.replace('name="Work"', 'name="Work on it"')
    status, body = api.post("olivia", "/api/v1/processes/mini/versions", raw=edited, content_type="application/xml")
    assert (status, body["version"]) == (201, 2)
    status, body = api.post("olivia", "/api/v1/processes/mini/versions", raw=edited, content_type="application/xml")
    assert (status, body["version"]) == (200, 2), "the same XML again keeps the version"
    version = api.get("olivia", "/api/v1/processes/mini/versions/2")[1]
    assert "Work on it" in version["bpmn"] and version["deployed_by"] == "olivia"
    assert "forms/mini.schema.json" in version["files"], "the forms of the previous version come along"
    assert api.post("sam", "/api/v1/processes/mini/versions", raw=edited, content_type="application/xml")[0] == 403


@pytest.mark.parametrize(
    "change,key",
    [
        (lambda x: x.replace('targetRef="end_done"', 'targetRef="NoSuchElement"'), "f_done"),
        (lambda x: x.replace("rounds = rounds + 1 if rounds else 1", "import os"), "prep"),
        (lambda x: x.replace("again == True", "().__class__.__subclasses__()"), "f_again"),
        (lambda x: x.replace('id="mini"', 'id="other"'), "mini.bpmn"),
        (lambda x: x[:200], "mini.bpmn"),
        (lambda x: '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>' + x.split("?>", 1)[1], "mini.bpmn"),
    ],
)
def test_a_broken_diagram_is_422_keyed_by_element_and_deploys_nothing(api, mini, change, key):
    xml = api.get("olivia", "/api/v1/processes/mini/versions/1")[1]["bpmn"]
    status, body = api.post(
        "olivia", "/api/v1/processes/mini/versions", raw=change(xml), content_type="application/xml"
    )
    assert status == 422, body
    assert key in body["error"]["fields"], body
    assert api.get("olivia", "/api/v1/processes")[1][-1]["latest_version"] == 1 or all(
        p["latest_version"] == 1 for p in api.get("olivia", "/api/v1/processes")[1] if p["process_id"] == "mini"
    )


def test_an_owner_starts_an_instance_and_reads_it(api, mini):
    status, body = api.post("olivia", "/api/v1/processes/mini/instances", {"data": {"rounds": 0}})
    assert status == 201 and body["status"] == "running" and body["process_version"] == 1
    status, instance = api.get("audrey", f"/api/v1/instances/{body['id']}")
    assert status == 200
    assert [t["element_id"] for t in instance["open_tasks"]] == ["work"] and instance["waiting_timers"] == []
    history = api.get("olivia", f"/api/v1/instances/{body['id']}/history")[1]
    assert [e["element_id"] for e in history if e["element_id"]] == ["start", "prep"]
    assert all(re.search(r"[+-]\d\d:\d\d$", e["at"]) for e in history)
    assert api.post("sam", "/api/v1/processes/mini/instances", {"data": {}})[0] == 403
    assert api.get("sam", f"/api/v1/instances/{body['id']}")[0] == 403
    assert api.get("olivia", "/api/v1/instances/999")[0] == 404


def test_a_script_failing_at_run_time_is_422_naming_the_element(api, mini):
    status, body = api.post("olivia", "/api/v1/processes/mini/instances", {"data": {}})
    assert status == 422 and "prep" in body["error"]["fields"], body


def test_no_token_is_401_but_health_is_open(api):
    assert api.get(None, "/api/v1/health") == (200, {"status": "ok"})
    status, body = api.get(None, "/api/v1/processes")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    client = api.client
    response = client.get("/api/v1/processes", headers={"Authorization": "Bearer fd_not-a-token"})
    assert response.status_code == 401


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</bpmn:definitions>"""
PARAMETER = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""


@pytest.mark.parametrize(
    "upload,status,words",
    [
        (LAUGHS, 422, "DOCTYPE"),
        (EXTERNAL, 422, "DOCTYPE"),
        (PARAMETER, 422, "DOCTYPE"),
        ("<bpmn:definitions" + " " * 2_100_000 + "/>", 422, "larger than"),
        ("x" * (5 * 1024 * 1024), 413, ""),
    ],
    ids=["entity expansion", "external entity", "parameter entity", "over 2 MB of XML", "over 4 MB of request"],
)
def test_hostile_xml_is_refused_and_deploys_nothing(api, mini, upload, status, words):
    got, body = api.post("olivia", "/api/v1/processes/mini/versions", raw=upload, content_type="application/xml")
    assert got == status, body
    if words:
        assert words in json.dumps(body)
    assert api.get("olivia", "/api/v1/processes/mini/versions/2")[0] == 404
    assert "root:" not in json.dumps(body), "no file content leaks into the error"
