"""The mentor documents: nomination form (推荐表) and appointment letter (聘书) as .docx."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from templates.district import BUREAU_NAME, REVIEWER
from templates.docx import render_docx
from workflows.access import Viewer
from workflows.clock import BEIJING
from workflows.clock import chinese_date as chinese_date
from workflows.documents.models import Document
from workflows.documents.service import store_generated
from workflows.mentors.models import Mentor, MentorNomination
from workflows.mentors.schemas import NominationForm
from workflows.mentors.vocabulary import QUALIFICATION_LABELS, TEAM_LABELS, Qualification
from workflows.registry.models import LEVEL_LABELS

NOMINATION_TEMPLATE = "mentor_nomination.docx"
APPOINTMENT_TEMPLATE = "mentor_appointment.docx"
ISSUER = BUREAU_NAME


def nomination_context(nomination: MentorNomination) -> dict[str, Any]:
    """Every variable of the nomination form, as plain text."""
    form = NominationForm.model_validate(nomination.form)
    teacher = nomination.teacher
    return {
        "number": nomination.number,
        "team_label": TEAM_LABELS[nomination.team],
        "teacher_name": teacher.name,
        "kindergarten_name": nomination.kindergarten.name,
        "post": teacher.post,
        "level_label": LEVEL_LABELS[teacher.level],
        "professional_title": form.professional_title,
        "teaching_years": "" if form.teaching_years is None else str(form.teaching_years),
        "phone": form.phone,
        "qualifications_label": "、".join(QUALIFICATION_LABELS[Qualification(q)] for q in nomination.qualifications),
        "research_topics": form.research_topics,
        "achievements": form.achievements,
        "reasons": form.reasons,
        "generated_on": chinese_date(nomination.created_at.astimezone(BEIJING).date()),
    }


def render_nomination_form(
    *, session: Session, objects: ObjectStore, nomination: MentorNomination, actor: Viewer
) -> Document:
    """Render the nomination form and store it with the nomination."""
    session.refresh(nomination, ["teacher", "kindergarten"])
    content = render_docx(NOMINATION_TEMPLATE, nomination_context(nomination))
    return store_generated(
        session=session,
        objects=objects,
        owner_type="mentor_nomination",
        owner_id=nomination.id,
        kind="nomination_form",
        title=f"幼教导师团推荐表（{nomination.teacher.name}）",
        filename=f"{nomination.number}_导师推荐表.docx",
        content=content,
        created_by=str(actor.user_id),
    )


def appointment_context(mentor: Mentor) -> dict[str, Any]:
    """Every variable of the appointment letter, as plain text."""
    alliances = [a.alliance.name for a in mentor.current_assignments]
    return {
        "letter_no": f"青教导聘〔{mentor.number[:4]}〕{mentor.number[5:]}号",
        "teacher_name": mentor.teacher.name,
        "kindergarten_name": mentor.kindergarten.name,
        "team_label": TEAM_LABELS[mentor.team],
        "term_start": chinese_date(mentor.term_start),
        "term_end": chinese_date(mentor.term_end),
        "alliances_label": "、".join(alliances) if alliances else f"由{REVIEWER}另行安排",
        "issuer": ISSUER,
        "issued_on": chinese_date((mentor.appointed_at or utcnow()).astimezone(BEIJING).date()),
    }


def render_appointment_letter(*, session: Session, objects: ObjectStore, mentor: Mentor, actor: Viewer) -> Document:
    """Render the appointment letter (聘书) and store it with the mentor."""
    session.refresh(mentor, ["teacher", "kindergarten", "assignments"])
    content = render_docx(APPOINTMENT_TEMPLATE, appointment_context(mentor))
    return store_generated(
        session=session,
        objects=objects,
        owner_type="mentor",
        owner_id=mentor.id,
        kind="appointment_letter",
        title=f"幼教导师聘书（{mentor.teacher.name}）",
        filename=f"导师聘书_{mentor.number}_{mentor.teacher.name}.docx",
        content=content,
        created_by=str(actor.user_id),
    )
