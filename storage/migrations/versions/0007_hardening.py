"""hardening: receipts of outbox tasks that ran to the end

Revision ID: 0007_hardening
Revises: 0002
Create Date: 2026-11-29 03:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.db


revision = '0007_hardening'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_receipts',
    sa.Column('outbox_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('completed_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('outbox_id', 'task', name=op.f('pk_outbox_receipts'))
    )


def downgrade() -> None:
    op.drop_table('outbox_receipts')
