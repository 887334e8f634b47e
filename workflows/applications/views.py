"""Turning an application into what the API returns."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.applications import decisions
from workflows.applications.documents import FORM_STATUS_LABELS, form_status
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
from workflows.registry.service_area import suggest_alliance


def application_out(session: Session, viewer: Viewer, application: Application) -> ApplicationOut:
    """The application as this viewer sees it; reviewers also get the alliance that serves its town."""
    suggestion = None
    if viewer.is_bureau and application.town:
        found = suggest_alliance(session=session, town=application.town)
        if found is not None:
            suggestion = AllianceSuggestion(
                id=found.alliance.id, code=found.alliance.code, name=found.alliance.name, reason=found.reason
            )
    status = form_status(session, application)
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
        decision=decision_out(decisions.find(session, application.id)),
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
