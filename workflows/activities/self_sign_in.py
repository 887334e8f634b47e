"""扫码签到: the sign-in sheet's QR code opens a page where a participant picks their name and confirms
with the last four digits of their phone (from the teacher roster); the time goes on their attendance.

The paper sheet stays the archive original (the bundle still wants its scan); this is a convenience
record. The page needs no login: its address carries the activity's random ``sign_in_token``. It is
open on the activity's day (Beijing time) while the activity is announced or held. Attempts are counted
per person and per client address (``workflows.rate_limits``), so four digits cannot be guessed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit, rate_limits
from workflows.activities.machine import ACTIVITY_WORKFLOW
from workflows.activities.models import Activity, Participant
from workflows.activities.vocabulary import ATTENDED, Attendance
from workflows.clock import BEIJING
from workflows.errors import FieldError, NotFound, TransitionNotAllowed, ValidationFailed

SIGN_IN_STATES = frozenset({"announced", "held"})
# Attempts (right or wrong) per listed person, and per client address, in an hour.
PERSON_LIMIT = 5
ADDRESS_LIMIT = 60
WINDOW_SECONDS = 3600
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")
DIGITS_PATTERN = re.compile(r"\d{4}")


def sign_in_url(base_url: str, activity: Activity) -> str:
    """The address the sign-in sheet's QR code holds."""
    return f"{base_url.rstrip('/')}/sign-in/{activity.sign_in_token}"


def find_activity(session: Session, token: str, *, lock: bool = False) -> Activity:
    """The activity of a sign-in token; an unknown or malformed token is not found."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise NotFound("签到二维码无效：请核对签到表上的二维码")
    query = select(Activity).where(Activity.sign_in_token == token)
    activity = session.scalars(query.with_for_update() if lock else query).first()
    if activity is None:
        raise NotFound("签到二维码无效：请核对签到表上的二维码")
    return activity


def activity_day(activity: Activity) -> str:
    day = activity.starts_at.astimezone(BEIJING).date()
    return f"{day.year}年{day.month}月{day.day}日"


def closed_reason(activity: Activity, now: datetime) -> str | None:
    """Why the page does not take sign-ins now, or None when it does."""
    if activity.state not in SIGN_IN_STATES:
        return f"活动{ACTIVITY_WORKFLOW.label(activity.state)}，不能扫码签到，请联系承办园"
    if now.astimezone(BEIJING).date() != activity.starts_at.astimezone(BEIJING).date():
        return f"扫码签到只在活动当天（{activity_day(activity)}）开放"
    return None


def candidates(activity: Activity) -> list[Participant]:
    """The people on the list who can sign in: teachers (a guest has no phone on any roster), by name."""
    return sorted((p for p in activity.participants if p.teacher_id is not None), key=lambda p: p.position)


def signed_in_at(row: Participant) -> datetime | None:
    """When this person was signed in, on their phone or by the organiser; None while not attended."""
    if row.self_signed_at is not None:
        return row.self_signed_at
    return row.signed_at if row.attendance in ATTENDED else None


@dataclass(frozen=True)
class SignedIn:
    name: str
    at: datetime
    already: bool

    @property
    def time(self) -> str:
        return self.at.astimezone(BEIJING).strftime("%H:%M")


def _refuse(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, code, message)])


def sign_in(
    *,
    session: Session,
    token: str,
    participant_id: uuid.UUID | None,
    digits: str,
    address: str,
    now: datetime | None = None,
) -> SignedIn:
    """Sign ``participant_id`` in when ``digits`` are the last four of their phone. Every attempt counts
    towards the limits; the caller commits refusals too (they are ``ValidationFailed``)."""
    now = now or utcnow()
    activity = find_activity(session, token, lock=True)
    if (reason := closed_reason(activity, now)) is not None:
        raise TransitionNotAllowed(reason)
    row = next((p for p in candidates(activity) if p.id == participant_id), None)
    if row is None:
        raise _refuse("participant_id", "required", "请选择您的姓名")
    digits = digits.strip()
    if not DIGITS_PATTERN.fullmatch(digits):
        raise _refuse("digits", "format", "请输入手机号后四位数字")
    person_ok = rate_limits.hit(
        session=session, key=f"sign-in:{row.id}", limit=PERSON_LIMIT, window_seconds=WINDOW_SECONDS, now=now
    )
    address_ok = rate_limits.hit(
        session=session, key=f"sign-in:{address}", limit=ADDRESS_LIMIT, window_seconds=WINDOW_SECONDS, now=now
    )
    if not (person_ok and address_ok):
        raise _refuse("digits", "too_many", "尝试次数过多，请一小时后再试，或在纸质签到表上签名")
    phone = (row.teacher.phone if row.teacher is not None else None) or ""
    if len(phone) < 4:
        raise _refuse("participant_id", "no_phone", "教师名册中没有您的手机号，请在纸质签到表上签名")
    if phone[-4:] != digits:
        raise _refuse("digits", "mismatch", "手机号后四位不符，请重新输入")
    if (earlier := signed_in_at(row)) is not None:
        return SignedIn(name=row.name, at=earlier, already=True)
    row.attendance = Attendance.PRESENT
    row.signed_at = row.self_signed_at = row.recorded_at = now
    session.flush()
    audit.append(
        session, entity_type="activity", entity_id=activity.id, event="self_sign_in",
        actor=audit.Actor(id=None, name=row.name, role="participant"),
        from_state=activity.state, to_state=activity.state, data={"participant_id": str(row.id)},
    )  # fmt: skip
    return SignedIn(name=row.name, at=now, already=False)
