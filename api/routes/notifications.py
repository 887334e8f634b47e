"""The signed-in user's notifications, and the audit chain check."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from api.deps import CurrentViewer, SessionDep
from api.routing import api_router
from workflows import audit, notifications
from workflows.presenters import Presented
from workflows.roles import Role

router = api_router(tags=["notifications"])


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read: bool


class ChainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str


def _out(n: notifications.Notification) -> NotificationOut:
    return NotificationOut.model_validate(Presented(n, read=n.read_at is not None))


@router.get("/notifications", response_model=list[NotificationOut])
def list_notifications(session: SessionDep, viewer: CurrentViewer, unread: bool = False) -> list[NotificationOut]:
    return [_out(n) for n in notifications.list_for_user(session, viewer.user_id, unread_only=unread)]


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> NotificationOut:
    return _out(notifications.mark_read(session, viewer.user_id, notification_id))


@router.get("/audit/verify", response_model=ChainOut)
def verify_audit_chain(session: SessionDep, viewer: CurrentViewer) -> ChainOut:
    """Recompute the whole audit chain and name the first broken row (officers and admins)."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    report = audit.verify_chain(session)
    return ChainOut.model_validate(report)
