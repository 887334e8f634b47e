"""What is recorded on an activity's page: attendance (each person, 「全部出席」, walk-ins and guests)
and materials (upload by category, download, withdraw with a reason)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, Form, UploadFile
from pydantic import ValidationError
from starlette.responses import Response

from api.routes.files import stream_object
from api.web.deps import FormDep, UserPage
from api.web.forms import pydantic_errors, text
from api.web.pages.activities import detail, materials_context, retry
from api.web.routing import web_router
from workflows.activities import attendance, materials, service
from workflows.activities.schemas import AttendanceEntry, WalkIn
from workflows.activities.vocabulary import MaterialCategory
from workflows.errors import DomainError, NotFound, ValidationFailed

router = web_router()

STATUSES = frozenset({"present", "late", "leave", "absent"})
WALK_IN_FIELDS = ("teacher_id", "guest_name", "guest_kindergarten", "attendance")


@router.post("/activities/{activity_id}/attendance")
def record_attendance(activity_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    """Each ``att-<participant id>`` radio that is set; with 「全部出席」 everyone left unrecorded is present."""
    entries = []
    for key, value in form.multi_items():
        if not (key.startswith("att-") and value in STATUSES):
            continue
        try:
            entries.append(AttendanceEntry(participant_id=uuid.UUID(key[4:]), attendance=str(value)))
        except ValueError:
            raise NotFound("名单中没有此人") from None
    rest_present = bool(text(form, "rest_present"))
    try:
        if not entries and not rest_present:
            raise ValidationFailed.single("attendance", "required", "请至少为一人选择出勤情况，或点「全部出席」")
        attendance.record_attendance(
            session=page.db, viewer=page.viewer, activity_id=activity_id, entries=entries, rest_present=rest_present
        )
    except ValidationFailed as exc:  # other refusals: back to the activity with the message (WebRoute)
        return retry(page, activity_id, exc)
    return page.redirect(f"/activities/{activity_id}#attendance", "已全部记为出席" if rest_present and not entries
                         else "已保存出勤记录")  # fmt: skip


@router.post("/activities/{activity_id}/walk-ins")
def add_walk_in(activity_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entered = {name: text(form, name) for name in WALK_IN_FIELDS}
    try:
        teacher = entered["teacher_id"]
        body = WalkIn(
            teacher_id=uuid.UUID(teacher) if teacher else None,
            guest_name=entered["guest_name"],
            guest_kindergarten=entered["guest_kindergarten"],
            attendance=entered["attendance"] or "present",
        )
    except ValueError as exc:
        errors = pydantic_errors(exc) if isinstance(exc, ValidationError) else {"teacher_id": "请从名单中选择教师"}
        errors = {("walk_in_attendance" if k == "attendance" else k): v for k, v in errors.items()}
        activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
        return detail(page, activity, errors=errors, entered=entered)
    try:
        activity = attendance.add_walk_in(session=page.db, viewer=page.viewer, activity_id=activity_id, body=body)
    except ValidationFailed as exc:
        return retry(page, activity_id, exc, entered=entered)
    added = activity.participants[-1].name
    return page.redirect(f"/activities/{activity_id}#attendance", f"已登记{added}临时参加")


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
        return detail(page, activity, error=error) if error else page.redirect(f"/activities/{activity_id}#materials")
    return page.fragment("activities/_materials.html", **{**materials_context(page, activity), "upload_error": error})


@router.get("/activities/{activity_id}/materials/{material_id}/content")
def material_content(activity_id: uuid.UUID, material_id: uuid.UUID, page: UserPage) -> Response:
    m = materials.get_material(session=page.db, viewer=page.viewer, activity_id=activity_id, material_id=material_id)
    return stream_object(page.objects, m.object_key, filename=m.filename, content_type=m.content_type)


@router.post("/activities/{activity_id}/materials/{material_id}/withdraw")
def withdraw_material(
    activity_id: uuid.UUID, material_id: uuid.UUID, page: UserPage, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    try:
        m = materials.withdraw_material(
            session=page.db, viewer=page.viewer, activity_id=activity_id, material_id=material_id, reason=reason
        )
    except ValidationFailed as exc:
        page.db.rollback()
        activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
        return detail(page, activity, withdraw_errors={str(material_id): exc.message}, entered={"reason": reason})
    return page.redirect(f"/activities/{activity_id}#materials", f"已撤回「{m.filename}」")
