"""Settings read from the environment (the only place configuration comes from), and the audit chain's key and
checkpoint folder derived from them."""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = PROJECT_ROOT / "instance" / "flowdesk.db"


def normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and pick the driver Flowdesk ships with (psycopg 3)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    base_url: str
    smtp_url: str | None
    testing: bool = False

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        url = os.environ.get("FLOWDESK_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
        values = {
            "database_url": normalise_database_url(url),
            # A random key still works for one process; production sets FLOWDESK_SECRET_KEY for all nodes.
            "secret_key": os.environ.get("FLOWDESK_SECRET_KEY") or secrets.token_hex(32),
            "base_url": os.environ.get("FLOWDESK_BASE_URL", "http://127.0.0.1:5000"),
            "smtp_url": os.environ.get("FLOWDESK_SMTP_URL"),
        }
        values.update({k: (normalise_database_url(v) if k == "database_url" else v) for k, v in overrides.items()})
        return cls(**values)


AUDIT_KEY_FILE = PROJECT_ROOT / "instance" / "audit.key"


def audit_key() -> bytes:
    """The audit chain's HMAC key: FLOWDESK_AUDIT_KEY; else derived from FLOWDESK_SECRET_KEY (HMAC-SHA256 of
    "flowdesk-audit" under it); else, for a development machine that sets neither, a random key kept in
    instance/audit.key (created once, readable by its owner only). The key never lives in the database."""
    configured = os.environ.get("FLOWDESK_AUDIT_KEY")
    if configured:
        return configured.encode()
    secret = os.environ.get("FLOWDESK_SECRET_KEY")
    if secret:
        return hmac.new(secret.encode(), b"flowdesk-audit", hashlib.sha256).digest()
    return _key_file(AUDIT_KEY_FILE)


def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()  # another process made it first
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def audit_checkpoints(database_url: str) -> Path:
    """The folder of the audit chain's checkpoints: FLOWDESK_AUDIT_CHECKPOINTS; else beside an SQLite database
    file (`<file>.audit-checkpoints`); else (PostgreSQL, an in-memory SQLite) instance/audit-checkpoints."""
    configured = os.environ.get("FLOWDESK_AUDIT_CHECKPOINTS")
    if configured:
        return Path(configured)
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        file = Path(database_url.removeprefix("sqlite:///"))
        return file.with_name(file.name + ".audit-checkpoints")
    return PROJECT_ROOT / "instance" / "audit-checkpoints"
