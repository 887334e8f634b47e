"""动态管理: after publication, who is put up for review, and the officer's recorded decision.

An alliance graded 不合格 is flagged, and so is every kindergarten of the alliance none of whose
teachers attended any activity the alliance held that year (only when it held at least one). The
officer decides keep (保留), warn (约谈提醒) or remove (调整出联盟); the decision is recorded and
audited — carrying out a removal is the registry's business.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.errors import Forbidden, NotFound, StaleVersion, TransitionNotAllowed
from workflows.evaluations.models import Evaluation, ReviewFlag
from workflows.evaluations.records import YearRecord
from workflows.evaluations.scoring import FAIL
from workflows.notifications import notify_users, users_with_role

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


def decide(
    *, session: Session, viewer: Viewer, flag_id: uuid.UUID, version: int, decision: str, comment: str
) -> ReviewFlag:
    """Record the officer's decision on a flag, once."""
    flag = get_flag(session=session, viewer=viewer, flag_id=flag_id, lock=True)
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以作出动态管理决定")
    if version != flag.version:
        raise StaleVersion()
    if flag.decision is not None:
        raise TransitionNotAllowed(f"已于 {flag.decided_at:%Y-%m-%d} 作出决定：{DECISION_LABELS[flag.decision]}")
    flag.decision, flag.decision_comment = decision, comment.strip()
    flag.decided_by, flag.decided_at = viewer.display_name, utcnow()
    session.flush()
    audit.append(
        session, entity_type="review_flag", entity_id=flag.id, event="decide", actor=viewer.actor,
        from_state="open", to_state="decided", comment=flag.decision_comment,
        data={"decision": decision, "reason": flag.reason, "year": flag.year},
    )  # fmt: skip
    return flag
