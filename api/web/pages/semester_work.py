"""Each alliance's semester plan (联盟互动计划) and summary (教研经验小结): standing, the form that renders
the .docx, uploading a .docx/PDF instead, and the semester's compliance line. Leads write; pillars and
the bureau read (the bureau picks an alliance)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import File, UploadFile
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.routes.files import stream_object
from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import domain_errors, pydantic_errors
from api.web.routing import web_router
from workflows import clock
from workflows.access import Viewer
from workflows.activities import exchange, semester_work
from workflows.activities.compliance import compliance
from workflows.activities.schemas import PlanForm, SummaryForm
from workflows.activities.semesters import current_semester, list_semesters
from workflows.activities.views import work_out
from workflows.activities.vocabulary import WORK_LABELS, WORK_STATUS_LABELS, WorkKind, WorkStatus
from workflows.applications import needs
from workflows.errors import DomainError, Forbidden, NotFound, ValidationFailed
from workflows.roles import Role

router = web_router()

BUREAU = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
nav.register(
    nav.NavItem(
        "semester_work",
        "学期计划与小结",
        "/semester-work",
        roles=frozenset({Role.LEAD, Role.PILLAR, Role.OFFICER, Role.RESEARCHER}),
        alliance_roles=frozenset({Role.APPLICANT}),
        order=35,
    )
)

# The form's text sections per kind, as the service's PlanForm / SummaryForm name them (all required here:
# an empty plan is not a plan). The plan's schedule (日程) is kept as it was (edited through the API).
FIELDS: dict[WorkKind, tuple[tuple[str, str], ...]] = {
    WorkKind.PLAN: (
        ("guiding_idea", "指导思想"),
        ("goals", "工作目标"),
        ("measures", "主要措施"),
        ("safeguards", "保障措施"),
    ),
    WorkKind.SUMMARY: (
        ("overview", "基本情况"),
        ("practices", "主要做法"),
        ("outcomes", "取得成效"),
        ("reflection", "反思"),
        ("improvements", "改进方向"),
    ),
}
SCHEMAS: dict[WorkKind, type[BaseModel]] = {WorkKind.PLAN: PlanForm, WorkKind.SUMMARY: SummaryForm}
SOON = timedelta(days=14)


def _today() -> Any:
    return clock.today()


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    if viewer.alliance_id is None:
        return []
    today = _today()
    semester = current_semester(session=session, today=today)
    if semester is None:
        return []
    items = []
    for kind in WorkKind:
        _, _, work = semester_work.get_work(
            session=session, viewer=viewer, semester_code=semester.code, alliance_id=viewer.alliance_id, kind=kind
        )
        s = semester_work.standing(semester, kind, work, today=today)
        if s.status == WorkStatus.MISSING and (s.overdue or s.due_on - today <= SOON):
            detail = f"{s.due_on} 截止" + ("，已逾期" if s.overdue else "")
            link = f"/semester-work/{viewer.alliance_id}?semester={semester.code}#{kind.value}"
            items.append(
                todo.TodoItem("学期计划与小结", f"提交{semester.name}{WORK_LABELS[kind]}", link, detail, s.overdue)
            )
    lines = compliance(session=session, viewer=viewer, semester_code=semester.code, today=today)
    line = next((c for c in lines if c.alliance.id == viewer.alliance_id), None)
    if line is not None and line.behind:
        short = semester.min_centralised - line.centralised_held
        link = f"/semester-work/{viewer.alliance_id}?semester={semester.code}#activities"
        detail = f"已计入 {line.centralised_held} 次，学期已过半，{semester.ends_on} 结束"
        items.append(todo.TodoItem("学期计划与小结", f"集中研讨活动尚差 {short} 次", link, detail, True))
    return items


todo.register("semester_work", _todo, roles={Role.LEAD}, order=35)


def _semester_code(page: SignedInPage, chosen: str) -> str:
    if chosen:
        return chosen
    current = current_semester(session=page.db, today=_today())
    if current is not None:
        return current.code
    rows = list_semesters(session=page.db)
    if not rows:
        raise NotFound("尚未设置学期")
    return rows[-1].code


@router.get("/semester-work")
def semester_work_home(page: UserPage, semester: str = "") -> Response:
    """Kindergartens go to their alliance; the bureau picks one."""
    viewer = page.viewer
    if not list_semesters(session=page.db):
        # Nothing to plan yet: say so on the page the menu links to, rather than a 404.
        return page.render("semester_work/none.html")
    if viewer.role in (Role.LEAD, Role.PILLAR, Role.APPLICANT) and viewer.alliance_id is not None:
        suffix = f"?semester={semester}" if semester else ""
        return page.redirect(f"/semester-work/{viewer.alliance_id}{suffix}")
    if viewer.role not in BUREAU:
        raise NotFound("页面不存在")
    code = _semester_code(page, semester)
    rows = compliance(session=page.db, viewer=viewer, semester_code=code, today=_today())
    return page.render(
        "semester_work/index.html",
        rows=rows,
        semesters=list_semesters(session=page.db),
        semester=code,
        labels=_status_labels(),
    )


def _status_labels() -> dict[str, str]:
    return {k.value: v for k, v in WORK_STATUS_LABELS.items()}


def _section(
    page: SignedInPage,
    alliance_id: uuid.UUID,
    code: str,
    kind: WorkKind,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    upload_error: str = "",
    unshare_error: str = "",
    unshare_reason: str = "",
) -> dict[str, Any]:
    semester, alliance, work = semester_work.get_work(
        session=page.db, viewer=page.viewer, semester_code=code, alliance_id=alliance_id, kind=kind
    )
    w = work_out(page.db, semester=semester, alliance=alliance, kind=kind, work=work, today=_today())
    saved = {k: str(v) for k, v in w.form.items() if isinstance(v, str)}
    return {
        "w": w,
        "kind": kind.value,
        "base": f"/semester-work/{alliance_id}/{code}/{kind.value}",
        # Where a refused save comes back to: this semester's page at this section (``returns``).
        "page": f"/semester-work/{alliance_id}?semester={code}#{kind.value}",
        "fields": FIELDS[kind],
        "values": values if values is not None else saved,
        "errors": errors or {},
        "error": error,
        "upload_error": upload_error,
        "may_write": page.viewer.role == Role.LEAD and page.viewer.alliance_id == alliance_id,
        # 经验交流: the summary published to every alliance (the officer publishes and takes it down).
        "shared": work if kind == WorkKind.SUMMARY and exchange.is_shared(work) else None,
        "unshared": work if kind == WorkKind.SUMMARY and work is not None and work.unshared_at else None,
        "may_share": kind == WorkKind.SUMMARY and page.viewer.role == Role.OFFICER,
        "unshare_error": unshare_error,
        "unshare_reason": unshare_reason,
    }


def render_page(page: SignedInPage, alliance_id: uuid.UUID, code: str, **by_kind: dict[str, Any]) -> Response:
    sections = [_section(page, alliance_id, code, kind, **by_kind.get(kind.value, {})) for kind in WorkKind]
    line = next(
        (c for c in compliance(session=page.db, viewer=page.viewer, semester_code=code, today=_today())
         if c.alliance.id == alliance_id),
        None,
    )  # fmt: skip
    return page.render(
        "semester_work/page.html",
        alliance_id=alliance_id,
        alliance_name=sections[0]["w"].alliance_name,
        semester=code,
        semesters=list_semesters(session=page.db),
        sections=sections,
        line=line,
        may_pick=page.viewer.role in BUREAU,
        needs=_needs(page, alliance_id),
    )


def _needs(page: SignedInPage, alliance_id: uuid.UUID) -> dict[str, Any] | None:
    """The members' stated needs beside the plan, for those who write or oversee it."""
    if not needs.may_read(page.viewer, alliance_id):
        return None
    rows = needs.member_needs(session=page.db, viewer=page.viewer, alliance_id=alliance_id)
    return {"rows": rows, "tally": needs.tally(rows)}


@router.get("/semester-work/{alliance_id}")
def alliance_page(alliance_id: uuid.UUID, page: UserPage, semester: str = "") -> Response:
    if not list_semesters(session=page.db):
        return page.render("semester_work/none.html")
    return render_page(page, alliance_id, _semester_code(page, semester))


@router.post("/semester-work/{alliance_id}/{code}/{kind}")
def save(alliance_id: uuid.UUID, code: str, kind: WorkKind, page: UserPage, form: FormDep) -> Response:
    values = {name: str(form.get(name, "")).strip() for name, _ in FIELDS[kind]}
    version_text = str(form.get("version", "")).strip()
    version = int(version_text) if version_text.isdigit() else None
    try:
        missing = [(name, label) for name, label in FIELDS[kind] if not values[name]]
        if missing:
            raise ValidationFailed.single(missing[0][0], "required", f"请填写{missing[0][1]}")
        semester, _, work = semester_work.get_work(
            session=page.db, viewer=page.viewer, semester_code=code, alliance_id=alliance_id, kind=kind
        )
        body = dict(work.form) if work is not None and work.form else {}
        body.update(values)
        body = SCHEMAS[kind].model_validate(body).model_dump(mode="json")
        semester_work.save_form(
            session=page.db, viewer=page.viewer, objects=page.objects, semester_code=code,
            alliance_id=alliance_id, kind=kind, form=body, version=version,
        )  # fmt: skip
    except ValidationError as exc:
        page.db.rollback()
        failed: dict[str, Any] = {"values": values, "errors": pydantic_errors(exc)}
        return render_page(page, alliance_id, code, **{kind.value: failed})
    except ValidationFailed as exc:  # other refusals: back to the page with the message (WebRoute)
        page.db.rollback()
        errors = domain_errors(exc)
        for name, label in FIELDS[kind]:
            if not values[name]:
                errors[name] = f"请填写{label}"
        state: dict[str, Any] = {"values": values, "errors": errors, "error": "" if errors else exc.message}
        return render_page(page, alliance_id, code, **{kind.value: state})
    return page.redirect(
        f"/semester-work/{alliance_id}?semester={code}#{kind.value}", f"已保存{semester.name}{WORK_LABELS[kind]}"
    )


@router.post("/semester-work/{alliance_id}/{code}/{kind}/upload")
def upload(
    alliance_id: uuid.UUID,
    code: str,
    kind: WorkKind,
    page: UserPage,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    error = ""
    try:
        if file is None or not file.filename:
            raise ValidationFailed.single("file", "required", "请选择要上传的文件")
        semester_work.upload(
            session=page.db, viewer=page.viewer, objects=page.objects, settings=page.settings, semester_code=code,
            alliance_id=alliance_id, kind=kind, stream=file.file, filename=file.filename,
        )  # fmt: skip
    except DomainError as exc:
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        page.db.rollback()
        error = exc.message
    if not page.htmx:
        if error:
            return render_page(page, alliance_id, code, **{kind.value: {"upload_error": error}})
        return page.redirect(f"/semester-work/{alliance_id}?semester={code}#{kind.value}", "已上传")
    return page.fragment("semester_work/_work.html", s=_section(page, alliance_id, code, kind, upload_error=error))


@router.get("/semester-work/{alliance_id}/{code}/{kind}/content")
def content(alliance_id: uuid.UUID, code: str, kind: WorkKind, page: UserPage) -> Response:
    _, _, work = semester_work.get_work(
        session=page.db, viewer=page.viewer, semester_code=code, alliance_id=alliance_id, kind=kind
    )
    document = semester_work.current_document(page.db, work)
    if document is None:
        raise NotFound("尚未提交")
    return stream_object(
        page.objects, document.object_key, filename=document.filename, content_type=document.content_type
    )
