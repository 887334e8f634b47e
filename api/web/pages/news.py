"""活动报道 (信息网发布) on pages: a draft written from an activity's 活动报道 file and photos, the lead's
approval, publication to the public /news page and its Atom feed. The host kindergarten, the lead and
the teaching-research office write; the lead (or the office) approves; the lead, the office or the
section publishes. Guardian consent per photo is in ``news_photos``."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.routing import web_router
from workflows import audit
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.activities.models import Activity
from workflows.activities.service import list_visible as list_activities
from workflows.activities.vocabulary import MaterialCategory
from workflows.errors import ValidationFailed
from workflows.publishing import events, notices, service
from workflows.publishing.machine import NEWS_WORKFLOW
from workflows.publishing.models import NewsReport
from workflows.publishing.schemas import ReportCreate, ReportEventBody, ReportUpdate
from workflows.publishing.views import report_out
from workflows.roles import Role

router = web_router()

WRITERS = frozenset({Role.LEAD, Role.PILLAR, Role.APPLICANT, Role.RESEARCHER, Role.OFFICER})
nav.register(
    nav.NavItem(
        "news",
        "活动报道",
        "/reports",
        roles=frozenset({Role.LEAD, Role.PILLAR, Role.OFFICER, Role.RESEARCHER}),
        alliance_roles=frozenset({Role.APPLICANT}),
        order=46,
    )
)
HISTORY_LABELS = {"create": "撰写", "edit": "修改"} | {name: rule.label for name, rule in NEWS_WORKFLOW.rules.items()}
CONFIRM = {"publish": "发布后报道将出现在公开的信息网页面，确定发布吗？"}
FIELDS = ("title", "summary", "material_id")


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    """Drafts to approve (lead, office), approved reports to publish, and drafts sent back to their author."""
    found = []
    for r in service.list_visible(session=session, viewer=viewer):
        allowed = NEWS_WORKFLOW.allowed_events(r, viewer.role)
        mine = r.created_by == viewer.user_id
        if r.state == "draft" and mine and r.last_comment:
            item = todo.TodoItem("活动报道", f"修改活动报道：{r.title}", notices.link(r), r.last_comment, urgent=True)
            found.append(item)
        elif r.state == "draft" and "approve" in allowed and not mine and viewer.alliance_id == r.activity.alliance_id:
            found.append(todo.TodoItem("活动报道", f"审定活动报道：{r.title}", notices.link(r), r.author_name))
        elif r.state == "draft" and "approve" in allowed and mine and viewer.role == Role.RESEARCHER:
            found.append(todo.TodoItem("活动报道", f"审定活动报道：{r.title}", notices.link(r), "本室撰写"))
        elif r.state == "approved" and "publish" in allowed and viewer.role != Role.OFFICER:
            found.append(
                todo.TodoItem("活动报道", f"发布活动报道：{r.title}", notices.link(r), f"审定人 {r.approver_name}")
            )
    return found


todo.register("news", _todo, roles={Role.LEAD, Role.RESEARCHER, Role.PILLAR, Role.APPLICANT}, order=46)


@router.get("/reports")
def report_list(page: UserPage, state: str = "") -> Response:
    chosen = state if state in NEWS_WORKFLOW.state_labels else ""
    rows = service.list_visible(session=page.db, viewer=page.viewer, state=chosen or None)
    base = page.settings.base_url
    return page.render(
        "news/list.html",
        rows=[report_out(page.db, page.viewer, r, base_url=base) for r in rows],
        state=chosen,
        states=list(NEWS_WORKFLOW.state_labels.items()),
        may_write=bool(_writable(page)),
    )


def _writable(page: SignedInPage) -> list[Activity]:
    """Activities that took place and the viewer may write about, newest first."""
    if page.viewer.role not in WRITERS:
        return []
    found = [
        a
        for state in sorted(TOOK_PLACE)
        for a in list_activities(session=page.db, viewer=page.viewer, state=state)
        if service.may_write(page.viewer, a)
    ]
    return sorted(found, key=lambda a: a.starts_at, reverse=True)


def _report_files(activity: Activity) -> list[Any]:
    return [m for m in activity.current_materials if m.category == MaterialCategory.REPORT]


def _photo_rows(page: SignedInPage, activity: Activity) -> list[dict[str, Any]]:
    found, consents = service.list_consents(session=page.db, viewer=page.viewer, activity_id=activity.id)
    return [{"m": m, "consent": None if (c := consents.get(m.id)) is None else c.consent} for m in found]


def _new_page(
    page: SignedInPage, activity_id: str, *, errors: FieldErrors | None = None, entered: dict[str, Any] | None = None
) -> Response:
    activities = _writable(page)
    activity = next((a for a in activities if str(a.id) == activity_id), None)
    return page.render(
        "news/new.html",
        activities=activities,
        activity=activity,
        files=_report_files(activity) if activity else [],
        photos=_photo_rows(page, activity) if activity else [],
        errors=errors or {},
        entered=entered or {},
    )


@router.get("/reports/new")
def new_report(page: UserPage, activity_id: str = "") -> Response:
    return _new_page(page, activity_id)


def _entered(form: FormData) -> dict[str, Any]:
    return {**{k: text(form, k) for k in FIELDS}, "media_ids": [str(v) for v in form.getlist("media_ids")]}


def _fields(entered: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"summary": entered["summary"], "media_ids": entered["media_ids"]}
    if entered["title"]:
        fields["title"] = entered["title"]
    return fields


@router.post("/reports/new")
def create_report(page: UserPage, form: FormDep) -> Response:
    activity_id = text(form, "activity_id")
    entered = _entered(form)
    if not entered["material_id"]:
        return _new_page(page, activity_id, errors={"material_id": "请选择活动报道文件"}, entered=entered)
    try:
        body = ReportCreate.model_validate(
            {"activity_id": activity_id, "material_id": entered["material_id"], **_fields(entered)}
        )
        report = service.create(session=page.db, viewer=page.viewer, body=body)
    except ValidationError as exc:
        return _new_page(page, activity_id, errors=pydantic_errors(exc), entered=entered)
    except ValidationFailed as exc:
        page.db.rollback()
        return _new_page(page, activity_id, errors=domain_errors(exc), entered=entered)
    waiting = (
        "请审定后发布" if "approve" in NEWS_WORKFLOW.allowed_events(report, page.viewer.role) else "等待龙头园审定"
    )
    return page.redirect(notices.link(report), f"活动报道草稿已保存，{waiting}")


def detail(
    page: SignedInPage,
    report: NewsReport,
    *,
    errors: FieldErrors | None = None,
    entered: dict[str, Any] | None = None,
    failed_event: str = "",
) -> Response:
    out = report_out(page.db, page.viewer, report, base_url=page.settings.base_url)
    editable = report.state == "draft" and service.may_write(page.viewer, report.activity)
    chosen = set(report.media_ids)
    return page.render(
        "news/detail.html",
        r=out,
        activity=report.activity,
        editable=editable,
        files=_report_files(report.activity) if editable else [],
        photos=_photo_rows(page, report.activity) if editable else [],
        chosen=chosen,
        public_path=f"/news/{report.id}" if out.public_url else "",
        rules=NEWS_WORKFLOW.rules,
        confirm=CONFIRM,
        may_consent=service.may_record_consent(page.viewer, report.activity),
        history=audit.history(page.db, entity_type="news_report", entity_id=report.id),
        history_labels=HISTORY_LABELS,
        state_labels=NEWS_WORKFLOW.state_labels,
        errors=errors or {},
        entered=entered or {},
        failed_event=failed_event,
    )


@router.get("/reports/{report_id}")
def report_detail(report_id: uuid.UUID, page: UserPage) -> Response:
    return detail(page, service.get_visible(session=page.db, viewer=page.viewer, report_id=report_id))


@router.post("/reports/{report_id}/edit")
def edit_report(report_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entered = _entered(form)
    version = text(form, "version")
    try:
        body = ReportUpdate.model_validate(
            {
                "version": version if version.isdigit() else "0",
                "material_id": entered["material_id"] or None,
                **_fields(entered),
            }
        )
        report = service.update(session=page.db, viewer=page.viewer, report_id=report_id, body=body)
    except ValidationError as exc:
        found = service.get_visible(session=page.db, viewer=page.viewer, report_id=report_id)
        return detail(page, found, errors=pydantic_errors(exc), entered=entered)
    except ValidationFailed as exc:
        page.db.rollback()
        found = service.get_visible(session=page.db, viewer=page.viewer, report_id=report_id)
        return detail(page, found, errors=domain_errors(exc), entered=entered)
    return page.redirect(notices.link(report), "报道已保存")


@router.post("/reports/{report_id}/events/{event}")
def report_event(report_id: uuid.UUID, event: str, page: UserPage, form: FormDep) -> Response:
    comment = text(form, "comment")
    version = text(form, "version")
    body = ReportEventBody(version=int(version) if version.isdigit() else 0, comment=comment)
    try:
        report = events.fire_event(session=page.db, viewer=page.viewer, report_id=report_id, event=event, body=body)
    except ValidationFailed as exc:
        page.db.rollback()
        found = service.get_visible(session=page.db, viewer=page.viewer, report_id=report_id)
        return detail(page, found, errors=domain_errors(exc), entered={"comment": comment}, failed_event=event)
    label = NEWS_WORKFLOW.rules[event].label
    extra = "，正文读取后即出现在信息网" if event == "publish" else ""
    return page.redirect(notices.link(report), f"已{label}{extra}")
