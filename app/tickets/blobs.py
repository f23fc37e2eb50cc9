"""Where the bytes of attachments live: a small store interface, content-addressed by sha256.

FLOWDESK_ATTACHMENT_STORE chooses the store: `database` (the default: the attachment_blob table, so every node
serves every file) or `directory:/a/path` (files under that folder, named by their hash, for a shared volume).
An object store fits the same two methods. Storing the same content twice keeps one copy.

A directory write happens before the request's transaction commits: a rolled-back upload can leave a file that
no attachment names, which is harmless (its name is its content) and never served.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.tickets.models import AttachmentBlob


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, db: Session, *, sha256: str, data: bytes) -> None:
        """Keep data under its hash (nothing happens if it is kept already)."""

    def get(self, db: Session, *, sha256: str) -> bytes:
        """The bytes kept under the hash; KeyError if there are none."""


class DatabaseStore:
    """Blobs as rows of attachment_blob, written in the request's transaction."""

    def put(self, db: Session, *, sha256: str, data: bytes) -> None:
        if db.get(AttachmentBlob, sha256) is not None:
            return
        try:
            with db.begin_nested():  # another node may store the same content at the same moment
                db.add(AttachmentBlob(sha256=sha256, size=len(data), data=data))
        except IntegrityError:
            pass  # it did: the content is kept either way

    def get(self, db: Session, *, sha256: str) -> bytes:
        blob = db.get(AttachmentBlob, sha256)
        if blob is None:
            raise KeyError(sha256)
        return blob.data


class DirectoryStore:
    """Blobs as files root/ab/cd/<hash>, each written to a temporary file and renamed into place."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise KeyError(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, db: Session, *, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)

    def get(self, db: Session, *, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as err:
            raise KeyError(sha256) from err


def configured_store() -> BlobStore:
    """The store FLOWDESK_ATTACHMENT_STORE names; ValueError names the setting when it is neither kind."""
    setting = os.environ.get("FLOWDESK_ATTACHMENT_STORE", "database").strip()
    if setting == "database":
        return DatabaseStore()
    kind, _, folder = setting.partition(":")
    if kind == "directory" and folder:
        return DirectoryStore(Path(folder))
    raise ValueError(f"FLOWDESK_ATTACHMENT_STORE is {setting!r}: use database or directory:/a/folder")
