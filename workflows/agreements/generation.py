"""Agreements for every member of an alliance, not only those admitted through an application.

Founding members come from the arrangement table and have no application: the officer generates
their agreements (and each alliance's lead–pillar agreement) as one job, whose items are fixed when
it starts. Each item runs in a transaction of its own, under a lock on the membership (or on the
alliance for the lead–pillar agreement), and re-checks that no agreement exists: two jobs started
side by side, or a redelivered task, never make a second one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.objects import ObjectStore
from storage.runtime import Runtime
from storage.settings import Settings
from workflows import audit, clock, jobs, outbox
from workflows.access import Viewer, viewer_for
from workflows.accounts.models import User
from workflows.agreements import service
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import LEAD_PILLAR, LIVE_STATES, MEMBER, Agreement
from workflows.applications.models import Application
from workflows.errors import Conflict, NotFound
from workflows.registry.models import Alliance, AllianceRole, Membership
from workflows.roles import Role

JOB_KIND = "agreements.generate"
TASK = "agreements.generate"
MEMBER_ITEM, LEAD_PILLAR_ITEM = "member", "lead_pillar"


@dataclass
class MemberLine:
    """One member of an alliance and its agreements: the one in force or under way, and a renewal."""

    membership: Membership
    current: Agreement | None = None
    renewal: Agreement | None = None

    @property
    def missing(self) -> bool:
        return self.current is None


@dataclass
class AllianceAgreements:
    """An alliance's agreements at a glance: the lead–pillar one and each current member's."""

    alliance: Alliance
    lead_pillar: MemberLine | None
    members: list[MemberLine] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return sum(1 for m in self.members if m.missing)

    @property
    def lead_pillar_missing(self) -> bool:
        return self.lead_pillar is not None and self.lead_pillar.missing


def _line(membership: Membership, agreements: list[Agreement]) -> MemberLine:
    """The earliest live term counts now; a later live one is its renewal (drafted, signing or signed)."""
    live = sorted((a for a in agreements if a.state in LIVE_STATES), key=lambda a: (a.term_no, a.created_at))
    return MemberLine(membership, live[0] if live else None, live[-1] if len(live) > 1 else None)


def alliance_agreements(*, session: Session, viewer: Viewer, alliance_id: uuid.UUID) -> AllianceAgreements:
    """Every current member of the alliance with the state of its agreement (the bureau only)."""
    viewer.require_role(Role.OFFICER, Role.RESEARCHER, Role.ADMIN)
    alliance = session.scalar(
        select(Alliance).where(Alliance.id == alliance_id).options(selectinload(Alliance.memberships))
    )
    if alliance is None:
        raise NotFound("联盟不存在")
    return _overview(session, alliance)


def _overview(session: Session, alliance: Alliance) -> AllianceAgreements:
    rows = list(session.scalars(select(Agreement).where(Agreement.alliance_id == alliance.id)))
    by_member: dict[uuid.UUID | None, list[Agreement]] = {}
    for a in rows:
        by_member.setdefault(a.member_kindergarten_id if a.kind == MEMBER else None, []).append(a)
    current = sorted(alliance.current_memberships, key=lambda m: m.kindergarten.code)
    lead = next((m for m in current if m.role == AllianceRole.LEAD), None)
    members = [_line(m, by_member.get(m.kindergarten_id, [])) for m in current if m.role == AllianceRole.MEMBER]
    lead_pillar = _line(lead, by_member.get(None, [])) if lead is not None and alliance.pillar else None
    return AllianceAgreements(alliance=alliance, lead_pillar=lead_pillar, members=members)


def district_agreements(*, session: Session, viewer: Viewer) -> list[AllianceAgreements]:
    """Every active alliance at a glance, in code order."""
    viewer.require_role(Role.OFFICER, Role.RESEARCHER, Role.ADMIN)
    alliances = session.scalars(
        select(Alliance).where(Alliance.active).order_by(Alliance.code).options(selectinload(Alliance.memberships))
    )
    return [_overview(session, a) for a in alliances]


def _has_live(session: Session, *, alliance_id: uuid.UUID, kind: str, member_id: uuid.UUID | None) -> Agreement | None:
    stmt = select(Agreement).where(
        Agreement.alliance_id == alliance_id, Agreement.kind == kind, Agreement.state.in_(LIVE_STATES)
    )
    if member_id is not None:
        stmt = stmt.where(Agreement.member_kindergarten_id == member_id)
    return session.scalars(stmt.order_by(Agreement.created_at)).first()


def _exists(agreement: Agreement, whose: str) -> Conflict:
    state = AGREEMENT_WORKFLOW.label(agreement.state)
    return Conflict(f"{whose}已有协议 {agreement.number}（{state}），未重复生成", code="agreement_exists")


def today() -> date:
    return clock.today()


def create_for_member(
    *, session: Session, settings: Settings, objects: ObjectStore, membership_id: uuid.UUID, actor: audit.Actor
) -> Agreement:
    """The agreement of a current member that has none (its approved application's, if it applied)."""
    membership = session.get(Membership, membership_id, with_for_update=True)
    if membership is None or membership.role != AllianceRole.MEMBER:
        raise NotFound("成员园不存在")
    name = membership.kindergarten.name
    if membership.ended_on is not None:
        raise service.CannotCreate(f"{name}已退出联盟，不再生成协议")
    found = _has_live(session, alliance_id=membership.alliance_id, kind=MEMBER, member_id=membership.kindergarten_id)
    if found is not None:
        raise _exists(found, name)
    application = session.scalar(
        select(Application)
        .where(
            Application.kindergarten_id == membership.kindergarten_id,
            Application.approved_alliance_id == membership.alliance_id,
            Application.state == "approved",
        )
        .order_by(Application.decided_at.desc())
    )
    if application is not None and not session.scalar(
        select(Agreement.id).where(Agreement.application_id == application.id)
    ):
        return service.create_from_application(
            session=session, settings=settings, objects=objects, application_id=application.id
        )
    try:
        return service.new_agreement(
            session=session, settings=settings, objects=objects, alliance=membership.alliance, kind=MEMBER,
            member_id=membership.kindergarten_id, start=max(today(), membership.started_on), actor=actor,
        )  # fmt: skip
    except IntegrityError:
        # An approval's task drafted it between our check and our insert (SQLite has no row lock).
        found = service.open_agreement_of(
            session, alliance_id=membership.alliance_id, member_id=membership.kindergarten_id
        )
        if found is None:
            raise
        raise _exists(found, name) from None


def create_lead_pillar(
    *, session: Session, settings: Settings, objects: ObjectStore, alliance_id: uuid.UUID, actor: audit.Actor
) -> Agreement:
    """The agreement between the alliance's lead (甲方) and pillar (乙方), the bureau supervising."""
    alliance = session.get(Alliance, alliance_id, with_for_update=True)
    if alliance is None:
        raise NotFound("联盟不存在")
    found = _has_live(session, alliance_id=alliance.id, kind=LEAD_PILLAR, member_id=None)
    if found is not None:
        raise _exists(found, f"「{alliance.name}」龙头园与支柱园")
    return service.new_agreement(
        session=session, settings=settings, objects=objects, alliance=alliance, kind=LEAD_PILLAR,
        member_id=None, start=today(), actor=actor,
    )  # fmt: skip


def generate_lead_pillar(
    *, session: Session, viewer: Viewer, settings: Settings, objects: ObjectStore, alliance_id: uuid.UUID
) -> Agreement:
    """The officer generates one alliance's lead–pillar agreement (409 if it has one)."""
    viewer.require_role(Role.OFFICER)
    return create_lead_pillar(
        session=session, settings=settings, objects=objects, alliance_id=alliance_id, actor=viewer.actor
    )


def start_generation(
    *, session: Session, viewer: Viewer, alliance_id: uuid.UUID | None, lead_pillar: bool = False
) -> jobs.Job:
    """Queue the job that generates the missing agreements of one alliance's members (or of every
    alliance), and with ``lead_pillar`` the missing lead–pillar agreements; 409 when none is missing."""
    viewer.require_role(Role.OFFICER)
    if alliance_id is not None:
        alliance = session.get(Alliance, alliance_id)
        if alliance is None:
            raise NotFound("联盟不存在")
        overviews = [_overview(session, alliance)]
    else:
        overviews = district_agreements(session=session, viewer=viewer)
    items = []
    for o in overviews:
        if lead_pillar and o.lead_pillar_missing:
            items.append({"id": f"{LEAD_PILLAR_ITEM}:{o.alliance.id}", "label": f"{o.alliance.name} · 龙头园与支柱园"})
        items += [
            {"id": f"{MEMBER_ITEM}:{m.membership.id}", "label": f"{o.alliance.name} · {m.membership.kindergarten.name}"}
            for m in o.members
            if m.missing
        ]
    if not items:
        raise Conflict("各成员园都已有协议，没有需要生成的协议", code="nothing_to_generate")
    params = {"alliance_id": str(alliance_id) if alliance_id else "", "lead_pillar": lead_pillar}
    job = jobs.create_job(session=session, kind=JOB_KIND, items=items, created_by=viewer.user_id, params=params)
    outbox.record(session, TASK, job_id=str(job.id))
    return job


def _generate_one(runtime: Runtime, creator: uuid.UUID, item: dict[str, Any]) -> None:
    kind, _, ref = str(item["id"]).partition(":")
    with runtime.db.session() as session:
        user = session.get(User, creator)
        if user is None or not user.is_active:
            raise NotFound("发起任务的账号已停用")
        actor = viewer_for(session, user).actor
        settings, objects = runtime.settings, runtime.objects
        if kind == LEAD_PILLAR_ITEM:
            create_lead_pillar(session=session, settings=settings, objects=objects, alliance_id=uuid.UUID(ref),
                               actor=actor)  # fmt: skip
        else:
            create_for_member(session=session, settings=settings, objects=objects, membership_id=uuid.UUID(ref),
                              actor=actor)  # fmt: skip


def run_generation(*, runtime: Runtime, job_id: uuid.UUID) -> None:
    """Generate each item's agreement in a transaction of its own; resumes after the last finished item."""
    jobs.run_items(runtime=runtime, job_id=job_id, handle=_generate_one)
