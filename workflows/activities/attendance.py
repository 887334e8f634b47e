"""Attendance at an activity: each person on the list present, late, on leave or absent; everyone not yet
recorded present at once (「全部出席」); and people who came without being on the list (walk-ins): a
teacher of the alliance, or a guest known by name and kindergarten."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.machine import ACTIVITY_WORKFLOW, ATTENDANCE_STATES
from workflows.activities.models import Activity, Participant
from workflows.activities.roster import alliance_roster, alliance_teachers
from workflows.activities.schemas import AttendanceEntry, WalkIn
from workflows.activities.service import get_visible, is_organiser
from workflows.activities.vocabulary import ATTENDED, Attendance, ParticipantRole
from workflows.errors import FieldError, Forbidden, TransitionNotAllowed, ValidationFailed
from workflows.registry.models import Teacher


def may_record_attendance(viewer: Viewer, activity: Activity) -> bool:
    """The lead and the host kindergarten keep the sign-in record."""
    return is_organiser(viewer, activity) or (
        viewer.kindergarten_id is not None and viewer.kindergarten_id == activity.host_kindergarten_id
    )


def _recordable(session: Session, viewer: Viewer, activity_id: uuid.UUID) -> Activity:
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    if not may_record_attendance(viewer, activity):
        raise Forbidden("只有龙头园或承办园可以记录出勤")
    if activity.state not in ATTENDANCE_STATES:
        label = ACTIVITY_WORKFLOW.label(activity.state)
        raise TransitionNotAllowed(f"活动当前为「{label}」，不能记录出勤")
    return activity


def _default_sign_in(row: Participant, activity: Activity, now: datetime) -> datetime:
    # The time they signed in on their phone (扫码签到); else, recorded afterwards from the paper sheet,
    # the activity's start is the best sign-in time we have.
    return row.self_signed_at or min(now, activity.starts_at)


def _mark(
    row: Participant, activity: Activity, status: str, signed_at: datetime | None, note: str, now: datetime
) -> None:
    row.attendance = status
    row.signed_at = (signed_at or _default_sign_in(row, activity, now)) if status in ATTENDED else None
    row.note = note
    row.recorded_at = now


def _audit(session: Session, viewer: Viewer, activity: Activity, event: str, **extra: object) -> None:
    counts = {a.value: sum(p.attendance == a for p in activity.participants) for a in Attendance}
    audit.append(
        session, entity_type="activity", entity_id=activity.id, event=event, actor=viewer.actor,
        from_state=activity.state, to_state=activity.state, data={**counts, **extra},
    )  # fmt: skip


def record_attendance(
    *,
    session: Session,
    viewer: Viewer,
    activity_id: uuid.UUID,
    entries: list[AttendanceEntry],
    rest_present: bool = False,
) -> Activity:
    """Record each person (by list entry or teacher) as present, late, on leave or absent; a teacher of the
    alliance not on the list is added as a walk-in; with ``rest_present`` everyone still unrecorded is present."""
    activity = _recordable(session, viewer, activity_id)
    by_id = {p.id: p for p in activity.participants}
    by_teacher = {p.teacher_id: p for p in activity.participants if p.teacher_id is not None}
    unknown_teachers = [e.teacher_id for e in entries if e.teacher_id is not None and e.teacher_id not in by_teacher]
    walk_ins = alliance_teachers(session, activity.alliance, unknown_teachers)
    problems = []
    if not entries and not rest_present:
        problems.append(FieldError("entries", "required", "请至少为一人记录出勤，或选择全部出席"))
    for i, e in enumerate(entries):
        if (e.participant_id is None) == (e.teacher_id is None):
            problems.append(FieldError(f"entries.{i}", "one_person", "请指明一位教师或名单中的一人"))
        elif e.participant_id is not None and e.participant_id not in by_id:
            problems.append(FieldError(f"entries.{i}.participant_id", "not_listed", "名单中没有此人"))
        elif e.teacher_id is not None and e.teacher_id not in by_teacher and e.teacher_id not in walk_ins:
            problems.append(FieldError(f"entries.{i}.teacher_id", "not_member", "该教师不在本联盟的幼儿园"))
    if problems:
        raise ValidationFailed(problems)
    now = utcnow()
    for entry in entries:
        row: Participant | None
        if entry.participant_id is not None:
            row = by_id[entry.participant_id]
        else:
            row = by_teacher.get(entry.teacher_id) if entry.teacher_id is not None else None
        if row is None:
            if entry.teacher_id is None:
                raise RuntimeError("an entry names a participant or a teacher (checked above)")
            teacher = walk_ins[entry.teacher_id]
            row = _append(activity, teacher=teacher)
            by_teacher[teacher.id] = row
        _mark(row, activity, entry.attendance, entry.signed_at, entry.note, now)
    marked = 0
    if rest_present:
        for row in activity.participants:
            if row.attendance == Attendance.EXPECTED:
                _mark(row, activity, Attendance.PRESENT, None, row.note, now)
                marked += 1
    session.flush()
    _audit(session, viewer, activity, "attendance", **({"rest_present": marked} if rest_present else {}))
    return activity


def _append(
    activity: Activity, *, teacher: Teacher | None = None, name: str = "", kindergarten: str = ""
) -> Participant:
    row = Participant(
        teacher_id=teacher.id if teacher else None,
        kindergarten_id=teacher.kindergarten_id if teacher else None,
        guest_name="" if teacher else name,
        guest_kindergarten="" if teacher else kindergarten,
        walk_in=True,
        position=max((p.position for p in activity.participants), default=-1) + 1,
        role=ParticipantRole.PARTICIPANT,
    )
    activity.participants.append(row)
    return row


def add_walk_in(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, body: WalkIn) -> Activity:
    """Add someone who came without being on the list — a teacher of the alliance, or a guest by name and
    kindergarten — with their attendance (present unless said late)."""
    activity = _recordable(session, viewer, activity_id)
    problems: list[FieldError] = []
    teacher = None
    if body.teacher_id is not None:
        if body.guest_name or body.guest_kindergarten:
            problems.append(FieldError("teacher_id", "either", "请选择本联盟教师，或填写来宾姓名和单位，二者选一"))
        teacher = alliance_teachers(session, activity.alliance, [body.teacher_id]).get(body.teacher_id)
        if teacher is None:
            problems.append(FieldError("teacher_id", "not_member", "该教师不在本联盟的幼儿园"))
        elif any(p.teacher_id == teacher.id for p in activity.participants):
            problems.append(FieldError("teacher_id", "already_listed", f"{teacher.name}已在名单中，请直接记录出勤"))
    else:
        if not body.guest_name:
            problems.append(FieldError("guest_name", "required", "请选择本联盟教师，或填写来宾姓名"))
        if not body.guest_kindergarten:
            problems.append(FieldError("guest_kindergarten", "required", "请填写来宾所在幼儿园或单位"))
        same = (body.guest_name, body.guest_kindergarten)
        if any(p.teacher_id is None and (p.guest_name, p.guest_kindergarten) == same for p in activity.participants):
            problems.append(FieldError("guest_name", "already_listed", f"{body.guest_name}已登记"))
    if problems:
        raise ValidationFailed(problems)
    row = _append(activity, teacher=teacher, name=body.guest_name, kindergarten=body.guest_kindergarten)
    _mark(row, activity, body.attendance, body.signed_at, body.note, utcnow())
    session.flush()
    who = {"teacher_id": str(teacher.id)} if teacher else {"guest": body.guest_name}
    _audit(session, viewer, activity, "walk_in", **who)
    return activity


def walk_in_candidates(*, session: Session, activity: Activity) -> list[tuple[str, list[Teacher]]]:
    """The alliance's teachers not on the activity's list yet, by kindergarten, for the walk-in picker."""
    listed = {p.teacher_id for p in activity.participants}
    groups = alliance_roster(session=session, alliance=activity.alliance)
    found = [(g.kindergarten.name, [t for t in g.teachers if t.id not in listed]) for g in groups]
    return [(name, teachers) for name, teachers in found if teachers]
