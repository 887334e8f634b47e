"""Applications to join an alliance: the list or review queue, one application, its events.

The form itself (new, edit, attachments) is in ``application_form.py``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.routes.files import stream_object
from api.web import nav, todo
from api.web.deps import SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors
from api.web.pages.application_fields import SECTIONS, attachment_slots, plain
from api.web.routing import web_router
from workflows import audit
from workflows.access import Viewer
from workflows.applications import events, service
from workflows.applications.eligibility import RESULT_LABELS
from workflows.applications.machine import APPLICATION_WORKFLOW, EDITABLE_STATES
from workflows.applications.models import Application
from workflows.applications.schemas import ApplicationOut
from workflows.applications.views import application_out
from workflows.documents.service import list_for_owner
from workflows.errors import DomainError, ValidationFailed
from workflows.registry import service as registry
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem(
        "applications",
        "入盟申请",
        "/applications",
        roles=frozenset({Role.APPLICANT, Role.OFFICER, Role.RESEARCHER, Role.ADMIN, Role.LEAD, Role.PILLAR}),
        order=10,
        labels=((Role.OFFICER, "申请审核"), (Role.RESEARCHER, "申请查阅"), (Role.ADMIN, "申请查阅")),
    )
)

HISTORY_LABELS = {"create": "创建申请", "edit": "修改申请表", "attach": "上传附件", "decision_issued": "签发批复"} | {
    name: rule.label for name, rule in APPLICATION_WORKFLOW.rules.items()
}
# Events an officer may apply to many applications at once from the queue.
BULK_EVENTS = {"start_review": "开始审核"}
CONFIRM = {
    "withdraw": "确定撤回本申请？撤回后本申请结束。",
    "reject": "确定不予批准？该决定将通知申请园。",
}


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    area = "入盟申请"
    if viewer.role == Role.OFFICER:
        waiting = service.list_visible(session=session, viewer=viewer, state="submitted")
        reviewing = service.list_visible(session=session, viewer=viewer, state="under_review")
        return [
            todo.TodoItem(area, f"受理新申请：{a.kindergarten.name}", f"/applications/{a.id}", a.number, urgent=True)
            for a in waiting
        ] + [
            todo.TodoItem(area, f"完成审核：{a.kindergarten.name}", f"/applications/{a.id}", a.number)
            for a in reviewing
        ]
    mine = [
        a for a in service.list_visible(session=session, viewer=viewer) if a.kindergarten_id == viewer.kindergarten_id
    ]
    items = []
    for a in mine:
        link = f"/applications/{a.id}"
        if a.state == "returned":
            items.append(todo.TodoItem(area, "申请被退回，请修改后重新提交", link, a.last_comment, urgent=True))
        elif a.state == "draft":
            items.append(todo.TodoItem(area, "继续填写入盟申请并提交", link, a.number))
        elif a.state in ("submitted", "under_review"):
            items.append(
                todo.TodoItem(area, f"申请{APPLICATION_WORKFLOW.label(a.state)}，请等待审核结果", link, a.number)
            )
    if not mine and viewer.alliance_id is None:
        items.append(todo.TodoItem(area, "提交加入联盟申请", "/applications/new", "在线填写申请表并上传证明材料"))
    return items


todo.register("applications", _todo, roles={Role.APPLICANT, Role.OFFICER}, order=10)


@router.get("/applications")
def application_list(page: UserPage, state: str = "", town: str = "", alliance: str = "") -> Response:
    alliance_id = _uuid_or_none(alliance)
    rows = service.list_visible(
        session=page.db, viewer=page.viewer, state=state or None, town=town or None, alliance_id=alliance_id
    )
    open_own = any(a.state in EDITABLE_STATES | {"submitted", "under_review"} for a in rows if _own(page.viewer, a))
    return page.render(
        "applications/list.html",
        rows=[_row(page.viewer, a) for a in rows],
        filters={"state": state, "town": town, "alliance": alliance},
        states=[(s.value, s.name) for s in APPLICATION_WORKFLOW.machine.states],
        alliances=registry.list_alliances(session=page.db),
        may_create=page.viewer.role == Role.APPLICANT and not open_own,
        bulk_events=BULK_EVENTS if page.viewer.role == Role.OFFICER else {},
    )


@router.get("/applications/{application_id}")
def application_detail(application_id: uuid.UUID, page: UserPage) -> Response:
    application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
    return _detail(page, application)


@router.post("/applications/{application_id}/events/{event}")
def fire(
    application_id: uuid.UUID,
    event: str,
    page: UserPage,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    alliance_id: Annotated[str, Form()] = "",
) -> Response:
    fields = {"alliance_id": alliance_id} if alliance_id else {}
    try:
        application = events.fire_event(
            session=page.db,
            settings=page.settings,
            viewer=page.viewer,
            objects=page.objects,
            application_id=application_id,
            event=event,
            version=version,
            comment=comment,
            fields=fields,
        )
    except ValidationFailed as exc:
        # A missing comment or alliance: the page again, the message at the field. Any other refusal
        # (stale version, not allowed now) goes up: the browser returns to the application with it.
        page.db.rollback()
        application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
        return _detail(
            page,
            application,
            failed_event=event,
            errors=domain_errors(exc),
            error=exc.message,
            entered={"comment": comment, "alliance_id": alliance_id},
        )
    label = APPLICATION_WORKFLOW.rules[event].label
    return page.redirect(
        f"/applications/{application.id}", f"已{label}：申请现为「{APPLICATION_WORKFLOW.label(application.state)}」"
    )


@router.post("/applications/{application_id}/bulk/{event}")
def bulk_fire(application_id: uuid.UUID, event: str, page: UserPage, version: Annotated[int, Form()]) -> Response:
    """One step of a bulk action: the queue's script calls it per selected row and shows progress."""
    outcome, ok = "", True
    if event not in BULK_EVENTS:
        outcome, ok = "不支持批量执行该操作", False
    else:
        try:
            events.fire_event(
                session=page.db,
                settings=page.settings,
                viewer=page.viewer,
                objects=page.objects,
                application_id=application_id,
                event=event,
                version=version,
            )
            outcome = f"已{BULK_EVENTS[event]}"
        except DomainError as exc:
            page.db.rollback()
            outcome, ok = exc.message, False
    application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
    # Always 200: the row itself says whether this one worked, the batch goes on.
    return page.fragment(
        "applications/_row.html", row=_row(page.viewer, application), bulk_events=BULK_EVENTS, outcome=outcome, ok=ok
    )


@router.get("/applications/{application_id}/attachments/{attachment_id}/content")
def attachment_content(application_id: uuid.UUID, attachment_id: uuid.UUID, page: UserPage) -> Response:
    a = service.get_attachment(
        session=page.db, viewer=page.viewer, application_id=application_id, attachment_id=attachment_id
    )
    return stream_object(page.objects, a.object_key, filename=a.filename, content_type=a.content_type, inline=True)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _own(viewer: Viewer, application: Application) -> bool:
    return application.kindergarten_id == viewer.kindergarten_id


def _row(viewer: Viewer, a: Application) -> dict[str, Any]:
    return {
        "id": a.id,
        "number": a.number,
        "name": (a.form or {}).get("name") or a.kindergarten.name,
        "kindergarten": a.kindergarten.name,
        "town": a.town,
        "state": a.state,
        "state_label": APPLICATION_WORKFLOW.label(a.state),
        "version": a.version,
        "submitted_at": a.submitted_at,
        "created_at": a.created_at,
        "allowed": APPLICATION_WORKFLOW.allowed_events(a, viewer.role),
    }


def _display(out: ApplicationOut, alliance_names: dict[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The form as label/value pairs per section, for reading."""
    form = out.form
    sections = []
    for title, specs in SECTIONS:
        pairs = []
        for spec in specs:
            value = form.get(spec.name)
            if spec.kind == "checkbox":
                shown = "已确认" if value else ""
            elif spec.name == "preferred_alliance_id":
                shown = alliance_names.get(str(value), "") if value else "未指定"
            elif isinstance(value, bool):
                shown = "是" if value else "否"
            elif isinstance(value, list):
                shown = "、".join(value)
            elif spec.options and value is not None:
                shown = dict(spec.options).get(str(value), str(value))
            else:
                shown = "" if value is None else plain(value)
            pairs.append((spec.label, shown))
        sections.append((title, pairs))
    return sections


def _detail(
    page: SignedInPage,
    application: Application,
    *,
    failed_event: str = "",
    errors: FieldErrors | None = None,
    error: str = "",
    entered: dict[str, str] | None = None,
) -> Response:
    viewer = page.viewer
    out = application_out(page.db, viewer, application)
    alliances = registry.list_alliances(session=page.db)
    own_editable = viewer.role == Role.APPLICANT and _own(viewer, application) and application.state in EDITABLE_STATES
    history = audit.history(page.db, entity_type="application", entity_id=application.id)
    return page.render(
        "applications/detail.html",
        app=out,
        sections=_display(out, {str(a.id): a.name for a in alliances}),
        slots=attachment_slots(application),
        history=history,
        history_labels=HISTORY_LABELS,
        state_labels=APPLICATION_WORKFLOW.state_labels,
        result_labels=RESULT_LABELS,
        documents=list_for_owner(session=page.db, owner_type="application", owner_id=application.id),
        alliances=[a for a in alliances if a.active],
        rules=APPLICATION_WORKFLOW.rules,
        confirm=CONFIRM,
        own_editable=own_editable,
        missing=events.completeness_problems(application) if own_editable else [],
        failed_event=failed_event,
        errors=errors or {},
        error=error,
        entered=entered or {},
    )
