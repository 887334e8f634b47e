"""Each alliance's semester plan (联盟互动计划) and summary (教研经验小结): written or uploaded, on time or late."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.activities.documents import render_semester_work
from workflows.activities.models import Semester, SemesterWork
from workflows.activities.semesters import get_semester
from workflows.activities.upload_checks import DOCX, EXTENSIONS, sniff_material
from workflows.activities.vocabulary import WORK_LABELS, WorkKind, WorkStatus
from workflows.clock import BEIJING
from workflows.documents import service as documents
from workflows.documents.models import Document
from workflows.errors import Forbidden, NotFound, StaleVersion
from workflows.registry.models import Alliance
from workflows.roles import Role
from workflows.uploads import PDF, safe_filename

UPLOAD_TYPES = frozenset({DOCX, PDF})


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    work = session.get(SemesterWork, owner_id)
    if work is None or not viewer.may_see_alliance_private(work.alliance_id):
        raise NotFound("文件不存在")


documents.register_owner("semester_work", _document_owner_check)


def due_on(semester: Semester, kind: WorkKind) -> date:
    return semester.plan_due_on if kind == WorkKind.PLAN else semester.summary_due_on


@dataclass(frozen=True)
class Standing:
    """Whether a plan or summary is in, and whether it came (or is) late."""

    status: WorkStatus
    overdue: bool
    due_on: date
    submitted_at: datetime | None


def standing(semester: Semester, kind: WorkKind, work: SemesterWork | None, *, today: date) -> Standing:
    """missing / on_time / late, judged on the first submission; ``overdue``: missing past its due date."""
    due = due_on(semester, kind)
    first = work.first_submitted_at if work is not None else None
    if first is None:
        return Standing(WorkStatus.MISSING, today > due, due, None)
    late = first.astimezone(BEIJING).date() > due
    return Standing(WorkStatus.LATE if late else WorkStatus.ON_TIME, False, due, work.submitted_at if work else None)


def _alliance(session: Session, viewer: Viewer, alliance_id: uuid.UUID) -> Alliance:
    alliance = session.get(Alliance, alliance_id)
    if alliance is None or not viewer.may_see_alliance_private(alliance_id):
        raise NotFound("联盟不存在")
    return alliance


def find_work(
    session: Session, *, alliance_id: uuid.UUID, semester_id: uuid.UUID, kind: WorkKind
) -> SemesterWork | None:
    stmt = select(SemesterWork).where(
        SemesterWork.alliance_id == alliance_id,
        SemesterWork.semester_id == semester_id,
        SemesterWork.kind == kind.value,
    )
    return session.scalar(stmt)


def get_work(
    *, session: Session, viewer: Viewer, semester_code: str, alliance_id: uuid.UUID, kind: WorkKind
) -> tuple[Semester, Alliance, SemesterWork | None]:
    """The semester, the alliance and its plan or summary (None while nothing was written)."""
    alliance = _alliance(session, viewer, alliance_id)
    semester = get_semester(session=session, code=semester_code)
    return semester, alliance, find_work(session, alliance_id=alliance.id, semester_id=semester.id, kind=kind)


def current_document(session: Session, work: SemesterWork | None) -> Document | None:
    if work is None or work.document_id is None:
        return None
    return session.get(Document, work.document_id)


def _writable(
    session: Session, viewer: Viewer, semester_code: str, alliance_id: uuid.UUID, kind: WorkKind, version: int | None
) -> tuple[Semester, Alliance, SemesterWork]:
    semester, alliance, work = get_work(
        session=session, viewer=viewer, semester_code=semester_code, alliance_id=alliance_id, kind=kind
    )
    if viewer.role != Role.LEAD or viewer.alliance_id != alliance.id:
        raise Forbidden(f"只有本联盟龙头园可以填报{WORK_LABELS[kind]}")
    if work is None:
        if version not in (None, 0):
            raise StaleVersion()
        work = SemesterWork(alliance_id=alliance.id, semester_id=semester.id, kind=kind.value)
        session.add(work)
    elif version is not None and version != work.version:
        raise StaleVersion()
    return semester, alliance, work


def _submitted(session: Session, viewer: Viewer, work: SemesterWork, document: Document, source: str) -> None:
    now = utcnow()
    work.source = source
    work.document_id = document.id
    work.first_submitted_at = work.first_submitted_at or now
    work.submitted_at = now
    work.submitted_by = viewer.user_id
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None
    audit.append(
        session, entity_type="semester_work", entity_id=work.id, event=f"{work.kind}_{source}", actor=viewer.actor,
        data={"document_id": str(document.id), "sha256": document.sha256},
    )  # fmt: skip


def save_form(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    semester_code: str,
    alliance_id: uuid.UUID,
    kind: WorkKind,
    form: dict[str, Any],
    version: int | None = None,
) -> SemesterWork:
    """Save the plan or summary written in the form and render it to .docx (a new version when changed)."""
    _, alliance, work = _writable(session, viewer, semester_code, alliance_id, kind, version)
    work.form = form
    work.submitted_at = utcnow()
    session.flush()
    document = render_semester_work(session=session, objects=objects, work=work, alliance=alliance, actor=viewer)
    _submitted(session, viewer, work, document, "form")
    return work


def upload(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    settings: Settings,
    semester_code: str,
    alliance_id: uuid.UUID,
    kind: WorkKind,
    stream: BinaryIO,
    filename: str,
) -> SemesterWork:
    """Hand in the plan or summary as a .docx or PDF written elsewhere."""
    semester, alliance, work = _writable(session, viewer, semester_code, alliance_id, kind, None)
    mime = sniff_material(stream, allowed=UPLOAD_TYPES)
    name = safe_filename(filename, default=WORK_LABELS[kind], extension=EXTENSIONS[mime])
    stored = objects.put(stream, filename=name, content_type=mime, max_size=settings.max_upload_bytes)
    session.flush()
    owner_kind = f"{kind.value}_upload"
    document = Document(
        kind=owner_kind,
        owner_type="semester_work",
        owner_id=work.id,
        version_no=documents.next_version_no(session, owner_type="semester_work", owner_id=work.id, kind=owner_kind),
        title=f"{semester.name}{WORK_LABELS[kind]}（{alliance.name}，上传）",
        filename=name,
        content_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        object_key=stored.key,
        created_by=str(viewer.user_id),
    )
    session.add(document)
    session.flush()
    _submitted(session, viewer, work, document, "upload")
    return work


def works_of_semester(session: Session, semester: Semester) -> dict[tuple[uuid.UUID, str], SemesterWork]:
    """Every plan and summary of the semester by (alliance, kind)."""
    rows = session.scalars(select(SemesterWork).where(SemesterWork.semester_id == semester.id))
    return {(w.alliance_id, w.kind): w for w in rows}
