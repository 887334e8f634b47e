"""监护人同意 on a page: one photo at a time, whether the guardians of the children in it agreed to its
publication. A photo without a recorded consent, or with a refusal, never goes out with a report."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from pydantic import ValidationError
from starlette.responses import Response

from api.web.deps import SignedInPage, UserPage
from api.web.forms import FieldErrors, pydantic_errors
from api.web.routing import web_router
from workflows.activities.service import get_visible as get_activity
from workflows.publishing import service
from workflows.publishing.schemas import ConsentBody

router = web_router()
CHOICES = {"yes": True, "no": False}


def _page(
    page: SignedInPage,
    activity_id: uuid.UUID,
    *,
    errors: dict[str, FieldErrors] | None = None,
    entered: dict[str, dict[str, str]] | None = None,
) -> Response:
    activity = get_activity(session=page.db, viewer=page.viewer, activity_id=activity_id)
    found, consents = service.list_consents(session=page.db, viewer=page.viewer, activity_id=activity_id)
    reports = service.list_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    return page.render(
        "news/photos.html",
        activity=activity,
        photos=[(m, consents.get(m.id)) for m in found],
        reports=reports,
        may_consent=service.may_record_consent(page.viewer, activity),
        errors=errors or {},
        entered=entered or {},
    )


@router.get("/activities/{activity_id}/photos")
def photos(activity_id: uuid.UUID, page: UserPage) -> Response:
    return _page(page, activity_id)


@router.post("/activities/{activity_id}/photos/{material_id}/consent")
def record_consent(
    activity_id: uuid.UUID,
    material_id: uuid.UUID,
    page: UserPage,
    consent: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    key = str(material_id)
    entered = {key: {"consent": consent, "note": note}}
    if consent not in CHOICES:
        return _page(page, activity_id, errors={key: {"consent": "请选择监护人是否同意"}}, entered=entered)
    try:
        body = ConsentBody(consent=CHOICES[consent], note=note)
    except ValidationError as exc:
        return _page(page, activity_id, errors={key: pydantic_errors(exc)}, entered=entered)
    row = service.set_consent(
        session=page.db, viewer=page.viewer, activity_id=activity_id, material_id=material_id, body=body
    )
    said = "同意发布" if row.consent else "不同意发布"
    return page.redirect(f"/activities/{activity_id}/photos#p-{key}", f"已登记：监护人{said}")
