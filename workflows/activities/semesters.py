"""Semesters and their deadlines, set by the bureau's preschool section."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.activities.models import Semester
from workflows.activities.schemas import SemesterCreate, SemesterUpdate
from workflows.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed

PLAN_DUE_DAYS = 14
SEASON_LABELS = {"spring": "春季", "autumn": "秋季"}
MANAGERS = frozenset({Role.OFFICER, Role.ADMIN})


def default_name(code: str) -> str:
    year, season = code.split("-")
    return f"{year}年{SEASON_LABELS[season]}学期"


def list_semesters(*, session: Session) -> list[Semester]:
    """Every semester, the latest first."""
    return list(session.scalars(select(Semester).order_by(Semester.starts_on.desc())))


def get_semester(*, session: Session, code: str) -> Semester:
    """The semester with this code; NotFound otherwise."""
    semester = session.scalar(select(Semester).where(Semester.code == code))
    if semester is None:
        raise NotFound(f"学期 {code} 不存在")
    return semester


def current_semester(*, session: Session, today: date) -> Semester | None:
    """The semester ``today`` falls in, if any."""
    stmt = select(Semester).where(Semester.starts_on <= today, Semester.ends_on >= today)
    return session.scalars(stmt.order_by(Semester.starts_on.desc())).first()


def _check_dates(semester: Semester) -> None:
    problems = []
    if semester.ends_on <= semester.starts_on:
        problems.append(FieldError("ends_on", "before_start", "学期结束日期须晚于开始日期"))
    if semester.plan_due_on < semester.starts_on:
        problems.append(FieldError("plan_due_on", "before_start", "计划截止日期不能早于学期开始"))
    if semester.summary_due_on < semester.starts_on:
        problems.append(FieldError("summary_due_on", "before_start", "小结截止日期不能早于学期开始"))
    if problems:
        raise ValidationFailed(problems)


def create_semester(*, session: Session, viewer: Viewer, body: SemesterCreate) -> Semester:
    """Open a semester; the plan is due 14 days after its start and the summary at its end by default."""
    if viewer.role not in MANAGERS:
        raise Forbidden("只有成幼科可以设置学期")
    if session.scalar(select(Semester.id).where(Semester.code == body.code)):
        raise Conflict(f"学期 {body.code} 已存在", code="semester_exists")
    semester = Semester(
        code=body.code,
        name=body.name or default_name(body.code),
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        plan_due_on=body.plan_due_on or body.starts_on + timedelta(days=PLAN_DUE_DAYS),
        summary_due_on=body.summary_due_on or body.ends_on,
        materials_due_days=body.materials_due_days,
        min_centralised=body.min_centralised,
    )
    _check_dates(semester)
    session.add(semester)
    session.flush()
    audit.append(
        session, entity_type="semester", entity_id=semester.id, event="create", actor=viewer.actor,
        data=body.model_dump(mode="json"),
    )  # fmt: skip
    return semester


def update_semester(*, session: Session, viewer: Viewer, code: str, body: SemesterUpdate) -> Semester:
    """Change a semester's dates or deadlines (the office may extend a deadline)."""
    if viewer.role not in MANAGERS:
        raise Forbidden("只有成幼科可以设置学期")
    semester = get_semester(session=session, code=code)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(semester, name, value)
    _check_dates(semester)
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
        name=name or default_name(code),
        starts_on=starts_on,
        ends_on=ends_on,
        plan_due_on=starts_on + timedelta(days=PLAN_DUE_DAYS),
        summary_due_on=ends_on,
    )
    session.add(semester)
    session.flush()
    return semester
