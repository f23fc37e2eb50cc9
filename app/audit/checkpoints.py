"""Checkpoints of the audit chain kept outside the database: small JSON files holding the chain's head (event
count, last id, last hash, when), each HMAC'ed with the audit key, written atomically (temporary file, then
os.replace) into one folder, of which the newest KEEP are kept. `verify` checks the log against the newest, so
events deleted from the end of the log (which leave a chain that is whole in itself) are found."""

import hashlib
import hmac
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.audit.chain import Head, head_of

log = logging.getLogger(__name__)
KEEP = 1440  # a day of the worker's one-a-minute checkpoints
PREFIX, SUFFIX = "checkpoint-", ".json"


class CheckpointError(Exception):
    """A checkpoint that cannot be trusted (not made with the audit key, unreadable), or one that would hide a
    broken chain."""


def _mac(body: dict, key: bytes) -> str:
    return hmac.new(key, json.dumps(body, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def newest(folder: Path, *, key: bytes) -> tuple[Head, Path] | None:
    """The newest checkpoint of the folder and its file, or None when there is none yet."""
    files = sorted(folder.glob(f"{PREFIX}*{SUFFIX}")) if folder.is_dir() else []
    if not files:
        return None
    path = files[-1]
    try:
        stored = json.loads(path.read_text())
        body = {k: stored[k] for k in ("events", "last_id", "last_hash", "at")}
        mac = stored["mac"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"checkpoint {path.name} cannot be read ({err})") from err
    if not hmac.compare_digest(mac, _mac(body, key)):
        raise CheckpointError(f"checkpoint {path.name} was not written with the audit key (its HMAC differs)")
    return Head(**body), path


def write(db: Session, *, folder: Path, key: bytes, keep: int | None = None) -> Head | None:
    """Write a checkpoint of the chain's head now (None: the log is empty, nothing to write). Refuses, leaving
    the newest checkpoint as the evidence, when the log no longer holds what that one saw."""
    head = head_of(db)
    if head is None:
        return None
    previous = newest(folder, key=key)
    if previous is not None and not _still(db, previous[0]):
        raise CheckpointError(
            f"the audit log no longer holds what checkpoint {previous[1].name} saw: run flowdesk audit verify"
        )
    now = datetime.now(UTC)
    body = {"events": head.events, "last_id": head.last_id, "last_hash": head.last_hash, "at": now.isoformat()}
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{head.last_id}{SUFFIX}"
    temporary = folder / f".{name}.tmp"
    with open(temporary, "w") as file:
        json.dump(body | {"mac": _mac(body, key)}, file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, folder / name)
    for old in sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))[: -(keep or KEEP)]:
        old.unlink(missing_ok=True)
    return Head(**body)


def _still(db: Session, seen: Head) -> bool:
    """Whether the log still holds the events a checkpoint saw, as it saw them (two indexed reads, not a walk)."""
    now = head_of(db, upto=seen.last_id)
    return now is not None and (now.events, now.last_id, now.last_hash) == (seen.events, seen.last_id, seen.last_hash)
