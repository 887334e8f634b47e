"""教研组 on a page: each kindergarten's seat in its alliance's teaching-research group, and fixing
it (the office any seat, the lead its alliance's, a member its own representative)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.web.deps import SignedInPage, UserPage
from api.web.routing import web_router
from workflows.errors import Forbidden, ValidationFailed
from workflows.registry import research_group, teachers
from workflows.registry.models import LEVEL_LABELS

router = web_router()


def _page(
    page: SignedInPage,
    alliance_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    chosen: dict[str, str] | None = None,
) -> Response:
    alliance, group = research_group.visible_research_group(
        session=page.db, viewer=page.viewer, alliance_id=alliance_id
    )
    fixable = {s.kindergarten.id for s in group.seats if research_group.may_fix_seat(page.viewer, alliance, s)}
    candidates = {
        kindergarten_id: teachers.list_teachers(session=page.db, viewer=page.viewer, kindergarten_id=kindergarten_id)
        for kindergarten_id in fixable
    }
    return page.render(
        "registry/research_group.html",
        alliance=alliance,
        group=group,
        candidates=candidates,
        level_labels=LEVEL_LABELS,
        errors=errors or {},
        chosen=chosen or {},
    )


@router.get("/registry/alliances/{alliance_id}/research-group")
def show(alliance_id: uuid.UUID, page: UserPage) -> Response:
    return _page(page, alliance_id)


@router.post("/registry/alliances/{alliance_id}/research-group/{kindergarten_id}")
def fix_seat(
    alliance_id: uuid.UUID, kindergarten_id: uuid.UUID, page: UserPage, teacher_id: Annotated[str, Form()] = ""
) -> Response:
    """Name the seat's teacher ("" returns it to the kindergarten's 业务园长)."""
    back = f"/registry/alliances/{alliance_id}/research-group"
    key = str(kindergarten_id)
    try:
        chosen = uuid.UUID(teacher_id) if teacher_id else None
    except ValueError:
        return _page(page, alliance_id, errors={key: "请从列表中选择教师"}, chosen={key: teacher_id})
    try:
        group = research_group.set_seat(
            session=page.db,
            viewer=page.viewer,
            alliance_id=alliance_id,
            kindergarten_id=kindergarten_id,
            teacher_id=chosen,
        )
    except ValidationFailed as exc:
        page.db.rollback()
        return _page(page, alliance_id, errors={key: exc.errors[0].message}, chosen={key: teacher_id})
    except Forbidden as exc:
        page.db.rollback()
        return page.redirect(back, exc.message, "error")
    seat = next(s for s in group.seats if s.kindergarten.id == kindergarten_id)
    who = seat.teacher.name if seat.teacher else "（空缺）"
    title = "教研组组长" if seat.is_leader else "教研组成员"
    return page.redirect(back, f"{seat.kindergarten.name}的{title}已设为 {who}")
