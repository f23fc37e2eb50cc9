"""Alembic, driven from code: `flowdesk db upgrade` and the tests use the same path."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.write_engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(database), revision)
