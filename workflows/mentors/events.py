"""Moving nominations (appoint, decline) and mentors (yearly review) through their workflows."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from workflows import transitions
from workflows.access import Viewer
from workflows.errors import FieldError
from workflows.machine import Ctx, Hooks
from workflows.mentors.documents import render_appointment_letter
from workflows.mentors.machine import MENTOR_WORKFLOW, NOMINATION_WORKFLOW
from workflows.mentors.models import Mentor, MentorNomination, MentorReview
from workflows.mentors.schemas import NominationEventBody, ReviewEventBody
from workflows.mentors.service import get_mentor, get_nomination, start_assignment, today_cst
from workflows.mentors.vocabulary import TEAM_LABELS, ReviewDecision
from workflows.notifications import notify_users, users_of_kindergarten, users_with_role
from workflows.numbering import next_value
from workflows.registry.models import Alliance, Teacher
from workflows.roles import Role


def _alliances(
    session: Session, ids: list[uuid.UUID], field: str = "alliance_ids"
) -> tuple[list[Alliance], list[FieldError]]:
    found, problems = [], []
    for n, alliance_id in enumerate(dict.fromkeys(ids)):
        alliance = session.get(Alliance, alliance_id)
        if alliance is None or not alliance.active:
            problems.append(FieldError(f"{field}.{n}", "not_found", "所选联盟不存在或已停用"))
        else:
            found.append(alliance)
    return found, problems


def fire_nomination_event(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    nomination_id: uuid.UUID,
    event: str,
    body: NominationEventBody,
) -> MentorNomination:
    """Appoint (with the term and first alliances) or decline a nomination."""
    return transitions.fire_event(
        NOMINATIONS, session=session, viewer=viewer, id=nomination_id, event=event, version=body.version,
        comment=body.comment, body=body, objects=objects,
    )  # fmt: skip


def _validate_appoint(ctx: Ctx[MentorNomination]) -> list[FieldError]:
    session, nomination, body = ctx.session, ctx.record, ctx.body_as(NominationEventBody)
    problems = []
    if body.term_start is None:
        problems.append(FieldError("term_start", "required", "聘任时请填写聘期开始日期"))
    if body.term_end is None:
        problems.append(FieldError("term_end", "required", "聘任时请填写聘期结束日期"))
    if body.term_start and body.term_end and body.term_end <= body.term_start:
        problems.append(FieldError("term_end", "before_start", "聘期结束日期须晚于开始日期"))
    if session.scalar(select(Mentor.id).where(Mentor.teacher_id == nomination.teacher_id, Mentor.state == "active")):
        problems.append(FieldError("teacher_id", "already_mentor", "该教师已是在任导师"))
    alliances, wrong = _alliances(session, body.alliance_ids)
    ctx.keep("alliances", alliances)
    ctx.data.update(
        term_start=str(body.term_start), term_end=str(body.term_end), alliance_ids=[str(a.id) for a in alliances]
    )
    return problems + wrong


def _settle_nomination(ctx: Ctx[MentorNomination]) -> None:
    nomination = ctx.record
    nomination.last_comment = ctx.comment.strip()
    if ctx.event != "review":
        nomination.decided_at = utcnow()


def _teacher(ctx: Ctx[MentorNomination]) -> Teacher:
    teacher = ctx.session.get(Teacher, ctx.record.teacher_id)
    if teacher is None:
        raise RuntimeError("a nomination's teacher row is gone")
    return teacher


def _on_review(ctx: Ctx[MentorNomination]) -> None:
    session, nomination, teacher = ctx.session, ctx.record, _teacher(ctx)
    notify_users(
        session,
        users_with_role(session, Role.OFFICER),
        kind="mentor.reviewed",
        title=f"导师推荐待聘任：{teacher.name}（{TEAM_LABELS[nomination.team]}）",
        body=f"教研室审核意见：{nomination.last_comment}",
        link=f"/mentors/nominations/{nomination.id}",
    )


def _on_appoint(ctx: Ctx[MentorNomination]) -> None:
    body, teacher = ctx.body_as(NominationEventBody), _teacher(ctx)
    if not (body.term_start and body.term_end):
        raise RuntimeError("appointing runs after its validator checked the term")
    chosen = [a for a in ctx.value("alliances", list) or [] if isinstance(a, Alliance)]
    _appoint(ctx.session, ctx.viewer, ctx.need_objects(), ctx.record, teacher, body.term_start, body.term_end, chosen)
    _tell_kindergarten(ctx, f"{teacher.name}已聘任为{TEAM_LABELS[ctx.record.team]}导师")


def _on_decline(ctx: Ctx[MentorNomination]) -> None:
    _tell_kindergarten(ctx, f"{_teacher(ctx).name}的导师推荐未获聘任")


def _tell_kindergarten(ctx: Ctx[MentorNomination], title: str) -> None:
    session, nomination = ctx.session, ctx.record
    notify_users(
        session,
        users_of_kindergarten(session, nomination.kindergarten_id),
        kind=f"mentor.{nomination.state}",
        title=title,
        body=nomination.last_comment,
        link=f"/mentors/nominations/{nomination.id}",
    )


def _load_nomination(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> MentorNomination:
    return get_nomination(session=session, viewer=viewer, nomination_id=id, lock=lock)


NOMINATIONS = transitions.register(
    transitions.Area(
        workflow=NOMINATION_WORKFLOW.with_hooks(
            {
                "review": Hooks[MentorNomination](then=_on_review),
                "appoint": Hooks[MentorNomination](validate=_validate_appoint, then=_on_appoint),
                "decline": Hooks[MentorNomination](then=_on_decline),
            }
        ),
        load=_load_nomination,
        moved=_settle_nomination,
    )
)


def _appoint(
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    nomination: MentorNomination,
    teacher: Teacher,
    term_start: date,
    term_end: date,
    alliances: list[Alliance],
) -> Mentor:
    year = term_start.year
    mentor = Mentor(
        number=f"{year}-{next_value(session, f'mentor:{year}'):03d}",
        nomination_id=nomination.id,
        teacher_id=teacher.id,
        kindergarten_id=teacher.kindergarten_id,
        team=nomination.team,
        term_start=term_start,
        term_end=term_end,
        appointed_at=utcnow(),
    )
    session.add(mentor)
    session.flush()
    teacher.mentor_team = nomination.team
    for alliance in alliances:
        start_assignment(session, viewer, mentor, alliance.id, max(term_start, today_cst()))
    render_appointment_letter(session=session, objects=objects, mentor=mentor, actor=viewer)
    return mentor


def mentor_of(session: Session, nomination: MentorNomination) -> Mentor | None:
    return session.scalar(select(Mentor).where(Mentor.nomination_id == nomination.id))


def fire_review_event(
    *, session: Session, viewer: Viewer, mentor_id: uuid.UUID, event: str, body: ReviewEventBody
) -> Mentor:
    """Record the yearly review decision (keep, rotate, retire) and apply what it changes."""
    return transitions.fire_event(
        MENTORS, session=session, viewer=viewer, id=mentor_id, event=event, version=body.version,
        comment=body.comment, body=body,
    )  # fmt: skip


def _review_year(ctx: Ctx[Mentor]) -> int:
    return ctx.body_as(ReviewEventBody).year or ctx.today.year


def _before_review(ctx: Ctx[Mentor]) -> None:
    """What the review changes from, and the audit entry's data."""
    mentor, body = ctx.record, ctx.body_as(ReviewEventBody)
    ctx.keep("team_before", mentor.team)
    ctx.keep("alliances_before", sorted(str(a.alliance_id) for a in mentor.current_assignments))
    ctx.data.update(
        year=_review_year(ctx),
        team=body.team,
        alliance_ids=[str(a) for a in body.alliance_ids] if body.alliance_ids is not None else None,
        term_end=str(body.term_end) if body.term_end else None,
    )


def _validate_review(ctx: Ctx[Mentor]) -> list[FieldError]:
    session, mentor, body, event, year = (
        ctx.session,
        ctx.record,
        ctx.body_as(ReviewEventBody),
        ctx.event,
        _review_year(ctx),
    )
    problems = []
    if any(r.year == year for r in mentor.reviews):
        problems.append(FieldError("year", "duplicate", f"该导师 {year} 年度已评议"))
    if body.term_end is not None and body.term_end <= mentor.term_start:
        problems.append(FieldError("term_end", "before_start", "聘期结束日期须晚于开始日期"))
    if event == "rotate":
        if body.alliance_ids is None and body.team is None:
            problems.append(FieldError("alliance_ids", "required", "轮换时请选择新的指导联盟或导师团"))
        alliances, wrong = _alliances(session, body.alliance_ids or [])
        ctx.keep("alliances", alliances)
        problems += wrong
    return problems


def _on_review_decision(ctx: Ctx[Mentor]) -> None:
    session, viewer, mentor, body, event, today = (
        ctx.session, ctx.viewer, ctx.record, ctx.body_as(ReviewEventBody), ctx.event, ctx.today,
    )  # fmt: skip
    year = _review_year(ctx)
    chosen = [a for a in ctx.value("alliances", list) or [] if isinstance(a, Alliance)]
    teacher = session.get(Teacher, mentor.teacher_id)
    if teacher is None or ctx.moved is None:
        raise RuntimeError("a mentor's review needs its teacher and the move")
    if body.term_end is not None and event != ReviewDecision.RETIRE:
        mentor.term_end = body.term_end
    if event == ReviewDecision.ROTATE:
        if body.team is not None:
            mentor.team = teacher.mentor_team = body.team
        if body.alliance_ids is not None:
            wanted = {a.id for a in chosen}
            for current in mentor.current_assignments:
                if current.alliance_id not in wanted:
                    current.ended_on = today
            kept = {a.alliance_id for a in mentor.current_assignments}
            for alliance in chosen:
                if alliance.id not in kept:
                    start_assignment(session, viewer, mentor, alliance.id, today)
    elif event == ReviewDecision.RETIRE:
        for current in mentor.current_assignments:
            current.ended_on = today
        mentor.retired_at = utcnow()
        teacher.mentor_team = None
    mentor.last_review_year = year
    review = MentorReview(
        mentor_id=mentor.id,
        year=year,
        decision=event,
        comment=body.comment.strip(),
        team_before=ctx.values["team_before"],
        team_after=None if event == ReviewDecision.RETIRE else mentor.team,
        alliances_before=ctx.value("alliances_before", list),
        alliances_after=sorted(str(a.alliance_id) for a in mentor.current_assignments),
        audit_seq=ctx.moved.entry.seq,
        decided_by=viewer.user_id,
        decider_name=viewer.display_name,
    )
    session.add(review)
    mentor.reviews.append(review)


def _load_mentor(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Mentor:
    return get_mentor(session=session, viewer=viewer, mentor_id=id, lock=lock)


_REVIEW = Hooks[Mentor](validate=_validate_review, then=_on_review_decision)

MENTORS = transitions.register(
    transitions.Area(
        workflow=MENTOR_WORKFLOW.with_hooks({"keep": _REVIEW, "rotate": _REVIEW, "retire": _REVIEW}),
        load=_load_mentor,
        before=_before_review,
        today=today_cst,
    )
)
