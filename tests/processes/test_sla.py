"""ISO 8601 durations of the SLA table and due dates computed from them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.sla import clock as sla


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


PARIS_HOURS = sla.calendar("business-hours")


def paris(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


def test_business_hours_skip_evenings_weekends_and_public_holidays():
    # Thursday 24 December 17:00 + 2 working hours: 1 h on Thursday, Christmas (Friday) and the weekend skipped,
    # then 1 h on Monday 28 December.
    assert PARIS_HOURS.add(paris(24, 17), timedelta(hours=2)) == paris(28, 9)
    assert PARIS_HOURS.between(paris(24, 17), paris(28, 9)) == timedelta(hours=2)
    assert PARIS_HOURS.add(paris(26, 12), timedelta(0)) == paris(28, 8), "a Saturday moment waits for Monday"


def test_a_day_of_target_is_a_working_day():
    assert PARIS_HOURS.scale(timedelta(days=3)) == timedelta(hours=30)
    assert sla.calendar("24x7").scale(timedelta(days=3)) == timedelta(days=3)


def test_a_clock_paused_for_two_working_hours_ends_two_working_hours_later():
    clock = sla.start_clock(paris(1, 9), "PT4H", "business-hours")
    assert sla.moment_at(clock) == paris(1, 13)
    assert sla.moment_at(clock, 0.75) == paris(1, 12)
    held = sla.hold(clock, at=paris(1, 10))
    resumed = sla.resume(held, at=paris(1, 12))
    assert resumed["paused"] == 7200 and resumed["held_since"] is None
    assert sla.moment_at(resumed) == paris(1, 15)
    overnight = sla.resume(sla.hold(clock, at=paris(1, 17)), at=paris(2, 9))
    assert overnight["paused"] == 7200, "only working time counts as paused"
    retargeted = sla.retarget(resumed, "PT8H")
    assert sla.moment_at(retargeted) == paris(2, 9), "the paused time survives a new target"


def test_unknown_calendars_and_targets_are_named():
    with pytest.raises(ValueError, match="unknown SLA calendar 'moon'"):
        sla.start_clock(paris(1, 9), "PT4H", "moon")
    with pytest.raises(ValueError, match="'4 hours'"):
        sla.start_clock(paris(1, 9), "4 hours")
