"""SQLite transactions: writers take the write lock at their first statement, readers never do.

A reading transaction (``Database.reading_sessionmaker``) reads a WAL snapshot without any lock, so
it neither waits for a writer nor holds one up; should it write after all, it waits for its turn
then (``before_write``) and writes in a write transaction of its own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update

from storage.db import Database, before_write, writes

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}")
    metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(insert(rows), [{"id": n, "name": f"row {n}"} for n in range(1, 6)])
    yield db
    db.dispose()


def _raw(database: Database) -> sqlite3.Connection:
    """A connection of another process's kind: no pool, no events, a short busy timeout."""
    assert database.engine.url.database
    return sqlite3.connect(database.engine.url.database, timeout=0.2, isolation_level=None, check_same_thread=False)


def test_statements_that_write_are_told_from_those_that_read() -> None:
    for statement in ("INSERT INTO t VALUES (1)", " update t set a=1", "DELETE FROM t", "REPLACE INTO t VALUES (1)",
                      "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "CREATE TABLE u (a)"):  # fmt: skip
        assert writes(statement), statement
    for statement in (
        "SELECT * FROM updates",
        "select 1",
        "PRAGMA foreign_keys",
        "BEGIN",
        "WITH x AS (SELECT 1) SELECT * FROM x",
    ):
        assert not writes(statement), statement


def test_a_reading_transaction_holds_no_lock_while_a_writer_commits(database: Database) -> None:
    with database.reading_session() as reading:
        assert reading.scalar(select(func.count()).select_from(rows)) == 5
        other = _raw(database)
        other.execute("BEGIN IMMEDIATE")  # would time out (0.2 s) if the reader held the write lock
        other.execute("UPDATE rows SET name = 'changed' WHERE id = 1")
        other.execute("COMMIT")
        # Still its snapshot: the reader does not see the change it did not wait for.
        assert reading.scalar(select(rows.c.name).where(rows.c.id == 1)) == "row 1"
        other.close()


def test_a_writing_transaction_holds_the_write_lock_from_its_first_statement(database: Database) -> None:
    with database.session() as writing:
        writing.scalar(select(func.count()).select_from(rows))
        other = _raw(database)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_a_reader_that_writes_takes_its_turn_then_and_writes_past_a_newer_snapshot(database: Database) -> None:
    turns: list[str] = []
    with database.reading_sessionmaker() as reading:
        before_write(reading, lambda: turns.append("turn"))
        assert reading.scalar(select(rows.c.name).where(rows.c.id == 1)) == "row 1"
        other = _raw(database)
        other.execute("UPDATE rows SET name = 'by another' WHERE id = 2")  # past the reader's snapshot
        other.close()
        assert turns == []
        # A plain SQLite upgrade would fail at once (SQLITE_BUSY_SNAPSHOT); this one begins anew.
        reading.execute(update(rows).where(rows.c.id == 3).values(name="by the reader"))
        reading.execute(insert(rows).values(id=6, name="row 6"))
        assert turns == ["turn"]  # once per transaction, at its first write
        # Now a write transaction: it holds the lock and sees the other's committed change.
        assert reading.scalar(select(rows.c.name).where(rows.c.id == 2)) == "by another"
        locked_out = _raw(database)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            locked_out.execute("BEGIN IMMEDIATE")
        locked_out.close()
        reading.commit()
    with database.session() as check:
        assert dict(check.execute(select(rows.c.id, rows.c.name)).all())[3] == "by the reader"
        assert check.scalar(select(func.count()).select_from(rows)) == 6


def test_a_reader_writing_with_a_half_read_result_open(database: Database) -> None:
    with database.reading_sessionmaker() as reading:
        result = reading.execute(select(rows.c.id).order_by(rows.c.id))
        assert result.fetchone() == (1,)
        reading.execute(update(rows).where(rows.c.id == 1).values(name="changed"))
        assert [r[0] for r in result.fetchall()] == [2, 3, 4, 5]
        reading.commit()
    with database.session() as check:
        assert check.scalar(select(rows.c.name).where(rows.c.id == 1)) == "changed"


def test_a_reader_that_only_reads_never_waits_for_a_writer_holding_the_lock(database: Database) -> None:
    holder = _raw(database)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE rows SET name = 'uncommitted' WHERE id = 1")
    began = time.monotonic()
    with database.reading_session() as reading:
        assert reading.scalar(select(rows.c.name).where(rows.c.id == 1)) == "row 1"
    assert time.monotonic() - began < 1
    holder.execute("ROLLBACK")
    holder.close()


def test_a_reader_writing_waits_for_the_lock_like_any_writer(database: Database) -> None:
    holder = _raw(database)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE rows SET name = 'first' WHERE id = 1")
    released = threading.Event()

    def release() -> None:
        time.sleep(0.3)
        holder.execute("COMMIT")
        released.set()

    thread = threading.Thread(target=release)
    with database.reading_sessionmaker() as reading:
        reading.scalar(select(rows.c.name).where(rows.c.id == 1))
        thread.start()
        reading.execute(text("UPDATE rows SET name = name || ', then the reader' WHERE id = 1"))
        assert released.is_set()
        reading.commit()
    thread.join()
    holder.close()
    with database.session() as check:
        assert check.scalar(select(rows.c.name).where(rows.c.id == 1)) == "first, then the reader"


def test_a_reader_that_writes_inside_a_savepoint_keeps_it(database: Database) -> None:
    """A savepoint opened to try a write (get-or-create) is opened in the write transaction: the
    snapshot ends before it, not between it and its release ("no such savepoint")."""
    assert writes("SAVEPOINT sa_savepoint_1")
    with database.reading_session() as reading:
        assert reading.scalar(select(func.count()).select_from(rows)) == 5
        with reading.begin_nested():
            reading.execute(insert(rows).values(id=7, name="in a savepoint"))
        reading.commit()
    with database.reading_session() as check:
        assert check.scalar(select(rows.c.name).where(rows.c.id == 7)) == "in a savepoint"
