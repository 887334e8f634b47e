"""Overview dashboards: one alliance's year at a glance, and the district's alliances side by side.

The figures come from the same year record as the annual evaluation's automatic items
(``workflows.evaluations.records``: the year is the calendar year of the semester codes), so a
dashboard and an evaluation opened the same day agree.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import date, datetime
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workflows.access import Viewer
from workflows.activities.vocabulary import WORK_LABELS, WORK_STATUS_LABELS, WorkKind, WorkStatus
from workflows.applications.models import Application
from workflows.dashboards.schemas import (
    AllianceDashboard,
    AllianceRow,
    ApplicationsWaiting,
    AttendanceOut,
    DistrictDashboard,
    EvaluationBrief,
    MaterialsOut,
    MemberOut,
    OverdueItem,
    SemesterOut,
    SemesterVisits,
    WaitingApplication,
    WorkStatusOut,
)
from workflows.errors import NotFound
from workflows.evaluations.machine import EVALUATION_WORKFLOW
from workflows.evaluations.models import Evaluation, ReviewFlag
from workflows.evaluations.records import SemesterFact, WorkFact, YearRecord, china_day, collect
from workflows.evaluations.views import results_visible
from workflows.presenters import Presented
from workflows.registry.models import ROLE_LABELS, Alliance

WAITING_STATES = ("submitted", "under_review")
OLDEST_SHOWN = 10


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else math.floor(Fraction(part * 1000, whole)) / 10


def _work(fact: WorkFact, today: date) -> WorkStatusOut:
    return WorkStatusOut(
        status=fact.status.value,
        status_label=WORK_STATUS_LABELS[fact.status],
        due_on=fact.due_on,
        submitted_on=fact.submitted_on,
        overdue=fact.status == WorkStatus.MISSING and today > fact.due_on,
    )


def _materials(record: YearRecord) -> MaterialsOut:
    held = record.held
    present = sum(len(a.categories) for a in held)
    return MaterialsOut(
        activities=len(held),
        categories_present=present,
        categories_expected=7 * len(held),
        completeness=_percent(present, 7 * len(held)),
        overdue_activities=[a.number for a in held if len(a.categories) < 7 and record.today > a.materials_due_on],
    )


def _attendance(record: YearRecord) -> AttendanceOut:
    held = record.held
    expected, attended = sum(a.participants for a in held), sum(a.attended for a in held)
    return AttendanceOut(
        expected=expected,
        attended=attended,
        leave=sum(a.leave for a in held),
        absent=sum(a.absent for a in held),
        unrecorded=sum(a.unrecorded for a in held),
        rate=_percent(attended, expected),
    )


def _brief(viewer: Viewer, evaluation: Evaluation | None) -> EvaluationBrief | None:
    if evaluation is None:
        return None
    shown = results_visible(viewer, evaluation)  # before publication: the bureau only
    return EvaluationBrief.model_validate(
        Presented(
            evaluation,
            state_label=EVALUATION_WORKFLOW.label(evaluation.state),
            total=evaluation.total if shown else None,
            grade=evaluation.grade if shown else None,
        )
    )


def _evaluations(session: Session, alliance_id: uuid.UUID, year: int) -> tuple[Evaluation | None, Evaluation | None]:
    """This year's evaluation and the latest published one."""
    current = session.scalar(select(Evaluation).where(Evaluation.alliance_id == alliance_id, Evaluation.year == year))
    last = session.scalars(
        select(Evaluation)
        .where(Evaluation.alliance_id == alliance_id, Evaluation.state == "published")
        .order_by(Evaluation.year.desc())
    ).first()
    return current, last


def _never_attended(record: YearRecord) -> set[uuid.UUID]:
    return {m.kindergarten_id for m in record.members if m.attended == 0} if record.held else set()


def alliance_dashboard(*, session: Session, viewer: Viewer, alliance_id: uuid.UUID, year: int, today: date) -> AllianceDashboard:  # fmt: skip
    """One alliance's year (the bureau and the alliance's own kindergartens)."""
    alliance = session.get(Alliance, alliance_id)
    if alliance is None or not viewer.may_see_alliance_private(alliance_id):
        raise NotFound("联盟不存在")
    record = collect(session=session, alliance=alliance, year=year, today=today)
    never = _never_attended(record)
    current, last = _evaluations(session, alliance.id, year)
    return AllianceDashboard(
        alliance_id=alliance.id,
        code=alliance.code,
        name=alliance.name,
        lead_name=alliance.lead.name if alliance.lead else "",
        pillar_name=alliance.pillar.name if alliance.pillar else "",
        year=year,
        members=[
            MemberOut(
                kindergarten_id=m.kindergarten_id,
                name=m.name,
                role=m.role.value,
                role_label=ROLE_LABELS[m.role],
                hosted=m.hosted,
                presented=m.presented,
                attended_activities=m.attended,
                never_attended=m.kindergarten_id in never,
            )  # fmt: skip
            for m in record.members
        ],
        semesters=[
            SemesterOut(
                code=s.code,
                name=s.name,
                starts_on=s.starts_on,
                ends_on=s.ends_on,
                min_centralised=s.min_centralised,
                centralised_held=s.centralised_held,
                meets_minimum=s.centralised_held >= s.min_centralised,
                by_state=dict(Counter(a.state for a in s.activities)),
                plan=_work(s.plan, today),
                summary=_work(s.summary, today),
                researcher_visits=s.researcher_visits,
                researchers=_researchers(s),
            )  # fmt: skip
            for s in record.semesters
        ],
        materials=_materials(record),
        attendance=_attendance(record),
        evaluation=_brief(viewer, current),
        last_grade=_brief(viewer, last),
    )


def _researchers(semester: SemesterFact) -> list[str]:
    return list(dict.fromkeys(name for a in semester.held for name in a.researchers))


def _visits(record: YearRecord) -> list[SemesterVisits]:
    return [SemesterVisits(semester=s.code, semester_name=s.name, visits=s.researcher_visits,
                           researchers=_researchers(s)) for s in record.semesters]  # fmt: skip


def _row(session: Session, alliance: Alliance, record: YearRecord) -> AllianceRow:
    current, last = _evaluations(session, alliance.id, record.year)
    plans = Counter(s.plan.status for s in record.semesters)
    summaries = Counter(s.summary.status for s in record.semesters)
    required = sum(s.min_centralised for s in record.semesters)
    held = sum(s.centralised_held for s in record.semesters)
    return AllianceRow(
        alliance_id=alliance.id,
        code=alliance.code,
        name=alliance.name,
        members=len(record.members),
        centralised_held=held,
        centralised_required=required,
        meets_minimum=all(s.centralised_held >= s.min_centralised for s in record.semesters),
        plans_on_time=plans[WorkStatus.ON_TIME],
        plans_late=plans[WorkStatus.LATE],
        plans_missing=plans[WorkStatus.MISSING],
        summaries_in=summaries[WorkStatus.ON_TIME] + summaries[WorkStatus.LATE],
        summaries_missing=summaries[WorkStatus.MISSING],
        materials_completeness=_materials(record).completeness,
        attendance_rate=_attendance(record).rate,
        never_attended=len(_never_attended(record)),
        evaluation_state=EVALUATION_WORKFLOW.label(current.state) if current else "未发起",
        evaluation_total=current.total if current else None,
        evaluation_grade=current.grade if current and current.state == "published" else "",
        last_grade=last.grade if last else "",
        researcher_visits=_visits(record),
    )


def _overdue(alliance: Alliance, record: YearRecord) -> list[OverdueItem]:
    today, items = record.today, []
    for s in record.semesters:
        for kind, fact in ((WorkKind.PLAN, s.plan), (WorkKind.SUMMARY, s.summary)):
            if fact.status == WorkStatus.MISSING and today > fact.due_on:
                items.append(OverdueItem(kind=kind.value, kind_label=WORK_LABELS[kind], alliance_code=alliance.code,
                                         alliance_name=alliance.name, reference=s.code, label=f"{s.name}{WORK_LABELS[kind]}",
                                         due_on=fact.due_on, days_overdue=(today - fact.due_on).days))  # fmt: skip
    for a in record.held:
        if len(a.categories) < 7 and today > a.materials_due_on:
            items.append(OverdueItem(kind="materials", kind_label="活动资料", alliance_code=alliance.code,
                                     alliance_name=alliance.name, reference=a.number, label=f"「{a.topic}」资料不全",
                                     due_on=a.materials_due_on, days_overdue=(today - a.materials_due_on).days))  # fmt: skip
    return items


def _applications(session: Session, today: date) -> ApplicationsWaiting:
    waiting = list(
        session.scalars(
            select(Application)
            .where(Application.state.in_(WAITING_STATES))
            .options(selectinload(Application.kindergarten))
            .order_by(Application.submitted_at, Application.number)
        )
    )

    def days(at: datetime | None) -> int:
        return 0 if at is None else max(0, (today - china_day(at)).days)

    return ApplicationsWaiting(
        count=len(waiting),
        by_state={state: sum(a.state == state for a in waiting) for state in WAITING_STATES},
        oldest=[
            WaitingApplication(
                id=a.id,
                number=a.number,
                kindergarten_name=a.kindergarten.name,
                state=a.state,
                submitted_at=a.submitted_at,
                days_waiting=days(a.submitted_at),
            )  # fmt: skip
            for a in waiting[:OLDEST_SHOWN]
        ],
    )


def district_dashboard(*, session: Session, viewer: Viewer, year: int, today: date) -> DistrictDashboard:
    """All alliances side by side, what is overdue, and what waits for the office (the bureau only)."""
    if not viewer.is_bureau:
        raise NotFound()
    alliances = list(session.scalars(select(Alliance).where(Alliance.active).order_by(Alliance.code)))
    rows, overdue = [], []
    for alliance in alliances:
        record = collect(session=session, alliance=alliance, year=year, today=today)
        rows.append(_row(session, alliance, record))
        overdue += _overdue(alliance, record)
    open_flags = session.scalar(select(func.count()).select_from(ReviewFlag).where(ReviewFlag.decision.is_(None)))
    return DistrictDashboard(
        year=year,
        today=today,
        alliances=rows,
        overdue=sorted(overdue, key=lambda o: (-o.days_overdue, o.alliance_code, o.reference)),
        applications_waiting=_applications(session, today),
        review_flags_open=int(open_flags or 0),
    )
