"""Issuing certificates to the presenters of held 公开课 and 讲座, finding and verifying them.

The alliance (its lead) issues them; the section (成幼科) countersigns them in a batch job that makes
the .docx (and PDF) of each; only a countersigned certificate verifies.

Who gets one: every presenter (主讲/执教) of an activity of format 公开课 or 讲座 that took place
(``held`` or ``archived``) in the year's semesters (codes ``<year>-…``), unless recorded on leave
or absent. Issuing again issues only the certificates not yet issued.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.runtime import Runtime
from workflows import audit, jobs, outbox
from workflows.access import Viewer, viewer_for
from workflows.accounts.models import User
from workflows.activities.models import Activity, Participant, Semester
from workflows.activities.vocabulary import Attendance
from workflows.certificates.documents import (
    KIND_LABELS,
    KIND_OF_FORMAT,
    chinese_date,
    convert_to_pdf,
    grouped,
    render_certificate,
)
from workflows.certificates.models import Certificate
from workflows.documents import service as documents
from workflows.documents.models import Document
from workflows.errors import Forbidden, NotFound, TransitionNotAllowed
from workflows.evaluations.records import TOOK_PLACE, china_day
from workflows.notifications import notify_users, users_of_kindergarten, users_with_role
from workflows.numbering import next_value
from workflows.registry.models import Alliance
from workflows.roles import Role
from workflows.verification import Verified, normalise_code, register_verifier

PDF = "application/pdf"
PENDING, COUNTERSIGNED = "pending", "countersigned"
JOB_KIND = TASK = "certificates.countersign"
# Base32 has no 0, 1 or 8; someone typing a code read off paper may type them for O, I and B.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_code() -> str:
    """12 random base32 characters (60 bits)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()[:12]


def get_visible(*, session: Session, viewer: Viewer, certificate_id: uuid.UUID) -> Certificate:
    """A certificate the viewer may see (the bureau, the alliance's kindergartens); NotFound otherwise."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or not viewer.may_see_alliance_private(certificate.alliance_id):
        raise NotFound("证书不存在")
    return certificate


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, certificate_id=owner_id)


documents.register_owner("certificate", _document_owner_check)


def list_visible(
    *,
    session: Session,
    viewer: Viewer,
    year: int | None = None,
    activity_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[Certificate]:
    """The certificates the viewer may see, by number."""
    stmt = select(Certificate)
    if state:
        stmt = stmt.where(Certificate.state == state)
    if not viewer.is_bureau:
        if viewer.alliance_id is None:
            return []
        stmt = stmt.where(Certificate.alliance_id == viewer.alliance_id)
    if year is not None:
        stmt = stmt.where(Certificate.year == year)
    if activity_id is not None:
        stmt = stmt.where(Certificate.activity_id == activity_id)
    return list(session.scalars(stmt.order_by(Certificate.number)))


def _eligible(session: Session, year: int, activity_id: uuid.UUID | None) -> list[Activity]:
    stmt = (
        select(Activity)
        .join(Semester, Activity.semester_id == Semester.id)
        .where(
            Semester.code.like(f"{year}-%"),
            Activity.state.in_(TOOK_PLACE),
            Activity.format.in_(list(KIND_OF_FORMAT)),
        )
        .options(selectinload(Activity.participants), selectinload(Activity.alliance))
        .order_by(Activity.starts_at, Activity.number)
    )
    if activity_id is not None:
        stmt = stmt.where(Activity.id == activity_id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Batch:
    issued: list[Certificate]
    already_issued: int


def issue_batch(*, session: Session, viewer: Viewer, year: int, activity_id: uuid.UUID | None = None) -> Batch:
    """The alliance (its lead) issues the certificates of its presenters not yet issued: numbered and
    coded, waiting for the section to countersign (the files are made then)."""
    if viewer.role != Role.LEAD or viewer.alliance_id is None:
        raise Forbidden("证书由联盟龙头园颁发")
    done = {(c.activity_id, c.teacher_id) for c in session.scalars(select(Certificate).where(Certificate.year == year))}
    issued: list[Certificate] = []
    skipped = 0
    for activity in _eligible(session, year, activity_id):
        if activity.alliance_id != viewer.alliance_id:
            continue
        for p in activity.participants:
            if p.role != "presenter" or p.attendance in (Attendance.LEAVE, Attendance.ABSENT):
                continue
            if (activity.id, p.teacher_id) in done:
                skipped += 1
                continue
            issued.append(_issue(session, viewer, activity, p, year))
    session.flush()
    if issued:
        notify_users(
            session,
            users_with_role(session, Role.OFFICER),
            kind="certificate.issued",
            title=f"{issued[0].alliance_name}颁发了 {len(issued)} 张证书，待会签",
            body="、".join(c.number for c in issued[:5]) + ("等" if len(issued) > 5 else ""),
            link="/certificates?state=pending",
        )
    return Batch(issued=issued, already_issued=skipped)


def pending(session: Session, *, alliance_id: uuid.UUID | None = None) -> list[Certificate]:
    """Certificates issued by an alliance and not countersigned yet, by number."""
    stmt = select(Certificate).where(Certificate.state == PENDING)
    if alliance_id is not None:
        stmt = stmt.where(Certificate.alliance_id == alliance_id)
    return list(session.scalars(stmt.order_by(Certificate.number)))


def start_countersign(
    *, session: Session, viewer: Viewer, alliance_id: uuid.UUID | None = None, pdf: bool = True
) -> jobs.Job:
    """Queue the job that countersigns the pending certificates (成幼科) and makes their .docx and PDF."""
    viewer.require_role(Role.OFFICER)
    rows = pending(session, alliance_id=alliance_id)
    if not rows:
        raise TransitionNotAllowed("没有待会签的证书")
    items = [{"id": str(c.id), "label": f"{c.number} {c.teacher_name}"} for c in rows]
    params = {"alliance_id": str(alliance_id) if alliance_id else "", "pdf": pdf}
    job = jobs.create_job(session=session, kind=JOB_KIND, items=items, created_by=viewer.user_id, params=params)
    outbox.record(session, TASK, job_id=str(job.id))
    return job


def run_countersign(*, runtime: Runtime, job_id: uuid.UUID) -> None:
    """Countersign and render each certificate of the job in a transaction of its own."""
    with runtime.db.session() as session:
        job = session.get(jobs.Job, job_id)
        pdf = bool(job and job.params.get("pdf"))

    def handle(runtime: Runtime, creator: uuid.UUID, item: dict[str, Any]) -> None:
        with runtime.db.session() as session:
            user = session.get(User, creator)
            if user is None or not user.is_active:
                raise NotFound("发起任务的账号已停用")
            countersign_one(session=session, viewer=viewer_for(session, user), objects=runtime.objects,
                            certificate_id=uuid.UUID(str(item["id"])), base_url=runtime.settings.base_url, pdf=pdf)  # fmt: skip

    jobs.run_items(runtime=runtime, job_id=job_id, handle=handle)


def countersign_one(
    *, session: Session, viewer: Viewer, objects: ObjectStore, certificate_id: uuid.UUID, base_url: str, pdf: bool
) -> Certificate:
    """Countersign one certificate: its .docx (and PDF where LibreOffice is) are made and it verifies."""
    viewer.require_role(Role.OFFICER)
    certificate = session.get(Certificate, certificate_id, with_for_update=True)
    if certificate is None:
        raise NotFound("证书不存在")
    if certificate.state != PENDING:
        return certificate  # a redelivered task: already done
    certificate.state = COUNTERSIGNED
    certificate.countersigned_by = viewer.display_name
    certificate.countersigned_at = utcnow()
    content = render_certificate(certificate, base_url=base_url)
    docx = _store(session, objects, certificate, content, kind="certificate", extension="docx")
    certificate.docx_document_id = docx.id
    if pdf:
        converted = convert_to_pdf({certificate.number: content}).get(certificate.number)
        if converted is not None:
            certificate.pdf_document_id = _store(
                session, objects, certificate, converted, kind="certificate_pdf", extension="pdf", content_type=PDF
            ).id
    session.flush()
    audit.append(
        session, entity_type="certificate", entity_id=certificate.id, event="countersign", actor=viewer.actor,
        from_state=PENDING, to_state=COUNTERSIGNED, data={"number": certificate.number, "sha256": docx.sha256},
    )  # fmt: skip
    notify_users(
        session,
        _lead_users(session, certificate.alliance_id),
        kind="certificate.countersigned",
        title=f"证书 {certificate.number}（{certificate.teacher_name}）已会签",
        body=certificate.topic,
        link=f"/certificates/{certificate.id}",
    )
    return certificate


def _lead_users(session: Session, alliance_id: uuid.UUID) -> list[User]:
    alliance = session.get(Alliance, alliance_id)
    lead = alliance.lead if alliance is not None else None
    return [] if lead is None else users_of_kindergarten(session, lead.id)


def _store(
    session: Session,
    objects: ObjectStore,
    certificate: Certificate,
    content: bytes,
    *,
    kind: str,
    extension: str,
    content_type: str = documents.DOCX,
) -> Document:
    return documents.store_generated(
        session=session,
        objects=objects,
        owner_type="certificate",
        owner_id=certificate.id,
        kind=kind,
        title=f"{KIND_LABELS[certificate.kind]} {certificate.number}",
        filename=f"{certificate.number}_{KIND_LABELS[certificate.kind]}_{certificate.teacher_name}.{extension}",
        content=content,
        content_type=content_type,
        created_by=certificate.issued_by,
    )


def _issue(session: Session, viewer: Viewer, activity: Activity, participant: Participant, year: int) -> Certificate:
    kind = KIND_OF_FORMAT[activity.format]
    teacher, kindergarten = participant.teacher, participant.kindergarten
    if teacher is None or kindergarten is None:
        raise RuntimeError("a presenter is a teacher of a member kindergarten")
    certificate = Certificate(
        id=uuid.uuid4(),
        number=f"ZS{year}-{next_value(session, f'certificate:{year}'):04d}",
        year=year,
        kind=kind,
        activity_id=activity.id,
        alliance_id=activity.alliance_id,
        teacher_id=participant.teacher_id,
        kindergarten_id=participant.kindergarten_id,
        teacher_name=teacher.name,
        kindergarten_name=kindergarten.name,
        alliance_name=activity.alliance.name,
        activity_number=activity.number,
        topic=activity.topic,
        held_on=china_day(activity.starts_at),
        verification_code=new_code(),
        issued_by=viewer.display_name,
        state=PENDING,
    )
    session.add(certificate)
    session.flush()
    audit.append(
        session, entity_type="certificate", entity_id=certificate.id, event="issue", actor=viewer.actor,
        to_state=PENDING, data={"number": certificate.number, "activity": activity.number,
                                "teacher": certificate.teacher_name},
    )  # fmt: skip
    return certificate


# --- verification ----------------------------------------------------------------------------------


def _verified(session: Session, certificate: Certificate) -> Verified:
    label = KIND_LABELS[certificate.kind]
    hashes = [
        d.sha256
        for d in (session.get(Document, i) for i in (certificate.docx_document_id, certificate.pdf_document_id) if i)
        if d is not None
    ]
    return Verified(
        kind="certificate",
        kind_label=label,
        reference=certificate.number,
        genuine=True,
        summary=f"证书 {certificate.number} 是{certificate.alliance_name}教研活动的{label}，由本系统签发",
        details=[
            ("证书编号", certificate.number),
            ("姓名", certificate.teacher_name),
            ("所在园所", certificate.kindergarten_name),
            ("联盟", certificate.alliance_name),
            ("活动", f"{certificate.activity_number}「{certificate.topic}」"),
            ("活动日期", chinese_date(certificate.held_on)),
            ("核验码", grouped(certificate.verification_code)),
            ("颁发", certificate.issued_by),
            ("会签", certificate.countersigned_by),
        ],
        issued_at=certificate.issued_at,
        sha256=hashes,
    )


def _by_code(session: Session, code: str) -> Verified | None:
    wanted = normalise_code(code).translate(_LOOKALIKES)
    certificate = session.scalar(
        select(Certificate).where(Certificate.verification_code == wanted, Certificate.state == COUNTERSIGNED)
    )
    return None if certificate is None else _verified(session, certificate)


def _by_sha256(session: Session, sha256: str) -> Verified | None:
    document = session.scalars(
        select(Document).where(Document.sha256 == sha256, Document.owner_type == "certificate")
    ).first()
    certificate = None if document is None else session.get(Certificate, document.owner_id)
    return None if certificate is None else _verified(session, certificate)


register_verifier("certificate", _by_code, _by_sha256)


def list_for_own_kindergarten(*, session: Session, viewer: Viewer) -> list[Certificate]:
    """The countersigned certificates of the viewer's kindergarten's presenters, newest first (我的账号)."""
    if viewer.kindergarten_id is None:
        return []
    stmt = select(Certificate).where(
        Certificate.kindergarten_id == viewer.kindergarten_id, Certificate.state == COUNTERSIGNED
    )
    return list(session.scalars(stmt.order_by(Certificate.issued_at.desc(), Certificate.number.desc())))
