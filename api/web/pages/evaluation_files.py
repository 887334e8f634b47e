"""The evaluation's files on the page: one alliance's 考核评价表 (.docx, as it stands; the archived
version once published is among the evaluation's documents) and the district ranking (.xlsx, the bureau)."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from api.web.deps import UserPage
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows.documents.service import DOCX, XLSX
from workflows.errors import NotFound
from workflows.evaluations import service
from workflows.evaluations.documents import form_filename, render_form_bytes
from workflows.evaluations.summary import summary_filename, summary_workbook

router = web_router()


def _file(content: bytes, filename: str, content_type: str) -> Response:
    headers = {"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"}
    return Response(content, media_type=content_type, headers=headers)


@router.get("/evaluations/ranking/{year}.xlsx")
def ranking(year: int, page: UserPage) -> Response:
    if not 2000 <= year <= 2100:
        raise NotFound("考核汇总表不存在")
    return _file(summary_workbook(session=page.db, viewer=page.viewer, year=year), summary_filename(year), XLSX)


@router.get("/evaluations/{evaluation_id}/form.docx")
def evaluation_form(evaluation_id: uuid.UUID, page: UserPage) -> Response:
    evaluation = service.get_visible(session=page.db, viewer=page.viewer, evaluation_id=evaluation_id)
    return _file(render_form_bytes(evaluation), form_filename(evaluation), DOCX)
