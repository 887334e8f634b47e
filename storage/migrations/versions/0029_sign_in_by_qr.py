"""扫码签到: each activity's sign-in token, and the time a participant signed in on their phone

The sign-in sheet's QR code opens a page for the activity's participants; its address carries a random
token of the activity (not its id, which any member sees). Existing activities get one here. A
participant who signs in on that page gets the time on their attendance (``self_signed_at``, kept apart
from ``signed_at`` so the organiser's record from the paper sheet never loses it).

Revision ID: 0029_sign_in_by_qr
Revises: 0028_mentors_certificates
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

import secrets

from alembic import op
import sqlalchemy as sa
import storage.db


revision = '0029_sign_in_by_qr'
down_revision = '0028_mentors_certificates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('sign_in_token', sa.String(length=32), nullable=True))
    activities = sa.table('activities', sa.column('id'), sa.column('sign_in_token'))
    bind = op.get_bind()
    for (activity_id,) in bind.execute(sa.select(activities.c.id)).all():
        bind.execute(
            activities.update()
            .where(activities.c.id == activity_id)
            .values(sign_in_token=secrets.token_urlsafe(18))
        )
    with op.batch_alter_table('activities') as batch:
        batch.alter_column('sign_in_token', existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint('uq_activities_sign_in_token', ['sign_in_token'])
    with op.batch_alter_table('activity_participants') as batch:
        batch.add_column(sa.Column('self_signed_at', storage.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('activity_participants') as batch:
        batch.drop_column('self_signed_at')
    with op.batch_alter_table('activities') as batch:
        batch.drop_constraint('uq_activities_sign_in_token', type_='unique')
        batch.drop_column('sign_in_token')
