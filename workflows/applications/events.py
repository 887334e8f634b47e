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
from workflows import outbox, transitions
from workflows.access import Viewer
from workflows.applications import decisions, eligibility
from workflows.applications.documents import request_render
from workflows.applications.machine import APPLICATION_WORKFLOW
from workflows.applications.models import Application, Decision
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    FIELD_LABELS,
    OPTIONAL_ON_SUBMIT,
    REQUIRED_ATTACHMENTS,
    ApplicationForm,
)
from workflows.applications.service import get_visible
from workflows.errors import FieldError
from workflows.machine import Ctx, Hooks
from workflows.notifications import notify_users, users_of_kindergarten, users_with_role
from workflows.registry.composition import composition_problem
from workflows.registry.models import Alliance, AllianceRole, Membership
from workflows.roles import Role


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


def _validate_submit(ctx: Ctx[Application]) -> list[FieldError]:
    return completeness_problems(ctx.record)


def _validate_approve(ctx: Ctx[Application]) -> list[FieldError]:
    alliance_id = ctx.fields.get("alliance_id")
    alliance = ctx.session.get(Alliance, uuid.UUID(str(alliance_id))) if alliance_id else None
    if alliance is None or not alliance.active:
        return [FieldError("alliance_id", "required", "批准时必须选择要加入的联盟")]
    # 方案: N所民办园为主体 — only a private kindergarten joins as a member.
    k = ctx.record.kindergarten
    problem = composition_problem(AllianceRole.MEMBER, k.category, k.rating)
    if problem:
        return [FieldError("kindergarten_id", "composition", f"{k.name}不能作为成员园加入联盟：{problem}")]
    ctx.keep("alliance", alliance)
    ctx.data["alliance_id"] = str(alliance.id)
    return []


def _keep_comment(ctx: Ctx[Application]) -> None:
    application = ctx.record
    application.last_comment = ctx.comment.strip() or application.last_comment


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Application:
    return get_visible(session=session, viewer=viewer, application_id=id, lock=lock)


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
    return transitions.fire_event(
        APPLICATIONS, session=session, viewer=viewer, id=application_id, event=event, version=version,
        comment=comment, fields=fields, today=today, settings=settings, objects=objects,
    )  # fmt: skip


def _on_submit(ctx: Ctx[Application]) -> None:
    session, viewer, application, today = ctx.session, ctx.viewer, ctx.record, ctx.today
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


def _on_return(ctx: Ctx[Application]) -> None:
    session, application = ctx.session, ctx.record
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
) -> Decision:
    """经批复即可加入: the 批复, and the 申请表 again with the decision in its 审核意见 block."""
    application.decided_at = utcnow()
    decision = decisions.issue(
        session=session, settings=settings, objects=objects, viewer=viewer, application=application,
        comment=comment, alliance_name=alliance.name if alliance else "",
    )  # fmt: skip
    request_render(session, application, viewer)
    return decision


def _on_reject(ctx: Ctx[Application]) -> None:
    session, settings, viewer, objects, application, comment = (
        ctx.session, ctx.need_settings(), ctx.viewer, ctx.need_objects(), ctx.record, ctx.comment,
    )  # fmt: skip
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


def _on_approve(ctx: Ctx[Application]) -> None:
    session, settings, viewer, objects, application, comment, today = (
        ctx.session, ctx.need_settings(), ctx.viewer, ctx.need_objects(), ctx.record, ctx.comment, ctx.today,
    )  # fmt: skip
    alliance = ctx.value("alliance", Alliance)
    if alliance is None:
        raise RuntimeError("approve runs after its validator chose the alliance")
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


APPLICATIONS = transitions.register(
    transitions.Area(
        workflow=APPLICATION_WORKFLOW.with_hooks(
            {
                "submit": Hooks[Application](validate=_validate_submit, then=_on_submit),
                "return": Hooks[Application](then=_on_return),
                "reject": Hooks[Application](then=_on_reject),
                "approve": Hooks[Application](validate=_validate_approve, then=_on_approve),
            }
        ),
        load=_load,
        moved=_keep_comment,
    )
)
