"""The registry: kindergartens, alliances, and the arrangement table (附件1) import and export."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import File, UploadFile
from starlette.responses import Response

from api.routes.registry import ARRANGEMENT_FILENAME
from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows.accounts.models import Role
from workflows.documents.service import XLSX
from workflows.errors import ValidationFailed
from workflows.registry import service as registry
from workflows.registry.arrangement import export_arrangement, import_arrangement
from workflows.registry.models import CATEGORY_LABELS, RATING_LABELS, ROLE_LABELS, STATUS_LABELS, Category

router = web_router()

EXPORTERS = (Role.OFFICER, Role.ADMIN, Role.RESEARCHER)
IMPORTERS = (Role.OFFICER, Role.ADMIN)

nav.register(nav.NavItem("kindergartens", "幼儿园", "/registry/kindergartens", order=50))
nav.register(nav.NavItem("alliances", "联盟", "/registry/alliances", order=51))
nav.register(nav.NavItem("arrangement", "安排表", "/registry/arrangement", roles=frozenset(EXPORTERS), order=52))


@router.get("/registry/kindergartens")
def kindergartens(page: UserPage, category: str = "", town: str = "", q: str = "", alliance: str = "") -> Response:
    chosen_category = next((c for c in Category if c.value == category), None)
    try:
        alliance_id = uuid.UUID(alliance) if alliance else None
    except ValueError:
        alliance_id = None
    views = registry.list_kindergartens(
        session=page.db,
        viewer=page.viewer,
        category=chosen_category,
        town=town.strip() or None,
        alliance_id=alliance_id,
        query=q.strip() or None,
    )
    alliances = registry.list_alliances(session=page.db)
    return page.render(
        "registry/kindergartens.html",
        views=views,
        filters={"category": category, "town": town, "q": q, "alliance": alliance},
        categories=CATEGORY_LABELS,
        alliance_names={a.id: a.name for a in alliances},
        alliances=alliances,
        role_labels=ROLE_LABELS,
        rating_labels=RATING_LABELS,
        status_labels=STATUS_LABELS,
    )


@router.get("/registry/alliances")
def alliances(page: UserPage) -> Response:
    rows = [
        (a, registry.alliance_research_group(session=page.db, viewer=page.viewer, alliance=a))
        for a in registry.list_alliances(session=page.db)
    ]
    return page.render("registry/alliances.html", rows=rows)


@router.get("/registry/arrangement")
def arrangement(page: UserPage) -> Response:
    page.viewer.require_role(*EXPORTERS)
    return page.render("registry/arrangement.html", may_import=page.viewer.role in IMPORTERS)


@router.get("/registry/arrangement.xlsx")
def arrangement_download(page: UserPage) -> Response:
    page.viewer.require_role(*EXPORTERS)
    return Response(
        export_arrangement(page.db),
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(ARRANGEMENT_FILENAME), "Cache-Control": "no-store"},
    )


@router.post("/registry/arrangement")
def arrangement_upload(page: UserPage, file: Annotated[UploadFile, File()]) -> Response:
    """Import the table: all or nothing; every problem is listed with its row and column."""
    page.viewer.require_role(*IMPORTERS)
    context: dict[str, Any]
    try:
        report = import_arrangement(page.db, file.file, actor=page.viewer.actor)
    except ValidationFailed as exc:
        page.db.rollback()
        context = {"report": None, "problems": exc.errors, "message": exc.message}
    else:
        context = {"report": dataclasses.asdict(report), "problems": [], "message": ""}
    template = "registry/_import_result.html"
    if page.htmx:
        return page.fragment(template, **context)
    return page.render("registry/arrangement.html", may_import=True, result=context)
