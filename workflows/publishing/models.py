"""Publishing activity news (活动报道) and the guardians' consent for each photo of an activity."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.activities.models import Activity, Material


class NewsReport(UUIDPrimaryKey, Base):
    """An activity report for the public news page: draft → approved → published → withdrawn."""

    __tablename__ = "news_reports"
    __table_args__ = (
        # One report of an activity in play at a time; a withdrawn one may be followed by another.
        Index(
            "uq_news_reports_activity",
            "activity_id",
            unique=True,
            sqlite_where=text("state != 'withdrawn'"),
            postgresql_where=text("state != 'withdrawn'"),
        ),
        Index("ix_news_reports_state_published", "state", "published_at"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"))
    # The activity's 活动报道 material (a .docx) whose text is published.
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activity_materials.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    # Photos (media material ids) the author chose; only those with guardian consent are published.
    media_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Fixed when published: the report as HTML (escaped) and the photos that went out with it.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Reading the report's text after publication (workflows.publishing.body): none (not published yet),
    # pending (处理中: not on the public page yet) → ready | failed.
    body_state: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    body_problem: Mapped[str] = mapped_column(String(200), default="", server_default="")
    published_media: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    last_comment: Mapped[str] = mapped_column(Text, default="")
    author_name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None]
    approver_name: Mapped[str] = mapped_column(String(100), default="")
    published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship()
    material: Mapped[Material] = relationship()

    __mapper_args__ = {"version_id_col": version}


class MediaConsent(Base):
    """Whether the guardians of the children in one photo agreed to its publication (监护人同意)."""

    __tablename__ = "media_consents"

    material_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activity_materials.id", ondelete="RESTRICT"), primary_key=True
    )
    consent: Mapped[bool] = mapped_column(default=False)
    # Where the signed consent is kept (e.g. the form's number); for the record, not checked.
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorder_name: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
