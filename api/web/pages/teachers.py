"""教师名册: a principal keeps its own kindergarten's teachers, the officer and admin every one's,
the researcher reads them. Another kindergarten's teacher is the 404 page, as everywhere."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form
from pydantic import ValidationError
from starlette.responses import Response

from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.routing import web_router
from workflows.errors import Conflict, StaleVersion, ValidationFailed
from workflows.registry import service as registry
from workflows.registry import teachers
from workflows.registry.models import LEVEL_LABELS, Teacher, TeacherLevel
from workflows.registry.roster_rules import POSTS, STATUS_LABELS, birth_year_range
from workflows.registry.schemas import TeacherCreate, TeacherUpdate

router = web_router()

nav.register(nav.NavItem("teachers", "教师名册", "/teachers", order=53))

FIELDS = ("name", "post", "level", "birth_year", "phone")
PAGE_SIZE = 50
STATUS_FILTERS = {"active": "在职", "left": "离职", "all": "全部"}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/teachers")
def roster(
    page: UserPage,
    kindergarten: str = "",
    alliance: str = "",
    level: str = "",
    status: str = "active",
    q: str = "",
    p: int = 1,
) -> Response:
    viewer = page.viewer
    district = teachers.roster_kindergarten(viewer) is None
    status = status if status in STATUS_FILTERS else "active"
    rows = teachers.list_roster(
        session=page.db,
        viewer=viewer,
        kindergarten_id=_uuid(kindergarten),
        alliance_id=_uuid(alliance),
        level=next((v for v in TeacherLevel if v.value == level), None),
        active={"active": True, "left": False}.get(status),
        query=q.strip() or None,
    )
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    current = min(max(p, 1), pages)
    own = None
    if not district and viewer.kindergarten_id is not None:
        own = registry.get_kindergarten(session=page.db, viewer=viewer, kindergarten_id=viewer.kindergarten_id)
    return page.render(
        "teachers/list.html",
        rows=rows[(current - 1) * PAGE_SIZE : current * PAGE_SIZE],
        total=len(rows),
        page_number=current,
        pages=pages,
        district=district,
        own=own.kindergarten if own else None,
        may_add=viewer.role in teachers.KEEPERS or not district,
        may_exchange=viewer.is_bureau,
        filters={"kindergarten": kindergarten, "alliance": alliance, "level": level, "status": status, "q": q},
        kindergartens=[v.kindergarten for v in registry.list_kindergartens(session=page.db, viewer=viewer)]
        if district
        else [],
        alliances=registry.list_alliances(session=page.db) if district else [],
        level_labels=LEVEL_LABELS,
        status_filters=STATUS_FILTERS,
        status_labels=STATUS_LABELS,
    )


def _form(
    page: SignedInPage,
    *,
    teacher: Teacher | None,
    values: dict[str, str],
    errors: FieldErrors | None = None,
    error: str = "",
) -> Response:
    choosing = teacher is None and page.viewer.role in teachers.KEEPERS
    low, high = birth_year_range()
    return page.render(
        "teachers/form.html",
        teacher=teacher,
        values=values,
        errors=errors or {},
        error=error,
        kindergartens=[v.kindergarten for v in registry.list_kindergartens(session=page.db, viewer=page.viewer)]
        if choosing
        else [],
        level_labels=LEVEL_LABELS,
        posts=POSTS,
        birth_years=(low, high),
        may_keep=teacher is None or teachers.may_keep(page.viewer, teacher.kindergarten_id),
    )


def _values(teacher: Teacher) -> dict[str, str]:
    return {
        "name": teacher.name,
        "post": teacher.post,
        "level": teacher.level.value,
        "birth_year": str(teacher.birth_year or ""),
        "phone": teacher.phone or "",
        "version": str(teacher.version),
    }


def _entered(form: Any, *names: str) -> dict[str, str]:
    return {name: text(form, name) for name in names}


@router.get("/teachers/new")
def new_teacher(page: UserPage, kindergarten: str = "") -> Response:
    teachers.roster_kindergarten(page.viewer)  # a kindergarten-less account has no roster: 404
    if page.viewer.role not in teachers.KEEPERS and page.viewer.is_bureau:
        return page.redirect("/teachers", "教研室可以查看教师名册，不能修改", "error")
    return _form(page, teacher=None, values={"post": "教师", "kindergarten_id": kindergarten})


@router.post("/teachers/new")
def create_teacher(page: UserPage, form: FormDep) -> Response:
    values = _entered(form, *FIELDS, "kindergarten_id")
    # Empty inputs go to the checks as typed, so each gets its own message ("请填写姓名").
    data: dict[str, Any] = {k: v for k, v in values.items() if v or k in FIELDS}
    try:
        body = TeacherCreate(**data)
        teacher = teachers.create_teacher(session=page.db, viewer=page.viewer, body=body)
    except ValidationError as exc:
        return _form(page, teacher=None, values=values, errors=pydantic_errors(exc), error="请按提示修改后重新提交")
    except ValidationFailed as exc:
        page.db.rollback()
        return _form(page, teacher=None, values=values, errors=domain_errors(exc), error="请按提示修改后重新提交")
    return page.redirect("/teachers", f"已添加教师 {teacher.name}（{teacher.code}）")


@router.get("/teachers/{teacher_id}")
def edit_teacher(teacher_id: uuid.UUID, page: UserPage) -> Response:
    teacher = teachers.get_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id)
    return _form(page, teacher=teacher, values=_values(teacher))


@router.post("/teachers/{teacher_id}")
def update_teacher(teacher_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    teacher = teachers.get_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id)
    values = _entered(form, *FIELDS, "version")
    # Every input is on the form: an emptied phone or birth year clears it.
    data: dict[str, Any] = {k: (v or None) for k, v in values.items() if k in FIELDS}
    try:
        body = TeacherUpdate(version=values["version"] or "0", **data)
        teacher = teachers.update_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id, body=body)
    except ValidationError as exc:
        return _form(page, teacher=teacher, values=values, errors=pydantic_errors(exc), error="请按提示修改后重新提交")
    except ValidationFailed as exc:
        page.db.rollback()
        return _form(page, teacher=teacher, values=values, errors=domain_errors(exc), error="请按提示修改后重新提交")
    except StaleVersion as exc:
        page.db.rollback()
        return _form(page, teacher=teacher, values=values, error=exc.message)
    return page.redirect("/teachers", f"已保存教师 {teacher.name} 的信息")


@router.post("/teachers/{teacher_id}/status")
def set_status(
    teacher_id: uuid.UUID, page: UserPage, active: Annotated[str, Form()], version: Annotated[int, Form()]
) -> Response:
    """离职 or back at work; a refusal (the number is taken meanwhile) returns to the teacher's page."""
    back = f"/teachers/{teacher_id}"
    try:
        body = TeacherUpdate(version=version, active=active == "true")
        teacher = teachers.update_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id, body=body)
    except (ValidationFailed, StaleVersion) as exc:
        page.db.rollback()
        message = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.message
        return page.redirect(back, f"未能更改状态：{message}", "error")
    label = "已标记为离职（保留在名册中）" if not teacher.active else "已恢复为在职"
    return page.redirect("/teachers", f"{teacher.name}{label}")


@router.post("/teachers/{teacher_id}/delete")
def delete_teacher(teacher_id: uuid.UUID, page: UserPage, version: Annotated[int, Form()]) -> Response:
    teacher = teachers.get_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id)
    name = teacher.name
    try:
        teachers.delete_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id, version=version)
    except (Conflict, StaleVersion) as exc:
        page.db.rollback()
        return page.redirect(f"/teachers/{teacher_id}", exc.message, "error")
    return page.redirect("/teachers", f"已删除教师 {name}")
