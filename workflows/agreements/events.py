"""Moving an agreement through its workflow (send, decline, void, terminate, revise, expire) and the
consequences of each move. Signing has its own module, ``signing``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit, transitions
from workflows.access import Viewer
from workflows.agreements import documents, freezing, notices, signing
from workflows.agreements.machine import AGREEMENT_WORKFLOW, SYSTEM_EVENTS
from workflows.agreements.models import Agreement
from workflows.agreements.parties import kindergarten_parties, party_of, route_problems, signers_of
from workflows.agreements.service import get_visible, term_problems
from workflows.errors import FieldError, TransitionNotAllowed
from workflows.machine import Ctx, Hooks, fire
from workflows.notifications import notify_users, users_with_role
from workflows.registry.models import Membership
from workflows.roles import Role


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    agreement_id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    fields: dict[str, Any] | None = None,
    address: str = "",
    today: date | None = None,
) -> Agreement:
    """Fire one workflow event on an agreement the viewer can see."""
    fields = fields or {}
    _refuse_system_event(event)
    if event == "sign":
        return signing.sign(
            session=session, viewer=viewer, settings=settings, objects=objects, agreement_id=agreement_id,
            version=version, pin=fields.get("pin"), party=fields.get("party"), address=address,
            read_confirmed=bool(fields.get("read_confirmed")),
        )  # fmt: skip
    return transitions.fire_event(
        AGREEMENTS, session=session, viewer=viewer, id=agreement_id, event=event, version=version, comment=comment,
        fields=fields, today=today, settings=settings, objects=objects, address=address,
    )  # fmt: skip


def _refuse_system_event(event: str) -> None:
    if event in SYSTEM_EVENTS:
        raise TransitionNotAllowed(f"「{AGREEMENT_WORKFLOW.rules[event].label}」由系统执行", code="unknown_event")


def _before(ctx: Ctx[Agreement]) -> None:
    _refuse_system_event(ctx.event)
    if ctx.event == "sign":  # signing has its own path (PIN, seal, route): ``signing.sign``
        raise TransitionNotAllowed("签署请使用签署功能", code="unknown_event")


def _prepare_decline(ctx: Ctx[Agreement]) -> None:
    signing.check_may_decline(ctx.session, ctx.viewer, ctx.record, ctx.version)
    ctx.data["party"] = party_of(ctx.viewer, ctx.record)


def _validate_send(ctx: Ctx[Agreement]) -> list[FieldError]:
    session, agreement = ctx.session, ctx.record
    problems = route_problems(agreement.route, agreement.party_keys) + documents.seal_problems(session, agreement)
    problems += [
        FieldError(f"signers.{party}", "no_signer", f"{agreement.parties[party]['name']}没有可签署的账号")
        for party in agreement.party_keys
        if not signers_of(session, agreement, party)
    ]
    return problems + term_problems(agreement.term_start, agreement.term_end)


def _keep_comment(ctx: Ctx[Agreement]) -> None:
    if ctx.comment.strip():
        ctx.record.last_comment = ctx.comment.strip()


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Agreement:
    return get_visible(session=session, viewer=viewer, agreement_id=id, lock=lock)


def _on_send(ctx: Ctx[Agreement]) -> None:
    session, viewer, agreement = ctx.session, ctx.viewer, ctx.record
    agreement.round += 1
    agreement.sent_at = utcnow()
    # The final .docx and its PDF (LibreOffice, slow) are made by a job after the commit; the job writes
    # the 「定稿」 audit entry and tells the signers. Until then the agreement is 「生成中」.
    freezing.request_freeze(session, agreement, viewer.actor, viewer.user_id)


def _on_decline(ctx: Ctx[Agreement]) -> None:
    session, agreement = ctx.session, ctx.record
    # The round is dead: every signature on it is void; the next send starts the route again.
    now = utcnow()
    for signature in agreement.current_signatures:
        signature.voided_at = now
    users = users_with_role(session, Role.OFFICER)
    notify_users(
        session, users, kind="agreement.returned", title=f"联盟协议书 {agreement.number} 被拒签退回",
        body=agreement.last_comment, link=f"/agreements/{agreement.id}",
    )  # fmt: skip


def _on_void(ctx: Ctx[Agreement]) -> None:
    session, agreement = ctx.session, ctx.record
    agreement.ended_at = utcnow()
    for signature in agreement.current_signatures:
        signature.voided_at = agreement.ended_at
    notices.notify_parties(session, agreement, kindergarten_parties(agreement), "agreement.voided", f"联盟协议书 {agreement.number} 已作废",
            agreement.last_comment)  # fmt: skip


def _on_terminate(ctx: Ctx[Agreement]) -> None:
    session, agreement, today = ctx.session, ctx.record, ctx.today
    agreement.ended_at = utcnow()
    membership = session.scalar(
        select(Membership).where(
            Membership.kindergarten_id == agreement.member_kindergarten_id,
            Membership.alliance_id == agreement.alliance_id,
            Membership.ended_on.is_(None),
        )
    )
    if membership is not None:
        membership.ended_on = today
    notices.notify_parties(session, agreement, kindergarten_parties(agreement), "agreement.terminated", f"联盟协议书 {agreement.number} 已终止",
            agreement.last_comment)  # fmt: skip


AGREEMENTS = transitions.register(
    transitions.Area(
        workflow=AGREEMENT_WORKFLOW.with_hooks(
            {
                "send": Hooks[Agreement](validate=_validate_send, then=_on_send),
                "decline": Hooks[Agreement](prepare=_prepare_decline, then=_on_decline),
                "void": Hooks[Agreement](then=_on_void),
                "terminate": Hooks[Agreement](then=_on_terminate),
            }
        ),
        load=_load,
        before=_before,
        moved=_keep_comment,
    )
)


def expire_due(*, session: Session, today: date) -> list[Agreement]:
    """Move every effective agreement whose term ended before ``today`` to expired (the system acts)."""
    due = list(
        session.scalars(
            select(Agreement)
            .where(Agreement.state == "effective", Agreement.term_end < today)
            .order_by(Agreement.number)
            .with_for_update()
        )
    )
    for agreement in due:
        # The system acts with the bureau's authority; the audit row names the system as the actor.
        fire(
            session=session, workflow=AGREEMENT_WORKFLOW, record=agreement, event="expire",
            actor=audit.SYSTEM_ACTOR, role=Role.OFFICER, version=agreement.version,
            comment=f"协议期限已于 {agreement.term_end.isoformat()} 届满",
        )  # fmt: skip
        agreement.ended_at = utcnow()
        notices.notify_parties(session, agreement, kindergarten_parties(agreement), "agreement.expired", f"联盟协议书 {agreement.number} 已到期",
                "如需继续合作，请联系成幼科续签")  # fmt: skip
    session.flush()
    return due
