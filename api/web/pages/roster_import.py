"""The district roster as .xlsx on a page: download it or an empty template, upload it back (all or
nothing, every problem by row and column, as the arrangement table)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import File, UploadFile
from starlette.responses import Response

from api.routes.teachers import ROSTER_FILENAME, ROSTER_IMPORTERS, ROSTER_READERS, TEMPLATE_FILENAME, xlsx
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows.errors import Conflict, ValidationFailed
from workflows.registry.roster_sheet import export_roster, import_roster, roster_template

router = web_router()


@router.get("/teachers/import")
def roster_exchange(page: UserPage) -> Response:
    page.viewer.require_role(*ROSTER_READERS)
    return page.render("teachers/import.html", may_import=page.viewer.role in ROSTER_IMPORTERS)


@router.get("/teachers/roster.xlsx")
def roster_download(page: UserPage) -> Response:
    page.viewer.require_role(*ROSTER_READERS)
    return xlsx(export_roster(page.db), ROSTER_FILENAME)


@router.get("/teachers/template.xlsx")
def template_download(page: UserPage) -> Response:
    page.viewer.require_role(*ROSTER_READERS)
    return xlsx(roster_template(), TEMPLATE_FILENAME)


@router.post("/teachers/import")
def roster_upload(page: UserPage, file: Annotated[UploadFile, File()]) -> Response:
    """Import the roster: all or nothing; every problem is listed with its row and column."""
    page.viewer.require_role(*ROSTER_IMPORTERS)
    context: dict[str, Any]
    try:
        report = import_roster(page.db, file.file, actor=page.viewer.actor)
    except (ValidationFailed, Conflict) as exc:
        page.db.rollback()
        problems = exc.errors if isinstance(exc, ValidationFailed) else []
        context = {"report": None, "problems": problems, "message": exc.message}
    else:
        context = {"report": dataclasses.asdict(report), "problems": [], "message": ""}
    template = "teachers/_import_result.html"
    if page.htmx:
        return page.fragment(template, **context)
    return page.render("teachers/import.html", may_import=True, result=context)
