"""Turning an application into what the API returns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.applications import decisions
from workflows.applications.documents import FORM_STATUS_LABELS, form_status, form_statuses
from workflows.applications.machine import APPLICATION_WORKFLOW
from workflows.applications.models import Application, Attachment, Decision
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    AllianceSuggestion,
    ApplicationOut,
    AttachmentKind,
    AttachmentOut,
    DecisionOut,
)
from workflows.certificates.documents import grouped
from workflows.presenters import Presented
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
    return ApplicationOut.model_validate(
        Presented(
            application,
            kindergarten_name=application.kindergarten.name,
            attachments=[attachment_out(a) for a in application.attachments],
            state_label=APPLICATION_WORKFLOW.label(application.state),
            allowed_events=APPLICATION_WORKFLOW.allowed_events(application, viewer.role),
            suggested_alliance=suggestion,
            decision=decision_out(decision),
            form_status=status,
            form_status_label=FORM_STATUS_LABELS[status],
        )
    )


def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut.model_validate(
        Presented(
            attachment,
            kind_label=ATTACHMENT_LABELS[AttachmentKind(attachment.kind)],
            current=attachment.replaced_at is None,
        )
    )


def decision_out(decision: Decision | None) -> DecisionOut | None:
    if decision is None:
        return None
    return DecisionOut.model_validate(
        Presented(
            decision,
            outcome_label=decisions.OUTCOME_LABELS[decision.outcome],
            verification_code=grouped(decision.verification_code),
            letter_generating=decisions.letter_generating(decision),
        )
    )
