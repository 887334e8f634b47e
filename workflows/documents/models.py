"""Generated and uploaded files: a row points at an object only after the object was stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.objects_index import object_key_column


class Document(UUIDPrimaryKey, Base):
    """One version of one document of a record (owner), e.g. the 3rd 申请表 of an application."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "kind", "version_no"),
        Index("ix_documents_owner", "owner_type", "owner_id"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[uuid.UUID]
    version_no: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    object_key: Mapped[str] = object_key_column(200)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
