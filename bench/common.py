"""Shared set-up for the benchmarks: a fresh database (SQLite file or the local PostgreSQL) ready to use, Flowdesk
under gunicorn on it, and the statistics they report."""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from app.config import normalise_database_url
from app.db import Database
from app.demo import seed
from app.engine import service as engine
from app.identity.service import create_token
from app.migrate import upgrade
from tools.cluster import free_port

BIN = Path(sys.executable).parent

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


def tokens_for(database: Database, *usernames: str) -> dict[str, str]:
    """A new API token for each of the demo users named."""
    with database.unit_of_work() as db:
        return {u: create_token(db, username=u) for u in usernames}


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def percentile_ms(seconds: list[float], pct: float) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000, 2)


@contextmanager
def gunicorn(url: str, *, workers: int) -> Iterator[int]:
    """Flowdesk under gunicorn (sync workers) on url's database, on a free loopback port, until the block ends."""
    port = free_port()
    env = dict(os.environ, FLOWDESK_DATABASE_URL=url.replace("+psycopg", ""), FLOWDESK_SECRET_KEY="bench")  # noqa: S106
    command = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--backlog", "2048"]
    server = subprocess.Popen(
        [*command, "app:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
