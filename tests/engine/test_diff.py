"""app.engine.diff: what changed between two versions of a diagram, field by field."""

from pathlib import Path

from app.engine import ElementChange, FieldChange, diagram_changes

INCIDENT = (Path(__file__).resolve().parents[2] / "processes" / "incident.bpmn").read_text()


def test_a_changed_timer_is_told_on_its_event_with_the_old_and_new_expression():
    newer = INCIDENT.replace("sla_at(sla, 0.75)</bpmn:timeDate>", "sla_at(sla, 0.5)</bpmn:timeDate>", 1)
    (change,) = diagram_changes(old_text=INCIDENT, new_text=newer)["changed"]  # not its timer definition apart
    assert change.element_id == "sla_warning_l1"
    assert change.fields == (FieldChange("timer", "sla_at(sla, 0.75)", "sla_at(sla, 0.5)"),)
    assert change.name == "75 % of the resolution time"


def test_added_and_removed_elements_come_with_their_kind_and_name():
    newer = INCIDENT.replace(
        '<bpmn:userTask id="diagnose" name="Diagnose incident">', '<bpmn:userTask id="triage" name="Triage">'
    )
    found = diagram_changes(old_text=INCIDENT, new_text=newer)
    assert found["added"] == [ElementChange("triage", "userTask", "Triage")]
    assert found["removed"] == [ElementChange("diagnose", "userTask", "Diagnose incident")]


def test_a_change_outside_the_fields_people_read_is_still_told():
    newer = INCIDENT.replace('cancelActivity="false"', 'cancelActivity="true"', 1)
    (change,) = diagram_changes(old_text=INCIDENT, new_text=newer)["changed"]
    assert change.element_id == "sla_warning_l1" and change.fields == (FieldChange("other", None, None),)
