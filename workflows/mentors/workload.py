"""A mentor's guidance of activities and the yearly workload it adds up to (.xlsx)."""

from __future__ import annotations

import uuid
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from templates.xlsx import fit_column_widths, save_workbook_deterministic
from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.activities.machine import TOOK_PLACE
from workflows.activities.models import Activity, Participant
from workflows.activities.service import get_visible as get_activity
from workflows.activities.service import is_organiser
from workflows.activities.vocabulary import CST, PARTICIPANT_ROLE_LABELS, ParticipantRole
from workflows.errors import Conflict, Forbidden, NotFound, TransitionNotAllowed
from workflows.mentors.documents import chinese_date
from workflows.mentors.models import Mentor, MentorGuidance
from workflows.mentors.schemas import GuidanceCreate, WorkloadOut, WorkloadRow
from workflows.mentors.service import get_mentor, may_see_workload
from workflows.mentors.vocabulary import GUIDANCE_LABELS, TEAM_LABELS, GuidanceKind


def record_guidance(*, session: Session, viewer: Viewer, body: GuidanceCreate) -> MentorGuidance:
    """Record that a mentor guided an activity (the alliance's lead or the bureau records it)."""
    activity = get_activity(session=session, viewer=viewer, activity_id=body.activity_id)
    if not (is_organiser(viewer, activity) or viewer.role in (Role.OFFICER, Role.RESEARCHER)):
        raise Forbidden("只有龙头园、成幼科和教研室可以登记导师指导")
    if activity.state == "cancelled":
        raise TransitionNotAllowed("活动已取消，不能登记导师指导")
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=body.mentor_id)
    if mentor.state != "active":
        raise TransitionNotAllowed("该导师已退出导师团")
    row = MentorGuidance(
        activity_id=activity.id, mentor_id=mentor.id, kind=body.kind.value, note=body.note, recorded_by=viewer.user_id
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("这项指导已登记过", code="guidance_exists") from None
    audit.append(
        session,
        entity_type="mentor",
        entity_id=mentor.id,
        event="guidance",
        actor=viewer.actor,
        from_state=mentor.state,
        to_state=mentor.state,
        data={"activity_id": str(activity.id), "kind": body.kind.value},
    )
    return row


def list_guidance(*, session: Session, viewer: Viewer, activity_id: uuid.UUID) -> list[MentorGuidance]:
    """The mentors' guidance recorded on a visible activity."""
    get_activity(session=session, viewer=viewer, activity_id=activity_id)
    stmt = (
        select(MentorGuidance)
        .where(MentorGuidance.activity_id == activity_id)
        .options(selectinload(MentorGuidance.mentor).selectinload(Mentor.teacher))
        .order_by(MentorGuidance.recorded_at)
    )
    return list(session.scalars(stmt))


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CST), datetime(year + 1, 1, 1, tzinfo=CST)


def _row(activity: Activity, role: str, label: str) -> WorkloadRow:
    return WorkloadRow(
        activity_id=activity.id,
        number=activity.number,
        held_on=activity.starts_at.astimezone(CST).date(),
        alliance_name=activity.alliance.name,
        topic=activity.topic,
        format=activity.format,
        role=role,
        role_label=label,
        hours=activity.credit_hours,
    )


def workload(*, session: Session, viewer: Viewer, mentor_id: uuid.UUID, year: int | None = None) -> WorkloadOut:
    """Activities that took place in ``year`` (this year by default) where the mentor presented or guided."""
    year = year or datetime.now(CST).year
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
    if not may_see_workload(viewer, mentor):
        raise NotFound("导师不存在")
    start, end = _year_bounds(year)
    in_year = (Activity.state.in_(TOOK_PLACE), Activity.starts_at >= start, Activity.starts_at < end)
    presented = session.scalars(
        select(Activity)
        .join(Participant, Participant.activity_id == Activity.id)
        .where(Participant.teacher_id == mentor.teacher_id, Participant.role == ParticipantRole.PRESENTER, *in_year)
        .options(selectinload(Activity.alliance))
    ).all()
    guided = session.execute(
        select(Activity, MentorGuidance.kind)
        .join(MentorGuidance, MentorGuidance.activity_id == Activity.id)
        .where(MentorGuidance.mentor_id == mentor.id, *in_year)
        .options(selectinload(Activity.alliance))
    ).all()
    rows = [
        _row(a, ParticipantRole.PRESENTER.value, PARTICIPANT_ROLE_LABELS[ParticipantRole.PRESENTER]) for a in presented
    ]
    rows += [_row(a, kind, GUIDANCE_LABELS[GuidanceKind(kind)]) for a, kind in guided]
    rows.sort(key=lambda r: (r.held_on, r.number, r.role))
    counts = {kind.value: 0 for kind in GuidanceKind}
    for _, kind in guided:
        counts[kind] += 1
    return WorkloadOut(
        mentor_id=mentor.id,
        year=year,
        activities=len({r.activity_id for r in rows}),
        presented=len(presented),
        guided=counts,
        alliances=sorted({r.alliance_name for r in rows}),
        rows=rows,
    )


HEADERS = ("序号", "活动编号", "日期", "联盟", "活动主题", "形式", "承担任务", "学时")


def workload_xlsx(
    *, session: Session, viewer: Viewer, mentor_id: uuid.UUID, year: int | None = None
) -> tuple[str, bytes]:
    """The yearly workload report as an .xlsx: (filename, bytes)."""
    report = workload(session=session, viewer=viewer, mentor_id=mentor_id, year=year)
    year = report.year
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{year}年度工作量"
    sheet.append([f"青山湖区幼教导师团 导师年度工作量统计表（{year}年度）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(["导师", mentor.teacher.name, "所在园", mentor.kindergarten.name, "导师团", TEAM_LABELS[mentor.team]])
    sheet.append(
        ["聘期", f"{chinese_date(mentor.term_start)}至{chinese_date(mentor.term_end)}", "聘书编号", mentor.number]
    )
    sheet.append([])
    sheet.append(list(HEADERS))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for n, row in enumerate(report.rows, start=1):
        cells = (row.number, row.held_on.isoformat(), row.alliance_name, row.topic, row.format, row.role_label)
        sheet.append([n, *cells, row.hours])
    if not report.rows:
        sheet.append(["（本年度无记录）"])
    sheet.append([])
    sheet.append(["参与活动数", report.activities])
    sheet.append([PARTICIPANT_ROLE_LABELS[ParticipantRole.PRESENTER], report.presented])
    for kind, count in report.guided.items():
        sheet.append([GUIDANCE_LABELS[GuidanceKind(kind)], count])
    sheet.append(["指导联盟", "、".join(report.alliances) or "（无）"])
    sheet.append(["合计学时", sum({r.activity_id: r.hours for r in report.rows}.values())])
    fit_column_widths(sheet)
    filename = f"导师工作量_{mentor.teacher.name}_{year}.xlsx"
    return filename, save_workbook_deterministic(book)
