"""Semesters and their deadlines, set by the bureau's preschool section (成幼科).

A semester is named by its year and season: the code ``2026-autumn`` in URLs and the API, the name
2026年秋季学期 everywhere a person reads it. The plan's floor of two centralised activities a
semester (「每学期集中研讨活动不少于2次」) may be raised for a semester, never lowered.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import audit
from workflows.access import Viewer
from workflows.activities.models import Activity, Semester
from workflows.activities.schemas import SemesterCreate, SemesterUpdate
from workflows.activities.vocabulary import MIN_CENTRALISED, semester_name
from workflows.clock import BEIJING
from workflows.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from workflows.roles import Role

PLAN_DUE_DAYS = 14
# The months a semester of each season may start in: spring after the winter break, autumn after the summer.
START_MONTHS = {"spring": range(1, 5), "autumn": range(7, 11)}
LONGEST = timedelta(days=215)  # about seven months
# The summary is written after the semester ends, but not months later.
SUMMARY_GRACE = timedelta(days=60)
MANAGERS = frozenset({Role.OFFICER})
# 「每次活动请提前通报」: at least a day ahead.
MIN_NOTICE_DAYS = 1


def list_semesters(*, session: Session) -> list[Semester]:
    """Every semester, the latest first."""
    return list(session.scalars(select(Semester).order_by(Semester.starts_on.desc())))


def get_semester(*, session: Session, code: str) -> Semester:
    """The semester with this code; NotFound otherwise."""
    semester = session.scalar(select(Semester).where(Semester.code == code))
    if semester is None:
        raise NotFound("该学期不存在")
    return semester


def current_semester(*, session: Session, today: date) -> Semester | None:
    """The semester ``today`` falls in, if any."""
    stmt = select(Semester).where(Semester.starts_on <= today, Semester.ends_on >= today)
    return session.scalars(stmt.order_by(Semester.starts_on.desc())).first()


def semester_missing(*, session: Session, today: date) -> bool:
    """No semester holds ``today`` and none is set to start later: nothing can be planned (day one)."""
    if current_semester(session=session, today=today) is not None:
        return False
    return session.scalar(select(Semester.id).where(Semester.starts_on > today).limit(1)) is None


def _overlap(session: Session, semester: Semester) -> list[FieldError]:
    stmt = select(Semester).where(Semester.starts_on <= semester.ends_on, Semester.ends_on >= semester.starts_on)
    if semester.id is not None:
        stmt = stmt.where(Semester.id != semester.id)
    other = session.scalars(stmt.order_by(Semester.starts_on)).first()
    if other is None:
        return []
    inside = other.starts_on <= semester.starts_on <= other.ends_on
    message = f"与{other.name}（{other.starts_on} 至 {other.ends_on}）时间重叠"
    return [FieldError("starts_on" if inside else "ends_on", "overlaps", message)]


def _activities_outside(session: Session, semester: Semester) -> list[FieldError]:
    """Moving a semester's dates must not leave its activities outside it."""
    if semester.id is None:
        return []
    first, last = session.execute(
        select(func.min(Activity.starts_at), func.max(Activity.starts_at)).where(Activity.semester_id == semester.id)
    ).one()
    problems = []
    if first is not None and first.astimezone(BEIJING).date() < semester.starts_on:
        day = first.astimezone(BEIJING).date()
        problems.append(FieldError("starts_on", "activities_outside", f"本学期已有 {day} 的活动，开始日期不能晚于该日"))
    if last is not None and last.astimezone(BEIJING).date() > semester.ends_on:
        day = last.astimezone(BEIJING).date()
        problems.append(FieldError("ends_on", "activities_outside", f"本学期已有 {day} 的活动，结束日期不能早于该日"))
    return problems


def _deadline_problems(semester: Semester) -> list[FieldError]:
    problems = []
    if not semester.starts_on <= semester.plan_due_on <= semester.ends_on:
        problems.append(FieldError("plan_due_on", "outside_semester", "计划截止日期须在学期开始与结束日期之间"))
    if not semester.starts_on <= semester.summary_due_on <= semester.ends_on + SUMMARY_GRACE:
        problems.append(
            FieldError("summary_due_on", "outside_semester", "小结截止日期须在学期开始之后、学期结束后 60 天之内")
        )
    elif semester.summary_due_on < semester.plan_due_on:
        problems.append(FieldError("summary_due_on", "before_plan", "小结截止日期不能早于计划截止日期"))
    return problems


def check(session: Session, semester: Semester, *, new_start: bool = True) -> None:
    """Every problem with a semester as it would be saved, each at its field; ValidationFailed if any.
    The start is held to the season only when it is set (``new_start``), so an older semester's
    deadline can still be extended."""
    problems: list[FieldError] = []
    year, season = semester.code.split("-")
    in_season = semester.starts_on.year == int(year) and semester.starts_on.month in START_MONTHS[season]
    if new_start and not in_season:
        months = START_MONTHS[season]
        problems.append(
            FieldError(
                "starts_on",
                "wrong_season",
                f"{semester.name}应在 {year} 年 {months.start} 至 {months.stop - 1} 月间开始",
            )
        )
    if semester.ends_on <= semester.starts_on:
        # The deadlines are judged against the dates: with the dates wrong that would only add noise.
        problems.append(FieldError("ends_on", "before_start", "学期结束日期须晚于开始日期"))
    elif semester.ends_on - semester.starts_on > LONGEST:
        problems.append(FieldError("ends_on", "too_long", "学期不能长于 7 个月，请检查结束日期"))
    else:
        problems += _deadline_problems(semester)
    if semester.min_centralised < MIN_CENTRALISED:
        problems.append(
            FieldError(
                "min_centralised",
                "below_floor",
                f"方案规定每学期集中研讨活动不少于 {MIN_CENTRALISED} 次，最低次数不能低于 {MIN_CENTRALISED}",
            )
        )
    if semester.notice_days < MIN_NOTICE_DAYS:
        problems.append(
            FieldError(
                "notice_days", "below_floor", f"方案要求每次活动提前通报，提前通报天数不能少于 {MIN_NOTICE_DAYS} 天"
            )
        )
    if not problems:
        problems = _overlap(session, semester) + _activities_outside(session, semester)
    if problems:
        raise ValidationFailed(problems, summary=None if len(problems) == 1 else f"有 {len(problems)} 项需要修改")


def create_semester(*, session: Session, viewer: Viewer, body: SemesterCreate) -> Semester:
    """Open a semester; the plan is due 14 days after its start and the summary at its end by default."""
    if viewer.role not in MANAGERS:
        raise Forbidden("只有成幼科可以设置学期")
    name = semester_name(body.code)
    if session.scalar(select(Semester.id).where(Semester.code == body.code)):
        raise Conflict(f"{name}已经设置过了", code="semester_exists")
    semester = Semester(
        code=body.code,
        name=name,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        plan_due_on=body.plan_due_on or body.starts_on + timedelta(days=PLAN_DUE_DAYS),
        summary_due_on=body.summary_due_on or body.ends_on,
        materials_due_days=body.materials_due_days,
        min_centralised=body.min_centralised,
        notice_days=body.notice_days,
    )
    with session.no_autoflush:
        check(session, semester)
    session.add(semester)
    session.flush()
    audit.append(
        session, entity_type="semester", entity_id=semester.id, event="create", actor=viewer.actor,
        data=body.model_dump(mode="json"),
    )  # fmt: skip
    return semester


def update_semester(*, session: Session, viewer: Viewer, code: str, body: SemesterUpdate) -> Semester:
    """Change a semester's dates, deadlines or minimum (the office may extend a deadline)."""
    if viewer.role not in MANAGERS:
        raise Forbidden("只有成幼科可以设置学期")
    semester = get_semester(session=session, code=code)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    started = semester.starts_on
    # Nothing reaches the database until the whole semester is checked: a refused edit changes nothing.
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(semester, name, value)
        try:
            check(session, semester, new_start=semester.starts_on != started)
        except ValidationFailed:
            session.expire(semester)
            raise
    session.flush()
    audit.append(
        session, entity_type="semester", entity_id=semester.id, event="edit", actor=viewer.actor,
        data=body.model_dump(mode="json", exclude_unset=True),
    )  # fmt: skip
    return semester


def ensure_semester(
    *, session: Session, code: str, starts_on: date, ends_on: date, name: str | None = None
) -> Semester:
    """The semester ``code``, created with the default deadlines if missing (demo data, set-up)."""
    found = session.scalar(select(Semester).where(Semester.code == code))
    if found is not None:
        return found
    semester = Semester(
        code=code,
        name=name or semester_name(code),
        starts_on=starts_on,
        ends_on=ends_on,
        plan_due_on=starts_on + timedelta(days=PLAN_DUE_DAYS),
        summary_due_on=ends_on,
    )
    session.add(semester)
    session.flush()
    return semester
