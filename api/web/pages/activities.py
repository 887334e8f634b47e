"""Teaching-research activities: the list by semester, planning one, and its page (events,
attendance, materials by category, the sign-in sheet, the archive bundle, researchers' comments)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import File, Form, UploadFile
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.routes.files import stream_object
from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import domain_errors, pydantic_errors
from api.web.routing import web_router
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.activities import archive, documents, events, materials, service
from workflows.activities.machine import ACTIVITY_WORKFLOW, ATTENDANCE_STATES, MATERIAL_STATES
from workflows.activities.models import Activity
from workflows.activities.schemas import ActivityCreate, AttendanceEntry
from workflows.activities.semesters import current_semester, list_semesters
from workflows.activities.views import activity_out, bundle_out, comment_out, completeness_out, material_out
from workflows.activities.vocabulary import ATTENDANCE_LABELS, CATEGORY_LABELS, CST, DOMAINS, FORMATS, MaterialCategory
from workflows.errors import Conflict, DomainError, NotFound, ValidationFailed
from workflows.registry import service as registry

router = web_router()

ORGANISERS = frozenset({Role.LEAD, Role.PILLAR})
nav.register(
    nav.NavItem(
        "activities",
        "教研活动",
        "/activities",
        roles=ORGANISERS | {Role.OFFICER, Role.RESEARCHER, Role.ADMIN},
        order=30,
    )
)
CONFIRM = {"cancel": "确定取消本次活动？已通报的教师会收到取消通知。", "archive": "归档后资料不能再修改，确定归档？"}
FIELDS = ("topic", "domain", "format", "starts_at", "place", "host_kindergarten_id")


def _today() -> Any:
    return datetime.now(CST).date()


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    area, items = "教研活动", []
    for a in service.list_visible(session=session, viewer=viewer):
        link = f"/activities/{a.id}"
        if viewer.role == Role.LEAD and a.state == "planned":
            items.append(todo.TodoItem(area, f"通报活动：{a.topic}", link, a.number))
        elif a.state in ("held", "archived"):
            state = materials.completeness(a, today=_today())
            if state.missing and a.state == "held":
                missing = "、".join(CATEGORY_LABELS[c] for c in state.missing)
                items.append(
                    todo.TodoItem(area, f"补齐活动资料：{a.topic}", link, f"缺：{missing}", urgent=state.overdue)
                )
    return items


todo.register("activities", _todo, roles={Role.LEAD}, order=30)


def _semesters(page: SignedInPage, chosen: str) -> tuple[list[Any], str]:
    rows = list_semesters(session=page.db)
    if not chosen:
        current = current_semester(session=page.db, today=_today())
        chosen = current.code if current else (rows[-1].code if rows else "")
    return rows, chosen


@router.get("/activities")
def activity_list(page: UserPage, semester: str = "") -> Response:
    semesters, chosen = _semesters(page, semester)
    rows = service.list_visible(session=page.db, viewer=page.viewer, semester=chosen or None)
    return page.render(
        "activities/list.html",
        rows=[activity_out(page.viewer, a) for a in rows],
        semesters=semesters,
        semester=chosen,
        may_create=page.viewer.role in ORGANISERS and page.viewer.alliance_id is not None,
    )


def _form(
    page: SignedInPage, values: dict[str, str], errors: dict[str, str] | None = None, error: str = ""
) -> Response:
    if page.viewer.role not in ORGANISERS or page.viewer.alliance_id is None:
        raise NotFound("联盟不存在")
    alliance = registry.get_alliance(session=page.db, alliance_id=page.viewer.alliance_id)
    semesters, chosen = _semesters(page, values.get("semester", ""))
    return page.render(
        "activities/form.html",
        values={"semester": chosen, **values},
        errors=errors or {},
        error=error,
        semesters=semesters,
        domains=DOMAINS,
        formats=FORMATS,
        hosts=[(str(m.kindergarten.id), m.kindergarten.name) for m in alliance.current_memberships],
    )


@router.get("/activities/new")
def new_activity(page: UserPage) -> Response:
    return _form(page, {"host_kindergarten_id": str(page.viewer.kindergarten_id or "")})


@router.post("/activities/new")
def create_activity(page: UserPage, form: FormDep) -> Response:
    values = {k: str(form.get(k, "")).strip() for k in (*FIELDS, "semester")}
    if page.viewer.role not in ORGANISERS or page.viewer.alliance_id is None:
        raise NotFound("联盟不存在")
    data: dict[str, Any] = {k: v for k, v in values.items() if v}
    try:
        body = ActivityCreate(alliance_id=page.viewer.alliance_id, **data)
        activity = service.create(session=page.db, viewer=page.viewer, body=body)
    except ValidationError as exc:
        return _form(page, values, pydantic_errors(exc))
    except ValidationFailed as exc:
        page.db.rollback()
        return _form(page, values, domain_errors(exc), exc.message)
    return page.redirect(f"/activities/{activity.id}", f"已创建活动 {activity.number}")


@router.get("/activities/{activity_id}")
def activity_detail(activity_id: uuid.UUID, page: UserPage) -> Response:
    return _detail(page, service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id))


def _retry(page: SignedInPage, activity_id: uuid.UUID, exc: DomainError, **context: Any) -> Response:
    """A refused change: the page again with the service's message (and its field errors)."""
    if isinstance(exc, NotFound):
        raise exc
    page.db.rollback()
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
    return _detail(page, activity, errors=errors, error=exc.message, **context)


@router.post("/activities/{activity_id}/events/{event}")
def fire(
    activity_id: uuid.UUID,
    event: str,
    page: UserPage,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        a = events.fire_event(
            session=page.db, viewer=page.viewer, activity_id=activity_id, event=event, version=version, comment=comment
        )
    except ValidationFailed as exc:  # other refusals: back to the activity with the message (WebRoute)
        return _retry(page, activity_id, exc, failed_event=event)
    label = ACTIVITY_WORKFLOW.rules[event].label
    return page.redirect(f"/activities/{a.id}", f"已{label}：活动现为「{ACTIVITY_WORKFLOW.label(a.state)}」")


@router.post("/activities/{activity_id}/attendance")
def attendance(activity_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entries = []
    for key, value in form.multi_items():
        if key.startswith("att-") and value:
            entries.append(AttendanceEntry(teacher_id=uuid.UUID(key[4:]), attendance=str(value)))
    try:
        if not entries:
            raise ValidationFailed.single("attendance", "required", "请至少为一位教师选择出勤情况")
        service.record_attendance(session=page.db, viewer=page.viewer, activity_id=activity_id, entries=entries)
    except ValidationFailed as exc:
        return _retry(page, activity_id, exc)
    return page.redirect(f"/activities/{activity_id}#attendance", "已保存出勤记录")


@router.post("/activities/{activity_id}/materials")
def upload_material(
    activity_id: uuid.UUID,
    page: UserPage,
    category: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    error = ""
    try:
        if category not in MaterialCategory.__members__.values():
            raise ValidationFailed.single("category", "invalid", "请选择资料类别")
        if file is None or not file.filename:
            raise ValidationFailed.single("file", "required", "请选择要上传的文件")
        materials.add_material(
            session=page.db, viewer=page.viewer, objects=page.objects, settings=page.settings,
            activity_id=activity_id, category=MaterialCategory(category), stream=file.file, filename=file.filename,
        )  # fmt: skip
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.db.rollback()
        error = exc.message
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    if not page.htmx:
        return _detail(page, activity, error=error) if error else page.redirect(f"/activities/{activity_id}")
    return page.fragment("activities/_materials.html", **{**_materials_context(page, activity), "upload_error": error})


@router.get("/activities/{activity_id}/materials/{material_id}/content")
def material_content(activity_id: uuid.UUID, material_id: uuid.UUID, page: UserPage) -> Response:
    m = materials.get_material(session=page.db, viewer=page.viewer, activity_id=activity_id, material_id=material_id)
    return stream_object(page.objects, m.object_key, filename=m.filename, content_type=m.content_type)


@router.get("/activities/{activity_id}/sign-in-sheet")
def sign_in_sheet(activity_id: uuid.UUID, page: UserPage) -> Response:
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    d = documents.render_sign_in_sheet(session=page.db, objects=page.objects, activity=activity, actor=page.viewer)
    return stream_object(page.objects, d.object_key, filename=d.filename, content_type=d.content_type)


@router.get("/activities/{activity_id}/bundle/status")
def bundle_status(activity_id: uuid.UUID, page: UserPage) -> Response:
    try:
        bundle = bundle_out(archive.get_bundle(session=page.db, viewer=page.viewer, activity_id=activity_id))
    except Conflict:
        bundle = None
    return page.fragment("activities/_bundle.html", activity_id=activity_id, bundle=bundle)


@router.get("/activities/{activity_id}/bundle")
def download_bundle(activity_id: uuid.UUID, page: UserPage) -> Response:
    b = archive.ready_bundle(session=page.db, viewer=page.viewer, activity_id=activity_id)
    assert b.object_key is not None
    url = page.objects.presigned_url(b.object_key, filename=b.filename)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    return stream_object(page.objects, b.object_key, filename=b.filename, content_type="application/zip")


@router.post("/activities/{activity_id}/comments")
def add_comment(activity_id: uuid.UUID, page: UserPage, body: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        if not body.strip():
            raise ValidationFailed.single("body", "required", "请填写评论内容")
        service.add_comment(session=page.db, viewer=page.viewer, activity_id=activity_id, body=body.strip())
    except ValidationFailed as exc:
        return _retry(page, activity_id, exc, entered={"body": body})
    return page.redirect(f"/activities/{activity_id}#comments", "已发表评论")


def _materials_context(page: SignedInPage, activity: Activity) -> dict[str, Any]:
    current = [material_out(m) for m in activity.current_materials]
    return {
        "activity_id": activity.id,
        "completeness": completeness_out(activity, today=_today()),
        "materials": current,
        "may_upload": activity.state in MATERIAL_STATES and materials.may_upload(page.viewer, activity),
        "categories": [(c.value, CATEGORY_LABELS[c]) for c in MaterialCategory],
        "max_media_bytes": page.settings.max_media_bytes,
        "upload_error": "",
    }


def _detail(
    page: SignedInPage,
    activity: Activity,
    *,
    failed_event: str = "",
    errors: dict[str, str] | None = None,
    error: str = "",
    entered: dict[str, str] | None = None,
) -> Response:
    viewer = page.viewer
    bundle = None
    if activity.state == "archived":
        try:
            bundle = bundle_out(archive.get_bundle(session=page.db, viewer=viewer, activity_id=activity.id))
        except Conflict:
            bundle = None
    return page.render(
        "activities/detail.html",
        a=activity_out(viewer, activity),
        rules=ACTIVITY_WORKFLOW.rules,
        confirm=CONFIRM,
        may_attend=activity.state in ATTENDANCE_STATES and service.may_record_attendance(viewer, activity),
        attendance_labels=[(k.value, v) for k, v in ATTENDANCE_LABELS.items() if v],
        comments=[
            comment_out(c) for c in service.list_comments(session=page.db, viewer=viewer, activity_id=activity.id)
        ],
        may_comment=viewer.role in (Role.RESEARCHER, Role.OFFICER, Role.LEAD),
        bundle=bundle,
        failed_event=failed_event,
        errors=errors or {},
        error=error,
        entered=entered or {},
        **_materials_context(page, activity),
    )
