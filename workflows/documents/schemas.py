"""Documents and history entries on the wire."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from workflows.access import Viewer
from workflows.audit import AuditEntry
from workflows.documents.models import Document
from workflows.presenters import Presented
from workflows.roles import Role


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
        return cls.model_validate(d)


# What an entry records about its actor that the other parties have no business seeing (a signer's IP).
PRIVATE_FIELDS = frozenset({"address"})


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    def of(cls, e: AuditEntry, viewer: Viewer) -> HistoryOut:
        """One entry as ``viewer`` may read it: the client address only on their own entries (or to the admin)."""
        data = e.data
        if PRIVATE_FIELDS & data.keys() and e.actor_id != str(viewer.user_id) and viewer.role != Role.ADMIN:
            data = {k: v for k, v in data.items() if k not in PRIVATE_FIELDS}
        return cls.model_validate(Presented(e, data=data, at=e.created_at))
