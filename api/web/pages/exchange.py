"""及交流工作 (经验交流): the officer publishes an alliance's semester summary to every alliance from the
semester-work page, or takes it down with a reason; every alliance's accounts read the published ones on
「经验交流」 and download them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.routes.files import stream_object
from api.web import nav
from api.web.deps import UserPage
from api.web.pages import semester_work as semester_work_pages
from api.web.routing import web_router
from workflows.activities import exchange
from workflows.errors import ValidationFailed
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem(
        "exchange",
        "经验交流",
        "/exchange",
        roles=frozenset({Role.LEAD, Role.PILLAR, Role.OFFICER, Role.RESEARCHER, Role.ADMIN}),
        alliance_roles=frozenset({Role.APPLICANT}),
        order=36,
    )
)


def _summary_page(alliance_id: uuid.UUID, code: str) -> str:
    return f"/semester-work/{alliance_id}?semester={code}#summary"


@router.get("/exchange")
def shared_list(page: UserPage) -> Response:
    rows = exchange.list_shared(session=page.db, viewer=page.viewer)
    return page.render("exchange/list.html", rows=rows)


@router.get("/exchange/{work_id}/content")
def shared_content(work_id: uuid.UUID, page: UserPage) -> Response:
    d = exchange.shared_document(session=page.db, viewer=page.viewer, work_id=work_id)
    return stream_object(page.objects, d.object_key, filename=d.filename, content_type=d.content_type)


@router.post("/semester-work/{alliance_id}/{code}/summary/publish")
def publish(alliance_id: uuid.UUID, code: str, page: UserPage) -> Response:
    work = exchange.publish(session=page.db, viewer=page.viewer, semester_code=code, alliance_id=alliance_id)
    return page.redirect(_summary_page(alliance_id, code), f"已向各联盟发布{work.alliance.name}的教研经验小结")


@router.post("/semester-work/{alliance_id}/{code}/summary/unpublish")
def unpublish(
    alliance_id: uuid.UUID, code: str, page: UserPage, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    try:
        exchange.unpublish(
            session=page.db, viewer=page.viewer, semester_code=code, alliance_id=alliance_id, reason=reason
        )
    except ValidationFailed as exc:
        page.db.rollback()
        failed = {"unshare_error": exc.message, "unshare_reason": reason}
        return semester_work_pages.render_page(page, alliance_id, code, summary=failed)
    return page.redirect(_summary_page(alliance_id, code), "已撤下该小结")
