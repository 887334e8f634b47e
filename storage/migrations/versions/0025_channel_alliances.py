"""notification channels per alliance: a group robot or mailing list belongs to one alliance (its
notices only) or to the district (every notice); existing channels stay the district's

Revision ID: 0025_channel_alliances
Revises: 0024_service_areas_decisions
Create Date: 2026-12-04 22:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0025_channel_alliances'
down_revision = '0024_service_areas_decisions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_configs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alliance_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_channel_configs_alliance_id'), ['alliance_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_channel_configs_alliance_id_alliances'), 'alliances', ['alliance_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    with op.batch_alter_table('channel_configs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_channel_configs_alliance_id_alliances'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_channel_configs_alliance_id'))
        batch_op.drop_column('alliance_id')
