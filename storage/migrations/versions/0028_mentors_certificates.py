"""mentor nomination rounds and team records, plan guidance, certificates countersigned by the section

Certificates issued before this revision were issued by the section itself: they count as countersigned.

Revision ID: 0028_mentors_certificates
Revises: 0027_notice_in_advance
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0028_mentors_certificates"
down_revision = "0027_notice_in_advance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentor_rounds",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opened_at", storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"], name=op.f("fk_mentor_rounds_opened_by_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_rounds")),
    )
    op.create_table(
        "mentor_teams",
        sa.Column("team", sa.String(length=8), nullable=False),
        sa.Column("leader_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["leader_id"], ["mentors.id"], name=op.f("fk_mentor_teams_leader_id_mentors"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("team", name=op.f("pk_mentor_teams")),
    )
    with op.batch_alter_table("mentor_nominations") as batch:
        batch.add_column(sa.Column("round_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_mentor_nominations_round_id_mentor_rounds"), "mentor_rounds", ["round_id"], ["id"], ondelete="RESTRICT"
        )
    with op.batch_alter_table("mentor_guidance") as batch:
        batch.alter_column("activity_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("plan_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_mentor_guidance_plan_id_semester_works"), "semester_works", ["plan_id"], ["id"], ondelete="RESTRICT"
        )
        batch.create_index(batch.f("ix_mentor_guidance_plan_id"), ["plan_id"], unique=False)
        batch.create_unique_constraint(batch.f("uq_mentor_guidance_plan_id"), ["plan_id", "mentor_id", "kind"])
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), server_default="countersigned", nullable=False))
        batch.add_column(sa.Column("countersigned_by", sa.String(length=100), server_default="", nullable=False))
        batch.add_column(sa.Column("countersigned_at", storage.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("countersigned_at")
        batch.drop_column("countersigned_by")
        batch.drop_column("state")
    with op.batch_alter_table("mentor_guidance") as batch:
        batch.drop_constraint(batch.f("uq_mentor_guidance_plan_id"), type_="unique")
        batch.drop_index(batch.f("ix_mentor_guidance_plan_id"))
        batch.drop_constraint(op.f("fk_mentor_guidance_plan_id_semester_works"), type_="foreignkey")
        batch.drop_column("plan_id")
        batch.alter_column("activity_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("mentor_nominations") as batch:
        batch.drop_constraint(op.f("fk_mentor_nominations_round_id_mentor_rounds"), type_="foreignkey")
        batch.drop_column("round_id")
    op.drop_table("mentor_teams")
    op.drop_table("mentor_rounds")
