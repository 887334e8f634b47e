"""Fixtures of the fault tests: a PostgreSQL database of their own and a private Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, inspect

from storage import migrate
from storage.db import Database
from storage.runtime import Runtime
from storage.settings import Settings
from storage.stores import build_object_store
from tests.faults.services import RedisServer
from tests.fixtures.database import create_postgres_database, drop_postgres_database
from workflows.models import metadata


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


def empty_tables(database: Database) -> None:
    present = set(inspect(database.engine).get_table_names())
    with database.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in present:
                conn.execute(delete(table))


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    """An empty, migrated PostgreSQL database (worker processes reach it by URL)."""
    database = Database(pg_url)
    empty_tables(database)
    yield database
    empty_tables(database)
    database.dispose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def full_runtime(db: Database, folder: Path, broker_url: str, **overrides: object) -> Runtime:
    """A full-mode runtime of the test process: PostgreSQL, a local object folder, a Celery broker."""
    values: dict[str, object] = {
        "demo": True,
        "var_dir": folder,
        "database_url": db.url,
        "object_store": (folder / "objects").as_posix(),
        "broker_url": broker_url,
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    return Runtime(settings=settings, db=db, objects=build_object_store(settings))
