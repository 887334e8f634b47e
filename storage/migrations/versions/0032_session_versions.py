"""a session version per user: signing out, a password change or reset and deactivation end every session

Revision ID: 0032_session_versions
Revises: 0031_summary_exchange
Create Date: 2026-12-04 22:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_session_versions"
down_revision = '0031_summary_exchange'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
