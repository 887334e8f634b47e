"""指导 at an activity (教研员深入各联盟): the lead or the host records the researcher or a mentor who came to
guide; a researcher records their own visit with one button."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from api.web.deps import FormDep, UserPage
from api.web.forms import text
from api.web.pages.activities import retry
from api.web.routing import web_router
from workflows.activities import guidance
from workflows.errors import ValidationFailed

router = web_router()


def _body(guide: str, attendance: str) -> guidance.GuidanceIn:
    """``researcher:<id>`` or ``mentor:<id>`` as the picker sends it."""
    kind, _, raw = guide.partition(":")
    try:
        person = uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed.single("guide", "required", "请选择一位教研员或导师") from None
    if kind not in ("researcher", "mentor"):
        raise ValidationFailed.single("guide", "required", "请选择一位教研员或导师")
    when = "late" if attendance == "late" else "present"
    if kind == "researcher":
        return guidance.GuidanceIn(researcher_id=person, attendance=when)
    return guidance.GuidanceIn(mentor_id=person, attendance=when)


@router.post("/activities/{activity_id}/guidance")
def add_guidance(activity_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entered = {"guide": text(form, "guide"), "guide_attendance": text(form, "attendance")}
    try:
        body = _body(entered["guide"], entered["guide_attendance"])
        row = guidance.add_guidance(session=page.db, viewer=page.viewer, activity_id=activity_id, body=body)
    except ValidationFailed as exc:
        return retry(page, activity_id, exc, entered=entered, errors={"guide": exc.message})
    return page.redirect(f"/activities/{activity_id}#attendance", f"已登记{row.name}到场指导")
