"""Documents by id, their bytes, and streaming any stored object to the client."""

from __future__ import annotations

import uuid

from fastapi.responses import StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, SessionDep
from api.routing import api_router
from storage.objects import ObjectStore, content_disposition
from workflows.documents import service as documents
from workflows.documents.schemas import DocumentOut

router = api_router(prefix="/documents", tags=["documents"])


# What may be shown in the browser rather than saved: types sniffed from the content on upload.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg"})
PDF = "application/pdf"
# A stored file shown in the browser is never a page of this site: no script, no same-origin access.
# Not for PDFs: Chrome will not start its viewer in a sandboxed document (it blocks the page), and the
# viewer runs the PDF (and any JavaScript in it) in its own process, off this origin, in any case.
SANDBOX = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def stream_object(
    objects: ObjectStore, key: str, *, filename: str, content_type: str, inline: bool = False
) -> StreamingResponse:
    """Stream an object in chunks with a UTF-8 filename; the body is never held whole.

    ``inline`` asks to show a PDF or an image in the browser; anything else is always an attachment."""
    stat = objects.stat(key)  # fail (404/503) before the response has started
    disposition = content_disposition(filename)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    if inline and (content_type == PDF or content_type in INLINE_IMAGES):
        disposition = disposition.replace("attachment;", "inline;", 1)
        if content_type != PDF:
            headers["Content-Security-Policy"] = SANDBOX
    return StreamingResponse(
        objects.iter_chunks(key),
        media_type=content_type,
        headers={"Content-Disposition": disposition, "Content-Length": str(stat.size), **headers},
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
