"""Moving an application through its workflow, with each event's checks and consequences."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import outbox
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.applications import decisions, eligibility
from workflows.applications.documents import request_render
from workflows.applications.machine import APPLICATION_WORKFLOW
from workflows.applications.models import Application
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    FIELD_LABELS,
    OPTIONAL_ON_SUBMIT,
    REQUIRED_ATTACHMENTS,
    ApplicationForm,
)
from workflows.applications.service import get_visible
from workflows.errors import FieldError
from workflows.machine import fire
from workflows.notifications import notify_users, users_of_kindergarten, users_with_role
from workflows.registry.composition import composition_problem
from workflows.registry.models import Alliance, AllianceRole, Membership


def completeness_problems(application: Application) -> list[FieldError]:
    """Everything missing before an application can be submitted, each named."""
    form = ApplicationForm.model_validate(application.form)
    problems = [
        FieldError(f"form.{name}", "required", f"请填写「{label}」")
        for name, label in FIELD_LABELS.items()
        if name not in OPTIONAL_ON_SUBMIT and getattr(form, name) in (None, "", [])
    ]
    if form.commitments_accepted is False:
        problems.append(FieldError("form.commitments_accepted", "required", "须同意承诺事项才能提交"))
    if form.teachers is not None and form.certified_teachers is not None and form.certified_teachers > form.teachers:
        problems.append(FieldError("form.certified_teachers", "inconsistent", "持证教师数不能多于专任教师数"))
    present = {a.kind for a in application.current_attachments}
    problems += [
        FieldError(f"attachments.{kind.value}", "required", f"请上传「{ATTACHMENT_LABELS[kind]}」")
        for kind in REQUIRED_ATTACHMENTS
        if kind.value not in present
    ]
    return problems


def fire_event(
    *,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    objects: ObjectStore,
    application_id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    fields: dict[str, Any] | None = None,
    today: date | None = None,
) -> Application:
    """Fire one workflow event on an application the viewer can see."""
    fields = fields or {}
    today = today or date.today()
    # Lock the row so a concurrent event on the same application waits and then sees the new version.
    application = get_visible(session=session, viewer=viewer, application_id=application_id, lock=True)
    data: dict[str, Any] = {}
    chosen: list[Alliance] = []

    def validate() -> list[FieldError]:
        if event == "submit":
            return completeness_problems(application)
        if event == "approve":
            alliance_id = fields.get("alliance_id")
            alliance = session.get(Alliance, uuid.UUID(str(alliance_id))) if alliance_id else None
            if alliance is None or not alliance.active:
                return [FieldError("alliance_id", "required", "批准时必须选择要加入的联盟")]
            # 方案: N所民办园为主体 — only a private kindergarten joins as a member.
            k = application.kindergarten
            problem = composition_problem(AllianceRole.MEMBER, k.category, k.rating)
            if problem:
                return [FieldError("kindergarten_id", "composition", f"{k.name}不能作为成员园加入联盟：{problem}")]
            chosen.append(alliance)
            data["alliance_id"] = str(alliance.id)
        return []

    moved = fire(
        session=session,
        workflow=APPLICATION_WORKFLOW,
        record=application,
        event=event,
        actor=viewer.actor,
        role=viewer.role,
        version=version,
        comment=comment,
        data=data,
        validate=validate,
    )
    application.last_comment = comment.strip() or application.last_comment
    consequence = _CONSEQUENCES.get(event)
    if consequence:
        consequence(
            session=session,
            settings=settings,
            viewer=viewer,
            objects=objects,
            application=application,
            alliance=chosen[0] if chosen else None,
            comment=comment,
            today=today,
            moved_from=moved.from_state,
        )
    session.flush()
    return application


def _on_submit(
    *, session: Session, viewer: Viewer, objects: ObjectStore, application: Application, today: date, **_: Any
) -> None:
    form = ApplicationForm.model_validate(application.form)
    application.eligibility = eligibility.check(form, today=today)
    application.submitted_at = utcnow()
    request_render(session, application, viewer)  # after commit: the 申请表 shows 「生成中」 until stored
    notify_users(
        session,
        users_with_role(session, Role.OFFICER),
        kind="application.submitted",
        title=f"新的入盟申请待审核：{form.name}",
        body=f"申请编号 {application.number}",
        link=f"/applications/{application.id}",
    )


def _notify_applicant(session: Session, application: Application, title: str, body: str) -> None:
    notify_users(
        session,
        users_of_kindergarten(session, application.kindergarten_id),
        kind=f"application.{application.state}",
        title=title,
        body=body,
        link=f"/applications/{application.id}",
    )


def _on_return(*, session: Session, application: Application, **_: Any) -> None:
    _notify_applicant(session, application, f"申请 {application.number} 已退回修改", application.last_comment)


def _decide(
    *,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    objects: ObjectStore,
    application: Application,
    comment: str,
    alliance: Alliance | None,
) -> decisions.Decision:
    """经批复即可加入: the 批复, and the 申请表 again with the decision in its 审核意见 block."""
    application.decided_at = utcnow()
    decision = decisions.issue(
        session=session, settings=settings, objects=objects, viewer=viewer, application=application,
        comment=comment, alliance_name=alliance.name if alliance else "",
    )  # fmt: skip
    request_render(session, application, viewer)
    return decision


def _on_reject(
    *, session: Session, settings: Settings, viewer: Viewer, objects: ObjectStore, application: Application,
    comment: str, **_: Any,
) -> None:  # fmt: skip
    decision = _decide(
        session=session, settings=settings, viewer=viewer, objects=objects, application=application,
        comment=comment, alliance=None,
    )  # fmt: skip
    _notify_applicant(
        session,
        application,
        f"申请 {application.number} 未获批准（{decision.number}）",
        f"理由：{application.last_comment}。批复可在申请页面下载。",
    )


def _on_approve(
    *, session: Session, settings: Settings, viewer: Viewer, objects: ObjectStore, application: Application,
    alliance: Alliance | None, comment: str, today: date, **_: Any,
) -> None:  # fmt: skip
    assert alliance is not None
    application.approved_alliance_id = alliance.id
    decision = _decide(
        session=session, settings=settings, viewer=viewer, objects=objects, application=application,
        comment=comment, alliance=alliance,
    )  # fmt: skip
    current = session.scalar(
        select(Membership).where(
            Membership.kindergarten_id == application.kindergarten_id, Membership.ended_on.is_(None)
        )
    )
    if current is None or current.alliance_id != alliance.id:
        if current is not None:
            current.ended_on = today
            session.flush()  # end the old membership before the partial unique index sees the new one
        session.add(
            Membership(
                alliance_id=alliance.id,
                kindergarten_id=application.kindergarten_id,
                role=AllianceRole.MEMBER,
                started_on=today,
            )
        )
    outbox.record(
        session,
        "application.approved",
        application_id=str(application.id),
        alliance_id=str(alliance.id),
        kindergarten_id=str(application.kindergarten_id),
    )
    _notify_applicant(
        session,
        application,
        f"申请 {application.number} 已批准（{decision.number}）",
        f"经批复同意加入「{alliance.name}」，批复可在申请页面下载；联盟协议书将随后发出签署",
    )


_CONSEQUENCES: dict[str, Any] = {
    "submit": _on_submit,
    "return": _on_return,
    "reject": _on_reject,
    "approve": _on_approve,
}
