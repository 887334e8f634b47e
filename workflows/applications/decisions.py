"""The bureau's 批复 on an application (方案: 「书面打报告至区教科体局申请，经批复即可加入」).

Approving or rejecting issues one: numbered 青教科体成幼批〔year〕N号 without gaps per year
(``workflows.numbering``), rendered as .docx (and PDF where LibreOffice is installed), stored with the
application's documents, and verifiable on ``/verify`` by its printed code or by the file itself.
"""

from __future__ import annotations

import io
import logging
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.db import Database, utcnow
from storage.objects import ObjectStore, StoredObject
from storage.settings import Settings
from templates.district import BUREAU_NAME, DISTRICT, PLAN, REVIEWER, decision_number
from templates.docx import render_docx
from workflows import audit, outbox
from workflows.access import Viewer
from workflows.agreements.conversion import docx_to_pdf
from workflows.agreements.documents import verify_url
from workflows.applications.models import Application, Decision
from workflows.certificates.documents import grouped
from workflows.certificates.service import new_code
from workflows.clock import BEIJING, chinese_date
from workflows.documents.models import Document
from workflows.documents.service import DOCX, record_stored
from workflows.errors import ServiceUnavailable
from workflows.numbering import next_value
from workflows.verification import Verified, normalise_code, register_verifier

logger = logging.getLogger(__name__)

TEMPLATE = "decision_letter.docx"
LETTER_TOPIC = "application.render_decision"
KIND, PDF_KIND = "decision_letter", "decision_letter_pdf"
PDF = "application/pdf"
OUTCOME_LABELS = {"approved": "同意加入", "rejected": "不予批准"}
ALLIANCE_PLAN = f"{DISTRICT}1+1+N幼教联盟"
# Codes are read off paper; base32 has no 0, 1 or 8, so those were meant as O, I and B.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def applicant_name(application: Application) -> str:
    return str((application.form or {}).get("name") or application.kindergarten.name)


def opinion_of(decision: Decision) -> str:
    """The decision in one sentence, as the 申请表's 审核意见 block prints it."""
    if decision.outcome == "approved":
        text = f"同意加入{decision.alliance_name}，作为联盟成员园。"
        return text + (f"审核意见：{decision.opinion}" if decision.opinion else "")
    return f"不予批准。理由：{decision.opinion}"


def find(session: Session, application_id: uuid.UUID) -> Decision | None:
    """The 批复 of an application, once it was decided."""
    return session.scalar(select(Decision).where(Decision.application_id == application_id))


def review_block(decision: Decision | None) -> dict[str, str]:
    """The 申请表's 审核意见 variables: blank lines to write on until the section decides."""
    if decision is None:
        return {"review_opinion": "", "decision_line": "", "reviewer": REVIEWER, "decided_on": "________年____月____日"}
    return {
        "review_opinion": opinion_of(decision),
        "decision_line": f"批复文号：{decision.number}",
        "reviewer": REVIEWER,
        "decided_on": chinese_date(decision.decided_on),
    }


def _body(decision: Decision, application: Application) -> list[str]:
    received = f"你园《{ALLIANCE_PLAN}加入申请表》（申请编号 {application.number}）及证明材料收悉。"
    if decision.outcome == "approved":
        lines = [
            f"{received}根据{PLAN}，经审核，同意你园加入{decision.alliance_name}，作为联盟成员园。",
            "请你园按要求与联盟龙头园、支柱园签订联盟协议书，指定联络人，按时参加联盟组织的教研活动，"
            "及时提交活动资料，接受联盟的指导和年度考核评价。",
        ]
        if decision.opinion:
            lines.append(f"审核意见：{decision.opinion}")
    else:
        lines = [
            f"{received}根据{PLAN}，经审核，你园此次申请不予批准。",
            f"理由：{decision.opinion}",
            "你园可按上述意见整改后，重新提出加入申请。",
        ]
    return [*lines, "此复。"]


def letter_context(decision: Decision, application: Application, *, verify_link: str) -> dict[str, Any]:
    """Every variable of the 批复 template, as text."""
    name = decision.kindergarten_name
    return {
        "number": decision.number,
        "title": f"关于同意{name}加入{ALLIANCE_PLAN}的批复"
        if decision.outcome == "approved"
        else f"关于{name}申请加入{ALLIANCE_PLAN}的批复",
        "addressee": name,
        "body": _body(decision, application),
        "issuer": BUREAU_NAME,
        "issued_on": chinese_date(decision.decided_on),
        "office": REVIEWER,
        "application_no": application.number,
        "verification_code": grouped(decision.verification_code),
        "verify_url": verify_link,
    }


def issue(
    *,
    session: Session,
    settings: Settings,
    objects: ObjectStore,
    viewer: Viewer,
    application: Application,
    comment: str,
    alliance_name: str = "",
) -> Decision:
    """Number, render and store the 批复 of an application the section just approved or rejected."""
    now = utcnow()
    day = beijing_day(now)
    # One counter per year: 〔2027〕1号 follows 〔2026〕N号; a rolled-back decision gives its number back.
    serial = next_value(session, f"decision:{day.year}")
    decision = Decision(
        id=uuid.uuid4(),
        application_id=application.id,
        number=decision_number(day.year, serial),
        year=day.year,
        serial=serial,
        outcome=application.state,
        kindergarten_name=applicant_name(application),
        alliance_name=alliance_name,
        opinion=comment.strip(),
        decided_on=day,
        verification_code=new_code(),
        issued_by=viewer.display_name,
        issued_at=now,
    )
    session.add(decision)
    session.flush()
    # The letter (.docx, and its PDF through LibreOffice) is rendered after the commit
    # (``render_pending_letter``); until then the decision shows 「批复生成中」.
    outbox.record(
        session, LETTER_TOPIC, decision_id=str(decision.id),
        actor={"id": viewer.actor.id, "name": viewer.actor.name, "role": viewer.actor.role},
    )  # fmt: skip
    return decision


def letter_generating(decision: Decision) -> bool:
    """True while the decision's letter is still being rendered (after the decision committed)."""
    return decision.docx_document_id is None


def render_pending_letter(
    *, db: Database, settings: Settings, objects: ObjectStore, decision_id: uuid.UUID, actor: audit.Actor
) -> str | None:
    """Render and store the 批复 of a decision that has none yet; idempotent. No transaction is open
    while it renders and converts; the 「批复」 audit entry is written with the stored file's hash."""
    with db.sessionmaker() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or not letter_generating(decision):
            return None
        application = session.get(Application, decision.application_id)
        if application is None:
            raise RuntimeError(f"decision {decision.id} has no application")
        link = verify_url(settings, decision.verification_code)
        context = letter_context(decision, application, verify_link=link)
        stem = f"{application.number}_批复"
        session.rollback()
    content = render_docx(TEMPLATE, context)
    # Content-addressed objects first; if the rows below never commit, the orphan sweep removes them.
    docx_stored = objects.put(io.BytesIO(content), filename=f"{stem}.docx", content_type=DOCX)
    pdf = _pdf(content)
    pdf_stored = objects.put(io.BytesIO(pdf), filename=f"{stem}.pdf", content_type=PDF) if pdf is not None else None
    with db.session() as session:
        decision = session.get(Decision, decision_id, with_for_update=True)
        if decision is None or not letter_generating(decision):
            return None
        application = session.get(Application, decision.application_id)
        if application is None:
            raise RuntimeError(f"decision {decision.id} has no application")
        docx = _record(session, application, decision, docx_stored, kind=KIND)
        decision.docx_document_id = docx.id
        if pdf_stored is not None:
            decision.pdf_document_id = _record(session, application, decision, pdf_stored, kind=PDF_KIND).id
        audit.append(
            session,
            entity_type="application",
            entity_id=application.id,
            event="decision_issued",
            actor=actor,
            from_state=application.state,
            to_state=application.state,
            data={"number": decision.number, "outcome": decision.outcome, "sha256": docx.sha256},
        )
        return str(docx.id)


def _record(
    session: Session, application: Application, decision: Decision, stored: StoredObject, *, kind: str
) -> Document:
    return record_stored(
        session=session, stored=stored, owner_type="application", owner_id=application.id, kind=kind,
        title=f"批复 {decision.number}" + ("（PDF）" if kind == PDF_KIND else ""), created_by=decision.issued_by,
    )  # fmt: skip


def _pdf(content: bytes) -> bytes | None:
    try:
        return docx_to_pdf(content)
    except ServiceUnavailable:
        # The .docx is the letter; a PDF copy that failed is logged and left out, the decision stands.
        logger.exception("decision letter: LibreOffice could not convert it to PDF")
        return None


# --- verification ----------------------------------------------------------------------------------


def _verified(session: Session, decision: Decision) -> Verified:
    application = session.get(Application, decision.application_id)
    hashes = [
        d.sha256
        for d in (session.get(Document, i) for i in (decision.docx_document_id, decision.pdf_document_id) if i)
        if d is not None
    ]
    outcome = OUTCOME_LABELS.get(decision.outcome, decision.outcome)
    decided = f"同意加入{decision.alliance_name}" if decision.outcome == "approved" else outcome
    return Verified(
        kind="decision",
        kind_label="批复",
        reference=decision.number,
        genuine=True,
        summary=f"{decision.number} 是{BUREAU_NAME}对{decision.kindergarten_name}入盟申请的批复（{outcome}），由本系统签发",
        details=[
            ("申请园", decision.kindergarten_name),
            ("申请编号", application.number if application else "—"),
            ("决定", decided),
            ("审核意见", decision.opinion or "—"),
            ("批复日期", chinese_date(decision.decided_on)),
            ("核验码", grouped(decision.verification_code)),
        ],
        issued_at=decision.issued_at,
        sha256=hashes,
    )


def _by_code(session: Session, code: str) -> Verified | None:
    wanted = normalise_code(code).translate(_LOOKALIKES)
    decision = session.scalar(select(Decision).where(Decision.verification_code == wanted))
    return None if decision is None else _verified(session, decision)


def _by_sha256(session: Session, sha256: str) -> Verified | None:
    documents = select(Document.id).where(
        Document.sha256 == sha256, Document.owner_type == "application", Document.kind.in_([KIND, PDF_KIND])
    )
    decision = session.scalars(
        select(Decision).where(or_(Decision.docx_document_id.in_(documents), Decision.pdf_document_id.in_(documents)))
    ).first()
    return None if decision is None else _verified(session, decision)


register_verifier("decision", _by_code, _by_sha256)
