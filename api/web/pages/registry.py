"""The registry: kindergartens, alliances, and the arrangement table (附件1) import and export."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import File, UploadFile
from starlette.datastructures import FormData
from starlette.responses import Response

from api.routes.registry import ARRANGEMENT_FILENAME
from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows.documents.service import XLSX
from workflows.errors import ValidationFailed
from workflows.registry import service as registry
from workflows.registry import service_area
from workflows.registry.arrangement import export_arrangement, import_arrangement
from workflows.registry.composition import composition_problem, kind_label
from workflows.registry.models import (
    CATEGORY_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    Alliance,
    AllianceRole,
    Category,
    Kindergarten,
)
from workflows.roles import Role

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


def _composition_notes(alliance: Alliance) -> list[str]:
    """Places the registry holds against the plan's 1+1+N rule (data from before the rule was kept)."""
    placed: list[tuple[AllianceRole, Kindergarten]] = [(m.role, m.kindergarten) for m in alliance.current_memberships]
    notes = []
    for role, k in sorted(placed, key=lambda p: (list(AllianceRole).index(p[0]), p[1].code)):
        problem = composition_problem(role, k.category, k.rating)
        if problem:
            notes.append(f"{ROLE_LABELS[role]}{k.name}：{problem}")
    return notes


def _alliance_page(
    page: SignedInPage, alliance_id: uuid.UUID, *, error: str = "", chosen: list[str] | None = None
) -> Response:
    alliance = registry.get_alliance(session=page.db, alliance_id=alliance_id)
    others = service_area.taken_towns(registry.list_alliances(session=page.db), but=alliance.id)
    towns = service_area.all_towns(session=page.db)
    area = list(alliance.service_area or [])
    return page.render(
        "registry/alliance.html",
        alliance=alliance,
        group=registry.alliance_research_group(session=page.db, viewer=page.viewer, alliance=alliance),
        kind_label=kind_label,
        composition_notes=_composition_notes(alliance),
        may_edit=page.viewer.role in service_area.EDITORS,
        towns=towns,
        held_by={town: a.name for town, a in others.items()},
        chosen=area if chosen is None else chosen,
        # What was typed in 「其他」 comes back with the error; towns on the list are ticked instead.
        other_text="、".join(t for t in (chosen or []) if t not in towns),
        error=error,
    )


@router.get("/registry/alliances/{alliance_id}")
def alliance_detail(alliance_id: uuid.UUID, page: UserPage) -> Response:
    return _alliance_page(page, alliance_id)


def _towns_of(form: FormData) -> list[str]:
    ticked = [v for v in form.getlist("town") if isinstance(v, str)]
    other = form.get("other_towns")
    return ticked + (service_area.parse_towns(other) if isinstance(other, str) else [])


@router.post("/registry/alliances/{alliance_id}/service-area")
def alliance_service_area(alliance_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    """Replace the alliance's service area; a town another alliance serves stays on the form with why."""
    page.viewer.require_role(*service_area.EDITORS)
    ticked = [v for v in form.getlist("town") if isinstance(v, str)]
    try:
        towns = _towns_of(form)
    except ValueError as exc:
        other = form.get("other_towns")
        return _alliance_page(page, alliance_id, error=str(exc), chosen=[*ticked, str(other or "")])
    try:
        alliance = service_area.set_service_area(
            session=page.db, viewer=page.viewer, alliance_id=alliance_id, towns=towns
        )
    except ValidationFailed as exc:
        page.db.rollback()
        return _alliance_page(page, alliance_id, error="；".join(e.message for e in exc.errors), chosen=towns)
    label = service_area.area_label(alliance.service_area) or "（未设置）"
    return page.redirect(f"/registry/alliances/{alliance_id}", f"已保存{alliance.name}的服务区域：{label}")


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
