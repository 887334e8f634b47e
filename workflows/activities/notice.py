"""「每次活动请提前通报」: an activity is announced a set number of days before it starts (the semester's
``notice_days``, 3 by default). Later only with the preschool section's leave, given with a reason; the
activity is then marked 未提前通报 wherever it is read (its page, the compliance page, the evaluation)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.models import Activity
from workflows.activities.service import get_visible
from workflows.clock import BEIJING
from workflows.errors import FieldError, Forbidden, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.roles import Role

LATE_LABEL = "未提前通报"


def notice_due_on(activity: Activity) -> date:
    """The last day the activity may be announced without the section's leave."""
    return activity.starts_at.astimezone(BEIJING).date() - timedelta(days=activity.semester.notice_days)


def is_late(activity: Activity, today: date) -> bool:
    return today > notice_due_on(activity)


def late_notice_problems(activity: Activity, today: date) -> list[FieldError]:
    """Announcing after the due day is refused, saying by when it was due, unless the section allowed it."""
    if not is_late(activity, today) or activity.late_notice_allowed_at is not None:
        return []
    due = notice_due_on(activity)
    days = activity.semester.notice_days
    return [
        FieldError(
            "announced_at",
            "late_notice",
            f"本学期活动须提前 {days} 天通报，本次活动应于 {due.isoformat()} 前通报，已逾期；"
            "如确需通报，请成幼科准许并说明原因",
        )
    ]


def allow_late_notice(
    *, session: Session, viewer: Viewer, activity_id: uuid.UUID, reason: str, version: int, today: date
) -> Activity:
    """The section allows an activity to be announced after its notice period, with a reason."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以准许逾期通报")
    if activity.version != version:
        raise StaleVersion("活动已被他人修改，请刷新后重试")
    if activity.state != "planned":
        raise TransitionNotAllowed("只有尚未通报的活动可以准许逾期通报")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "required", "请说明准许逾期通报的原因")])
    if not is_late(activity, today):
        due = notice_due_on(activity)
        raise ValidationFailed([FieldError("reason", "not_late", f"本次活动在 {due.isoformat()} 前通报即可，无需准许")])
    activity.late_notice_reason = reason
    activity.late_notice_allowed_by = viewer.display_name
    activity.late_notice_allowed_at = utcnow()
    session.flush()
    audit.append(
        session, entity_type="activity", entity_id=activity.id, event="allow_late_notice", actor=viewer.actor,
        from_state=activity.state, to_state=activity.state, data={"reason": reason},
    )  # fmt: skip
    return activity
