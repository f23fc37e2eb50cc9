"""ISO 8601 durations of the SLA table and due dates computed from them."""

from datetime import UTC, datetime, timedelta

import pytest

from app.tickets import sla


@pytest.mark.parametrize(
    "text,expected",
    [
        ("PT15M", timedelta(minutes=15)),
        ("PT4H", timedelta(hours=4)),
        ("P3D", timedelta(days=3)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("PT45S", timedelta(seconds=45)),
    ],
)
def test_durations(text, expected):
    assert sla.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "4H", "P1Y", "PT-1H", "P1.5D"])
def test_bad_durations_are_refused_with_their_text(text):
    with pytest.raises(ValueError, match="ISO 8601"):
        sla.parse_duration(text)


def test_breach_is_judged_at_resolution_or_now():
    due = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert not sla.breached(resolution_due=due, resolved_at=due - timedelta(minutes=1), now=due + timedelta(days=1))
    assert sla.breached(resolution_due=due, resolved_at=None, now=due + timedelta(seconds=1))
    assert not sla.breached(resolution_due=None, resolved_at=None, now=due)
