"""The engine package: deploys and their versions, refused diagrams, continue-as-new rounds, audit chain."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import engine
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.engine import ProcessInstance, definitions, instances, runtime, serializer
from app.engine.bundle import BundleError, build_specs, read_directory, validate
from app.engine.cache import WorkflowCache
from app.errors import Conflict
from app.tasks.models import HumanTask
from tests.conftest import tamper

MINI = Path(__file__).parent.parent / "data" / "mini"


@pytest.fixture
def mini(tmp_path):
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    return root


def deploy(database, root):
    with database.unit_of_work() as db:
        return [
            (r.definition.process_id, r.definition.version, r.created) for r in engine.deploy_directory(db, root=root)
        ]


def test_a_deploy_without_changes_keeps_the_version(database, mini):
    assert deploy(database, mini) == [("mini", 1, True)]
    assert deploy(database, mini) == [("mini", 1, False)]
    form = mini / "forms" / "mini.schema.json"
    form.write_text(form.read_text().replace('"boolean"}', '"boolean", "title": "Again?"}'))
    assert deploy(database, mini) == [("mini", 2, True)], "a changed form is a new version of its process"


def _replace(root: Path, old: str, new: str) -> None:
    path = root / "processes" / "mini.bpmn"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    "old,new,element,words",
    [
        (
            "rounds = rounds + 1 if rounds else 1",
            "x = ().__class__.__bases__[0].__subclasses__()",
            "prep",
            "script refused",
        ),
        ("rounds = rounds + 1 if rounds else 1", "import os", "prep", "imports are not allowed"),
        ("again == True", "again.__class__", "f_again", "condition refused"),
        ('targetRef="end_done"', 'targetRef="NoSuchElement"', "f_done", "NoSuchElement"),
        ('value="mini.schema.json"', 'value="missing.schema.json"', "work", "does not exist"),
        (
            '<bpmn:exclusiveGateway id="gw" name="Again?"',
            '<bpmn:exclusiveGateway id="gw" name=""',
            "gw",
            "needs a name",
        ),
    ],
)
def test_a_refused_diagram_names_the_element_and_deploys_nothing(database, mini, old, new, element, words):
    _replace(mini, old, new)
    with pytest.raises(BundleError) as info, database.unit_of_work() as db:
        engine.deploy_directory(db, root=mini)
    problems = [p for p in info.value.problems if p.element_id == element]
    assert problems and words in str(problems[0]), info.value.problems
    with database.reader() as db:
        assert engine.latest_definition(db, process_id="mini") is None


def test_doctype_and_entities_are_refused(database, mini):
    path = mini / "processes" / "mini.bpmn"
    text = path.read_text().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    )
    path.write_text(text)
    with pytest.raises(BundleError, match="DOCTYPE"):
        read_directory(mini)


def _round(database, instance_id: int) -> tuple[int, int]:
    with database.unit_of_work() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))
        outcome = engine.complete(db, instance_id=task.instance_id, task_id=task.id, data={"again": True}, actor="sam")
        workflow = serializer.load(outcome.instance.state, *definitions.specs_of(db, outcome.instance.definition))
        return len(outcome.instance.state), len(workflow.get_tasks())


@pytest.mark.slow
def test_six_hundred_rounds_keep_the_state_bounded(database, mini):
    deploy(database, mini)
    with database.unit_of_work() as db:
        instance_id = engine.start(
            db, process_id="mini", data={"rounds": 0}, actor="sam", business_key="T1"
        ).instance.id
    first = _round(database, instance_id)
    for _ in range(598):
        _round(database, instance_id)
    last = _round(database, instance_id)
    assert last[1] == first[1], "the task tree does not grow with the rounds"
    assert last[0] <= first[0] + 16, (first, last)  # only the round counter's digits grow
    with database.reader() as db:
        instance = engine.get_instance(db, instance_id=instance_id)
        assert instance.round == 601
        assert db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))


def test_two_nodes_taking_turns_on_an_instance_each_see_the_others_steps(database, mini, monkeypatch):
    """A node keeps the workflow of its last step in memory for its next one; when another node has moved the
    instance on since, it restores the stored state instead of running on what it kept."""
    deploy(database, mini)
    this_node, other_node = instances.WORKFLOWS, WorkflowCache(size=8)
    restores = []
    load = serializer.load
    monkeypatch.setattr(serializer, "load", lambda *args: restores.append(1) or load(*args))
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    rounds = []
    for node in (other_node, this_node, other_node, this_node, this_node, this_node):
        monkeypatch.setattr(instances, "WORKFLOWS", node)
        with database.unit_of_work() as db:
            task = db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))
            outcome = engine.complete(db, instance_id=instance_id, task_id=task.id, data={"again": True}, actor="sam")
            rounds.append(outcome.data["rounds"])
    assert rounds == [2, 3, 4, 5, 6, 7], "every step ran on the state the step before it saved"
    assert len(restores) == 4, "a node restores after the other node's step, not after its own"


def test_completing_a_task_twice_is_a_conflict(database, mini):
    deploy(database, mini)
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    with database.unit_of_work() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        engine.complete(db, instance_id=task.instance_id, task_id=task.id, data={"again": False}, actor="sam")
    with pytest.raises(Conflict), database.unit_of_work() as db:
        task = db.get(HumanTask, task.id)
        engine.complete(db, instance_id=task.instance_id, task_id=task.id, data={"again": False}, actor="sam")


def test_a_step_whose_instance_changed_under_it_is_a_conflict_and_writes_nothing(database, mini, monkeypatch):
    """The save is checked against the version the step read: a writer that went round the row lock (here, inside
    the step's own transaction, while the workflow runs) makes the step a Conflict, and nothing of it stays."""
    deploy(database, mini)
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    with database.reader() as db:
        before = db.get(ProcessInstance, instance_id)
        state, version = before.state, before.lock_version
    advance = runtime.Run.advance

    def advance_while_another_writes(run):
        session.execute(
            text("UPDATE process_instance SET lock_version = lock_version + 1 WHERE id = :id"), {"id": instance_id}
        )
        return advance(run)

    monkeypatch.setattr(runtime.Run, "advance", advance_while_another_writes)
    with pytest.raises(Conflict, match="someone else changed this"), database.unit_of_work() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        task_id = task.id
        engine.complete(session, instance_id=task.instance_id, task_id=task.id, data={"again": True}, actor="sam")
    with database.reader() as db:
        after = db.get(ProcessInstance, instance_id)
        assert (after.state, after.lock_version) == (state, version), "the refused step left the row as it was"
        assert db.get(HumanTask, task_id).status == "open", "the task is still there to be done"


def test_the_audit_chain_detects_an_edited_row(database, mini):
    deploy(database, mini)
    with database.unit_of_work() as db:
        engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam")
    with database.reader() as db:
        report = audit.verify(db)
        assert report.ok and report.checked >= 3
    with database.reader() as db:
        victim = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[-2]
    with pytest.raises(Exception, match="append-only"), database.unit_of_work() as db:
        db.get(AuditEvent, victim).actor = "mallory"
    with pytest.raises(Exception, match="append-only"), database.unit_of_work() as db:
        db.delete(db.get(AuditEvent, victim))
    tamper(database, "UPDATE audit_event SET actor = 'mallory' WHERE id = :id", id=victim)
    with database.reader() as db:
        report = audit.verify(db)
    assert not report.ok and report.bad_event_id == victim


def test_validate_accepts_the_bundled_processes():
    for bundle in read_directory(Path(__file__).resolve().parent.parent.parent):
        assert validate(bundle) == [], bundle.process_id


LANE_WITH_GROUP_KEY = (
    '<bpmn:lane id="lane_sd" name="Service desk"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="groupKey" value="service-desk"/></spiffworkflow:properties>'
    "</bpmn:extensionElements>"
)


def _open_task_after_start(database, root) -> HumanTask:
    deploy(database, root)
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    with database.reader() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))
        return task.name, task.candidate_groups


def test_a_task_in_the_service_desk_lane_is_offered_to_the_lanes_group_key(database, mini):
    _replace(mini, '<bpmn:lane id="lane_sd" name="service-desk">', LANE_WITH_GROUP_KEY)
    assert [validate(b) for b in read_directory(mini)] == [[]]
    assert _open_task_after_start(database, mini) == ("Work", ["service-desk"])


def test_a_lane_without_a_group_key_offers_its_tasks_to_the_group_of_its_name(database, mini):
    _replace(mini, 'name="service-desk"', 'name="network-ops"')
    assert _open_task_after_start(database, mini) == ("Work", ["network-ops"])


def test_the_bundled_lanes_are_named_for_people_and_carry_their_group_keys():
    bundles = {b.process_id: b for b in read_directory(Path(__file__).resolve().parent.parent.parent)}
    spec, _ = build_specs(bundles["incident"])
    expected = {"diagnose": "service-desk", "decide_routing": "second-level", "investigate_l3": "infrastructure-l3"}
    assert {name: spec.task_specs[name].lane for name in expected} == expected
    text = bundles["incident"].files["incident.bpmn"]
    assert 'name="Service desk"' in text and 'name="service-desk"' not in text


def test_a_cancelled_instance_has_no_open_task_and_cannot_be_cancelled_twice(database, mini):
    deploy(database, mini)
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    with database.unit_of_work() as db:
        outcome = engine.cancel(db, instance_id=instance_id, actor="sam", reason="not needed")
        assert outcome.open_tasks == [] and outcome.instance.status == "cancelled"
    with database.unit_of_work() as db:
        assert db.get(ProcessInstance, instance_id).status == "cancelled"
        tasks = db.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        assert [t.status for t in tasks] == ["cancelled"]
    with pytest.raises(Conflict), database.unit_of_work() as db:
        engine.cancel(db, instance_id=instance_id, actor="sam", reason="again")


def test_amended_data_reaches_the_waiting_task_and_the_next_steps(database, mini):
    deploy(database, mini)
    with database.unit_of_work() as db:
        instance_id = engine.start(db, process_id="mini", data={"rounds": 0}, actor="sam").instance.id
    with database.unit_of_work() as db:
        outcome = engine.amend(db, instance_id=instance_id, data={"note": "edited"}, actor="sam", reason="edit")
        assert outcome.data["note"] == "edited" and len(outcome.open_tasks) == 1
    with database.unit_of_work() as db:
        task = db.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))
        done = engine.complete(db, instance_id=instance_id, task_id=task.id, data={"again": True}, actor="sam")
        assert done.data["note"] == "edited", "the completed task carried the amended data on"


def test_decide_evaluates_a_decision_table_of_the_definition_by_its_id(database):
    with database.unit_of_work() as db:
        definition = engine.latest_definition(db, process_id="incident")
        decide = lambda decision, data: engine.decide(db, definition=definition, decision=decision, data=data)  # noqa: E731
        assert decide("priority", {"impact": "medium", "urgency": "high"}) == {"priority": "high"}
        assert decide("sla", {"priority": "low"}) == {"response_target": "P1D", "resolution_target": "P5D"}
        assert decide("approvals", {}) is None, "the incident process calls no such table"
