"""accounts: a password chosen by someone else must be changed at the next sign-in

Revision ID: 0012_accounts
Revises: 0011_teacher_roster
Create Date: 2026-12-06 09:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012_accounts'
down_revision = '0011_teacher_roster'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('must_change_password')
