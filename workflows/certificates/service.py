"""Issuing certificates to the presenters of held 公开课 and 讲座, finding and verifying them.

Who gets one: every presenter (主讲/执教) of an activity of format 公开课 or 讲座 that took place
(``held`` or ``archived``) in the year's semesters (codes ``<year>-…``), unless recorded on leave
or absent. Issuing again issues only the certificates not yet issued.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.objects import ObjectStore
from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import Role
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
from workflows.errors import Forbidden, NotFound
from workflows.evaluations.records import TOOK_PLACE, china_day
from workflows.numbering import next_value
from workflows.verification import Verified, normalise_code, register_verifier

PDF = "application/pdf"
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
    *, session: Session, viewer: Viewer, year: int | None = None, activity_id: uuid.UUID | None = None
) -> list[Certificate]:
    """The certificates the viewer may see, by number."""
    stmt = select(Certificate)
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
    pdf: bool


def issue_batch(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    year: int,
    base_url: str,
    activity_id: uuid.UUID | None = None,
    pdf: bool = True,
) -> Batch:
    """Issue the year's certificates not yet issued (officer): number, code, .docx and PDF."""
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以颁发证书")
    done = {(c.activity_id, c.teacher_id) for c in session.scalars(select(Certificate).where(Certificate.year == year))}
    issued: list[Certificate] = []
    skipped = 0
    for activity in _eligible(session, year, activity_id):
        for p in activity.participants:
            if p.role != "presenter" or p.attendance in (Attendance.LEAVE, Attendance.ABSENT):
                continue
            if (activity.id, p.teacher_id) in done:
                skipped += 1
                continue
            issued.append(_issue(session, viewer, objects, activity, p, year, base_url))
    converted = pdf and bool(issued)
    if converted:
        pdfs = convert_to_pdf({c.number: _docx_bytes(session, objects, c) for c in issued})
        for certificate in issued:
            content = pdfs.get(certificate.number)
            if content is not None:
                certificate.pdf_document_id = _store(
                    session, objects, certificate, content, kind="certificate_pdf", extension="pdf", content_type=PDF
                ).id
        converted = bool(pdfs)
    session.flush()
    return Batch(issued=issued, already_issued=skipped, pdf=converted)


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


def _docx_bytes(session: Session, objects: ObjectStore, certificate: Certificate) -> bytes:
    document = session.get(Document, certificate.docx_document_id)
    assert document is not None
    return b"".join(objects.iter_chunks(document.object_key))


def _issue(
    session: Session, viewer: Viewer, objects: ObjectStore, activity: Activity, participant: Participant, year: int,
    base_url: str,
) -> Certificate:  # fmt: skip
    kind = KIND_OF_FORMAT[activity.format]
    certificate = Certificate(
        id=uuid.uuid4(),
        number=f"ZS{year}-{next_value(session, f'certificate:{year}'):04d}",
        year=year,
        kind=kind,
        activity_id=activity.id,
        alliance_id=activity.alliance_id,
        teacher_id=participant.teacher_id,
        kindergarten_id=participant.kindergarten_id,
        teacher_name=participant.teacher.name,
        kindergarten_name=participant.kindergarten.name,
        alliance_name=activity.alliance.name,
        activity_number=activity.number,
        topic=activity.topic,
        held_on=china_day(activity.starts_at),
        verification_code=new_code(),
        issued_by=viewer.display_name,
    )
    session.add(certificate)
    session.flush()
    docx = _store(session, objects, certificate, render_certificate(certificate, base_url=base_url),
                  kind="certificate", extension="docx")  # fmt: skip
    certificate.docx_document_id = docx.id
    audit.append(
        session, entity_type="certificate", entity_id=certificate.id, event="issue", actor=viewer.actor,
        data={"number": certificate.number, "activity": activity.number, "teacher": certificate.teacher_name,
              "sha256": docx.sha256},
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
        ],
        issued_at=certificate.issued_at,
        sha256=hashes,
    )


def _by_code(session: Session, code: str) -> Verified | None:
    wanted = normalise_code(code).translate(_LOOKALIKES)
    certificate = session.scalar(select(Certificate).where(Certificate.verification_code == wanted))
    return None if certificate is None else _verified(session, certificate)


def _by_sha256(session: Session, sha256: str) -> Verified | None:
    document = session.scalars(
        select(Document).where(Document.sha256 == sha256, Document.owner_type == "certificate")
    ).first()
    certificate = None if document is None else session.get(Certificate, document.owner_id)
    return None if certificate is None else _verified(session, certificate)


register_verifier("certificate", _by_code, _by_sha256)
