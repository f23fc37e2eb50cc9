"""Files attached to tickets: who may attach and read which, the size limits per file and per ticket, the type
read from the content, the file name made harmless, and the audit event that carries each upload's hash.

An internal attachment is hidden from the requester like an internal work note; a file nobody may see is
NotFound, the same answer as a file that does not exist. The bytes go to the configured store (blobs.py).
"""

import os
import unicodedata
from typing import BinaryIO

import magic
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Forbidden, NotFound, TooLarge, ValidationFailed
from app.identity.service import Principal
from app.tickets import blobs, journal
from app.tickets.access import can_see, get_ticket, sees_internal
from app.tickets.models import Attachment, Ticket

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # per file: FLOWDESK_ATTACHMENT_MAX_BYTES
DEFAULT_TICKET_MAX_BYTES = 100 * 1024 * 1024  # all the files of one ticket: FLOWDESK_ATTACHMENT_TICKET_MAX_BYTES
MOST_FILES_AT_ONCE = 10  # one form (the portal's, a comment's) sends at most this many
NAME_LIMIT = 255
VISIBILITIES = ("public", "internal")
# Types a browser would run or render if it were ever asked to show one: served as bare bytes all the same.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} is {value!r}: give a number of bytes")
    return int(value)


def max_bytes() -> int:
    return _setting("FLOWDESK_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES)


def ticket_max_bytes() -> int:
    return _setting("FLOWDESK_ATTACHMENT_TICKET_MAX_BYTES", DEFAULT_TICKET_MAX_BYTES)


def check_settings() -> None:
    """Read the attachment settings once at start: a bad one stops the server with its name, not a request."""
    max_bytes()
    ticket_max_bytes()
    blobs.configured_store()


def request_limit() -> int:
    """The largest request body a form with files may send (the files and their form around them)."""
    return max_bytes() * MOST_FILES_AT_ONCE + 1024 * 1024


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        _("The file is larger than %(mb)s MB, the limit for one file.", mb=round(limit / 1024 / 1024, 1)),
        {"file": [_("Choose a file of at most %(bytes)s bytes.", bytes=limit)]},
    )


def read_limited(stream: BinaryIO) -> bytes:
    """The bytes of an uploaded file; TooLarge as soon as there are more than one file may hold."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def clean_filename(name: str | None) -> str:
    """The file's own name, without any folder, control or direction-changing character, at most 255
    characters (the extension kept); "attachment" when nothing is left."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "attachment"
    if len(name) > NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            return f"{stem[: NAME_LIMIT - len(extension) - 1]}.{extension}"
        return name[:NAME_LIMIT]
    return name


def detect_type(data: bytes) -> str:
    """The media type the bytes are (libmagic reads the first MiB), whatever the name says."""
    try:
        detected = magic.from_buffer(data[: 1024 * 1024], mime=True)
    except magic.MagicException:
        return "application/octet-stream"
    return detected[:127] if detected and "/" in detected else "application/octet-stream"


def served_type(content_type: str) -> str:
    return "application/octet-stream" if content_type in ACTIVE_TYPES else content_type


def may_attach(db: Session, *, user: Principal, number: str, visibility: str) -> Ticket:
    """The ticket, if the user may attach files of that visibility to it; NotFound, Forbidden or
    ValidationFailed (visibility) otherwise."""
    ticket = get_ticket(db, user=user, number=number)
    if visibility not in VISIBILITIES:
        raise ValidationFailed(_("visibility is public or internal"), {"visibility": [_("Choose public or internal.")]})
    if visibility == "internal" and not user.is_agent:
        raise Forbidden(_("Only agents attach internal files."))
    if not (user.is_agent or ticket.requester == user.username):
        raise Forbidden(_("Only the requester and agents attach files to a ticket."))
    return ticket


_USED = select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.ticket_id == bindparam("ticket_id"))


def add_attachment(
    db: Session,
    *,
    user: Principal,
    number: str,
    filename: str | None,
    data: bytes,
    visibility: str = "public",
    comment_id: int | None = None,
) -> Attachment:
    ticket = may_attach(db, user=user, number=number, visibility=visibility)
    if not data:
        raise ValidationFailed(_("The file is empty."), {"file": [_("Choose a file that has content.")]})
    if len(data) > max_bytes():
        raise _too_large(max_bytes())
    room = ticket_max_bytes() - db.scalar(_USED, {"ticket_id": ticket.id})
    if len(data) > room:
        raise TooLarge(
            _("%(number)s has no room left for this file: its attachments are limited.", number=ticket.number),
            {"file": [_("At most %(bytes)s more bytes fit on this ticket.", bytes=max(room, 0))]},
        )
    sha256 = blobs.digest(data)
    blobs.configured_store().put(db, sha256=sha256, data=data)
    attachment = Attachment(
        ticket_id=ticket.id,
        comment_id=comment_id,
        filename=clean_filename(filename),
        size=len(data),
        content_type=detect_type(data),
        sha256=sha256,
        visibility=visibility,
        author=user.username,
        at=utcnow(),
    )
    db.add(attachment)
    db.flush()
    journal.record(
        db,
        ticket,
        kind="attachment_added",
        actor=user.username,
        public=visibility == "public",
        changes={
            k: [None, getattr(attachment, k)]
            for k in ("filename", "size", "content_type", "sha256", "visibility", "comment_id")
        }
        | {"attachment": [None, attachment.id]},
    )
    ticket.updated_at = utcnow()
    return attachment


def _visible(query, user: Principal):
    return query if sees_internal(user) else query.where(Attachment.visibility == "public")


def attachments(db: Session, *, user: Principal, number: str) -> list[Attachment]:
    """A ticket's attachments the user may see, oldest first."""
    ticket = get_ticket(db, user=user, number=number)
    query = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.at, Attachment.id)
    return list(db.scalars(_visible(query, user)))


def counts(db: Session, *, user: Principal, ticket_ids: list[int]) -> dict[int, int]:
    """How many attachments the user may see on each of the tickets (one query for a page)."""
    if not ticket_ids:
        return {}
    query = (
        select(Attachment.ticket_id, func.count())
        .where(Attachment.ticket_id.in_(ticket_ids))
        .group_by(Attachment.ticket_id)
    )
    return {ticket_id: count for ticket_id, count in db.execute(_visible(query, user))}


def open_attachment(db: Session, *, user: Principal, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for whoever may see it; NotFound for anyone else."""
    attachment = db.get(Attachment, attachment_id)
    ticket = db.get(Ticket, attachment.ticket_id) if attachment else None
    if (
        attachment is None
        or ticket is None
        or not can_see(user, ticket, db)
        or (attachment.visibility == "internal" and not sees_internal(user))
    ):
        raise NotFound(_("There is no attachment %(id)s.", id=attachment_id))
    try:
        data = blobs.configured_store().get(db, sha256=attachment.sha256)
    except KeyError as err:
        raise NotFound(_("The content of attachment %(id)s is missing from the store.", id=attachment_id)) from err
    return attachment, data
