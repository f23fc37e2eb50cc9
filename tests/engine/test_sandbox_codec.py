"""Task data crossing to the sandbox processes: what the stored state holds comes back the same, and what it
cannot hold is named."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import pytest

from app.engine import sandbox
from app.engine.sandbox import SandboxError, codec


def test_dates_durations_sets_tuples_and_odd_keys_come_back_as_they_went():
    data = {
        "opened": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        "day": date(2026, 12, 3),
        "at": time(8, 15),
        "wait": timedelta(days=1, seconds=5),
        "groups": {"network-ops", "service-desk"},
        "pair": ("a", 1),
        "by_number": {1: "one"},
        "ref": UUID("12345678-1234-5678-1234-567812345678"),
        "plain": {"list": [1, 2.5, None, True], "$flowdesk": "a key like the tag"},
    }
    assert codec.loads(codec.dumps(data)) == data


def test_a_script_may_leave_dates_and_durations_in_task_data():
    context = {"opened": datetime(2026, 12, 3, 9, tzinfo=UTC)}
    sandbox.execute("due = opened + timedelta(hours=4)", context)
    assert context["due"] == datetime(2026, 12, 3, 13, tzinfo=UTC)


def test_what_task_data_cannot_store_is_named_by_its_variable():
    with pytest.raises(codec.Unstorable, match="items\\[1\\] holds a builtin_function_or_method"):
        codec.dumps({"items": [1, len]})
    with pytest.raises(SandboxError, match="the task data: handler holds a object"):
        sandbox.evaluate("1", {"handler": object()})
