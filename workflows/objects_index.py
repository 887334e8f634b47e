"""Which database columns hold object store keys: the orphan sweep keeps every object they name.

Areas register their key columns here (``register_object_column``), or a function yielding keys
kept elsewhere, such as inside JSON (``register_key_source``). As a safety net the sweep also keeps
the keys of every string column *named* like a key column (``object_key``, ``*_key``) that nobody
registered: a forgotten registration then costs disk space, never a deleted document. The test
``tests/faults/test_orphan_sweep.py`` fails on such an unregistered column, asking for a decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Column, String, Table, select, union_all
from sqlalchemy.orm import Session

KeySource = Callable[[Session], Iterable[str]]

_columns: set[tuple[str, str]] = set()
_sources: dict[str, KeySource] = {}
# Columns whose names look like key columns but hold something else.
NOT_OBJECT_KEYS: set[tuple[str, str]] = {("deadline_reminders", "deadline_key")}


def register_object_column(table: str, column: str) -> None:
    """Declare that ``table.column`` holds object store keys (NULL allowed)."""
    _columns.add((table, column))


def register_key_source(name: str, source: KeySource) -> None:
    """Declare a function that yields object keys stored in a form no column index can see."""
    _sources[name] = source


def registered_columns() -> set[tuple[str, str]]:
    return set(_columns)


def looks_like_key_column(column: Column[object]) -> bool:
    return isinstance(column.type, String) and (column.name == "object_key" or column.name.endswith("_key"))


def discovered_columns() -> set[tuple[str, str]]:
    """String columns of every model named like a key column, less the known exceptions."""
    from workflows.models import metadata  # noqa: PLC0415 - cycle: model modules register their key columns here

    return {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if looks_like_key_column(column) and (table.name, column.name) not in NOT_OBJECT_KEYS
    }


def referencing_columns() -> list[Column[object]]:
    """Every column whose values the sweep must keep: registered ones of existing tables, and discovered ones."""
    from workflows.models import metadata  # noqa: PLC0415 - cycle: model modules register their key columns here

    wanted = {pair for pair in _columns if pair[0] in metadata.tables} | discovered_columns()
    tables: dict[str, Table] = metadata.tables
    return [tables[table].c[column] for table, column in sorted(wanted)]


def referenced_keys(session: Session, prefix: str = "sha256/") -> set[str]:
    """Every object key under ``prefix`` that some row (or registered source) points at."""
    columns = referencing_columns()
    keys: set[str] = set()
    if columns:
        query = union_all(*(select(c.label("key")).where(c.like(f"{prefix}%")) for c in columns))
        keys.update(str(k) for k in session.scalars(query) if k)
    for source in _sources.values():
        keys.update(k for k in source(session) if k and k.startswith(prefix))
    return keys


def is_referenced(session: Session, key: str) -> bool:
    """True if any row (or registered source) points at ``key`` now."""
    for column in referencing_columns():
        if session.scalar(select(column).where(column == key).limit(1)) is not None:
            return True
    return any(key in set(source(session)) for source in _sources.values())


# The areas that existed when this index was written.
register_object_column("documents", "object_key")
register_object_column("application_attachments", "object_key")
register_object_column("kindergartens", "seal_key")
register_object_column("activity_materials", "object_key")
register_object_column("activity_bundles", "object_key")
