"""Turning nominations, mentors and guidance into what the API returns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.mentors.machine import MENTOR_WORKFLOW, NOMINATION_WORKFLOW
from workflows.mentors.models import Mentor, MentorGuidance, MentorNomination
from workflows.mentors.schemas import AssignmentOut, GuidanceOut, MentorOut, NominationOut, ReviewOut
from workflows.mentors.vocabulary import (
    DECISION_LABELS,
    GUIDANCE_LABELS,
    QUALIFICATION_LABELS,
    TEAM_LABELS,
    GuidanceKind,
    Qualification,
    ReviewDecision,
)
from workflows.registry.models import LEVEL_LABELS


def nomination_out(session: Session, viewer: Viewer, nomination: MentorNomination) -> NominationOut:
    """A nomination as this viewer sees it."""
    mentor_id = session.scalar(select(Mentor.id).where(Mentor.nomination_id == nomination.id))
    return NominationOut(
        id=nomination.id,
        number=nomination.number,
        teacher_id=nomination.teacher_id,
        teacher_name=nomination.teacher.name,
        teacher_level_label=LEVEL_LABELS[nomination.teacher.level],
        kindergarten_id=nomination.kindergarten_id,
        kindergarten_name=nomination.kindergarten.name,
        team=nomination.team,
        qualifications=nomination.qualifications,
        qualification_labels=[QUALIFICATION_LABELS[Qualification(q)] for q in nomination.qualifications],
        form=nomination.form,
        state=nomination.state,
        state_label=NOMINATION_WORKFLOW.label(nomination.state),
        version=nomination.version,
        last_comment=nomination.last_comment,
        created_at=nomination.created_at,
        decided_at=nomination.decided_at,
        mentor_id=mentor_id,
        allowed_events=NOMINATION_WORKFLOW.allowed_events(nomination, viewer.role),
    )


def mentor_out(viewer: Viewer, mentor: Mentor) -> MentorOut:
    """A mentor with assignments (current and past) and yearly reviews."""
    return MentorOut(
        id=mentor.id,
        number=mentor.number,
        teacher_id=mentor.teacher_id,
        teacher_name=mentor.teacher.name,
        teacher_level_label=LEVEL_LABELS[mentor.teacher.level],
        kindergarten_id=mentor.kindergarten_id,
        kindergarten_name=mentor.kindergarten.name,
        team=mentor.team,
        team_label=TEAM_LABELS[mentor.team],
        term_start=mentor.term_start,
        term_end=mentor.term_end,
        state=mentor.state,
        state_label=MENTOR_WORKFLOW.label(mentor.state),
        version=mentor.version,
        appointed_at=mentor.appointed_at,
        retired_at=mentor.retired_at,
        assignments=[
            AssignmentOut(
                id=a.id,
                alliance_id=a.alliance_id,
                alliance_name=a.alliance.name,
                started_on=a.started_on,
                ended_on=a.ended_on,
            )
            for a in mentor.assignments
        ],
        reviews=[
            ReviewOut(
                year=r.year,
                decision=r.decision,
                decision_label=DECISION_LABELS[ReviewDecision(r.decision)],
                comment=r.comment,
                team_before=r.team_before,
                team_after=r.team_after,
                alliances_after=r.alliances_after,
                decider_name=r.decider_name,
                decided_at=r.decided_at,
            )
            for r in mentor.reviews
        ],
        allowed_events=MENTOR_WORKFLOW.allowed_events(mentor, viewer.role),
    )


def guidance_out(row: MentorGuidance) -> GuidanceOut:
    return GuidanceOut(
        id=row.id,
        activity_id=row.activity_id,
        plan_id=row.plan_id,
        mentor_id=row.mentor_id,
        mentor_name=row.mentor.teacher.name,
        kind=row.kind,
        kind_label=GUIDANCE_LABELS[GuidanceKind(row.kind)],
        note=row.note,
        recorded_at=row.recorded_at,
    )
