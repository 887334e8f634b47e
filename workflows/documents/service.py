"""Storing documents in the object store and finding them again, with owner-based visibility."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore, StoredObject
from workflows.access import Viewer
from workflows.documents.models import Document
from workflows.errors import NotFound

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# owner_type -> function(session, viewer, owner_id) raising NotFound when the owner is not visible.
_owner_checks: dict[str, Callable[[Session, Viewer, uuid.UUID], None]] = {}


def register_owner(owner_type: str, check: Callable[[Session, Viewer, uuid.UUID], None]) -> None:
    """Each area says who may see the documents of its records."""
    _owner_checks[owner_type] = check


def next_version_no(session: Session, *, owner_type: str, owner_id: uuid.UUID, kind: str) -> int:
    """The number the next version of this document kind of this owner will get."""
    latest = session.scalar(
        select(func.max(Document.version_no)).where(
            Document.owner_type == owner_type, Document.owner_id == owner_id, Document.kind == kind
        )
    )
    return (latest or 0) + 1


def store_generated(
    *,
    session: Session,
    objects: ObjectStore,
    owner_type: str,
    owner_id: uuid.UUID,
    kind: str,
    title: str,
    filename: str,
    content: bytes,
    content_type: str = DOCX,
    created_by: str | None = None,
) -> Document:
    """Store a rendered file as the next version of ``kind`` for its owner."""
    stored = objects.put(io.BytesIO(content), filename=filename, content_type=content_type)
    return record_stored(
        session=session, stored=stored, owner_type=owner_type, owner_id=owner_id, kind=kind, title=title,
        created_by=created_by,
    )  # fmt: skip


def record_stored(
    *,
    session: Session,
    stored: StoredObject,
    owner_type: str,
    owner_id: uuid.UUID,
    kind: str,
    title: str,
    created_by: str | None = None,
    version_no: int | None = None,
) -> Document:
    """The row of an object stored beforehand (outside the transaction), as the next version of ``kind``
    (or as ``version_no``, when the caller has just read which version is next in this transaction).

    Slow work writes its content-addressed object first and references it in a short transaction; if
    that transaction fails, the object is an orphan the sweep (``workflows.orphans``) removes."""
    if version_no is None:
        version_no = next_version_no(session, owner_type=owner_type, owner_id=owner_id, kind=kind)
    document = Document(
        kind=kind,
        owner_type=owner_type,
        owner_id=owner_id,
        version_no=version_no,
        title=title,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        object_key=stored.key,
        created_by=created_by,
    )
    session.add(document)
    session.flush()
    return document


def get_visible(*, session: Session, viewer: Viewer, document_id: uuid.UUID) -> Document:
    """A document the viewer may see through its owner record; otherwise NotFound."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("文件不存在")
    check = _owner_checks.get(document.owner_type)
    if check is None:
        if not viewer.is_bureau:
            raise NotFound("文件不存在")
    else:
        check(session, viewer, document.owner_id)
    return document


def list_for_owner(*, session: Session, owner_type: str, owner_id: uuid.UUID) -> list[Document]:
    """Every document version of one record, newest first within each kind."""
    stmt = (
        select(Document)
        .where(Document.owner_type == owner_type, Document.owner_id == owner_id)
        .order_by(Document.kind, Document.version_no.desc())
    )
    return list(session.scalars(stmt))
