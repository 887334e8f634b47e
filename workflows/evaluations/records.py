"""The facts of an alliance's year, read from the activity records (read-only).

**The evaluation year is the calendar year of the semester codes**: year 2026 is every semester
whose code starts with ``2026-`` (``2026-spring`` and ``2026-autumn``), in date order. Per-semester
items iterate over those semesters, so a year with one semester configured counts one.

Only activities that took place (``held`` or ``archived``) count as evidence; cancelled ones and
ones still ``planned``/``announced`` are listed but earn nothing. Dates people read are China time.
The same facts feed the evaluation's automatic items and the dashboards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows.activities.counting import Counting, counting
from workflows.activities.models import Activity, Semester, SemesterWork
from workflows.activities.vocabulary import (
    ATTENDED,
    Attendance,
    MaterialCategory,
    ParticipantRole,
    WorkKind,
    WorkStatus,
)
from workflows.clock import BEIJING
from workflows.registry.models import Alliance, AllianceRole, Membership

TOOK_PLACE = frozenset({"held", "archived"})
ROLE_ORDER = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2}


def china_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


@dataclass(frozen=True)
class WorkFact:
    """A plan or summary of one semester: when it was first handed in against its deadline."""

    status: WorkStatus
    due_on: date
    submitted_on: date | None


@dataclass(frozen=True)
class ActivityFact:
    id: uuid.UUID
    number: str
    topic: str
    domain: str
    format: str
    state: str
    day: date
    host_kindergarten_id: uuid.UUID
    materials_due_on: date
    categories: frozenset[str]
    materials: int
    materials_on_time: int
    participants: int
    attended: int
    leave: int
    absent: int
    unrecorded: int
    presenter_kindergartens: frozenset[uuid.UUID]
    attending_kindergartens: frozenset[uuid.UUID]
    # 未提前通报: announced after the notice period, with the section's leave (and its reason).
    announced_late: bool = False
    late_notice_reason: str = ""
    # 教研员深入各联盟: the researchers who came to guide (attended, role 指导), by name.
    researchers: tuple[str, ...] = ()

    @property
    def took_place(self) -> bool:
        return self.state in TOOK_PLACE

    @property
    def counting(self) -> Counting:
        return counting(state=self.state, topic=self.topic, categories=self.categories)

    @property
    def centralised(self) -> bool:
        return self.counting.counts


@dataclass(frozen=True)
class SemesterFact:
    code: str
    name: str
    starts_on: date
    ends_on: date
    min_centralised: int
    plan: WorkFact
    summary: WorkFact
    activities: list[ActivityFact]

    @property
    def held(self) -> list[ActivityFact]:
        return [a for a in self.activities if a.took_place]

    @property
    def centralised_held(self) -> int:
        return sum(a.centralised for a in self.held)

    @property
    def researcher_visits(self) -> int:
        """Activities that took place with a researcher guiding (「分批全程跟踪推进」)."""
        return sum(bool(a.researchers) for a in self.held)


@dataclass(frozen=True)
class MemberFact:
    kindergarten_id: uuid.UUID
    name: str
    role: AllianceRole
    hosted: int
    presented: int
    attended: int


@dataclass(frozen=True)
class YearRecord:
    alliance_id: uuid.UUID
    year: int
    today: date
    semesters: list[SemesterFact]
    members: list[MemberFact] = field(default_factory=list)

    @property
    def held(self) -> list[ActivityFact]:
        return [a for s in self.semesters for a in s.held]

    @property
    def activities(self) -> list[ActivityFact]:
        return [a for s in self.semesters for a in s.activities]


def year_semesters(*, session: Session, year: int) -> list[Semester]:
    """The semesters of an evaluation year (codes ``<year>-…``), in date order."""
    stmt = select(Semester).where(Semester.code.like(f"{year}-%")).order_by(Semester.starts_on)
    return list(session.scalars(stmt))


def _work(work: SemesterWork | None, due_on: date) -> WorkFact:
    # Lateness is judged on the first submission; a later revision does not make it late.
    when = None if work is None else (work.first_submitted_at or work.submitted_at)
    if when is None:
        return WorkFact(WorkStatus.MISSING, due_on, None)
    day = china_day(when)
    return WorkFact(WorkStatus.ON_TIME if day <= due_on else WorkStatus.LATE, due_on, day)


def _activity(activity: Activity, due_days: int) -> ActivityFact:
    day = china_day(activity.starts_at)
    due_on = date.fromordinal(day.toordinal() + due_days)
    current = activity.current_materials
    # Who came to guide (the researcher, mentors) is not the alliance's own attendance.
    people = [p for p in activity.participants if p.role != ParticipantRole.GUIDANCE]
    attended = [p for p in people if p.attendance in ATTENDED]
    guided = [
        p
        for p in activity.participants
        if p.role == ParticipantRole.GUIDANCE and p.user_id and p.attendance in ATTENDED
    ]
    return ActivityFact(
        id=activity.id,
        number=activity.number,
        topic=activity.topic,
        domain=activity.domain,
        format=activity.format,
        state=activity.state,
        day=day,
        host_kindergarten_id=activity.host_kindergarten_id,
        materials_due_on=due_on,
        categories=frozenset(m.category for m in current if m.category in set(MaterialCategory)),
        materials=len(current),
        materials_on_time=sum(china_day(m.uploaded_at) <= due_on for m in current),
        participants=len(people),
        attended=len(attended),
        leave=sum(p.attendance == Attendance.LEAVE for p in people),
        absent=sum(p.attendance == Attendance.ABSENT for p in people),
        unrecorded=sum(p.attendance == Attendance.EXPECTED for p in people),
        # A presenter recorded as on leave or absent did not present.
        presenter_kindergartens=frozenset(
            p.kindergarten_id
            for p in people
            if p.role == "presenter"
            and p.attendance not in (Attendance.LEAVE, Attendance.ABSENT)
            and p.kindergarten_id is not None
        ),
        # A guest (no kindergarten of the registry) attends for no member.
        attending_kindergartens=frozenset(p.kindergarten_id for p in attended if p.kindergarten_id is not None),
        announced_late=activity.announced_late,
        late_notice_reason=activity.late_notice_reason,
        researchers=tuple(p.name for p in guided),
    )


def year_memberships(*, session: Session, alliance_id: uuid.UUID, year: int) -> list[Membership]:
    """The alliance's memberships that overlap the calendar year, lead first."""
    stmt = (
        select(Membership)
        .where(
            Membership.alliance_id == alliance_id,
            Membership.started_on <= date(year, 12, 31),
            (Membership.ended_on.is_(None)) | (Membership.ended_on >= date(year, 1, 1)),
        )
        .options(selectinload(Membership.kindergarten))
    )
    latest: dict[uuid.UUID, Membership] = {}
    for m in session.scalars(stmt.order_by(Membership.started_on)):
        latest[m.kindergarten_id] = m  # a kindergarten that left and came back counts once
    return sorted(latest.values(), key=lambda m: (ROLE_ORDER[m.role], m.kindergarten.code))


def collect(*, session: Session, alliance: Alliance, year: int, today: date) -> YearRecord:
    """Read the alliance's semesters, plans, summaries, activities, attendance and materials of ``year``."""
    semesters = year_semesters(session=session, year=year)
    ids = [s.id for s in semesters]
    works = {
        (w.semester_id, w.kind): w
        for w in session.scalars(
            select(SemesterWork).where(SemesterWork.alliance_id == alliance.id, SemesterWork.semester_id.in_(ids))
        )
    }
    activities = list(
        session.scalars(
            select(Activity)
            .where(Activity.alliance_id == alliance.id, Activity.semester_id.in_(ids))
            .options(selectinload(Activity.participants), selectinload(Activity.materials))
            .order_by(Activity.starts_at, Activity.number)
        )
    )
    facts = [
        SemesterFact(
            code=s.code,
            name=s.name,
            starts_on=s.starts_on,
            ends_on=s.ends_on,
            min_centralised=s.min_centralised,
            plan=_work(works.get((s.id, WorkKind.PLAN.value)), s.plan_due_on),
            summary=_work(works.get((s.id, WorkKind.SUMMARY.value)), s.summary_due_on),
            activities=[_activity(a, s.materials_due_days) for a in activities if a.semester_id == s.id],
        )
        for s in semesters
    ]
    record = YearRecord(alliance_id=alliance.id, year=year, today=today, semesters=facts)
    held = record.held
    members = [
        MemberFact(
            kindergarten_id=m.kindergarten_id,
            name=m.kindergarten.name,
            role=m.role,
            hosted=sum(a.host_kindergarten_id == m.kindergarten_id for a in held),
            presented=sum(m.kindergarten_id in a.presenter_kindergartens for a in held),
            attended=sum(m.kindergarten_id in a.attending_kindergartens for a in held),
        )
        for m in year_memberships(session=session, alliance_id=alliance.id, year=year)
    ]
    return YearRecord(alliance_id=alliance.id, year=year, today=today, semesters=facts, members=members)
