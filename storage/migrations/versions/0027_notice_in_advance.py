"""提前通报: each semester's notice period, and the section's leave for a late announcement

Semesters get the number of days an activity must be announced before it starts (3 unless the office
sets another, never less than 1). An activity announced later than that needs the section's leave: who
gave it, when and why are kept, and the activity is marked as announced late (未提前通报).

Revision ID: 0027_notice_in_advance
Revises: 0026_library_documents
Create Date: 2026-12-04 22:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.db


revision = '0027_notice_in_advance'
down_revision = '0026_library_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('semesters') as batch:
        batch.add_column(sa.Column('notice_days', sa.Integer(), nullable=False, server_default='3'))
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('announced_late', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('late_notice_reason', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('late_notice_allowed_by', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('late_notice_allowed_at', storage.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('late_notice_allowed_at')
        batch.drop_column('late_notice_allowed_by')
        batch.drop_column('late_notice_reason')
        batch.drop_column('announced_late')
    with op.batch_alter_table('semesters') as batch:
        batch.drop_column('notice_days')
