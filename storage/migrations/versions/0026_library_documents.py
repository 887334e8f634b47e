"""library documents not tied to an activity (管理制度、课程)

``library_items`` may now hold a document uploaded on its own: no material, no activity, and no
alliance when it is meant for the whole district; domain and activity format are optional. A check
constraint keeps a promoted material tied to its activity and alliance.

On SQLite the columns are changed by rebuilding the table, which drops the triggers that keep the
FTS5 table ``library_fts`` in step (0009): they are created again, and the index refilled from
``search_tokens``, after the rebuild in both directions.

Downgrade refuses while uploaded documents exist: the schema before cannot hold them.

Revision ID: 0026_library_documents
Revises: 0025_channel_alliances
Create Date: 2026-12-06 10:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0026_library_documents'
down_revision = '0025_channel_alliances'
branch_labels = None
depends_on = None

ORIGIN = (
    "(material_id IS NULL AND activity_id IS NULL)"
    " OR (material_id IS NOT NULL AND activity_id IS NOT NULL AND alliance_id IS NOT NULL)"
)
NULLABLE = (
    ('material_id', sa.Uuid()),
    ('activity_id', sa.Uuid()),
    ('alliance_id', sa.Uuid()),
    ('domain', sa.String(length=8)),
    ('format', sa.String(length=8)),
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER library_items_fts_insert AFTER INSERT ON library_items BEGIN
        INSERT INTO library_fts(item_id, tokens) VALUES (new.id, new.search_tokens);
    END""",
    """CREATE TRIGGER library_items_fts_update AFTER UPDATE OF search_tokens ON library_items BEGIN
        DELETE FROM library_fts WHERE item_id = old.id;
        INSERT INTO library_fts(item_id, tokens) VALUES (new.id, new.search_tokens);
    END""",
    """CREATE TRIGGER library_items_fts_delete AFTER DELETE ON library_items BEGIN
        DELETE FROM library_fts WHERE item_id = old.id;
    END""",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _recreate_sqlite_search() -> None:
    """The rebuilt table has no triggers: create them again and refill the index from the rows."""
    if not _sqlite():
        return
    for trigger in ('insert', 'update', 'delete'):
        op.execute(f"DROP TRIGGER IF EXISTS library_items_fts_{trigger}")
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute("DELETE FROM library_fts")
    op.execute("INSERT INTO library_fts(item_id, tokens) SELECT id, search_tokens FROM library_items")


def upgrade() -> None:
    with op.batch_alter_table('library_items', schema=None, recreate='auto') as batch_op:
        for name, type_ in NULLABLE:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
        batch_op.create_check_constraint(op.f('ck_library_items_origin'), ORIGIN)
    _recreate_sqlite_search()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT count(*) FROM library_items WHERE material_id IS NULL")):
        raise RuntimeError("uploaded library documents exist: the schema before 0026 cannot hold them")
    with op.batch_alter_table('library_items', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_library_items_origin'), type_='check')
        for name, type_ in NULLABLE:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
    _recreate_sqlite_search()
