"""Teaching-research activities: the list by semester and an activity's page (events, attendance,
materials by category, the sign-in sheet, the archive bundle, researchers' comments).

Planning and editing live in ``activity_form``; attendance, walk-ins and materials in ``activity_records``.
Member kindergartens see their alliance's activities: they host, present and hand in materials."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.routes.files import stream_object
from api.web import nav, todo
from api.web.deps import SignedInPage, UserPage
from api.web.forms import domain_errors, unplaced
from api.web.pages.news import WRITERS as REPORT_WRITERS
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows import clock
from workflows.access import Viewer
from workflows.activities import archive, attendance, documents, events, guidance, materials, notice, service
from workflows.activities.machine import (
    ACTIVITY_WORKFLOW,
    ATTENDANCE_STATES,
    EDITABLE_STATES,
    MATERIAL_STATES,
    TOOK_PLACE,
)
from workflows.activities.models import Activity
from workflows.activities.semesters import current_semester, list_semesters
from workflows.activities.views import activity_out, bundle_out, comment_out, completeness_out, material_out
from workflows.activities.vocabulary import ATTENDANCE_LABELS, CATEGORY_LABELS, MaterialCategory
from workflows.documents.service import DOCX
from workflows.errors import Conflict, DomainError, NotFound, ValidationFailed
from workflows.mentors import workload as mentor_work
from workflows.mentors.views import guidance_out
from workflows.publishing import service as news
from workflows.roles import Role

router = web_router()

ORGANISERS = frozenset({Role.LEAD, Role.PILLAR})
nav.register(
    nav.NavItem(
        "activities",
        "教研活动",
        "/activities",
        roles=ORGANISERS | {Role.OFFICER, Role.RESEARCHER, Role.ADMIN},
        alliance_roles=frozenset({Role.APPLICANT}),
        order=30,
    )
)
CONFIRM = {"cancel": "确定取消本次活动？已通报的教师会收到取消通知。", "archive": "归档后资料不能再修改，确定归档？"}
# Inputs of the activity page that show their own errors; any other problem is listed at the top.
PLACED = {
    "comment",
    "body",
    "reason",
    "attendance",
    "teacher_id",
    "guest_name",
    "guest_kindergarten",
    "walk_in_attendance",
    "guide",
}


def today() -> date:
    return clock.today()


def _hands_in(viewer: Viewer, a: Activity) -> bool:
    """The host kindergarten and the presenters' kindergartens hand in materials too."""
    return viewer.kindergarten_id is not None and materials.may_upload(viewer, a)


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    area, items = "教研活动", []
    for a in service.list_visible(session=session, viewer=viewer):
        link = f"/activities/{a.id}"
        if viewer.role == Role.LEAD and a.state == "planned":
            items.append(todo.TodoItem(area, f"通报活动：{a.topic}", link, a.number))
        elif a.state == "held" and (viewer.role == Role.LEAD or _hands_in(viewer, a)):
            state = materials.completeness(a, today=today())
            if state.missing:
                missing = "、".join(CATEGORY_LABELS[c] for c in state.missing)
                items.append(
                    todo.TodoItem(area, f"补齐活动资料：{a.topic}", link, f"缺：{missing}", urgent=state.overdue)
                )
    return items


todo.register("activities", _todo, roles={Role.LEAD, Role.PILLAR, Role.APPLICANT}, order=30)


def semesters_and_choice(page: SignedInPage, chosen: str) -> tuple[list[Any], str]:
    """Every semester, and the one to show: the one asked for, else the current one, else the latest."""
    rows = list_semesters(session=page.db)
    if not chosen:
        current = current_semester(session=page.db, today=today())
        chosen = current.code if current else (rows[0].code if rows else "")
    return rows, chosen


@router.get("/activities")
def activity_list(page: UserPage, semester: str = "") -> Response:
    semesters, chosen = semesters_and_choice(page, semester)
    rows = service.list_visible(session=page.db, viewer=page.viewer, semester=chosen or None)
    return page.render(
        "activities/list.html",
        rows=[activity_out(page.viewer, a) for a in rows],
        semesters=semesters,
        semester=chosen,
        may_create=page.viewer.role in ORGANISERS and page.viewer.alliance_id is not None,
    )


@router.get("/activities/{activity_id}")
def activity_detail(activity_id: uuid.UUID, page: UserPage) -> Response:
    return detail(page, service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id))


def retry(page: SignedInPage, activity_id: uuid.UUID, exc: DomainError, **context: Any) -> Response:
    """A refused change: the page again with the service's message (and its field errors)."""
    if isinstance(exc, NotFound):
        raise exc
    page.db.rollback()
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
    return detail(page, activity, errors={**errors, **context.pop("errors", {})}, error=exc.message, **context)


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
        return retry(page, activity_id, exc, failed_event=event)
    label = ACTIVITY_WORKFLOW.rules[event].label
    return page.redirect(f"/activities/{a.id}", f"已{label}：活动现为「{ACTIVITY_WORKFLOW.label(a.state)}」")


@router.post("/activities/{activity_id}/late-notice")
def allow_late_notice(
    activity_id: uuid.UUID,
    page: UserPage,
    version: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        notice.allow_late_notice(
            session=page.db, viewer=page.viewer, activity_id=activity_id, reason=reason, version=version, today=today()
        )
    except ValidationFailed as exc:  # other refusals: back to the activity with the message (WebRoute)
        return retry(page, activity_id, exc, entered={"reason": reason})
    return page.redirect(f"/activities/{activity_id}", "已准许逾期通报：龙头园通报后，活动标注「未提前通报」")


@router.get("/activities/{activity_id}/sign-in-sheet")
def sign_in_sheet(activity_id: uuid.UUID, page: UserPage) -> Response:
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    filename, content = documents.render_sign_in_sheet(activity, base_url=page.settings.base_url)
    return Response(content, media_type=DOCX, headers={"Content-Disposition": content_disposition(filename)})


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
    if b.object_key is None:
        raise RuntimeError("expected b.object_key is not None")
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
    except ValidationFailed as exc:  # other refusals: back to the activity with the message (WebRoute)
        return retry(page, activity_id, exc, entered={"body": body})
    return page.redirect(f"/activities/{activity_id}#comments", "已发表评论")


def materials_context(page: SignedInPage, activity: Activity) -> dict[str, Any]:
    """What the materials block needs (the whole page and the fragment an upload swaps in)."""
    open_for_changes = activity.state in MATERIAL_STATES
    return {
        "activity_id": activity.id,
        "completeness": completeness_out(activity, today=today()),
        "materials": [material_out(m) for m in materials.list_materials_of(activity)],
        "withdrawable": {
            m.id
            for m in activity.current_materials
            if open_for_changes and materials.may_withdraw(page.viewer, activity, m)
        },
        "withdrawn": [material_out(m) for m in materials.withdrawn_materials(activity)],
        "may_upload": open_for_changes and materials.may_upload(page.viewer, activity),
        "categories": [(c.value, CATEGORY_LABELS[c]) for c in MaterialCategory],
        "max_media_bytes": page.settings.max_media_bytes,
        "upload_error": "",
        "withdraw_errors": {},
        "withdraw_entered": {},
    }


def may_report(viewer: Viewer, activity: Activity) -> bool:
    """Whether 「撰写报道」 leads anywhere: the activity took place and the viewer may write about it
    (the same test as the report page's list of activities, which it opens preselected)."""
    return activity.state in TOOK_PLACE and viewer.role in REPORT_WRITERS and news.may_write(viewer, activity)


def detail(
    page: SignedInPage,
    activity: Activity,
    *,
    failed_event: str = "",
    errors: dict[str, str] | None = None,
    error: str = "",
    entered: dict[str, str] | None = None,
    withdraw_errors: dict[str, str] | None = None,
) -> Response:
    viewer = page.viewer
    errors = errors or {}
    bundle = None
    if activity.state == "archived":
        try:
            bundle = bundle_out(archive.get_bundle(session=page.db, viewer=viewer, activity_id=activity.id))
        except Conflict:
            bundle = None
    may_attend = activity.state in ATTENDANCE_STATES and attendance.may_record_attendance(viewer, activity)
    context = materials_context(page, activity)
    if withdraw_errors:
        context.update(withdraw_errors=withdraw_errors, withdraw_entered=entered or {}, upload_error="")
        error = ""
    return page.render(
        "activities/detail.html",
        a=activity_out(viewer, activity),
        rules=ACTIVITY_WORKFLOW.rules,
        confirm=CONFIRM,
        may_edit=activity.state in EDITABLE_STATES and service.may_edit(viewer, activity),
        may_attend=may_attend,
        walk_in_candidates=attendance.walk_in_candidates(session=page.db, activity=activity) if may_attend else [],
        guide_candidates=guidance.candidates(session=page.db, activity=activity) if may_attend else None,
        may_guide_self=(
            viewer.role == Role.RESEARCHER
            and activity.state in ATTENDANCE_STATES
            and not any(p.user_id == viewer.user_id for p in activity.participants)
        ),
        attendance_labels=[(k.value, v) for k, v in ATTENDANCE_LABELS.items() if v],
        comments=[
            comment_out(c) for c in service.list_comments(session=page.db, viewer=viewer, activity_id=activity.id)
        ],
        may_comment=viewer.role in service.COMMENTERS,
        may_report=may_report(viewer, activity),
        may_allow_late=(
            viewer.role == Role.OFFICER
            and activity.state == "planned"
            and activity.late_notice_allowed_at is None
            and notice.is_late(activity, today())
        ),
        # 导师团: the mentors who gave a lecture, 送教 or 指导研讨 here, each linked to its mentor page.
        mentor_guidance=[
            guidance_out(g) for g in mentor_work.list_guidance(session=page.db, viewer=viewer, activity_id=activity.id)
        ],
        bundle=bundle,
        failed_event=failed_event,
        errors=errors,
        problems=unplaced(errors, PLACED),
        error=error,
        entered=entered or {},
        **context,
    )
