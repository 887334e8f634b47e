"""Documents by id, their bytes, and streaming any stored object to the client."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, SessionDep
from storage.objects import ObjectStore, content_disposition
from workflows.documents import service as documents
from workflows.documents.schemas import DocumentOut

router = APIRouter(prefix="/documents", tags=["documents"])


def stream_object(
    objects: ObjectStore, key: str, *, filename: str, content_type: str, inline: bool = False
) -> StreamingResponse:
    """Stream an object in chunks with a UTF-8 filename; the body is never held whole."""
    stat = objects.stat(key)  # fail (404/503) before the response has started
    disposition = content_disposition(filename)
    if inline:
        disposition = disposition.replace("attachment;", "inline;", 1)
    return StreamingResponse(
        objects.iter_chunks(key),
        media_type=content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(stat.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> DocumentOut:
    return DocumentOut.of(documents.get_visible(session=session, viewer=viewer, document_id=document_id))


@router.get("/{document_id}/content")
def document_content(
    document_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse:
    d = documents.get_visible(session=session, viewer=viewer, document_id=document_id)
    return stream_object(objects, d.object_key, filename=d.filename, content_type=d.content_type)
