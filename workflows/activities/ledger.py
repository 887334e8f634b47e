"""The teacher participation ledger (继续教育): per teacher and year, activities, roles and hours."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from templates.xlsx import fit_column_widths, save_workbook_deterministic
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.activities.models import Activity, Participant
from workflows.activities.vocabulary import (
    ATTENDANCE_LABELS,
    ATTENDED,
    PARTICIPANT_ROLE_LABELS,
    Attendance,
    ParticipantRole,
)
from workflows.clock import BEIJING
from workflows.errors import NotFound
from workflows.registry.models import Kindergarten, Membership, Teacher
from workflows.roles import Role


@dataclass
class LedgerEntry:
    """One teacher's year: totals, and one line per activity."""

    teacher: Teacher
    attended: int = 0
    presented: int = 0
    participated: int = 0
    leave: int = 0
    absent: int = 0
    hours: float = 0.0
    lines: list[tuple[Activity, Participant]] = field(default_factory=list)


def _scope(session: Session, viewer: Viewer, kindergarten_id: uuid.UUID | None) -> list[uuid.UUID] | None:
    """The kindergartens the viewer may list (None: all); a kindergarten outside it is not found."""
    if viewer.is_bureau:
        allowed = None
    elif viewer.role == Role.LEAD and viewer.alliance_id is not None:
        stmt = select(Membership.kindergarten_id).where(
            Membership.alliance_id == viewer.alliance_id, Membership.ended_on.is_(None)
        )
        allowed = list(session.scalars(stmt))
    elif viewer.kindergarten_id is not None:
        allowed = [viewer.kindergarten_id]
    else:
        allowed = []
    if kindergarten_id is None:
        return allowed
    if allowed is not None and kindergarten_id not in allowed:
        raise NotFound("幼儿园不存在")
    return [kindergarten_id]


def ledger(
    *, session: Session, viewer: Viewer, year: int, kindergarten_id: uuid.UUID | None = None
) -> list[LedgerEntry]:
    """Every teacher in the viewer's scope with the activities of ``year`` that took place."""
    scope = _scope(session, viewer, kindergarten_id)
    teachers_stmt = select(Teacher).join(Kindergarten).where(Teacher.active).order_by(Kindergarten.code, Teacher.code)
    if scope is not None:
        teachers_stmt = teachers_stmt.where(Teacher.kindergarten_id.in_(scope))
    entries = {t.id: LedgerEntry(t) for t in session.scalars(teachers_stmt.options(selectinload(Teacher.kindergarten)))}
    start = datetime(year, 1, 1, tzinfo=BEIJING)
    end = datetime(year + 1, 1, 1, tzinfo=BEIJING)
    stmt = (
        select(Participant, Activity)
        .join(Activity, Participant.activity_id == Activity.id)
        .where(Activity.state.in_(TOOK_PLACE), Activity.starts_at >= start, Activity.starts_at < end)
        .where(Participant.teacher_id.in_(list(entries)))
        .order_by(Activity.starts_at, Activity.number)
    )
    for participant, activity in session.execute(stmt):
        if participant.teacher_id is None:  # the query asks for teachers' rows only
            continue
        entry = entries[participant.teacher_id]
        entry.lines.append((activity, participant))
        status = Attendance(participant.attendance)
        if status in ATTENDED:
            entry.attended += 1
            entry.hours += activity.credit_hours
            if participant.role == ParticipantRole.PRESENTER:
                entry.presented += 1
            else:
                entry.participated += 1
        elif status == Attendance.LEAVE:
            entry.leave += 1
        elif status == Attendance.ABSENT:
            entry.absent += 1
    return list(entries.values())


_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
SUMMARY_HEADERS = ("园所", "工号", "姓名", "岗位", "参加活动次数", "主讲/执教", "参加", "请假", "缺席", "学时")
DETAIL_HEADERS = ("园所", "工号", "姓名", "日期", "活动编号", "主题", "形式", "领域", "角色", "出勤", "学时")


def _sheet_header(sheet, headers: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.freeze_panes = "A2"


def ledger_workbook(entries: list[LedgerEntry], *, year: int) -> bytes:
    """The ledger as an .xlsx: a summary sheet and a detail sheet (deterministic bytes)."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = f"{year}年汇总"
    _sheet_header(summary, SUMMARY_HEADERS)
    detail = workbook.create_sheet(f"{year}年明细")
    _sheet_header(detail, DETAIL_HEADERS)
    for e in entries:
        t = e.teacher
        summary.append(
            [
                t.kindergarten.name,
                t.code,
                t.name,
                t.post,
                e.attended,
                e.presented,
                e.participated,
                e.leave,
                e.absent,
                e.hours,
            ]
        )
        for activity, p in e.lines:
            status = Attendance(p.attendance)
            detail.append(
                [
                    t.kindergarten.name, t.code, t.name, activity.starts_at.astimezone(BEIJING).date().isoformat(),
                    activity.number, activity.topic, activity.format, activity.domain,
                    PARTICIPANT_ROLE_LABELS[ParticipantRole(p.role)], ATTENDANCE_LABELS[status] or "未记录",
                    activity.credit_hours if status in ATTENDED else 0,
                ]
            )  # fmt: skip
    for sheet in (summary, detail):
        fit_column_widths(sheet)
    return save_workbook_deterministic(workbook)
