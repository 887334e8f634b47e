"""Alembic, driven from code: the application migrates its own database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # '%' is alembic's interpolation character; URLs may contain it (escaped passwords).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def include_name_for(metadata: MetaData) -> Callable[[str | None, str, object], bool]:
    """Autogenerate's filter: skip schema objects the models list in ``metadata.info["unmanaged_names"]``
    (dialect-specific search structures a migration creates by hand, such as SQLite FTS5 tables).
    The models' metadata comes from the caller: storage sits below the workflows that define the models."""

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return name not in metadata.info.get("unmanaged_names", ())

    return include_name


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database schema to ``revision`` (the latest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
