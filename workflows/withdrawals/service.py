"""Withdrawals: a member kindergarten asks to leave its alliance (with a reason), the officer decides.

Approval ends the membership and the member's agreement (an effective one is terminated, one still
being drafted or signed is voided), all in one transaction, each through its own workflow with its
audit history. Who may see a request: the bureau, the member itself, and its alliance's lead and
pillar (who are told of it); anyone else gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit, clock, transitions
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.agreements import events as agreement_events
from workflows.agreements.models import LIVE_STATES, MEMBER, Agreement
from workflows.errors import Conflict, FieldError, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.machine import Ctx, Hooks
from workflows.notifications import notify_users, users_of_kindergarten, users_with_role
from workflows.numbering import next_value
from workflows.registry.models import AllianceRole, Membership
from workflows.roles import Role
from workflows.withdrawals.machine import WITHDRAWAL_WORKFLOW
from workflows.withdrawals.models import Withdrawal

REASON_MAX = 2000


def _may_see(viewer: Viewer, withdrawal: Withdrawal) -> bool:
    if viewer.is_bureau or viewer.kindergarten_id == withdrawal.kindergarten_id:
        return True
    return viewer.role in (Role.LEAD, Role.PILLAR) and viewer.alliance_id == withdrawal.alliance_id


def get_visible(*, session: Session, viewer: Viewer, withdrawal_id: uuid.UUID, lock: bool = False) -> Withdrawal:
    """The request if the viewer may see it; NotFound otherwise."""
    stmt = select(Withdrawal).where(Withdrawal.id == withdrawal_id)
    if lock:
        stmt = stmt.with_for_update()
    withdrawal = session.scalar(stmt)
    if withdrawal is None or not _may_see(viewer, withdrawal):
        raise NotFound("退出申请不存在")
    return withdrawal


def list_visible(*, session: Session, viewer: Viewer, state: str | None = None) -> list[Withdrawal]:
    """The requests the viewer may see, newest first."""
    stmt = select(Withdrawal).options(selectinload(Withdrawal.kindergarten), selectinload(Withdrawal.alliance))
    if not viewer.is_bureau:
        mine = Withdrawal.kindergarten_id == viewer.kindergarten_id
        if viewer.role in (Role.LEAD, Role.PILLAR) and viewer.alliance_id is not None:
            mine = mine | (Withdrawal.alliance_id == viewer.alliance_id)
        stmt = stmt.where(mine)
    if state:
        stmt = stmt.where(Withdrawal.state == state)
    return list(session.scalars(stmt.order_by(Withdrawal.created_at.desc(), Withdrawal.number.desc())))


def current_membership(session: Session, viewer: Viewer) -> Membership | None:
    """The viewer's kindergarten's place in an alliance, if it is a member kindergarten that may withdraw."""
    if viewer.role != Role.APPLICANT or viewer.kindergarten_id is None:
        return None
    membership = session.scalar(
        select(Membership).where(Membership.kindergarten_id == viewer.kindergarten_id, Membership.ended_on.is_(None))
    )
    return membership if membership is not None and membership.role == AllianceRole.MEMBER else None


def pending_of(session: Session, membership: Membership) -> Withdrawal | None:
    """The membership's request still waiting for a decision, if any."""
    return session.scalar(
        select(Withdrawal).where(Withdrawal.membership_id == membership.id, Withdrawal.state == "requested")
    )


def request(*, session: Session, viewer: Viewer, reason: str) -> Withdrawal:
    """A member kindergarten asks to leave its alliance; the officers, lead and pillar are told."""
    membership = current_membership(session, viewer)
    if membership is None:
        raise TransitionNotAllowed("只有联盟成员园可以申请退出联盟", code="not_a_member")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "required", "请填写退出理由")])
    if len(reason) > REASON_MAX:
        raise ValidationFailed([FieldError("reason", "too_long", f"退出理由不能超过 {REASON_MAX} 字")])
    waiting = pending_of(session, membership)
    if waiting is not None:
        raise Conflict(f"本园已提交退出申请 {waiting.number}，正在等待成幼科审核", code="withdrawal_pending")
    year = clock.today().year
    withdrawal = Withdrawal(
        number=f"TC{year}-{next_value(session, f'withdrawal:{year}'):04d}",
        kindergarten_id=membership.kindergarten_id,
        alliance_id=membership.alliance_id,
        membership_id=membership.id,
        reason=reason,
        requested_by=viewer.user_id,
    )
    try:
        with session.begin_nested():
            session.add(withdrawal)
    except IntegrityError:  # the same request, sent twice at once
        raise Conflict("本园已提交退出申请，正在等待成幼科审核", code="withdrawal_pending") from None
    audit.append(
        session, entity_type="withdrawal", entity_id=withdrawal.id, event="create", actor=viewer.actor,
        to_state=withdrawal.state, comment=reason, data={"number": withdrawal.number},
    )  # fmt: skip
    name = membership.kindergarten.name
    _notify(
        session, [*users_with_role(session, Role.OFFICER), *_leaders(session, withdrawal)], withdrawal,
        "withdrawal.requested", f"{name}申请退出{membership.alliance.name}", reason,
    )  # fmt: skip
    return withdrawal


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    withdrawal_id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    today: date | None = None,
) -> Withdrawal:
    """approve · refuse (reason) by the officer; cancel by the member itself while it waits."""
    # Only applicant accounts may cancel (the rule), and the only ones who see the request are its own.
    return transitions.fire_event(
        WITHDRAWALS, session=session, viewer=viewer, id=withdrawal_id, event=event, version=version, comment=comment,
        today=today, settings=settings, objects=objects,
    )  # fmt: skip


def _stamp_decision(ctx: Ctx[Withdrawal]) -> None:
    # Written with the state, in the one versioned UPDATE fire() makes.
    withdrawal = ctx.record
    withdrawal.decided_by, withdrawal.decided_at = ctx.viewer.user_id, utcnow()
    withdrawal.decision_comment = ctx.comment.strip()


def _on_cancel(ctx: Ctx[Withdrawal]) -> None:
    session, withdrawal = ctx.session, ctx.record
    name, alliance = withdrawal.kindergarten.name, withdrawal.alliance.name
    _notify(session, users_with_role(session, Role.OFFICER), withdrawal, "withdrawal.cancelled",
            f"{name}撤回了退出{alliance}的申请")  # fmt: skip


def _on_approve(ctx: Ctx[Withdrawal]) -> None:
    session, viewer, withdrawal = ctx.session, ctx.viewer, ctx.record
    _end_membership(session, viewer, ctx.need_settings(), ctx.need_objects(), withdrawal, ctx.today)
    name, alliance = withdrawal.kindergarten.name, withdrawal.alliance.name
    _tell_decision(ctx, f"{name}退出{alliance}的申请已同意，成员资格已终止")


def _on_refuse(ctx: Ctx[Withdrawal]) -> None:
    withdrawal = ctx.record
    name, alliance = withdrawal.kindergarten.name, withdrawal.alliance.name
    _tell_decision(ctx, f"{name}退出{alliance}的申请未获同意")


def _tell_decision(ctx: Ctx[Withdrawal], title: str) -> None:
    session, withdrawal = ctx.session, ctx.record
    concerned = [*users_of_kindergarten(session, withdrawal.kindergarten_id), *_leaders(session, withdrawal)]
    _notify(session, concerned, withdrawal, f"withdrawal.{ctx.event}d", title, withdrawal.decision_comment)


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Withdrawal:
    return get_visible(session=session, viewer=viewer, withdrawal_id=id, lock=lock)


def _today() -> date:
    return clock.today()


WITHDRAWALS = transitions.register(
    transitions.Area(
        workflow=WITHDRAWAL_WORKFLOW.with_hooks(
            {
                "approve": Hooks[Withdrawal](prepare=_stamp_decision, then=_on_approve),
                "refuse": Hooks[Withdrawal](prepare=_stamp_decision, then=_on_refuse),
                "cancel": Hooks[Withdrawal](then=_on_cancel),
            }
        ),
        load=_load,
        today=_today,
    )
)


def member_agreements(session: Session, withdrawal: Withdrawal) -> list[Agreement]:
    """The member's agreements in the alliance it asks to leave, oldest term first."""
    return agreements_of_member(session, alliance_id=withdrawal.alliance_id, kindergarten_id=withdrawal.kindergarten_id)


def agreements_of_member(session: Session, *, alliance_id: uuid.UUID, kindergarten_id: uuid.UUID) -> list[Agreement]:
    """A member's agreements in an alliance, oldest term first."""
    return list(
        session.scalars(
            select(Agreement)
            .where(
                Agreement.alliance_id == alliance_id,
                Agreement.kind == MEMBER,
                Agreement.member_kindergarten_id == kindergarten_id,
            )
            .order_by(Agreement.term_no, Agreement.created_at)
        )
    )


def end_membership(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    membership: Membership,
    comment: str,
    today: date,
) -> None:
    """End a member's place in its alliance: every live agreement of it there is terminated (an effective
    one) or voided (one not yet in force) through the agreement workflow, each with its history; the
    membership row is kept with its end date."""
    agreements = agreements_of_member(
        session, alliance_id=membership.alliance_id, kindergarten_id=membership.kindergarten_id
    )
    for agreement in [a for a in agreements if a.state in LIVE_STATES]:
        event = "terminate" if agreement.state == "effective" else "void"
        agreement_events.fire_event(
            session=session, viewer=viewer, settings=settings, objects=objects, agreement_id=agreement.id,
            event=event, version=agreement.version, comment=comment[:2000], today=today,
        )  # fmt: skip
    if membership.ended_on is None:
        membership.ended_on = today


def _end_membership(
    session: Session, viewer: Viewer, settings: Settings, objects: ObjectStore, withdrawal: Withdrawal, today: date
) -> None:
    """End the membership and every agreement of the member in the alliance, each with its history."""
    comment = f"成员园申请退出联盟（退出申请 {withdrawal.number}）：{withdrawal.reason}"
    membership = session.get(Membership, withdrawal.membership_id)
    if membership is None:
        raise RuntimeError("expected membership is not None")
    end_membership(session=session, viewer=viewer, settings=settings, objects=objects, membership=membership,
                   comment=comment, today=today)  # fmt: skip
    withdrawal.ended_on = membership.ended_on


def _leaders(session: Session, withdrawal: Withdrawal) -> list[User]:
    """The accounts of the alliance's lead and pillar."""
    alliance = withdrawal.alliance
    return [u for k in (alliance.lead, alliance.pillar) if k is not None for u in users_of_kindergarten(session, k.id)]


def _notify(
    session: Session, users: Iterable[User], withdrawal: Withdrawal, kind: str, title: str, body: str = ""
) -> None:
    unique = {u.id: u for u in users}
    notify_users(session, unique.values(), kind=kind, title=title, body=body, link=f"/withdrawals/{withdrawal.id}")
