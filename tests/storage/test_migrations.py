"""Migrations build the schema the models describe, and come down cleanly, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.db import make_engine
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from workflows.models import metadata


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_matches_models_and_downgrade_empties(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": False, "include_name": migrate.include_name_for(metadata)}
                ),
                metadata,
            )
        assert diff == [], diff
        assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
        engine.dispose()
        migrate.downgrade(url, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
    finally:
        discard_database_url(url)


def test_the_history_has_one_head():
    """Every area's migrations join one line, so ``alembic upgrade head`` means what it says."""
    assert len(migrate.current_heads()) == 1, migrate.current_heads()
