"""The signed-in person's notifications."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows import notifications

router = web_router()

nav.register(nav.NavItem("notifications", "通知", "/notifications", order=80))


@router.get("/notifications")
def notification_list(page: UserPage) -> Response:
    items = notifications.list_for_user(page.db, page.viewer.user_id)
    return page.render("notifications.html", items=items, kind_labels=notifications.KINDS)


@router.post("/notifications/{notification_id}/read")
def mark_read(notification_id: uuid.UUID, page: UserPage) -> Response:
    item = notifications.mark_read(page.db, page.viewer.user_id, notification_id)
    if page.htmx:
        return page.fragment("_notification.html", n=item, kind_labels=notifications.KINDS)
    return page.redirect("/notifications")
