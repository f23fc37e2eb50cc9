"""Shared set-up for the benchmarks: a fresh database (SQLite file or the local PostgreSQL) ready to use, Flowdesk
under gunicorn on it, a visitor that talks HTTP to it, and the statistics they report."""

import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text

from app import engine
from app.config import normalise_database_url
from app.db import Database
from app.demo import DEMO_PASSWORD, seed
from app.identity.service import create_token
from app.migrate import upgrade
from app.wiring import open_database
from tools.cluster import free_port

BIN = Path(sys.executable).parent

PG_URL = os.environ.get("FLOWDESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str) -> Database:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="flowdesk-bench-")) / "bench.db"
        database = open_database(f"sqlite:///{path}")
    else:
        database = open_database(normalise_database_url(PG_URL))
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


def wait_until_up(port: int, *, seconds: float = 30) -> None:
    """Until Flowdesk on port answers its health check (or the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(*, group: int | None = None, command: str | None = None) -> float:
    """CPU time (user and system) used so far by the live processes of a process group, or of a command name
    (postgres: the server and its backends)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                head, _, tail = stat.read().rpartition(")")
        except OSError:  # gone since the listing
            continue
        fields = tail.split()  # state, ppid, pgrp, ..., utime (12th), stime (13th)
        if (group is not None and int(fields[2]) == group) or (command is not None and head.endswith(f"({command}")):
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


@contextmanager
def gunicorn(url: str, *, workers: int) -> Iterator[tuple[int, int]]:
    """Flowdesk under gunicorn (sync workers) on url's database, on a free loopback port, until the block ends:
    the port, and the process group of the server and its workers."""
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
        wait_until_up(port)
        yield port, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


class Visitor:
    """A signed-in browser (cookie and CSRF token) or an API client (bearer token)."""

    def __init__(self, port: int, token: str | None = None):
        self.port, self.token, self.cookies = port, token, {}

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        return self._send("GET", path, None, headers or {})

    def _send(self, method: str, path: str, body: str | None, headers: dict) -> tuple[int, bytes]:
        headers = dict(headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            answer = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        finally:
            connection.close()
        return response.status, answer

    def json(self, method: str, path: str, body: dict | None = None) -> dict | list:
        """An API call that must succeed; its answer decoded."""
        headers = {"Content-Type": "application/json"}
        status, answer = self._send(method, path, json.dumps(body) if body is not None else None, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
        return json.loads(answer)

    def sign_in(self, username: str) -> None:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        form = urlencode({"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
        status, _ = self._send("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"sign-in as {username}: {status}")
