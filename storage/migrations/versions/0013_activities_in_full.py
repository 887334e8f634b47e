"""activities in full: walk-in and guest attendance, the reason a material was withdrawn, and
activity numbers that name the semester as people read it (2026年秋季学期, not 2026-autumn)

Revision ID: 0013_activities_in_full
Revises: 0012_accounts
Create Date: 2026-12-10 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_activities_in_full'
down_revision = '0012_accounts'
branch_labels = None
depends_on = None

SEASONS = {'spring': '春季', 'autumn': '秋季'}


def _semester_name(code: str) -> str:
    year, season = code.split('-')
    return f'{year}年{SEASONS[season]}学期'


def _renumber(*, to_name: bool) -> None:
    """``TA-2026-autumn-01`` ⇄ ``TA-2026年秋季学期-01`` for the activities already planned."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        'SELECT a.id, a.seq, al.code, s.code FROM activities a '
        'JOIN alliances al ON al.id = a.alliance_id JOIN semesters s ON s.id = a.semester_id'
    )).all()
    for activity_id, seq, alliance_code, semester_code in rows:
        middle = _semester_name(semester_code) if to_name else semester_code
        bind.execute(
            sa.text('UPDATE activities SET number = :number WHERE id = :id'),
            {'number': f'{alliance_code}-{middle}-{seq:02d}', 'id': activity_id},
        )


def upgrade() -> None:
    with op.batch_alter_table('activity_participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guest_name', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('guest_kindergarten', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('walk_in', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column('teacher_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column('kindergarten_id', existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table('activity_participants', schema=None) as batch_op:
        batch_op.alter_column('guest_name', server_default=None)
        batch_op.alter_column('guest_kindergarten', server_default=None)
        batch_op.alter_column('walk_in', server_default=None)

    with op.batch_alter_table('activity_materials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('removed_by_name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('removed_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.create_foreign_key(
            batch_op.f('fk_activity_materials_removed_by_users'), 'users', ['removed_by'], ['id'], ondelete='RESTRICT'
        )
    with op.batch_alter_table('activity_materials', schema=None) as batch_op:
        batch_op.alter_column('removed_by_name', server_default=None)
        batch_op.alter_column('removed_reason', server_default=None)

    _renumber(to_name=True)


def downgrade() -> None:
    _renumber(to_name=False)
    with op.batch_alter_table('activity_materials', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_activity_materials_removed_by_users'), type_='foreignkey')
        batch_op.drop_column('removed_reason')
        batch_op.drop_column('removed_by_name')
        batch_op.drop_column('removed_by')

    # Guests have no teacher; they cannot survive a schema that requires one.
    op.execute("DELETE FROM activity_participants WHERE teacher_id IS NULL OR kindergarten_id IS NULL")
    with op.batch_alter_table('activity_participants', schema=None) as batch_op:
        batch_op.alter_column('kindergarten_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column('teacher_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('walk_in')
        batch_op.drop_column('guest_kindergarten')
        batch_op.drop_column('guest_name')
