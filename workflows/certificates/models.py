"""Certificates (公开课证书, 讲座证书) for the presenters of activities that took place."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UUIDPrimaryKey, utcnow


class Certificate(UUIDPrimaryKey, Base):
    """One certificate: numbered ``ZS<year>-<serial>`` per year, verifiable by its printed code.

    The names are copied at issue: a certificate says what was true when it was signed, even after a
    teacher moves or a kindergarten is renamed.
    """

    __tablename__ = "certificates"
    # One certificate per presenter per activity: issuing a batch again issues only what is new.
    __table_args__ = (UniqueConstraint("activity_id", "teacher_id"),)

    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id", ondelete="RESTRICT"), index=True)
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    teacher_name: Mapped[str] = mapped_column(String(50))
    kindergarten_name: Mapped[str] = mapped_column(String(100))
    alliance_name: Mapped[str] = mapped_column(String(100))
    activity_number: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    docx_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    pdf_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Issued by the alliance (pending), valid once the section countersigns and the files are made.
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="countersigned")
    countersigned_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    countersigned_at: Mapped[datetime | None]
