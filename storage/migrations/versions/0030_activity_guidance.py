"""教研员深入各联盟: the researcher and mentors recorded at an activity as 指导

An activity's attendance gets rows with the role ``guidance``: a mentor by their teacher, or the
district researcher by their account (``user_id``, at most once per activity).

Revision ID: 0030_activity_guidance
Revises: 0029_sign_in_by_qr
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0030_activity_guidance'
down_revision = '0029_sign_in_by_qr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activity_participants') as batch:
        batch.add_column(sa.Column('user_id', sa.Uuid(), nullable=True))
        batch.create_index(batch.f('ix_activity_participants_user_id'), ['user_id'], unique=False)
        batch.create_foreign_key(
            batch.f('fk_activity_participants_user_id_users'), 'users', ['user_id'], ['id'], ondelete='RESTRICT'
        )
        batch.create_unique_constraint('uq_activity_participants_activity_user', ['activity_id', 'user_id'])


def downgrade() -> None:
    with op.batch_alter_table('activity_participants') as batch:
        batch.drop_constraint('uq_activity_participants_activity_user', type_='unique')
        batch.drop_constraint(batch.f('fk_activity_participants_user_id_users'), type_='foreignkey')
        batch.drop_index(batch.f('ix_activity_participants_user_id'))
        batch.drop_column('user_id')
