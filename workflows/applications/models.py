"""An application to join an alliance (加入联盟申请) and its attachments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.objects_index import object_key_column
from workflows.registry.models import Kindergarten


class Application(UUIDPrimaryKey, Base):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_state", "state"),)

    number: Mapped[str] = mapped_column(String(20), unique=True)
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    # The form as the applicant filled it (see schemas.ApplicationForm); drafts may be incomplete.
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Denormalised from the form for the review queue's filters.
    town: Mapped[str] = mapped_column(String(50), default="")
    preferred_alliance_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    eligibility: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    approved_alliance_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    last_comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    kindergarten: Mapped[Kindergarten] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.uploaded_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_attachments(self) -> list[Attachment]:
        return [a for a in self.attachments if a.replaced_at is None]


class Attachment(UUIDPrimaryKey, Base):
    """An uploaded scan; a replaced one is kept (``replaced_at`` set), never deleted."""

    __tablename__ = "application_attachments"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = object_key_column(200)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship(back_populates="attachments")


class Decision(UUIDPrimaryKey, Base):
    """The bureau's 批复 on an application (方案: 书面打报告至区教科体局申请，经批复即可加入): numbered
    ``青教科体成幼批〔year〕serial号`` without gaps per year, verifiable by its printed code.

    Names are copied at issue, so the letter says what was decided even after a rename.
    """

    __tablename__ = "application_decisions"
    __table_args__ = (UniqueConstraint("year", "serial"),)

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    year: Mapped[int]
    serial: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # the application's final state: approved / rejected
    kindergarten_name: Mapped[str] = mapped_column(String(100))
    alliance_name: Mapped[str] = mapped_column(String(100), default="")
    opinion: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date]
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    docx_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    pdf_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
