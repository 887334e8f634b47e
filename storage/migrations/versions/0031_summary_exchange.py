"""及交流工作 (经验交流): the section publishes an alliance's semester summary to every alliance

A semester work row keeps the document version published, when and by whom, and — once unpublished —
when, by whom and why.

Revision ID: 0031_summary_exchange
Revises: 0030_activity_guidance
Create Date: 2026-12-05 10:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.db


revision = '0031_summary_exchange'
down_revision = '0030_activity_guidance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('semester_works') as batch:
        batch.add_column(sa.Column('shared_document_id', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('shared_at', storage.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('shared_by_name', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('unshared_at', storage.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('unshared_by_name', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('unshare_reason', sa.Text(), nullable=False, server_default=''))
        batch.create_foreign_key(
            batch.f('fk_semester_works_shared_document_id_documents'), 'documents', ['shared_document_id'], ['id'],
            ondelete='RESTRICT',
        )


def downgrade() -> None:
    with op.batch_alter_table('semester_works') as batch:
        batch.drop_constraint(batch.f('fk_semester_works_shared_document_id_documents'), type_='foreignkey')
        for column in ('unshare_reason', 'unshared_by_name', 'unshared_at', 'shared_by_name', 'shared_at',
                       'shared_document_id'):
            batch.drop_column(column)
