"""扫码签到: the phone page the sign-in sheet's QR code opens. No login; the address carries the
activity's random token. A participant picks their name and confirms with the last four digits of their
phone; wrong digits answer next to the field (and count towards the limit), a second sign-in says
「您已签到」 with the time. An unknown token is the Chinese 404 page (WebRoute)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form
from starlette.responses import Response

from api.client_address import client_address
from api.web.deps import Page, PublicPage
from api.web.forms import domain_errors
from api.web.routing import web_router
from storage.db import utcnow
from workflows.activities import self_sign_in
from workflows.activities.documents import place_label, when_label
from workflows.activities.models import Activity
from workflows.errors import ValidationFailed

router = web_router()


def _page(page: Page, activity: Activity, **context: object) -> Response:
    base: dict[str, Any] = {
        "activity": activity,
        "when": when_label(activity),
        "place": place_label(activity),
        "closed": self_sign_in.closed_reason(activity, utcnow()),
        "people": self_sign_in.candidates(activity),
        "chosen": "",
        "errors": {},
    }
    return page.render("sign_in/page.html", **{**base, **context})


@router.get("/sign-in/{token}")
def sign_in_page(token: str, page: PublicPage) -> Response:
    return _page(page, self_sign_in.find_activity(page.db, token))


@router.post("/sign-in/{token}")
def sign_in(
    token: str,
    page: PublicPage,
    participant_id: Annotated[str, Form(max_length=64)] = "",
    digits: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        chosen = uuid.UUID(participant_id) if participant_id else None
    except ValueError:
        chosen = None
    try:
        done = self_sign_in.sign_in(
            session=page.db, token=token, participant_id=chosen, digits=digits, address=client_address(page.request)
        )
    except ValidationFailed as exc:  # committed with the page: the attempt counts towards the limit
        activity = self_sign_in.find_activity(page.db, token)
        return _page(page, activity, chosen=participant_id, errors=domain_errors(exc))
    if done.already:
        return page.redirect(f"/sign-in/{token}", f"{done.name}，您已签到（{done.time}），无需重复签到", "info")
    return page.redirect(f"/sign-in/{token}", f"{done.name}，签到成功（{done.time}）")
