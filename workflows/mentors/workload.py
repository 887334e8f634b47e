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
from workflows import audit, clock
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.activities.models import Activity, Participant, Semester, SemesterWork
from workflows.activities.service import get_visible as get_activity
from workflows.activities.service import is_organiser
from workflows.activities.vocabulary import PARTICIPANT_ROLE_LABELS, ParticipantRole, WorkKind
from workflows.clock import BEIJING, chinese_date
from workflows.errors import Conflict, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.mentors.models import Mentor, MentorGuidance
from workflows.mentors.schemas import GuidanceCreate, WorkloadOut, WorkloadRow
from workflows.mentors.service import get_mentor, may_see_workload
from workflows.mentors.vocabulary import GUIDANCE_LABELS, TEAM_LABELS, GuidanceKind
from workflows.registry.models import Alliance
from workflows.roles import Role


def _plan(session: Session, viewer: Viewer, plan_id: uuid.UUID | None) -> SemesterWork:
    plan = None if plan_id is None else session.get(SemesterWork, plan_id)
    if plan is None or plan.kind != WorkKind.PLAN.value or not viewer.may_see_alliance_private(plan.alliance_id):
        raise ValidationFailed.single("plan_id", "required", "参与制定计划须选择联盟的学期计划")
    return plan


def record_guidance(*, session: Session, viewer: Viewer, body: GuidanceCreate) -> MentorGuidance:
    """Record a mentor's guidance: of an activity, or of an alliance's semester plan (参与制定计划).

    The alliance's lead or the bureau records it."""
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=body.mentor_id)
    target: dict[str, uuid.UUID] = {}
    if body.kind == GuidanceKind.PLAN_REVIEW:
        plan = _plan(session, viewer, body.plan_id)
        if not (viewer.is_bureau or (viewer.role == Role.LEAD and viewer.alliance_id == plan.alliance_id)):
            raise Forbidden("只有龙头园、成幼科和教研室可以登记导师指导")
        target["plan_id"] = plan.id
    else:
        if body.activity_id is None:
            raise ValidationFailed.single("activity_id", "required", "请选择导师指导的活动")
        activity = get_activity(session=session, viewer=viewer, activity_id=body.activity_id)
        if not (is_organiser(viewer, activity) or viewer.role in (Role.OFFICER, Role.RESEARCHER)):
            raise Forbidden("只有龙头园、成幼科和教研室可以登记导师指导")
        if activity.state == "cancelled":
            raise TransitionNotAllowed("活动已取消，不能登记导师指导")
        target["activity_id"] = activity.id
    if mentor.state != "active":
        raise TransitionNotAllowed("该导师已退出导师团")
    row = MentorGuidance(
        mentor_id=mentor.id, kind=body.kind.value, note=body.note, recorded_by=viewer.user_id, **target
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
        data={**{k: str(v) for k, v in target.items()}, "kind": body.kind.value},
    )
    return row


def list_mentor_guidance(*, session: Session, mentor_id: uuid.UUID) -> list[MentorGuidance]:
    """Everything recorded for one mentor, newest first."""
    stmt = select(MentorGuidance).where(MentorGuidance.mentor_id == mentor_id)
    return list(session.scalars(stmt.order_by(MentorGuidance.recorded_at.desc())))


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
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


def _row(activity: Activity, role: str, label: str) -> WorkloadRow:
    return WorkloadRow(
        activity_id=activity.id,
        number=activity.number,
        held_on=activity.starts_at.astimezone(BEIJING).date(),
        alliance_name=activity.alliance.name,
        topic=activity.topic,
        format=activity.format,
        role=role,
        role_label=label,
        hours=activity.credit_hours,
    )


def _plan_row(session: Session, plan: SemesterWork, semester: Semester, kind: str) -> WorkloadRow:
    alliance = session.get(Alliance, plan.alliance_id)
    if alliance is None:
        raise RuntimeError("expected alliance is not None")
    return WorkloadRow(
        activity_id=None,
        plan_id=plan.id,
        number="",
        held_on=semester.starts_on,
        alliance_name=alliance.name,
        topic=f"{semester.name}联盟互动计划",
        format="计划",
        role=kind,
        role_label=GUIDANCE_LABELS[GuidanceKind(kind)],
        hours=0,
    )


def workload(*, session: Session, viewer: Viewer, mentor_id: uuid.UUID, year: int | None = None) -> WorkloadOut:
    """Activities that took place in ``year`` (this year by default) where the mentor presented or guided."""
    year = year or clock.today().year
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
    planned = session.execute(
        select(SemesterWork, Semester, MentorGuidance.kind)
        .join(MentorGuidance, MentorGuidance.plan_id == SemesterWork.id)
        .join(Semester, Semester.id == SemesterWork.semester_id)
        .where(
            MentorGuidance.mentor_id == mentor.id, Semester.starts_on >= start.date(), Semester.starts_on < end.date()
        )
    ).all()
    rows += [_plan_row(session, plan, semester, kind) for plan, semester, kind in planned]
    rows.sort(key=lambda r: (r.held_on, r.number, r.role))
    counts = {kind.value: 0 for kind in GuidanceKind}
    for kind in [kind for _, kind in guided] + [kind for _, _, kind in planned]:
        counts[kind] += 1
    return WorkloadOut(
        mentor_id=mentor.id,
        year=year,
        activities=len({r.activity_id for r in rows if r.activity_id}),
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
    if sheet is None:
        raise RuntimeError("expected sheet is not None")
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
    sheet.append(["合计学时", sum({r.activity_id: r.hours for r in report.rows if r.activity_id}.values())])
    fit_column_widths(sheet)
    filename = f"导师工作量_{mentor.teacher.name}_{year}.xlsx"
    return filename, save_workbook_deterministic(book)


def guidance_targets(
    *, session: Session, viewer: Viewer, mentor: Mentor
) -> tuple[list[Activity], list[tuple[SemesterWork, Semester, Alliance]]]:
    """What a guidance record may name for this mentor and viewer: the activities (not cancelled) and
    the semester plans of the alliances the mentor serves that the viewer may see."""
    served = [a.alliance_id for a in mentor.current_assignments if viewer.may_see_alliance_private(a.alliance_id)]
    if not served:
        return [], []
    activities = session.scalars(
        select(Activity)
        .where(Activity.alliance_id.in_(served), Activity.state != "cancelled")
        .order_by(Activity.starts_at.desc())
    ).all()
    plans = session.execute(
        select(SemesterWork, Semester, Alliance)
        .join(Semester, Semester.id == SemesterWork.semester_id)
        .join(Alliance, Alliance.id == SemesterWork.alliance_id)
        .where(SemesterWork.alliance_id.in_(served), SemesterWork.kind == WorkKind.PLAN.value)
        .order_by(Semester.starts_on.desc())
    ).all()
    return list(activities), [(p, s, a) for p, s, a in plans]
