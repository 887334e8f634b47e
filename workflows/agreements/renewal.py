"""Renewing an agreement before it expires: the next term (第 N 期) is a new agreement linked to it.

The earlier agreement is not touched: it stays in force to the end of its term (then expires), its
signed files stay archived and readable, and each term links to the one it continues.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.agreements import service
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import MEMBER, Agreement
from workflows.errors import Conflict, StaleVersion, TransitionNotAllowed
from workflows.registry.models import Membership
from workflows.roles import Role


def renewal_of(session: Session, agreement: Agreement) -> Agreement | None:
    """The renewal of ``agreement`` that is not void, if any."""
    return session.scalar(select(Agreement).where(Agreement.renewal_of_id == agreement.id, Agreement.state != "voided"))


RENEWAL_NOTICE_DAYS = 90  # the agreement's own wording: parties may renew in the three months before it ends


def due_for_renewal(*, session: Session, today: date) -> list[Agreement]:
    """Effective agreements ending within ``RENEWAL_NOTICE_DAYS`` that have no renewal yet."""
    renewed = select(Agreement.renewal_of_id).where(Agreement.renewal_of_id.is_not(None), Agreement.state != "voided")
    return list(
        session.scalars(
            select(Agreement)
            .where(
                Agreement.state == "effective",
                Agreement.term_end <= today + timedelta(days=RENEWAL_NOTICE_DAYS),
                Agreement.id.not_in(renewed),
            )
            .order_by(Agreement.term_end, Agreement.number)
        )
    )


def renew(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    agreement_id: uuid.UUID,
    version: int,
) -> Agreement:
    """Draft the next term of an effective agreement (the officer); it starts the day after this one ends."""
    agreement = service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id, lock=True)
    if viewer.role != Role.OFFICER:
        raise TransitionNotAllowed("只有成幼科可以续签协议", code="officer_only")
    if version != agreement.version:
        raise StaleVersion()
    if agreement.state != "effective":
        state = AGREEMENT_WORKFLOW.label(agreement.state)
        raise TransitionNotAllowed(f"协议当前为「{state}」，只有已生效的协议可以在到期前续签", code="not_effective")
    existing = renewal_of(session, agreement)
    if existing is not None:
        state = AGREEMENT_WORKFLOW.label(existing.state)
        raise Conflict(f"本协议已有续签协议 {existing.number}（{state}）", code="renewal_exists")
    if agreement.kind == MEMBER:
        _check_still_member(session, agreement)
    renewal = service.new_agreement(
        session=session, settings=settings, objects=objects, alliance=agreement.alliance, kind=agreement.kind,
        member_id=agreement.member_kindergarten_id, start=agreement.term_end + timedelta(days=1),
        actor=viewer.actor, previous=agreement,
    )  # fmt: skip
    audit.append(
        session, entity_type="agreement", entity_id=agreement.id, event="renew", actor=viewer.actor,
        from_state=agreement.state, to_state=agreement.state, data={"renewal": renewal.number},
    )  # fmt: skip
    return renewal


def _check_still_member(session: Session, agreement: Agreement) -> None:
    member = agreement.member
    if member is None:
        raise RuntimeError("expected member is not None")
    current = session.scalar(
        select(Membership.id).where(
            Membership.kindergarten_id == member.id,
            Membership.alliance_id == agreement.alliance_id,
            Membership.ended_on.is_(None),
        )
    )
    if current is None:
        raise TransitionNotAllowed(f"{member.name}已不在本联盟，不能续签", code="not_a_member")
    pending = service.open_agreement_of(session, alliance_id=agreement.alliance_id, member_id=member.id)
    if pending is not None:
        state = AGREEMENT_WORKFLOW.label(pending.state)
        raise Conflict(f"{member.name}已有尚未签署完成的协议 {pending.number}（{state}）", code="agreement_exists")


def terms(session: Session, agreement: Agreement) -> list[Agreement]:
    """Every term of this agreement's line, first to last: what it renewed, and what renewed it."""
    first = agreement
    while first.renewal_of_id is not None:
        earlier = session.get(Agreement, first.renewal_of_id)
        if earlier is None:
            break
        first = earlier
    line, frontier = [first], [first.id]
    while frontier:
        later = list(session.scalars(select(Agreement).where(Agreement.renewal_of_id.in_(frontier))))
        line += later
        frontier = [a.id for a in later]
    return sorted(line, key=lambda a: (a.term_no, a.created_at))
