"""SLA clocks: ISO 8601 targets counted in a service calendar's working time, paused while on hold.

A clock is plain data (it lives in the process data, so timer expressions can read it):
{"started": ISO, "target": "PT4H", "calendar": "24x7", "paused": seconds, "held_since": ISO or None}.
`paused` is working time spent on hold, so a priority or target change keeps it. The functions here
are pure; the sandbox offers the sla_* ones to diagrams and the ticket projection uses the same.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_HORIZON_DAYS = 3660  # no target reaches further than ten years of calendar days


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration without years or months (PT15M, PT4H, P3D, P1W)."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration of weeks, days, hours, minutes or seconds: {text!r}")
    return timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})


@dataclass(frozen=True)
class Calendar:
    """Working time: the hours of the working days, in a time zone, without the country's public holidays.
    A duration in a calendar counts working time only: P1D is one calendar day of working hours (24 h
    round the clock, 10 h for 08:00-18:00)."""

    name: str
    zone: str = "UTC"
    workdays: frozenset[int] = frozenset(range(7))  # Monday is 0
    opens: time = time(0)
    closes: time | None = None  # None: midnight at the end of the day
    holidays_of: str | None = None  # ISO country code for the holidays library

    @property
    def round_the_clock(self) -> bool:
        return len(self.workdays) == 7 and self.opens == time(0) and self.closes is None and not self.holidays_of

    @property
    def day_length(self) -> timedelta:
        closes = timedelta(hours=24) if self.closes is None else _as_delta(self.closes)
        return closes - _as_delta(self.opens)

    def working(self, day: date) -> bool:
        return day.weekday() in self.workdays and not (
            self.holidays_of and day in _holidays(self.holidays_of, day.year)
        )

    def _intervals(self, start: datetime):
        """The working intervals (aware UTC datetimes) from start's day onwards."""
        zone = ZoneInfo(self.zone)
        day = start.astimezone(zone).date()
        for _ in range(_HORIZON_DAYS):
            if self.working(day):
                opens = datetime.combine(day, self.opens, zone)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), zone)
                    if self.closes is None
                    else datetime.combine(day, self.closes, zone)
                )
                yield opens.astimezone(UTC), closes.astimezone(UTC)
            day += timedelta(days=1)

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The moment when `work` of working time has passed since start."""
        if self.round_the_clock:
            return start + work
        left = work
        for opens, closes in self._intervals(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        raise ValueError(f"{work} of working time does not end within {_HORIZON_DAYS} days in calendar {self.name}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from start to end (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        if self.round_the_clock:
            return end - start
        total = timedelta(0)
        for opens, closes in self._intervals(start):
            if opens >= end:
                break
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        return total

    def scale(self, duration: timedelta) -> timedelta:
        """A target's working time: whole days count as working days (P1D = one day's hours)."""
        if self.round_the_clock:
            return duration
        days, rest = divmod(duration, timedelta(days=1))
        return days * self.day_length + rest


def _as_delta(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int):
    return holidays.country_holidays(country, years=year)


WEEKDAYS = frozenset(range(5))
CALENDARS: dict[str, Calendar] = {
    "24x7": Calendar("24x7"),
    "business-hours": Calendar(
        "business-hours", zone="Europe/Paris", workdays=WEEKDAYS, opens=time(8), closes=time(18), holidays_of="FR"
    ),
}


def calendar(name: str) -> Calendar:
    try:
        return CALENDARS[name]
    except KeyError:
        raise ValueError(f"unknown SLA calendar {name!r}; known: {', '.join(sorted(CALENDARS))}") from None


# --- clocks (plain data) ----------------------------------------------------------------------


def _moment(value: str | datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_clock(started, target: str, calendar_name: str = "24x7") -> dict:
    parse_duration(target)
    calendar(calendar_name)
    return {
        "started": _moment(started).isoformat(),
        "target": target,
        "calendar": calendar_name,
        "paused": 0,
        "held_since": None,
    }


def moment_at(clock: dict, fraction: float = 1.0) -> datetime:
    """When `fraction` of the target has elapsed, counting working time and leaving out the pauses."""
    cal = calendar(clock["calendar"])
    work = cal.scale(parse_duration(clock["target"])) * fraction + timedelta(seconds=clock.get("paused") or 0)
    return cal.add(_moment(clock["started"]), work)


def hold(clock: dict, at=None) -> dict:
    if clock.get("held_since"):
        return dict(clock)
    return {**clock, "held_since": _moment(at).isoformat()}


def resume(clock: dict, at=None) -> dict:
    if not clock.get("held_since"):
        return dict(clock)
    cal = calendar(clock["calendar"])
    held = cal.between(_moment(clock["held_since"]), _moment(at))
    return {**clock, "paused": int((clock.get("paused") or 0) + held.total_seconds()), "held_since": None}


def retarget(clock: dict, target: str, calendar_name: str | None = None) -> dict:
    """A new target (the priority changed); the time already paused is kept."""
    parse_duration(target)
    return {**clock, "target": target, "calendar": calendar(calendar_name or clock["calendar"]).name}


def due(start: datetime, target: str | None, calendar_name: str = "24x7") -> datetime | None:
    return moment_at(start_clock(start, target, calendar_name)) if target else None


def breached(*, resolution_due: datetime | None, resolved_at: datetime | None, now: datetime) -> bool:
    return resolution_due is not None and (resolved_at or now) > resolution_due


def at_iso(clock: dict, fraction: float = 1.0) -> str:
    return moment_at(clock, fraction).isoformat()


def in_working_time(duration: str, calendar_name: str = "business-hours") -> str:
    """The moment `duration` of working time from now (P2D: two working days), for timer expressions."""
    return at_iso(start_clock(None, duration, calendar_name))


# What diagrams may call (the sandbox offers these names).
HELPERS = {
    "sla_clock": start_clock,
    "sla_at": at_iso,
    "sla_hold": hold,
    "sla_resume": resume,
    "sla_retarget": retarget,
    "in_working_time": in_working_time,
}
