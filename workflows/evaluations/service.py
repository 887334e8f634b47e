"""Evaluations: open a year, read them with visibility, and keep the automatic items current."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.documents import service as documents
from workflows.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflows.evaluations import records, scoring
from workflows.evaluations.models import Evaluation, EvaluationItem, EvaluationScheme
from workflows.evaluations.scheme import scheme_for
from workflows.registry.models import Alliance
from workflows.roles import Role


def _may_see(viewer: Viewer, evaluation: Evaluation) -> bool:
    return viewer.may_see_alliance_private(evaluation.alliance_id)


def get_visible(*, session: Session, viewer: Viewer, evaluation_id: uuid.UUID, lock: bool = False) -> Evaluation:
    """The evaluation if the viewer may see it (the bureau, the alliance's kindergartens); NotFound otherwise."""
    stmt = select(Evaluation).where(Evaluation.id == evaluation_id).options(selectinload(Evaluation.items))
    if lock:
        stmt = stmt.with_for_update()
    evaluation = session.scalar(stmt)
    if evaluation is None or not _may_see(viewer, evaluation):
        raise NotFound("考核评价不存在")
    return evaluation


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, evaluation_id=owner_id)


documents.register_owner("evaluation", _document_owner_check)


def list_visible(
    *, session: Session, viewer: Viewer, year: int | None = None, state: str | None = None
) -> list[Evaluation]:
    """The evaluations the viewer may see, newest year first, by alliance code."""
    stmt = (
        select(Evaluation)
        .join(Alliance, Evaluation.alliance_id == Alliance.id)
        .options(selectinload(Evaluation.items), selectinload(Evaluation.alliance))
    )
    if not viewer.is_bureau:
        if viewer.alliance_id is None:
            return []
        stmt = stmt.where(Evaluation.alliance_id == viewer.alliance_id)
    if year is not None:
        stmt = stmt.where(Evaluation.year == year)
    if state:
        stmt = stmt.where(Evaluation.state == state)
    return list(session.scalars(stmt.order_by(Evaluation.year.desc(), Alliance.code)))


def refresh_totals(evaluation: Evaluation) -> None:
    """Total, veto and grade from the items as they stand."""
    evaluation.total = scoring.total_of(item.final for item in evaluation.items)
    evaluation.vetoed = any(item.veto and item.veto_triggered for item in evaluation.items)
    evaluation.grade = scoring.grade_for(evaluation.total, vetoed=evaluation.vetoed)


def apply_record(evaluation: Evaluation, record: records.YearRecord) -> dict[str, list[float | None]]:
    """Set the automatic items from a year record; returns what changed (key -> [old, new])."""
    changed: dict[str, list[float | None]] = {}
    for item in evaluation.items:
        if item.method == "manual":
            continue
        score, evidence = scoring.compute(record, method=item.method, max_points=item.max_points, params=item.params)
        if score != item.computed:
            changed[item.key] = [item.computed, score]
        item.computed, item.evidence = score, evidence
    evaluation.computed_at = utcnow()
    refresh_totals(evaluation)
    return changed


def recompute(*, session: Session, evaluation: Evaluation, today: date) -> dict[str, list[float | None]]:
    """Compute the automatic items again from the records; returns what changed (key -> [old, new])."""
    record = records.collect(session=session, alliance=evaluation.alliance, year=evaluation.year, today=today)
    return apply_record(evaluation, record)


def open_year(*, session: Session, viewer: Viewer, year: int, today: date) -> list[Evaluation]:
    """Open the year's evaluation: one per active alliance, automatic items computed from the records."""
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以发起年度考核")
    if not records.year_semesters(session=session, year=year):
        raise ValidationFailed.single("year", "no_semesters", f"{year} 年没有设置学期，无法考核")
    scheme = scheme_for(session=session, year=year)
    existing = set(session.scalars(select(Evaluation.alliance_id).where(Evaluation.year == year)))
    alliances = list(session.scalars(select(Alliance).where(Alliance.active).order_by(Alliance.code)))
    missing = [a for a in alliances if a.id not in existing]
    if not missing:
        raise Conflict(f"{year} 年度考核已经发起", code="already_open")
    if session.get(EvaluationScheme, year) is None:
        # Pin the scheme the year opened with: later changes to the default do not touch it.
        session.add(EvaluationScheme(year=year, items=scheme.model_dump(mode="json")["items"],
                                     updated_by=viewer.display_name))  # fmt: skip
    opened = []
    for alliance in missing:
        # Read the records first: the new row joins the session complete, and is written once.
        record = records.collect(session=session, alliance=alliance, year=year, today=today)
        evaluation = Evaluation(
            number=f"KP{year}-{alliance.code}", alliance=alliance, year=year, created_by=viewer.user_id
        )
        evaluation.items = [
            EvaluationItem(position=n, **item.model_dump(mode="json")) for n, item in enumerate(scheme.items, start=1)
        ]
        apply_record(evaluation, record)
        session.add(evaluation)
        session.flush()
        audit.append(
            session, entity_type="evaluation", entity_id=evaluation.id, event="open", actor=viewer.actor,
            to_state=evaluation.state, data={"year": year, "alliance": alliance.code, "total": evaluation.total},
        )  # fmt: skip
        opened.append(evaluation)
    return opened
