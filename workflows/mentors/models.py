"""Mentor teams (幼教导师团): nominations, appointed mentors, their alliances, reviews and guidance."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.registry.models import Alliance, Kindergarten, Teacher


class NominationRound(UUIDPrimaryKey, Base):
    """A nomination round (导师推荐), opened by the section with a deadline; closed early or by the date."""

    __tablename__ = "mentor_rounds"

    year: Mapped[int]
    deadline: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class MentorTeam(Base):
    """One of the six teams as a record: its leader (团长), chosen among its active mentors."""

    __tablename__ = "mentor_teams"

    team: Mapped[str] = mapped_column(String(8), primary_key=True)
    leader_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mentors.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)

    leader: Mapped[Mentor | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class MentorNomination(UUIDPrimaryKey, Base):
    """A kindergarten's nomination of one of its teachers for a mentor team (推荐表)."""

    __tablename__ = "mentor_nominations"
    __table_args__ = (Index("ix_mentor_nominations_state", "state"),)

    number: Mapped[str] = mapped_column(String(20), unique=True)
    # The round it was made in (nominations made before rounds existed have none).
    round_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mentor_rounds.id", ondelete="RESTRICT"))
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id", ondelete="RESTRICT"), index=True)
    # The teacher's kindergarten when nominated (teachers move; the nomination stays with its nominator).
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"), index=True)
    team: Mapped[str] = mapped_column(String(8))
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The rest of the form as filled (see schemas.NominationForm).
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="nominated")
    version: Mapped[int] = mapped_column(default=1)
    last_comment: Mapped[str] = mapped_column(Text, default="")
    nominated_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    teacher: Mapped[Teacher] = relationship()
    kindergarten: Mapped[Kindergarten] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Mentor(UUIDPrimaryKey, Base):
    """An appointed mentor for one term; retired mentors are kept with their history."""

    __tablename__ = "mentors"
    __table_args__ = (
        # A teacher holds at most one active appointment.
        Index(
            "uq_mentors_active_teacher",
            "teacher_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
        Index("ix_mentors_team_state", "team", "state"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    nomination_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentor_nominations.id", ondelete="RESTRICT"), unique=True
    )
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id", ondelete="RESTRICT"))
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    team: Mapped[str] = mapped_column(String(8))
    term_start: Mapped[date]
    term_end: Mapped[date]
    state: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(default=1)
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    # Written by every review, so that keep and rotate (which leave the state as it was) bump the version.
    last_review_year: Mapped[int | None]

    teacher: Mapped[Teacher] = relationship()
    kindergarten: Mapped[Kindergarten] = relationship()
    assignments: Mapped[list[MentorAssignment]] = relationship(
        back_populates="mentor", order_by="MentorAssignment.started_on"
    )
    reviews: Mapped[list[MentorReview]] = relationship(back_populates="mentor", order_by="MentorReview.year")

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_assignments(self) -> list[MentorAssignment]:
        return [a for a in self.assignments if a.ended_on is None]


class MentorAssignment(UUIDPrimaryKey, Base):
    """A mentor serving an alliance from ``started_on``; ended assignments are kept."""

    __tablename__ = "mentor_assignments"
    __table_args__ = (
        Index(
            "uq_mentor_assignments_current",
            "mentor_id",
            "alliance_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        Index("ix_mentor_assignments_alliance", "alliance_id"),
    )

    mentor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentors.id", ondelete="RESTRICT"))
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    assigned_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    mentor: Mapped[Mentor] = relationship(back_populates="assignments")
    alliance: Mapped[Alliance] = relationship()


class MentorReview(UUIDPrimaryKey, Base):
    """The yearly review decision (动态管理): keep, rotate or retire, with what changed."""

    __tablename__ = "mentor_reviews"
    __table_args__ = (UniqueConstraint("mentor_id", "year"),)

    mentor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentors.id", ondelete="RESTRICT"))
    year: Mapped[int]
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    team_before: Mapped[str] = mapped_column(String(8))
    team_after: Mapped[str | None] = mapped_column(String(8))
    alliances_before: Mapped[list[str]] = mapped_column(JSON, default=list)
    alliances_after: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The audit row of the decision, which carries the hash chain.
    audit_seq: Mapped[int]
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decider_name: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentor: Mapped[Mentor] = relationship(back_populates="reviews")


class MentorGuidance(UUIDPrimaryKey, Base):
    """A mentor guiding an activity (讲座, 送教, 指导研讨) or taking part in an alliance's semester plan."""

    __tablename__ = "mentor_guidance"

    __table_args__ = (
        UniqueConstraint("activity_id", "mentor_id", "kind"),
        UniqueConstraint("plan_id", "mentor_id", "kind"),
    )

    # Exactly one of the two: plan work (参与制定计划) attaches to the plan, the rest to an activity.
    activity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("semester_works.id", ondelete="RESTRICT"), index=True)
    mentor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentors.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentor: Mapped[Mentor] = relationship()
