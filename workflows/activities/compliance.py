"""Is each alliance doing its semester work (有计划/有内容/有成效)? And reminders before deadlines."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.activities.counting import Counting, counting
from workflows.activities.materials import completeness
from workflows.activities.models import Activity, DeadlineReminder, Semester
from workflows.activities.semester_work import Standing, due_on, standing, works_of_semester
from workflows.activities.semesters import get_semester
from workflows.activities.vocabulary import CATEGORY_LABELS, WORK_LABELS, WorkKind
from workflows.notifications import notify_users, users_of_kindergarten
from workflows.registry.models import Alliance

# Reminders go out this many days before a deadline, and on the day itself.
REMIND_DAYS_BEFORE = (7, 3, 1, 0)


@dataclass(frozen=True)
class AllianceCompliance:
    alliance: Alliance
    semester: Semester
    centralised_held: int
    by_state: dict[str, int]
    plan: Standing
    summary: Standing
    materials_overdue: list[str]
    # Each activity of the semester and whether (and why) it counts towards the minimum.
    activities: list[tuple[Activity, Counting]]
    # Past the middle of the semester and still short of the minimum.
    behind: bool

    @property
    def meets_minimum(self) -> bool:
        return self.centralised_held >= self.semester.min_centralised


def activity_counting(activity: Activity) -> Counting:
    """Whether this activity counts towards its semester's minimum, and why."""
    categories = (m.category for m in activity.current_materials)
    return counting(state=activity.state, topic=activity.topic, categories=categories)


def _activities(session: Session, semester: Semester) -> list[Activity]:
    stmt = (
        select(Activity)
        .where(Activity.semester_id == semester.id)
        .options(selectinload(Activity.materials))
        .order_by(Activity.starts_at)
    )
    return list(session.scalars(stmt))


def compliance(*, session: Session, viewer: Viewer, semester_code: str, today: date) -> list[AllianceCompliance]:
    """Per visible alliance: centralised activities held against the minimum, plan and summary standing."""
    semester = get_semester(session=session, code=semester_code)
    stmt = select(Alliance).where(Alliance.active).order_by(Alliance.code)
    alliances = [a for a in session.scalars(stmt) if viewer.may_see_alliance_private(a.id)]
    works = works_of_semester(session, semester)
    activities = _activities(session, semester)
    report = []
    for alliance in alliances:
        own = [a for a in activities if a.alliance_id == alliance.id]
        counted = [(a, activity_counting(a)) for a in own]
        held = sum(c.counts for _, c in counted)
        report.append(
            AllianceCompliance(
                alliance=alliance,
                semester=semester,
                centralised_held=held,
                by_state=dict(Counter(a.state for a in own)),
                plan=standing(semester, WorkKind.PLAN, works.get((alliance.id, "plan")), today=today),
                summary=standing(semester, WorkKind.SUMMARY, works.get((alliance.id, "summary")), today=today),
                materials_overdue=[a.number for a in own if completeness(a, today=today).overdue],
                activities=counted,
                behind=midpoint(semester) <= today <= semester.ends_on and held < semester.min_centralised,
            )
        )
    return report


# --- reminders -------------------------------------------------------------------------------------


def _remind(
    session: Session,
    *,
    key: str,
    today: date,
    users: list[User],
    title: str,
    body: str,
    link: str,
    kind: str = "deadline.reminder",
    once: bool = False,
) -> int:
    """One reminder per deadline and day: a second run on the same day finds the row and sends nothing.
    A reminder sent ``once`` is sent on the first day it is due and never again."""
    if not users:
        return 0
    sent = select(DeadlineReminder.id).where(DeadlineReminder.deadline_key == key)
    if session.scalar(sent if once else sent.where(DeadlineReminder.day == today)):
        return 0
    try:
        with session.begin_nested():
            session.add(DeadlineReminder(deadline_key=key, day=today, recipients=len(users)))
    except IntegrityError:  # a concurrent run got there first
        return 0
    notify_users(session, users, kind=kind, title=title, body=body, link=link)
    return len(users)


def _days_label(days: int) -> str:
    return "今天截止" if days == 0 else f"还有 {days} 天截止"


def send_reminders(*, session: Session, today: date) -> int:
    """Remind leads of plans and summaries not yet in, and hosts of missing materials; returns notices sent."""
    sent = 0
    semesters = session.scalars(
        select(Semester).where(Semester.starts_on <= today + timedelta(days=max(REMIND_DAYS_BEFORE)))
        .where(Semester.ends_on >= today - timedelta(days=60))
    )  # fmt: skip
    alliances = list(session.scalars(select(Alliance).where(Alliance.active).order_by(Alliance.code)))
    for semester in semesters:
        works = works_of_semester(session, semester)
        for alliance in alliances:
            lead = alliance.lead
            if lead is None:
                continue
            for kind in WorkKind:
                due = due_on(semester, kind)
                days = (due - today).days
                work = works.get((alliance.id, kind.value))
                if days not in REMIND_DAYS_BEFORE or (work is not None and work.first_submitted_at is not None):
                    continue
                sent += _remind(
                    session,
                    key=f"{kind.value}:{alliance.id}:{semester.code}:{due.isoformat()}",
                    today=today,
                    users=users_of_kindergarten(session, lead.id),
                    title=f"{semester.name}{WORK_LABELS[kind]}{_days_label(days)}",
                    body=f"{alliance.name}的{WORK_LABELS[kind]}尚未提交，截止日期 {due.isoformat()}。",
                    link=f"/semester-work/{alliance.id}?semester={semester.code}#{kind.value}",
                )
        sent += _remind_materials(session, semester, today)
        sent += _warn_behind(session, semester, alliances, today)
    return sent


def midpoint(semester: Semester) -> date:
    """The middle of the semester: from here on an alliance short of its minimum is warned."""
    return semester.starts_on + (semester.ends_on - semester.starts_on) / 2


def counted_activities(session: Session, semester: Semester, alliance_id: uuid.UUID) -> int:
    """How many of the alliance's activities of the semester count towards its minimum so far."""
    own = session.scalars(
        select(Activity)
        .where(Activity.semester_id == semester.id, Activity.alliance_id == alliance_id)
        .options(selectinload(Activity.materials))
    )
    return sum(activity_counting(a).counts for a in own)


def _warn_behind(session: Session, semester: Semester, alliances: list[Alliance], today: date) -> int:
    """From the middle of the semester, warn once the lead of an alliance short of the minimum."""
    if not midpoint(semester) <= today <= semester.ends_on:
        return 0
    sent = 0
    for alliance in alliances:
        lead = alliance.lead
        counted = counted_activities(session, semester, alliance.id)
        if lead is None or counted >= semester.min_centralised:
            continue
        short = semester.min_centralised - counted
        sent += _remind(
            session,
            key=f"behind:{alliance.id}:{semester.code}",
            today=today,
            users=users_of_kindergarten(session, lead.id),
            title=f"{semester.name}集中研讨活动尚差 {short} 次",
            body=(
                f"{alliance.name}本学期已计入集中研讨活动 {counted} 次，方案要求不少于 {semester.min_centralised} 次，"
                f"学期已过半（{semester.ends_on.isoformat()} 结束）。举行后请上传研讨记录，活动方可计入。"
            ),
            link=f"/semester-work/{alliance.id}?semester={semester.code}#activities",
            kind="activity.behind_minimum",
            once=True,
        )
    return sent


def _remind_materials(session: Session, semester: Semester, today: date) -> int:
    sent = 0
    for activity in _activities(session, semester):
        if activity.state != "held":  # archived activities are closed; planned ones have no materials due
            continue
        state = completeness(activity, today=today)
        days = (state.due_on - today).days
        if state.complete or days not in REMIND_DAYS_BEFORE:
            continue
        recipients: dict[uuid.UUID, User] = {}
        lead = activity.alliance.lead
        for kindergarten_id in {activity.host_kindergarten_id, *([lead.id] if lead else [])}:
            recipients.update({u.id: u for u in users_of_kindergarten(session, kindergarten_id)})
        missing = "、".join(CATEGORY_LABELS[c] for c in state.missing)
        sent += _remind(
            session,
            key=f"materials:{activity.id}:{state.due_on.isoformat()}",
            today=today,
            users=list(recipients.values()),
            title=f"活动资料{_days_label(days)}：{activity.topic}",
            body=f"活动 {activity.number} 尚缺：{missing}。请在 {state.due_on.isoformat()} 前上传。",
            link=f"/activities/{activity.id}",
        )
    return sent
