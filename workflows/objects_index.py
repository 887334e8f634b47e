"""Which database columns hold object store keys: the orphan sweep keeps every object they name.

A model marks its key columns where it declares them: ``object_key_column(200)`` is
``mapped_column(String(200), info={"object_key": True})`` — the database type stays a plain VARCHAR, so
migrations do not change. The index finds the marked columns by walking the SQLAlchemy metadata
(``marked_columns``); nothing registers at import time. Keys kept where no column shows them, such as
inside JSON, come from a function registered with ``register_key_source``.

As a safety net the sweep also keeps the keys of every string column *named* like a key column
(``object_key``, ``*_key``) that carries no marker: a forgotten marker then costs disk space, never a
deleted document. ``tests/faults/test_orphan_sweep.py`` fails on such an unmarked column, asking for a
decision: mark it, or list it in ``NOT_OBJECT_KEYS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Column, MetaData, String, select, union_all
from sqlalchemy.orm import Session, mapped_column

KeySource = Callable[[Session], Iterable[str]]

# The Column.info flag of a column that holds object store keys.
OBJECT_KEY = "object_key"
_sources: dict[str, KeySource] = {}
# Columns whose names look like key columns but hold something else.
NOT_OBJECT_KEYS: set[tuple[str, str]] = {("deadline_reminders", "deadline_key")}


def object_key_column(length: int = 200, **kwargs: Any) -> Any:
    """A string column holding object store keys (NULL allowed if the annotation says so)."""
    info = {**kwargs.pop("info", {}), OBJECT_KEY: True}
    return mapped_column(String(length), info=info, **kwargs)


def register_key_source(name: str, source: KeySource) -> None:
    """Declare a function that yields object keys stored in a form no column index can see (e.g. JSON)."""
    _sources[name] = source


def _metadata(metadata: MetaData | None) -> MetaData:
    if metadata is not None:
        return metadata
    from workflows.models import metadata as every_model  # noqa: PLC0415 - cycle: the models import object_key_column from here

    return every_model


def is_marked(column: Column[Any]) -> bool:
    return bool(column.info.get(OBJECT_KEY))


def looks_like_key_column(column: Column[Any]) -> bool:
    return isinstance(column.type, String) and (column.name == "object_key" or column.name.endswith("_key"))


def marked_columns(metadata: MetaData | None = None) -> set[tuple[str, str]]:
    """Every (table, column) of the models marked as holding object store keys."""
    return {
        (table.name, column.name)
        for table in _metadata(metadata).sorted_tables
        for column in table.columns
        if is_marked(column)
    }


def unmarked_key_like_columns(metadata: MetaData | None = None) -> set[tuple[str, str]]:
    """String columns named like key columns that carry no marker, less the known exceptions."""
    return {
        (table.name, column.name)
        for table in _metadata(metadata).sorted_tables
        for column in table.columns
        if looks_like_key_column(column) and not is_marked(column) and (table.name, column.name) not in NOT_OBJECT_KEYS
    }


def referencing_columns(metadata: MetaData | None = None) -> list[Column[Any]]:
    """Every column whose values the sweep must keep: the marked ones, and the unmarked key-like ones."""
    tables = _metadata(metadata).tables
    wanted = marked_columns(metadata) | unmarked_key_like_columns(metadata)
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
