"""Shared set-up for the benchmarks: a fresh database (SQLite file or the local PostgreSQL) ready to use."""

import os
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import text

from app.config import normalise_database_url
from app.db import Database
from app.demo import seed
from app.engine import service as engine
from app.migrate import upgrade

PG_URL = os.environ.get("FLOWDESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str) -> Database:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="flowdesk-bench-")) / "bench.db"
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(normalise_database_url(PG_URL))
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(database)
    with database.unit_of_work() as db:
        engine.deploy_directory(db)
        seed(db)
    return database


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def percentile_ms(seconds: list[float], pct: float) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000, 2)
