"""Database engines, sessions and the declarative base shared by every domain's models.

Two session factories exist on purpose: `reader()` for requests that only read, `writer()` for units
of work that change state. On SQLite a writer begins with BEGIN IMMEDIATE, so two writers queue on
the database lock instead of failing half-way; on PostgreSQL both are plain transactions and the
engine package locks the instance row it runs (SELECT ... FOR UPDATE).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app import text_search

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


READ_ONLY = "read_only"  # in a session's info: made by Database.reader()
# A pooled PostgreSQL connection idle for longer than this is tested before it is lent again (one round trip).
# One in steady use is not: it answered less than this ago, and a database that went away since fails the
# request as it would have failed a moment later anyway.
PING_AFTER_IDLE = 1.0  # seconds


# The unique keys whose violation means two transactions did the same thing at once (a lost race, HTTP 409):
# the first ticket of a kind numbered twice, a ticket followed twice, an alert opened twice, a version deployed
# twice. Any other integrity error is a defect and is not dressed up as a race.
RACE_KEYS = frozenset(
    {
        "pk_ticket_counter",
        "uq_ticket_watcher",
        "uq_alert_link_open_fingerprint",
        "uq_process_definition_process_id",
        "uq_saved_view_owner_name",
    }
)


def lost_race(error: exc.IntegrityError) -> bool:
    """Whether the integrity error is the violation of a key in RACE_KEYS (PostgreSQL names the constraint;
    SQLite names the table and columns of a unique key)."""
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name is not None:
        return name in RACE_KEYS
    message = str(error.orig)
    if not message.startswith("UNIQUE constraint failed: "):
        return False
    return message.removeprefix("UNIQUE constraint failed: ") in _sqlite_race_keys()


def _sqlite_race_keys() -> set[str]:
    """How SQLite names the race keys: "table.column, table.column"."""
    keys = set()
    for table in Base.metadata.tables.values():
        for key in [*table.constraints, *table.indexes]:
            if key.name in RACE_KEYS:
                keys.add(", ".join(f"{table.name}.{column.name}" for column in key.columns))
    return keys


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """The engines and session factories of one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.engine = _sqlite_engine(url, immediate=False)
            self.write_engine = _sqlite_engine(url, immediate=True)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20)
            _ping_when_idle(self.engine)
            self.write_engine = self.engine
        # A reader that tries to write is refused before anything reaches the database, so it may end with a
        # COMMIT: a ROLLBACK would make the PostgreSQL driver drop every statement it has prepared.
        self._reader = sessionmaker(self.engine, expire_on_commit=False, info={READ_ONLY: True})
        event.listen(self._reader, "before_flush", _refuse_writes)
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def factories(self) -> tuple[sessionmaker, sessionmaker]:
        """The readers' and the writers' session factories (where the app registers its commit hooks)."""
        return self._reader, self._writer

    def reader(self) -> Session:
        return self._reader()

    def writer(self) -> Session:
        return self._writer()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: commit when the block ends, roll back on any error."""
        session = self.writer()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session for the block, ended by end()."""
        session = self.reader()
        try:
            yield session
        finally:
            self.end(session)

    @staticmethod
    def end(session: Session) -> None:
        """Close a session: a reader's transaction is committed (it wrote nothing), a writer's rolled back
        unless it was committed already."""
        if session.info.get(READ_ONLY):
            try:
                session.commit()
            except Exception:  # noqa: BLE001 - a failed read transaction has nothing to keep
                session.rollback()
        else:
            session.rollback()
        session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before lending it only if it sat idle: after a database restart the dead
    connections are found and replaced before a request sees them, without a round trip for every request of
    a busy node (what pool_pre_ping costs)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            if engine.dialect.is_disconnect(err, dbapi_connection, None):
                raise exc.DisconnectionError(str(err)) from err  # the pool replaces it and checks out again
            raise


def _refuse_writes(session: Session, _context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only session was asked to write; use a writer")


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        text_search.register_sqlite_functions(dbapi_conn)  # the search index's triggers stem what they index

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
