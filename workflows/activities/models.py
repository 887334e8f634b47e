"""Semesters, each alliance's plan and summary, teaching-research activities and their records."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.objects_index import object_key_column
from workflows.registry.models import Alliance, Kindergarten, Teacher


class Semester(UUIDPrimaryKey, Base):
    """A semester with the deadlines the office configured for it. ``code`` (``2026-autumn``) names it in
    URLs and the API; people read ``name`` (2026年秋季学期), derived from the code."""

    __tablename__ = "semesters"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    plan_due_on: Mapped[date]
    summary_due_on: Mapped[date]
    # Materials of an activity are due this many days after it took place.
    materials_due_days: Mapped[int] = mapped_column(default=7)
    min_centralised: Mapped[int] = mapped_column(default=2)
    # 提前通报: an activity is announced at least this many days before it starts.
    notice_days: Mapped[int] = mapped_column(default=3, server_default="3")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SemesterWork(UUIDPrimaryKey, Base):
    """An alliance's plan (联盟互动计划) or summary (教研经验小结) of one semester."""

    __tablename__ = "semester_works"
    __table_args__ = (UniqueConstraint("alliance_id", "semester_id", "kind"),)

    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    semester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("semesters.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # "form": written in the form and rendered; "upload": a .docx/.pdf the alliance wrote itself.
    source: Mapped[str] = mapped_column(String(8), default="form")
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    # Lateness is judged on the first submission; later revisions do not make it late.
    first_submitted_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # 及交流工作 (经验交流): a summary the section published to every alliance — the exact document version
    # published, when and by whom; unpublished with a reason (the publication stays on record in the audit).
    shared_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    shared_at: Mapped[datetime | None]
    shared_by_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    unshared_at: Mapped[datetime | None]
    unshared_by_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    unshare_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1)

    semester: Mapped[Semester] = relationship()
    alliance: Mapped[Alliance] = relationship()

    __mapper_args__ = {"version_id_col": version}


def new_sign_in_token() -> str:
    """The random part of an activity's sign-in address (扫码签到): 24 URL-safe characters."""
    return secrets.token_urlsafe(18)


class Activity(UUIDPrimaryKey, Base):
    """A teaching-research activity (教研活动) of one alliance in one semester."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_alliance_semester", "alliance_id", "semester_id"),
        Index("ix_activities_state", "state"),
    )

    number: Mapped[str] = mapped_column(String(40), unique=True)
    # 序号: the activity's place among its alliance's activities of the semester.
    seq: Mapped[int]
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    semester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("semesters.id", ondelete="RESTRICT"))
    topic: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    meeting_no: Mapped[str] = mapped_column(String(64), default="")
    host_kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    chair: Mapped[str] = mapped_column(String(50), default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    # Continuing-education hours (学时) each attending teacher earns.
    credit_hours: Mapped[float] = mapped_column(default=3.0)
    state: Mapped[str] = mapped_column(String(16), default="planned")
    version: Mapped[int] = mapped_column(default=1)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    announced_at: Mapped[datetime | None]
    # Announced later than the semester's notice period, with the section's leave (未提前通报).
    announced_late: Mapped[bool] = mapped_column(default=False, server_default=false())
    late_notice_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    late_notice_allowed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    late_notice_allowed_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    archived_by: Mapped[str] = mapped_column(String(100), default="")
    # The sign-in sheet's QR code opens /sign-in/<token>: unguessable, unlike the id every member sees.
    sign_in_token: Mapped[str] = mapped_column(String(32), unique=True, default=new_sign_in_token)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    alliance: Mapped[Alliance] = relationship()
    semester: Mapped[Semester] = relationship()
    host: Mapped[Kindergarten] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Participant.position"
    )
    materials: Mapped[list[Material]] = relationship(back_populates="activity", order_by="Material.uploaded_at")

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_materials(self) -> list[Material]:
        return [m for m in self.materials if m.removed_at is None]


class Participant(UUIDPrimaryKey, Base):
    """An expected participant or presenter, and their attendance once recorded; or someone who came
    without being on the list (a walk-in): a teacher of the alliance, or a guest known only by name; or
    someone who came to guide (role 指导): the district researcher (``user_id``, named as the account
    was then) or a mentor (``teacher_id`` of the mentor's teacher)."""

    __tablename__ = "activity_participants"
    __table_args__ = (
        UniqueConstraint("activity_id", "teacher_id"),
        UniqueConstraint("activity_id", "user_id", name="uq_activity_participants_activity_user"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    # The researcher's account when a researcher came to guide; None otherwise.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # None for a guest or a researcher, who is not on any roster.
    teacher_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teachers.id", ondelete="RESTRICT"), index=True)
    # The teacher's kindergarten when the activity was planned (teachers move; the record stays); None for a guest.
    kindergarten_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    guest_name: Mapped[str] = mapped_column(String(50), default="")
    guest_kindergarten: Mapped[str] = mapped_column(String(200), default="")
    # Came without being on the expected list (临时参加).
    walk_in: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(16), default="participant")
    attendance: Mapped[str] = mapped_column(String(16), default="expected")
    signed_at: Mapped[datetime | None]
    # When they signed in themselves on the sign-in sheet's QR page (扫码签到); the paper sheet stays the original.
    self_signed_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship(back_populates="participants")
    teacher: Mapped[Teacher | None] = relationship()
    kindergarten: Mapped[Kindergarten | None] = relationship()

    @property
    def name(self) -> str:
        return self.teacher.name if self.teacher is not None else self.guest_name

    @property
    def post(self) -> str:
        return self.teacher.post if self.teacher is not None else ""

    @property
    def kindergarten_name(self) -> str:
        return self.kindergarten.name if self.kindergarten is not None else self.guest_kindergarten


class Material(UUIDPrimaryKey, Base):
    """An uploaded activity material; a withdrawn one is kept (``removed_at`` set), never deleted."""

    __tablename__ = "activity_materials"
    __table_args__ = (
        Index(
            "uq_activity_materials_current_name",
            "activity_id",
            "category",
            "filename",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = object_key_column(200)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    uploader_name: Mapped[str] = mapped_column(String(100), default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Withdrawn (撤回): when, by whom and why; the file and its row stay for the record.
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    removed_by_name: Mapped[str] = mapped_column(String(100), default="")
    removed_reason: Mapped[str] = mapped_column(String(500), default="")

    activity: Mapped[Activity] = relationship(back_populates="materials")


class ActivityComment(UUIDPrimaryKey, Base):
    """A remark on an activity, typically the district researcher's guidance (教研指导意见)."""

    __tablename__ = "activity_comments"

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    author_name: Mapped[str] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityBundle(Base):
    """The archive bundle of an archived activity and how far building it has got."""

    __tablename__ = "activity_bundles"

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), primary_key=True)
    # requested → building → ready, or failed (a redelivered task tries again).
    state: Mapped[str] = mapped_column(String(16), default="requested")
    phase: Mapped[str] = mapped_column(String(16), default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str | None] = object_key_column(200)
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class DeadlineReminder(Base):
    """One reminder sent for one deadline on one day; the unique key makes reminding idempotent."""

    __tablename__ = "deadline_reminders"
    __table_args__ = (UniqueConstraint("deadline_key", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    deadline_key: Mapped[str] = mapped_column(String(160))
    day: Mapped[date]
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
