"""及交流工作 (经验交流): the section publishes an alliance's semester summary (教研经验小结) to every alliance;
the other alliances' accounts read and download the version published; it can be unpublished with a reason.

Only the officer publishes and unpublishes; a summary not handed in yet cannot be published. What is
published is the document version of that moment: a later revision by the alliance is not published
until the officer publishes again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.models import SemesterWork
from workflows.activities.semester_work import get_work
from workflows.activities.vocabulary import WorkKind
from workflows.documents.models import Document
from workflows.errors import Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.notifications import notify_users, users_with_role
from workflows.roles import Role

SHARED_KIND = "semester_work.shared"


class Shared(BaseModel):
    """A published summary as the other alliances see it."""

    work_id: uuid.UUID
    alliance_name: str
    semester_code: str
    semester_name: str
    title: str
    filename: str
    size: int
    shared_at: datetime
    shared_by_name: str


def may_read(viewer: Viewer) -> bool:
    """Every alliance's kindergartens and the bureau."""
    return viewer.is_bureau or viewer.alliance_id is not None


def _officer(viewer: Viewer) -> None:
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以发布或撤下经验交流")


def _summary(session: Session, viewer: Viewer, semester_code: str, alliance_id: uuid.UUID) -> SemesterWork:
    semester, alliance, work = get_work(
        session=session, viewer=viewer, semester_code=semester_code, alliance_id=alliance_id, kind=WorkKind.SUMMARY
    )
    if work is None or work.document_id is None:
        raise TransitionNotAllowed(f"{alliance.name}{semester.name}教研经验小结尚未提交，不能发布")
    return work


def is_shared(work: SemesterWork | None) -> bool:
    return work is not None and work.shared_at is not None and work.unshared_at is None


def publish(*, session: Session, viewer: Viewer, semester_code: str, alliance_id: uuid.UUID) -> SemesterWork:
    """Publish the summary as it stands to every alliance, and tell the other alliances' leads."""
    work = _summary(session, viewer, semester_code, alliance_id)  # 404 first for who may not see it
    _officer(viewer)
    if is_shared(work) and work.shared_document_id == work.document_id:
        raise TransitionNotAllowed("该小结已发布")
    work.shared_document_id, work.shared_at, work.shared_by_name = work.document_id, utcnow(), viewer.display_name
    work.unshared_at, work.unshared_by_name, work.unshare_reason = None, "", ""
    session.flush()
    audit.append(
        session, entity_type="semester_work", entity_id=work.id, event="summary_shared", actor=viewer.actor,
        data={"document_id": str(work.document_id)},
    )  # fmt: skip
    alliance, semester = work.alliance, work.semester
    leads = [
        u for u in users_with_role(session, Role.LEAD) if alliance.lead is None or u.kindergarten_id != alliance.lead.id
    ]
    notify_users(
        session, leads, kind=SHARED_KIND, title=f"经验交流：{alliance.name}{semester.name}教研经验小结",
        body="成幼科已向各联盟发布，供交流学习。", link="/exchange",
    )  # fmt: skip
    return work


def unpublish(
    *, session: Session, viewer: Viewer, semester_code: str, alliance_id: uuid.UUID, reason: str
) -> SemesterWork:
    work = _summary(session, viewer, semester_code, alliance_id)  # 404 first for who may not see it
    _officer(viewer)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single("reason", "required", "请填写撤下原因")
    if not is_shared(work):
        raise TransitionNotAllowed("该小结未发布")
    work.unshared_at, work.unshared_by_name, work.unshare_reason = utcnow(), viewer.display_name, reason[:2000]
    session.flush()
    audit.append(
        session, entity_type="semester_work", entity_id=work.id, event="summary_unshared", actor=viewer.actor,
        data={"reason": work.unshare_reason},
    )  # fmt: skip
    return work


def list_shared(*, session: Session, viewer: Viewer) -> list[Shared]:
    """The summaries published now, newest first."""
    if not may_read(viewer):
        raise NotFound("页面不存在")
    stmt = (
        select(SemesterWork, Document)
        .join(Document, Document.id == SemesterWork.shared_document_id)
        .where(SemesterWork.shared_at.is_not(None), SemesterWork.unshared_at.is_(None))
        .options(selectinload(SemesterWork.alliance), selectinload(SemesterWork.semester))
        .order_by(SemesterWork.shared_at.desc())
    )
    return [
        Shared(
            work_id=w.id,
            alliance_name=w.alliance.name,
            semester_code=w.semester.code,
            semester_name=w.semester.name,
            title=d.title,
            filename=d.filename,
            size=d.size,
            shared_at=w.shared_at,
            shared_by_name=w.shared_by_name,
        )  # fmt: skip
        for w, d in session.execute(stmt)
    ]


def shared_document(*, session: Session, viewer: Viewer, work_id: uuid.UUID) -> Document:
    """The published version of a summary, for any alliance's account; NotFound once unpublished."""
    work = session.get(SemesterWork, work_id)
    if not may_read(viewer) or work is None or not is_shared(work) or work.shared_document_id is None:
        raise NotFound("该小结未发布")
    document = session.get(Document, work.shared_document_id)
    if document is None:
        raise NotFound("该小结未发布")
    return document
