"""Documents and history entries on the wire."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from workflows.audit import AuditEntry
from workflows.documents.models import Document


class DocumentOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    version_no: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, d: Document) -> DocumentOut:
        return cls(
            id=d.id,
            kind=d.kind,
            title=d.title,
            version_no=d.version_no,
            filename=d.filename,
            content_type=d.content_type,
            size=d.size,
            sha256=d.sha256,
            created_at=d.created_at,
        )


class HistoryOut(BaseModel):
    seq: int
    event: str
    from_state: str | None
    to_state: str | None
    actor_name: str
    actor_role: str
    comment: str
    data: dict[str, Any]
    at: datetime
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> HistoryOut:
        return cls(
            seq=e.seq,
            event=e.event,
            from_state=e.from_state,
            to_state=e.to_state,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            comment=e.comment,
            data=e.data,
            at=e.created_at,
            hash=e.hash,
        )
