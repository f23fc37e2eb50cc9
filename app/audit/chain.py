"""The chain's arithmetic and its proof: the HMAC of an event (and the plain SHA-256 of the events written before
the chain was keyed), and `verify`, which walks the log against its HMACs and the newest checkpoint and names
the first event that is wrong and what happened to it."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent

GENESIS = "0" * 64
HMAC, PLAIN = "hmac", "sha256"  # the values of AuditEvent.hash_kind

# What the hash covers: every field of an event but its id, its own hash and how that was made.
CHAINED = (
    "at",
    "actor",
    "kind",
    "ticket",
    "instance_id",
    "process_id",
    "process_version",
    "element_id",
    "element_name",
    "changes",
    "public",
    "prev_hash",
)


def _body(fields: dict) -> bytes:
    body = {name: fields[name] for name in CHAINED} | {"at": fields["at"].astimezone(UTC).isoformat()}
    return json.dumps(body, sort_keys=True, default=str).encode()


def keyed_digest(fields: dict, key: bytes) -> str:
    """The hash of a new event: HMAC-SHA256 of its fields under the audit key."""
    return hmac.new(key, _body(fields), hashlib.sha256).hexdigest()


def plain_digest(fields: dict) -> str:
    """The hash events had before the chain was keyed (anyone with the database could recompute it)."""
    return hashlib.sha256(_body(fields)).hexdigest()


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""
    checkpoint: str = ""  # what the newest checkpoint said, for the summary line


@dataclass(frozen=True)
class Head:
    """A checkpoint's view of the chain: the number of events up to last_id, and last_id's hash."""

    events: int
    last_id: int
    last_hash: str
    at: str


def verify(db: Session, *, key: bytes, head: Head | None = None) -> ChainReport:
    """Walk the log in id order: each event follows the one before (prev_hash), its hash is its HMAC (or, before
    the first keyed event, its plain hash), and the chain still holds what the checkpoint head saw."""
    walk = _Walk(key=key, head=head)
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    for event in db.scalars(query):
        problem = walk.problem(db, event)
        if problem:
            return ChainReport(False, walk.checked, event.id, problem)
        walk.passed(event)
    if head is not None and walk.last_id < head.last_id:
        reason = (
            f"the log ends at event {walk.last_id or 'none'} but the checkpoint of {head.at} saw {head.events} events "
            f"up to event {head.last_id}: {head.events - walk.checked} events were deleted from its end (truncated)"
        )
        return ChainReport(False, walk.checked, head.last_id, reason)
    return ChainReport(True, walk.checked)


@dataclass
class _Walk:
    key: bytes
    head: Head | None
    previous: str = GENESIS
    checked: int = 0
    keyed: bool = False  # a keyed event was passed: no plain one may follow
    last_id: int = 0

    def passed(self, event: AuditEvent) -> None:
        self.keyed = self.keyed or event.hash_kind == HMAC
        self.previous, self.last_id, self.checked = event.hash, event.id, self.checked + 1

    def problem(self, db: Session, event: AuditEvent) -> str | None:
        """What is wrong with the next event of the walk, or None."""
        head = self.head
        if head is not None and self.last_id < head.last_id < event.id:
            return f"comes after event {head.last_id}, which the checkpoint of {head.at} saw and is missing"
        if event.prev_hash != self.previous:
            return _misplaced(db, event)
        if event.hash_kind == PLAIN and self.keyed:
            return "has a plain SHA-256 hash after keyed events: it was inserted or rewritten"
        if event.hash_kind not in (HMAC, PLAIN):
            return f"has an unknown hash kind {event.hash_kind!r}"
        fields = {name: getattr(event, name) for name in CHAINED}
        if event.hash != (keyed_digest(fields, self.key) if event.hash_kind == HMAC else plain_digest(fields)):
            return f"was changed after it was written (its {'HMAC' if event.hash_kind == HMAC else 'hash'} differs)"
        if (
            head is not None
            and event.id == head.last_id
            and (event.hash, self.checked + 1)
            != (
                head.last_hash,
                head.events,
            )
        ):
            return f"is not the event the checkpoint of {head.at} saw under this id: events were deleted or replaced"
        return None


def _misplaced(db: Session, event: AuditEvent) -> str:
    """Why an event does not follow the one before it: where the event it names as its predecessor is."""
    before = db.scalar(select(AuditEvent.id).where(AuditEvent.hash == event.prev_hash))
    if before is None:
        return (
            "does not follow the previous event: the event it follows is missing or it was forged (prev_hash differs)"
        )
    if before > event.id:
        return f"follows event {before}, which comes after it: events were reordered (prev_hash differs)"
    return f"follows event {before}, not the one before it: events were inserted or reordered (prev_hash differs)"


def head_of(db: Session, *, upto: int | None = None) -> Head | None:
    """The chain's head now, or as far as event upto (None while the log holds no such events); its `at` is
    left empty, for the caller to fill or compare with equal."""
    query = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    last = db.execute(query if upto is None else query.where(AuditEvent.id <= upto)).first()
    if last is None:
        return None
    count = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= last.id))
    return Head(events=count, last_id=last.id, last_hash=last.hash, at="")
