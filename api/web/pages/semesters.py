"""Semesters (学期设置), kept by the preschool section: the list, opening one (year and season give its
name, 2026年秋季学期), and changing its dates, deadlines and minimum of centralised activities."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import domain_errors, present, pydantic_errors, unplaced
from api.web.routing import web_router
from workflows import clock
from workflows.access import Viewer
from workflows.activities import semesters
from workflows.activities.schemas import SemesterCreate, SemesterUpdate
from workflows.activities.semesters import PLAN_DUE_DAYS
from workflows.activities.vocabulary import MIN_CENTRALISED, SEASON_LABELS, WorkKind, semester_name
from workflows.errors import Conflict, NotFound, ValidationFailed
from workflows.roles import Role

router = web_router()

nav.register(nav.NavItem("semesters", "学期设置", "/semesters", roles=frozenset({Role.OFFICER}), order=36))

DATES = ("starts_on", "ends_on", "plan_due_on", "summary_due_on")
NUMBERS = ("min_centralised", "materials_due_days", "notice_days")
FIELDS = {"year", "season", *DATES, *NUMBERS}


def _officer(page: SignedInPage) -> None:
    if page.viewer.role != Role.OFFICER:
        raise NotFound("页面不存在")


def _today() -> date:
    return clock.today()


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    """On day one (no semester now or to come) the officer is asked to set one: plans and activities need it."""
    if not semesters.semester_missing(session=session, today=_today()):
        return []
    detail = "尚未设置当前或即将开始的学期，联盟计划与小结、教研活动都要按学期进行"
    return [todo.TodoItem("学期设置", "设置本学期", "/semesters/new", detail, urgent=True)]


todo.register("semesters", _todo, roles={Role.OFFICER}, order=36)


@router.get("/semesters")
def semester_list(page: UserPage) -> Response:
    _officer(page)
    return page.render("semesters/list.html", rows=semesters.list_semesters(session=page.db), today=_today())


def _next_semester(page: SignedInPage) -> dict[str, str]:
    """The year and season after the latest semester (or the coming one), to start the form from."""
    rows = semesters.list_semesters(session=page.db)
    if rows:
        year, season = rows[0].code.split("-")
        return (
            {"year": str(int(year) + 1), "season": "spring"}
            if season == "autumn"
            else {"year": year, "season": "autumn"}
        )
    today = _today()
    return {"year": str(today.year), "season": "spring" if today.month < 7 else "autumn"}


def _form(
    page: SignedInPage, values: dict[str, str], *, code: str = "", errors: dict[str, str] | None = None, error: str = ""
) -> Response:
    return page.render(
        "semesters/form.html",
        values=values,
        code=code,
        name=semester_name(code) if code else "",
        errors=errors or {},
        error=error,
        seasons=SEASON_LABELS,
        floor=MIN_CENTRALISED,
        plan_days=PLAN_DUE_DAYS,
    )


@router.get("/semesters/new")
def new_semester(page: UserPage) -> Response:
    _officer(page)
    return _form(
        page,
        {
            **_next_semester(page),
            "min_centralised": str(MIN_CENTRALISED),
            "materials_due_days": "7",
            "notice_days": "3",
        },
    )


def _numbers(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in NUMBERS:
        text = values.get(name, "")
        if not text:
            continue
        if text.lstrip("-").isdigit():
            found[name] = int(text)
        else:
            errors[name] = "须为整数"
    return found


@router.post("/semesters/new")
def create_semester(page: UserPage, form: FormDep) -> Response:
    _officer(page)
    values = {k: str(v) for k, v in present(form, ("year", "season", *DATES, *NUMBERS)).items()}
    errors: dict[str, str] = {}
    year, season = values.get("year", ""), values.get("season", "")
    if not (year.isdigit() and 2000 <= int(year) <= 2100):
        errors["year"] = "请填写年度，如 2026"
    if season not in SEASON_LABELS:
        errors["season"] = "请选择春季或秋季"
    data: dict[str, Any] = {k: values[k] for k in DATES if k in values} | _numbers(values, errors)
    # With the year or season wrong a placeholder code stands in, so the dates are still checked now.
    code = "2000-spring" if errors else f"{year}-{season}"
    try:
        body = SemesterCreate(code=code, **data)
    except ValidationError as exc:
        errors = {**pydantic_errors(exc), **errors}
    if errors:
        return _form(page, values, errors=errors)
    try:
        semester = semesters.create_semester(session=page.db, viewer=page.viewer, body=body)
    except ValidationFailed as exc:
        return _refused(page, values, exc)
    except Conflict as exc:
        page.db.rollback()
        return _form(page, values, errors={"season": exc.message})
    return page.redirect("/semesters", f"已设置{semester.name}")


def _refused(page: SignedInPage, values: dict[str, str], exc: ValidationFailed, *, code: str = "") -> Response:
    page.db.rollback()
    errors = domain_errors(exc)
    return _form(page, values, code=code, errors=errors, error="；".join(unplaced(errors, FIELDS)))


def _saved(code: str, page: SignedInPage) -> dict[str, str]:
    s = semesters.get_semester(session=page.db, code=code)
    return {
        **{name: getattr(s, name).isoformat() for name in DATES},
        **{name: str(getattr(s, name)) for name in NUMBERS},
    }


@router.get("/semesters/{code}/edit")
def edit_semester(code: str, page: UserPage) -> Response:
    _officer(page)
    return _form(page, _saved(code, page), code=code)


@router.post("/semesters/{code}/edit")
def update_semester(code: str, page: UserPage, form: FormDep) -> Response:
    _officer(page)
    semesters.get_semester(session=page.db, code=code)
    values = {k: str(v) for k, v in present(form, (*DATES, *NUMBERS)).items()}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {k: values[k] for k in DATES if k in values} | _numbers(values, errors)
    errors.update({name: "此项必填" for name in DATES if name not in values})
    try:
        body = SemesterUpdate(**data)
    except ValidationError as exc:
        return _form(page, values, code=code, errors={**pydantic_errors(exc), **errors})
    if errors:
        return _form(page, values, code=code, errors=errors)
    try:
        semester = semesters.update_semester(session=page.db, viewer=page.viewer, code=code, body=body)
    except ValidationFailed as exc:
        return _refused(page, values, exc, code=code)
    return page.redirect("/semesters", f"已保存{semester.name}")


@router.get("/semesters/{code}/alliances/{alliance_id}/{kind}")
def old_work_link(code: str, alliance_id: uuid.UUID, kind: WorkKind, page: UserPage) -> Response:
    """Reminders sent before the plan/summary page moved linked here: send them on to it."""
    return page.redirect(f"/semester-work/{alliance_id}?semester={code}#{kind.value}")
