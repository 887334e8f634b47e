"""teacher roster: birth year, phone (unique among active teachers), left date, version; named
teaching-research group seats

Revision ID: 0011_teacher_roster
Revises: 0010_merge_heads
Create Date: 2026-12-05 09:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.db


revision = '0011_teacher_roster'
down_revision = '0010_merge_heads'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no batch copy of ``teachers``, which many tables refer to.
    op.add_column('teachers', sa.Column('birth_year', sa.Integer(), nullable=True))
    op.add_column('teachers', sa.Column('phone', sa.String(length=32), nullable=True))
    op.add_column('teachers', sa.Column('left_on', sa.Date(), nullable=True))
    op.add_column('teachers', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_index('uq_teachers_active_phone', 'teachers', ['phone'], unique=True, sqlite_where=sa.text('active AND phone IS NOT NULL'), postgresql_where=sa.text('active AND phone IS NOT NULL'))
    op.create_table('research_group_seats',
    sa.Column('alliance_id', sa.Uuid(), nullable=False),
    sa.Column('kindergarten_id', sa.Uuid(), nullable=False),
    sa.Column('teacher_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', storage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_research_group_seats_alliance_id_alliances'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['kindergarten_id'], ['kindergartens.id'], name=op.f('fk_research_group_seats_kindergarten_id_kindergartens'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_research_group_seats_teacher_id_teachers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_group_seats')),
    sa.UniqueConstraint('alliance_id', 'kindergarten_id', name=op.f('uq_research_group_seats_alliance_id'))
    )


def downgrade() -> None:
    op.drop_table('research_group_seats')
    op.drop_index('uq_teachers_active_phone', table_name='teachers', sqlite_where=sa.text('active AND phone IS NOT NULL'), postgresql_where=sa.text('active AND phone IS NOT NULL'))
    op.drop_column('teachers', 'version')
    op.drop_column('teachers', 'left_on')
    op.drop_column('teachers', 'phone')
    op.drop_column('teachers', 'birth_year')
