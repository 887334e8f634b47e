"""Turning nominations, mentors and guidance into what the API returns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.mentors.machine import MENTOR_WORKFLOW, NOMINATION_WORKFLOW
from workflows.mentors.models import Mentor, MentorGuidance, MentorNomination
from workflows.mentors.schemas import GuidanceOut, MentorOut, NominationOut
from workflows.mentors.vocabulary import (
    DECISION_LABELS,
    GUIDANCE_LABELS,
    QUALIFICATION_LABELS,
    TEAM_LABELS,
    GuidanceKind,
    Qualification,
    ReviewDecision,
)
from workflows.presenters import Presented
from workflows.registry.models import LEVEL_LABELS


def nomination_out(session: Session, viewer: Viewer, nomination: MentorNomination) -> NominationOut:
    """A nomination as this viewer sees it."""
    mentor_id = session.scalar(select(Mentor.id).where(Mentor.nomination_id == nomination.id))
    return NominationOut.model_validate(
        Presented(
            nomination,
            teacher_name=nomination.teacher.name,
            teacher_level_label=LEVEL_LABELS[nomination.teacher.level],
            kindergarten_name=nomination.kindergarten.name,
            qualification_labels=[QUALIFICATION_LABELS[Qualification(q)] for q in nomination.qualifications],
            state_label=NOMINATION_WORKFLOW.label(nomination.state),
            mentor_id=mentor_id,
            allowed_events=NOMINATION_WORKFLOW.allowed_events(nomination, viewer.role),
        )
    )


def mentor_out(viewer: Viewer, mentor: Mentor) -> MentorOut:
    """A mentor with assignments (current and past) and yearly reviews."""
    return MentorOut.model_validate(
        Presented(
            mentor,
            teacher_name=mentor.teacher.name,
            teacher_level_label=LEVEL_LABELS[mentor.teacher.level],
            kindergarten_name=mentor.kindergarten.name,
            team_label=TEAM_LABELS[mentor.team],
            state_label=MENTOR_WORKFLOW.label(mentor.state),
            assignments=[Presented(a, alliance_name=a.alliance.name) for a in mentor.assignments],
            reviews=[Presented(r, decision_label=DECISION_LABELS[ReviewDecision(r.decision)]) for r in mentor.reviews],
            allowed_events=MENTOR_WORKFLOW.allowed_events(mentor, viewer.role),
        )
    )


def guidance_out(row: MentorGuidance) -> GuidanceOut:
    return GuidanceOut.model_validate(
        Presented(row, mentor_name=row.mentor.teacher.name, kind_label=GUIDANCE_LABELS[GuidanceKind(row.kind)])
    )
