"""Moving an activity through its workflow, with each event's checks and consequences."""

from __future__ import annotations

import logging
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import clock, outbox, transitions
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.activities.machine import ACTIVITY_WORKFLOW
from workflows.activities.models import Activity, ActivityBundle
from workflows.activities.notice import LATE_LABEL, is_late, late_notice_problems
from workflows.activities.service import get_visible
from workflows.activities.vocabulary import Attendance, MaterialCategory
from workflows.channels import dispatch
from workflows.clock import BEIJING
from workflows.errors import FieldError
from workflows.machine import Ctx, Hooks, chain
from workflows.notifications import notify_users
from workflows.roles import Role

logger = logging.getLogger(__name__)

ARCHIVE_REQUESTED = "activity.archive_requested"


def archive_problems(activity: Activity) -> list[FieldError]:
    """What must be on record before an activity is archived: everyone's attendance and the sign-in sheet."""
    problems = []
    unrecorded = sum(p.attendance == Attendance.EXPECTED for p in activity.participants)
    if unrecorded:
        problems.append(FieldError("attendance", "incomplete", f"还有 {unrecorded} 位教师未记录出勤"))
    if not any(m.category == MaterialCategory.SIGN_IN for m in activity.current_materials):
        problems.append(FieldError("materials.sign_in", "required", "归档前请上传签到表"))
    return problems


def _validate_hold(ctx: Ctx[Activity]) -> list[FieldError]:
    if ctx.today < ctx.record.starts_at.astimezone(BEIJING).date():
        return [FieldError("starts_at", "not_yet", "活动日期未到，不能确认已举行")]
    return []


def _validate_archive(ctx: Ctx[Activity]) -> list[FieldError]:
    return archive_problems(ctx.record)


def _validate_announce(ctx: Ctx[Activity]) -> list[FieldError]:
    return late_notice_problems(ctx.record, ctx.today)


def _mark_late(ctx: Ctx[Activity]) -> None:
    ctx.record.announced_late = is_late(ctx.record, ctx.today)


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Activity:
    return get_visible(session=session, viewer=viewer, activity_id=id, lock=lock)


def _today() -> date:
    return clock.today()


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    activity_id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    today: date | None = None,
) -> Activity:
    """Fire one workflow event on an activity the viewer can see."""
    return transitions.fire_event(
        ACTIVITIES, session=session, viewer=viewer, id=activity_id, event=event, version=version, comment=comment,
        today=today,
    )  # fmt: skip


def notice_recipients(session: Session, activity: Activity) -> list[User]:
    """提前通报: the preschool section, the district researchers and every kindergarten of the alliance."""
    kindergartens = [m.kindergarten_id for m in activity.alliance.current_memberships]
    stmt = select(User).where(
        User.is_active,
        User.role.in_([Role.OFFICER, Role.RESEARCHER]) | User.kindergarten_id.in_(kindergartens),
    )
    return list(session.scalars(stmt.order_by(User.username)))


def _when(activity: Activity) -> str:
    start = activity.starts_at.astimezone(BEIJING)
    text = start.strftime("%Y-%m-%d %H:%M")
    if activity.ends_at is not None:
        text += "—" + activity.ends_at.astimezone(BEIJING).strftime("%H:%M")
    return text


def _notice_body(activity: Activity) -> str:
    where = activity.place or f"线上（会议号 {activity.meeting_no}）"
    return (
        f"{activity.alliance.name}定于 {_when(activity)} 在{where}开展{activity.format}活动"
        f"「{activity.topic}」（{activity.domain}领域），承办园：{activity.host.name}。活动编号 {activity.number}。"
    )


def _tell_everyone(session: Session, activity: Activity, *, topic: str, title: str, body: str) -> None:
    users = notice_recipients(session, activity)
    link = f"/activities/{activity.id}"
    notify_users(session, users, kind=topic, title=title, body=body, link=link)
    try:
        # A savepoint: whatever a channel does wrong, the transition and the in-app notices stand.
        with session.begin_nested():
            dispatch.announce(
                session, topic=topic, title=title, body=body, link=link, recipient_user_ids=[u.id for u in users],
                alliance_id=activity.alliance_id,
            )  # fmt: skip
    except Exception:
        logger.exception("activity %s: channel deliveries for %s not recorded", activity.number, topic)


def _on_announce(ctx: Ctx[Activity]) -> None:
    session, activity = ctx.session, ctx.record
    activity.announced_at = utcnow()
    late = f"（{LATE_LABEL}，成幼科准许：{activity.late_notice_reason}）" if activity.announced_late else ""
    _tell_everyone(
        session,
        activity,
        topic="activity.announced",
        title=f"教研活动通报：{activity.topic}",
        body=_notice_body(activity) + late,
    )


def _on_hold(ctx: Ctx[Activity]) -> None:
    activity = ctx.record
    activity.held_at = utcnow()


def _on_archive(ctx: Ctx[Activity]) -> None:
    session, viewer, activity = ctx.session, ctx.viewer, ctx.record
    activity.archived_at = utcnow()
    activity.archived_by = viewer.display_name
    bundle = session.get(ActivityBundle, activity.id)
    if bundle is None:
        session.add(ActivityBundle(activity_id=activity.id))
    outbox.record(session, ARCHIVE_REQUESTED, activity_id=str(activity.id))


def _on_cancel(ctx: Ctx[Activity]) -> None:
    session, activity, moved_from, comment = ctx.session, ctx.record, ctx.moved_from, ctx.comment
    activity.cancelled_at = utcnow()
    activity.cancel_reason = comment.strip()
    if moved_from == "announced":  # those told it would happen are told it will not
        _tell_everyone(
            session,
            activity,
            topic="activity.cancelled",
            title=f"教研活动取消：{activity.topic}",
            body=f"原定 {_when(activity)} 的活动（编号 {activity.number}）已取消。原因：{activity.cancel_reason}",
        )


ACTIVITIES = transitions.register(
    transitions.Area(
        workflow=ACTIVITY_WORKFLOW.with_hooks(
            {
                "announce": Hooks[Activity](validate=_validate_announce, then=chain(_mark_late, _on_announce)),
                "hold": Hooks[Activity](validate=_validate_hold, then=_on_hold),
                "archive": Hooks[Activity](validate=_validate_archive, then=_on_archive),
                "cancel": Hooks[Activity](then=_on_cancel),
            }
        ),
        load=_load,
        today=_today,
    )
)
