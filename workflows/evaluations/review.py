"""动态管理: after publication, who is put up for review, and the officer's recorded decision.

An alliance graded 不合格 is flagged, and so is every kindergarten of the alliance none of whose
teachers attended any activity the alliance held that year (only when it held at least one). The
officer decides keep (保留), warn (约谈提醒) or remove (调整出联盟); the decision is recorded and
audited, and a removal is carried out in the same transaction: the member's agreements are terminated
through the agreement workflow and its membership ends (the rows are kept, with their history). Only a
member kindergarten (丙方) can be removed: an alliance-wide flag, or the lead or pillar, is decided by
keep or warn — changing those is a reshuffle of the arrangement table, not a removal.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.errors import FieldError, Forbidden, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.evaluations.models import Evaluation, ReviewFlag
from workflows.evaluations.records import YearRecord
from workflows.evaluations.scoring import FAIL
from workflows.notifications import notify_users, users_with_role
from workflows.registry.models import AllianceRole, Membership
from workflows.roles import Role
from workflows.withdrawals.service import end_membership

FAILED_GRADE, NEVER_ATTENDED = "failed_grade", "never_attended"
REASON_LABELS = {FAILED_GRADE: "年度考核不合格", NEVER_ATTENDED: "全年未参加联盟活动"}
DECISION_LABELS = {"keep": "保留", "warn": "约谈提醒", "remove": "调整出联盟"}


def flag_after_publication(*, session: Session, evaluation: Evaluation, record: YearRecord) -> list[ReviewFlag]:
    """Create the review flags a published evaluation calls for, and tell the officers."""
    flags = []
    if evaluation.grade == FAIL:
        flags.append(ReviewFlag(reason=FAILED_GRADE, kindergarten_id=None,
                                detail=f"{evaluation.year} 年度考核 {evaluation.total:g} 分，等次不合格"))  # fmt: skip
    held = len(record.held)
    if held:
        flags += [
            ReviewFlag(
                reason=NEVER_ATTENDED,
                kindergarten_id=m.kindergarten_id,
                detail=f"{m.name}：{evaluation.year} 年联盟已举行的 {held} 次活动均无教师出席",
            )  # fmt: skip
            for m in record.members
            if m.attended == 0
        ]
    for flag in flags:
        flag.evaluation_id, flag.alliance_id, flag.year = evaluation.id, evaluation.alliance_id, evaluation.year
        session.add(flag)
    if flags:
        notify_users(
            session,
            users_with_role(session, Role.OFFICER),
            kind="evaluation.review_flags",
            title=f"{evaluation.alliance.name}：{len(flags)} 项动态管理待处理",
            body="；".join(f.detail for f in flags)[:500],
            link="/review-flags",
        )
    session.flush()
    return flags


def list_flags(
    *, session: Session, viewer: Viewer, year: int | None = None, open_only: bool = False
) -> list[ReviewFlag]:
    """Review flags, newest year first (the bureau only)."""
    if not viewer.is_bureau:
        return []
    stmt = select(ReviewFlag).options(selectinload(ReviewFlag.alliance), selectinload(ReviewFlag.kindergarten))
    if year is not None:
        stmt = stmt.where(ReviewFlag.year == year)
    if open_only:
        stmt = stmt.where(ReviewFlag.decision.is_(None))
    return list(session.scalars(stmt.order_by(ReviewFlag.year.desc(), ReviewFlag.created_at)))


def get_flag(*, session: Session, viewer: Viewer, flag_id: uuid.UUID, lock: bool = False) -> ReviewFlag:
    """One review flag (the bureau only); NotFound otherwise."""
    stmt = select(ReviewFlag).where(ReviewFlag.id == flag_id)
    flag = session.scalar(stmt.with_for_update() if lock else stmt)
    if flag is None or not viewer.is_bureau:
        raise NotFound("动态管理记录不存在")
    return flag


def _membership_to_end(session: Session, flag: ReviewFlag) -> Membership:
    """The member's current place in the flagged alliance; why not, in words, if it cannot be removed."""
    if flag.kindergarten_id is None:
        raise ValidationFailed([FieldError("decision", "not_a_member",
                                           "这是对整个联盟的动态管理，不能「调整出联盟」；请选择保留或约谈提醒")])  # fmt: skip
    membership = session.scalar(
        select(Membership).where(
            Membership.alliance_id == flag.alliance_id,
            Membership.kindergarten_id == flag.kindergarten_id,
            Membership.ended_on.is_(None),
        )
    )
    if membership is None:
        raise TransitionNotAllowed("该园已不在本联盟，无需调整；请选择保留或约谈提醒记录结论")
    if membership.role != AllianceRole.MEMBER:
        raise ValidationFailed([FieldError("decision", "not_a_member",
                                           "龙头园、支柱园不能调整出联盟；请通过联盟安排表调整")])  # fmt: skip
    return membership


def ended_membership(*, session: Session, flag: ReviewFlag) -> Membership | None:
    """The membership a removal ended (kept, with its end date), for showing what was carried out."""
    if flag.decision != "remove" or flag.kindergarten_id is None:
        return None
    return session.scalar(
        select(Membership)
        .where(Membership.alliance_id == flag.alliance_id, Membership.kindergarten_id == flag.kindergarten_id)
        .where(Membership.ended_on.is_not(None))
        .order_by(Membership.ended_on.desc())
        .limit(1)
    )


def decide(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    flag_id: uuid.UUID,
    version: int,
    decision: str,
    comment: str,
    today: date,
) -> ReviewFlag:
    """Record the officer's decision on a flag, once; a removal ends the membership and its agreements."""
    flag = get_flag(session=session, viewer=viewer, flag_id=flag_id, lock=True)
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以作出动态管理决定")
    if version != flag.version:
        raise StaleVersion()
    if flag.decision is not None:
        raise TransitionNotAllowed(f"已于 {flag.decided_at:%Y-%m-%d} 作出决定：{DECISION_LABELS[flag.decision]}")
    if decision not in DECISION_LABELS:
        raise ValidationFailed([FieldError("decision", "invalid", "请选择保留、约谈提醒或调整出联盟")])
    if not comment.strip():
        raise ValidationFailed([FieldError("comment", "required", "请写明决定的理由")])
    membership = _membership_to_end(session, flag) if decision == "remove" else None
    flag.decision, flag.decision_comment = decision, comment.strip()
    flag.decided_by, flag.decided_at = viewer.display_name, utcnow()
    session.flush()
    if membership is not None:
        reason = f"动态管理：{flag.year} 年度{REASON_LABELS.get(flag.reason, flag.reason)}，成幼科决定调整出联盟。{flag.decision_comment}"
        end_membership(session=session, viewer=viewer, settings=settings, objects=objects, membership=membership,
                       comment=reason, today=today)  # fmt: skip
    audit.append(
        session, entity_type="review_flag", entity_id=flag.id, event="decide", actor=viewer.actor,
        from_state="open", to_state="decided", comment=flag.decision_comment,
        data={"decision": decision, "reason": flag.reason, "year": flag.year,
              "membership_ended": str(membership.id) if membership is not None else None},
    )  # fmt: skip
    return flag
