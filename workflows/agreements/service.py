"""Agreements: created from an approved application, edited while a draft, listed and read with visibility."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit, clock
from workflows.access import Viewer
from workflows.agreements.documents import render_draft
from workflows.agreements.machine import AGREEMENT_WORKFLOW, EDITABLE_STATES
from workflows.agreements.models import DEFAULT_ROUTES, MEMBER, OPEN_STATES, Agreement
from workflows.agreements.parties import is_party, route_problems
from workflows.applications.models import Application
from workflows.clock import BEIJING
from workflows.documents import service as documents
from workflows.errors import FieldError, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.machine import fire
from workflows.numbering import next_value
from workflows.registry.models import Alliance
from workflows.roles import Role

logger = logging.getLogger(__name__)

TERM_YEARS = 3
MAX_TERM_YEARS = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


class CannotCreate(TransitionNotAllowed):
    """No agreement can be made yet (e.g. the alliance lacks a lead, or the application is not approved)."""

    code = "cannot_create"


def _may_see(viewer: Viewer, agreement: Agreement) -> bool:
    return viewer.is_bureau or is_party(viewer, agreement)


def get_visible(*, session: Session, viewer: Viewer, agreement_id: uuid.UUID, lock: bool = False) -> Agreement:
    """The agreement if the viewer may see it (the bureau, or a kindergarten party); NotFound otherwise."""
    stmt = select(Agreement).where(Agreement.id == agreement_id).options(selectinload(Agreement.signatures))
    if lock:
        stmt = stmt.with_for_update()
    agreement = session.scalar(stmt)
    if agreement is None or not _may_see(viewer, agreement):
        raise NotFound("协议不存在")
    return agreement


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, agreement_id=owner_id)


documents.register_owner("agreement", _document_owner_check)


def list_visible(
    *,
    session: Session,
    viewer: Viewer,
    state: str | None = None,
    alliance_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> list[Agreement]:
    """The agreements the viewer may see, newest first."""
    stmt = select(Agreement).options(selectinload(Agreement.signatures), selectinload(Agreement.alliance))
    if not viewer.is_bureau:
        kid = viewer.kindergarten_id
        if kid is None:
            return []
        stmt = stmt.where(
            (Agreement.lead_kindergarten_id == kid)
            | (Agreement.pillar_kindergarten_id == kid)
            | (Agreement.member_kindergarten_id == kid)
        )
    if state:
        stmt = stmt.where(Agreement.state == state)
    if alliance_id:
        stmt = stmt.where(Agreement.alliance_id == alliance_id)
    if application_id:
        stmt = stmt.where(Agreement.application_id == application_id)
    return list(session.scalars(stmt.order_by(Agreement.created_at.desc(), Agreement.number.desc())))


def _last_day(start: date, years: int) -> date:
    """The day before the ``years``-th anniversary of ``start`` (1 March stands in for 29 February)."""
    year = start.year + years
    anniversary = start.replace(year=year) if (start.month, start.day) != (2, 29) else date(year, 3, 1)
    return date.fromordinal(anniversary.toordinal() - 1)


def default_term(start: date) -> tuple[date, date]:
    """Three years from ``start``, ending the day before its anniversary."""
    return start, _last_day(start, TERM_YEARS)


def _new_code(session: Session) -> str:
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        if session.scalar(select(Agreement.id).where(Agreement.verification_code == code)) is None:
            return code


def open_agreement_of(session: Session, *, alliance_id: uuid.UUID, member_id: uuid.UUID) -> Agreement | None:
    """The member's agreement in the alliance that is still unsigned (draft, signing or returned), if any."""
    return session.scalar(
        select(Agreement).where(
            Agreement.alliance_id == alliance_id,
            Agreement.member_kindergarten_id == member_id,
            Agreement.state.in_(OPEN_STATES),
        )
    )


def new_agreement(
    *,
    session: Session,
    settings: Settings,
    objects: ObjectStore,
    alliance: Alliance,
    kind: str,
    member_id: uuid.UUID | None,
    start: date,
    actor: audit.Actor,
    application: Application | None = None,
    previous: Agreement | None = None,
) -> Agreement:
    """Add an agreement (the alliance's lead and pillar as 甲方 and 乙方), audit it and render its first draft.

    Raises IntegrityError when the member has an unsigned agreement already (``uq_agreements_open_member``);
    callers that may race look first and treat the error as "someone else made it".
    """
    if alliance.lead is None or alliance.pillar is None:
        raise CannotCreate(f"「{alliance.name}」缺少龙头园或支柱园，无法生成协议")
    year = clock.today().year  # the number carries the Beijing year
    term_start, term_end = default_term(start)
    agreement = Agreement(
        number=f"XY{year}-{next_value(session, f'agreement:{year}'):04d}",
        kind=kind,
        application_id=application.id if application else None,
        alliance_id=alliance.id,
        member_kindergarten_id=member_id,
        lead_kindergarten_id=alliance.lead.id,
        pillar_kindergarten_id=alliance.pillar.id,
        route=[list(step) for step in (previous.route if previous else DEFAULT_ROUTES[kind])],
        term_start=term_start,
        term_end=term_end,
        special_clauses=previous.special_clauses if previous else "",
        renewal_of_id=previous.id if previous else None,
        term_no=previous.term_no + 1 if previous else 1,
        verification_code=_new_code(session),
    )
    with session.begin_nested():
        session.add(agreement)
    data = {"number": agreement.number, "kind": kind}
    if application is not None:
        data["application"] = application.number
    if previous is not None:
        data["renewal_of"] = previous.number
    audit.append(
        session, entity_type="agreement", entity_id=agreement.id, event="create", actor=actor,
        to_state=agreement.state, data=data,
    )  # fmt: skip
    render_draft(
        session=session, settings=settings, objects=objects, agreement=agreement,
        actor_id=None if actor is audit.SYSTEM_ACTOR else actor.id,
    )  # fmt: skip
    return agreement


def create_from_application(
    *, session: Session, settings: Settings, objects: ObjectStore, application_id: uuid.UUID
) -> Agreement:
    """The agreement of an approved application, created (and its first draft rendered) if missing.

    A member whose unsigned agreement was drafted another way first (founding members) keeps that one;
    it is linked to the application."""
    existing = session.scalar(select(Agreement).where(Agreement.application_id == application_id))
    if existing is not None:
        return existing
    application = session.get(Application, application_id)
    if application is None or application.state != "approved" or application.approved_alliance_id is None:
        raise CannotCreate("申请不存在或尚未批准")
    alliance = session.get(Alliance, application.approved_alliance_id)
    if alliance is None:
        raise RuntimeError("expected alliance is not None")
    drafted = open_agreement_of(session, alliance_id=alliance.id, member_id=application.kindergarten_id)
    if drafted is not None:
        if drafted.application_id is None:
            drafted.application_id = application.id
            session.flush()
        return drafted
    start = (application.decided_at or datetime.now(UTC)).astimezone(BEIJING).date()
    try:
        return new_agreement(
            session=session, settings=settings, objects=objects, alliance=alliance, kind=MEMBER,
            member_id=application.kindergarten_id, start=start, actor=audit.SYSTEM_ACTOR, application=application,
        )  # fmt: skip
    except IntegrityError:
        # A redelivered task (or the founding members' job) raced this one; the agreement exists now.
        found = session.scalar(select(Agreement).where(Agreement.application_id == application_id))
        found = found or open_agreement_of(session, alliance_id=alliance.id, member_id=application.kindergarten_id)
        if found is None:
            raise
        return found


def term_problems(start: date, end: date) -> list[FieldError]:
    """A term ends after it starts and lasts at most ``MAX_TERM_YEARS`` years."""
    if end <= start:
        return [FieldError("term_end", "before_start", "协议期满日期须晚于起始日期")]
    if end > _last_day(start, MAX_TERM_YEARS):
        return [FieldError("term_end", "too_long", f"协议期限不能超过 {MAX_TERM_YEARS} 年")]
    return []


def update_terms(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    agreement_id: uuid.UUID,
    version: int,
    term_start: date | None = None,
    term_end: date | None = None,
    special_clauses: str | None = None,
    route: list[list[str]] | None = None,
) -> Agreement:
    """Edit the variable parts of a draft (a returned agreement goes back to draft first); re-render it."""
    agreement = get_visible(session=session, viewer=viewer, agreement_id=agreement_id, lock=True)
    if viewer.role != Role.OFFICER:
        raise TransitionNotAllowed("只有成幼科可以修改协议", code="officer_only")
    if version != agreement.version:
        raise StaleVersion()
    if agreement.state not in EDITABLE_STATES:
        raise TransitionNotAllowed(f"协议当前为「{AGREEMENT_WORKFLOW.label(agreement.state)}」，不能修改")
    start, end = term_start or agreement.term_start, term_end or agreement.term_end
    problems = term_problems(start, end)
    if route is not None:
        problems += route_problems(route, agreement.party_keys)
    if problems:
        raise ValidationFailed(problems)
    if agreement.state == "returned":
        fire(
            session=session, workflow=AGREEMENT_WORKFLOW, record=agreement, event="revise", actor=viewer.actor,
            role=viewer.role, version=agreement.version,
        )  # fmt: skip
    agreement.term_start, agreement.term_end = start, end
    if special_clauses is not None:
        agreement.special_clauses = special_clauses.strip()
    if route is not None:
        agreement.route = [list(step) for step in route]
    session.flush()
    draft = render_draft(
        session=session, settings=settings, objects=objects, agreement=agreement, actor_id=str(viewer.user_id)
    )
    audit.append(
        session,
        entity_type="agreement",
        entity_id=agreement.id,
        event="edit",
        actor=viewer.actor,
        from_state=agreement.state,
        to_state=agreement.state,
        data={"draft_version": draft.version_no, "sha256": draft.sha256, "route": agreement.route},
    )
    return agreement
