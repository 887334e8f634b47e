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
from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.agreements.documents import BEIJING, render_draft
from workflows.agreements.machine import AGREEMENT_WORKFLOW, EDITABLE_STATES
from workflows.agreements.models import DEFAULT_ROUTE, Agreement
from workflows.agreements.parties import is_party, route_problems
from workflows.applications.models import Application
from workflows.documents import service as documents
from workflows.errors import FieldError, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.machine import fire
from workflows.numbering import next_value
from workflows.registry.models import Alliance

logger = logging.getLogger(__name__)

TERM_YEARS = 3
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


class CannotCreate(Exception):
    """The approved application cannot have an agreement yet (e.g. its alliance lacks a lead)."""


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


def default_term(start: date) -> tuple[date, date]:
    """Three years from ``start``, ending the day before its anniversary."""
    end_year = start.year + TERM_YEARS
    anniversary = start.replace(year=end_year) if (start.month, start.day) != (2, 29) else date(end_year, 3, 1)
    return start, date.fromordinal(anniversary.toordinal() - 1)


def _new_code(session: Session) -> str:
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        if session.scalar(select(Agreement.id).where(Agreement.verification_code == code)) is None:
            return code


def create_from_application(
    *, session: Session, settings: Settings, objects: ObjectStore, application_id: uuid.UUID
) -> Agreement:
    """The agreement of an approved application, created (and its first draft rendered) if missing."""
    existing = session.scalar(select(Agreement).where(Agreement.application_id == application_id))
    if existing is not None:
        return existing
    application = session.get(Application, application_id)
    if application is None or application.state != "approved" or application.approved_alliance_id is None:
        raise CannotCreate("申请不存在或尚未批准")
    alliance = session.get(Alliance, application.approved_alliance_id)
    assert alliance is not None
    if alliance.lead is None or alliance.pillar is None:
        raise CannotCreate(f"「{alliance.name}」缺少龙头园或支柱园，无法生成协议")
    year = datetime.now(UTC).year
    start = (application.decided_at or datetime.now(UTC)).astimezone(BEIJING).date()
    term_start, term_end = default_term(start)
    agreement = Agreement(
        number=f"XY{year}-{next_value(session, f'agreement:{year}'):04d}",
        application_id=application.id,
        alliance_id=alliance.id,
        member_kindergarten_id=application.kindergarten_id,
        lead_kindergarten_id=alliance.lead.id,
        pillar_kindergarten_id=alliance.pillar.id,
        route=[list(step) for step in DEFAULT_ROUTE],
        term_start=term_start,
        term_end=term_end,
        verification_code=_new_code(session),
    )
    try:
        with session.begin_nested():
            session.add(agreement)
    except IntegrityError:
        # A redelivered task raced the first one; the agreement exists now.
        found = session.scalar(select(Agreement).where(Agreement.application_id == application_id))
        if found is None:
            raise
        return found
    audit.append(
        session,
        entity_type="agreement",
        entity_id=agreement.id,
        event="create",
        actor=audit.SYSTEM_ACTOR,
        to_state=agreement.state,
        data={"number": agreement.number, "application": application.number},
    )
    render_draft(session=session, settings=settings, objects=objects, agreement=agreement, actor_id=None)
    return agreement


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
    problems = [FieldError("term_end", "before_start", "协议期满日期须晚于起始日期")] if end <= start else []
    if route is not None:
        problems += route_problems(route)
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
