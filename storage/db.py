"""Database engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(session: Session, entity: Any) -> PostgresInsert | SQLiteInsert:
    """An INSERT into ``entity`` with ``ON CONFLICT`` clauses (both backends have them), for the
    session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgres_insert(entity)
    return sqlite_insert(entity)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and serialised write transactions."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        if engine.url.database and engine.url.database != ":memory:":
            create_private_file(Path(engine.url.database))
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def create_private_file(path: Path) -> None:
    """Create ``path`` readable by this user alone (0600) unless it exists: an embedded database holds
    every account's password hash. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# The execution option of a reading transaction (``Database.reading_sessionmaker``): on SQLite it
# begins DEFERRED, without the write lock, and takes the lock only at its first write (see below).
READING = "kinderflow_reading"
# Connection.info keys: whether the transaction under way has only read so far, and what to call
# (in the request's worker thread) before it writes: the request takes its writer turn there.
_READING_TX = "kinderflow_reading_tx"
_BEFORE_WRITE = "kinderflow_before_write"
# SAVEPOINT counts as a write: a savepoint is opened to attempt a write, and it must be opened inside
# the write transaction (the snapshot ends at the first write, and a savepoint with it).
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|SAVEPOINT)\b", re.IGNORECASE)
_CTE_WRITES = re.compile(r"^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


def writes(statement: str) -> bool:
    """Whether an SQL statement changes the database (a statement a reading transaction must not
    run on SQLite's read snapshot)."""
    return bool(_WRITES.match(statement) or _CTE_WRITES.match(statement))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL: readers keep their snapshot while one writer appends; neither waits for the other.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.info.pop(_BEFORE_WRITE, None)
        if conn.get_execution_options().get(READING):
            # A reading transaction: a snapshot, no lock, whatever the writers are doing.
            conn.exec_driver_sql("BEGIN")
            conn.info[_READING_TX] = True
            return
        conn.info[_READING_TX] = False
        # IMMEDIATE takes the write lock up front: a deferred transaction that later writes can fail
        # with SQLITE_BUSY without waiting, which would turn honest concurrency into errors.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(_READING_TX) and writes(statement):
            _to_writing(conn)


def _to_writing(conn: Any) -> None:
    """A reading transaction's first write: it becomes a write transaction.

    SQLite cannot upgrade a snapshot that another connection has written past (SQLITE_BUSY at once,
    no waiting), so the reading transaction is ended (it has written nothing) and an IMMEDIATE one
    begun in its place, after the caller's ``before_write`` (a request takes its turn among the
    writers there). The reads before it were of the earlier snapshot: what they saw may have changed
    since, as if they had run in a transaction of their own; versioned rows still refuse a stale
    update. Routes that read to decide what to write are unsafe methods, which write from the start.
    """
    conn.info[_READING_TX] = False
    before_write = conn.info.pop(_BEFORE_WRITE, None)
    if before_write is not None:
        before_write()
    dbapi_connection = conn.connection.dbapi_connection
    dbapi_connection.execute("COMMIT")
    dbapi_connection.execute("BEGIN IMMEDIATE")


class Database:
    """The engine and session factory of one configured database."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # Write transactions: on SQLite they hold the write lock from their first statement.
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Reading transactions: on SQLite, a snapshot without a lock until the first write, if any.
        self.reading_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READING: True}), expire_on_commit=False
        )
        event.listen(self.reading_sessionmaker, "after_begin", _pass_before_write)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def reading_session(self) -> Iterator[Session]:
        """A reading session (see ``reading_sessionmaker``), rolled back at the end: nothing to keep."""
        with self.reading_sessionmaker() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def before_write(session: Session, callback: Callable[[], None]) -> None:
    """Have ``callback`` called (in the thread that writes) before a reading session's first write on
    SQLite: a request takes its writer turn there (``api.deps``). Once per transaction."""
    session.info[_BEFORE_WRITE] = callback


def _pass_before_write(session: Session, _transaction: Any, connection: Any) -> None:
    callback = session.info.get(_BEFORE_WRITE)
    if callback is not None:
        connection.info[_BEFORE_WRITE] = callback
