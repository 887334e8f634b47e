"""Alembic environment: the metadata of every model, one connection, batch mode on SQLite."""

from __future__ import annotations

from alembic import context

from storage.db import make_engine
from storage.migrate import include_name_for
from workflows.models import metadata

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("expected url")
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_name=include_name_for(metadata),
    )
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_sqlite_foreign_keys(connection)
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:  # type: ignore[no-untyped-def]
    """SQLite alters a table by rebuilding it (batch mode): with foreign keys enforced, dropping the old
    table counts every row that refers to it as a violation, and a table that others refer to cannot
    be altered once it holds rows. SQLite's documented procedure turns enforcement off for the schema
    change (outside a transaction, where the pragma takes effect) and checks every key before commit."""
    if connection.in_transaction():
        return  # a caller's transaction: the pragma would be ignored, leave enforcement as it is
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_sqlite_foreign_keys(connection) -> None:  # type: ignore[no-untyped-def]
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration leaves rows whose foreign keys name nothing: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `kinderflow migrate`")
run_migrations()
