"""one history: merge the area branches that grew from 0002

0004_activities comes in through 0009, which revises it.

Revision ID: 0010_merge_heads
Revises: 0003_agreements, 0005_channels, 0007_hardening, 0008_evaluations, 0009_mentors_library
Create Date: 2026-12-04 09:00:00
"""
from __future__ import annotations

revision = '0010_merge_heads'
down_revision = (
    '0003_agreements',
    '0005_channels',
    '0007_hardening',
    '0008_evaluations',
    '0009_mentors_library',
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
