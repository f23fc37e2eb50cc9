"""Settings read from the environment (the only place configuration comes from)."""

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
