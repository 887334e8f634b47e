"""Turning an application into what the API returns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.applications import decisions
from workflows.applications.documents import FORM_STATUS_LABELS, form_status, form_statuses
from workflows.applications.machine import APPLICATION_WORKFLOW
from workflows.applications.models import Application, Decision
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    AllianceSuggestion,
    ApplicationOut,
    AttachmentKind,
    AttachmentOut,
    CheckOut,
    DecisionOut,
)
from workflows.certificates.documents import grouped
from workflows.registry.service_area import Suggestion, suggest_alliance, suggest_alliances


def application_out(session: Session, viewer: Viewer, application: Application) -> ApplicationOut:
    """The application as this viewer sees it; reviewers also get the alliance that serves its town."""
    # A 批复 is issued with decided_at set (events._decide): none to look for before.
    decision = decisions.find(session, application.id) if application.decided_at else None
    suggestion = None
    if viewer.is_bureau and application.town:
        suggestion = _suggestion(suggest_alliance(session=session, town=application.town))
    return _out(viewer, application, suggestion, decision, form_status(session, application))


def applications_out(session: Session, viewer: Viewer, applications: list[Application]) -> list[ApplicationOut]:
    """A list of applications (their kindergartens and attachments loaded with them): the decided ones'
    批复 in one statement, the towns' suggested alliances from one reading of the alliances, whatever
    the length of the list."""
    decided = [a.id for a in applications if a.decided_at]
    found = (
        {d.application_id: d for d in session.scalars(select(Decision).where(Decision.application_id.in_(decided)))}
        if decided
        else {}
    )
    towns = {a.town for a in applications if a.town} if viewer.is_bureau else set()
    suggestions = {town: _suggestion(s) for town, s in suggest_alliances(session=session, towns=towns).items()}
    statuses = form_statuses(session, applications)
    return [_out(viewer, a, suggestions.get(a.town), found.get(a.id), statuses[a.id]) for a in applications]


def _suggestion(found: Suggestion | None) -> AllianceSuggestion | None:
    if found is None:
        return None
    return AllianceSuggestion(
        id=found.alliance.id, code=found.alliance.code, name=found.alliance.name, reason=found.reason
    )


def _out(
    viewer: Viewer,
    application: Application,
    suggestion: AllianceSuggestion | None,
    decision: Decision | None,
    status: str,
) -> ApplicationOut:
    return ApplicationOut(
        id=application.id,
        number=application.number,
        kindergarten_id=application.kindergarten_id,
        kindergarten_name=application.kindergarten.name,
        state=application.state,
        state_label=APPLICATION_WORKFLOW.label(application.state),
        version=application.version,
        form=application.form,
        eligibility=[CheckOut(**c) for c in application.eligibility],
        approved_alliance_id=application.approved_alliance_id,
        last_comment=application.last_comment,
        created_at=application.created_at,
        submitted_at=application.submitted_at,
        decided_at=application.decided_at,
        attachments=[
            AttachmentOut(
                id=a.id,
                kind=a.kind,
                kind_label=ATTACHMENT_LABELS[AttachmentKind(a.kind)],
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                uploaded_at=a.uploaded_at,
                current=a.replaced_at is None,
            )
            for a in application.attachments
        ],
        allowed_events=APPLICATION_WORKFLOW.allowed_events(application, viewer.role),
        suggested_alliance=suggestion,
        decision=decision_out(decision),
        form_status=status,
        form_status_label=FORM_STATUS_LABELS[status],
    )


def decision_out(decision: Decision | None) -> DecisionOut | None:
    if decision is None:
        return None
    return DecisionOut(
        number=decision.number,
        outcome=decision.outcome,
        outcome_label=decisions.OUTCOME_LABELS[decision.outcome],
        alliance_name=decision.alliance_name,
        opinion=decision.opinion,
        decided_on=decision.decided_on,
        verification_code=grouped(decision.verification_code),
        docx_document_id=decision.docx_document_id,
        pdf_document_id=decision.pdf_document_id,
        letter_generating=decisions.letter_generating(decision),
    )
