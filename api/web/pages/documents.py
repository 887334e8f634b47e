"""Downloading a generated document (every version), with the same visibility as the API."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from api.routes.files import stream_object
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows.documents import service as documents

router = web_router()


@router.get("/documents/{document_id}/download")
def download(document_id: uuid.UUID, page: UserPage) -> Response:
    d = documents.get_visible(session=page.db, viewer=page.viewer, document_id=document_id)
    return stream_object(page.objects, d.object_key, filename=d.filename, content_type=d.content_type)


@router.get("/documents/{document_id}/view")
def view(document_id: uuid.UUID, page: UserPage) -> Response:
    """The same bytes, to open in the browser rather than save: only a PDF (in the browser's own viewer);
    anything else still downloads, so no stored file is ever shown as a page of this site."""
    d = documents.get_visible(session=page.db, viewer=page.viewer, document_id=document_id)
    inline = d.content_type == "application/pdf"
    return stream_object(page.objects, d.object_key, filename=d.filename, content_type=d.content_type, inline=inline)
