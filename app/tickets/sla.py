"""SLA due dates from the targets the process decided (processes/sla.dmn gives ISO 8601 durations).

Round-the-clock for now; business-hours calendars per service come with the SLA clock work.
"""

import re
from datetime import datetime, timedelta

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration without years or months (PT15M, PT4H, P3D, P1W)."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration of weeks, days, hours, minutes or seconds: {text!r}")
    return timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})


def due(start: datetime, target: str | None) -> datetime | None:
    return start + parse_duration(target) if target else None


def breached(*, resolution_due: datetime | None, resolved_at: datetime | None, now: datetime) -> bool:
    return resolution_due is not None and (resolved_at or now) > resolution_due
