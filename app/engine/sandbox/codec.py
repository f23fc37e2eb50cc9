"""Task data as JSON, the way it crosses to and from a sandbox process.

Plain JSON values pass as they are; dates, times, durations, sets, tuples and UUIDs (what a script or the
stored state may hold) are tagged. Anything else cannot be stored and is refused, naming the variable that
holds it. This module imports nothing of the app: the sandbox process loads it by itself.
"""

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

TAG = "$flowdesk"


class Unstorable(Exception):
    """A value that task data cannot hold (a generator, a function, an object)."""

    def __init__(self, path: str, value: Any):
        super().__init__(f"{path} holds a {type(value).__name__}, which task data cannot store")
        self.path = path


def _tagged(value: Any) -> dict | None:
    """A date, time, duration or UUID as a tagged value; None for anything else."""
    if isinstance(value, datetime | date | time):
        kind = "datetime" if isinstance(value, datetime) else "date" if isinstance(value, date) else "time"
        return {TAG: kind, "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, UUID):
        return {TAG: "uuid", "v": str(value)}
    return None


def _encode(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encode(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and TAG not in value:
            return {key: _encode(item, f"{path}.{key}") for key, item in value.items()}
        return {TAG: "dict", "v": [[_encode(k, path), _encode(v, f"{path}[{k!r}]")] for k, v in value.items()]}
    if isinstance(value, tuple | set | frozenset):
        kind = "tuple" if isinstance(value, tuple) else "set"
        return {TAG: kind, "v": [_encode(item, f"{path}[{i}]") for i, item in enumerate(value)]}
    tagged = _tagged(value)
    if tagged is None:
        raise Unstorable(path, value)
    return tagged


_DECODERS = {
    "dict": lambda v: {_decode(k): _decode(item) for k, item in v},
    "tuple": lambda v: tuple(_decode(item) for item in v),
    "set": lambda v: {_decode(item) for item in v},
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "timedelta": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "uuid": UUID,
}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if TAG in value:
            return _DECODERS[value[TAG]](value["v"])
        return {key: _decode(item) for key, item in value.items()}
    return value


def encode(value: Any) -> Any:
    """A plain JSON value (what json.dumps takes). Unstorable names what cannot be stored: for task data, the
    variable that holds it."""
    try:
        if isinstance(value, dict) and all(isinstance(key, str) for key in value) and TAG not in value:
            return {key: _encode(item, key) for key, item in value.items()}
        return _encode(value, "the result")
    except RecursionError as err:
        raise Unstorable("the data", value) from err


def decode(value: Any) -> Any:
    return _decode(value)


def dumps(value: Any) -> str:
    """One line of JSON (no raw newline can appear in it)."""
    return json.dumps(encode(value), separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return _decode(json.loads(text))
