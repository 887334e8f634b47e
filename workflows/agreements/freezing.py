"""Freezing an agreement for signing, after the send commits: the final .docx (seals, signature
block, code, QR) and its PDF (headless LibreOffice, up to minutes) are made by a worker job.

The send only records the job (``request_freeze``); the job reads the agreement in a short
transaction, renders, converts and stores both files with no transaction open, and references them
in another short one, with the 「定稿」 audit entry and the signers' notices. Until then the agreement
shows 「生成中」 and signing is refused (409 ``agreement_generating``). Objects of a freeze whose
agreement moved on meanwhile (voided, sent again) are left to the orphan sweep.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.objects import ObjectStore, StoredObject
from storage.runtime import Runtime
from templates.build_agreement import QR_PICTURE, SEAL_PICTURES
from templates.docx import render_docx
from templates.pictures import replace_pictures
from workflows import audit, jobs, outbox
from workflows.agreements import notices
from workflows.agreements.conversion import docx_to_pdf
from workflows.agreements.documents import (
    PDF,
    TEMPLATES,
    agreement_context,
    qr_png,
    refresh_parties,
    verify_url,
)
from workflows.agreements.models import Agreement
from workflows.agreements.seals import read_object, seal_key
from workflows.documents.service import DOCX, record_stored
from workflows.errors import Conflict, ServiceUnavailable

JOB_KIND = "agreement.freeze"
TASK = "agreements.freeze"
GENERATING_LABEL = "生成中"


def request_freeze(session: Session, agreement: Agreement, actor: audit.Actor, created_by: uuid.UUID) -> jobs.Job:
    """Ask for this round's final files, made after the send commits; the agreement is 「生成中」 till then."""
    agreement.frozen_docx_id = agreement.frozen_pdf_id = agreement.signed_pdf_id = None
    item = {
        "id": str(agreement.id), "label": agreement.number, "round": agreement.round,
        "actor": {"id": actor.id, "name": actor.name, "role": actor.role},
    }  # fmt: skip
    job = jobs.create_job(
        session=session, kind=JOB_KIND, items=[item], created_by=created_by,
        params={"agreement_id": str(agreement.id), "round": agreement.round},
    )  # fmt: skip
    outbox.record(session, TASK, job_id=str(job.id))
    return job


def generating(agreement: Agreement) -> bool:
    """True while the files of the round being signed are still being made."""
    return agreement.state == "signing" and agreement.frozen_docx_id is None


def refuse_while_generating(agreement: Agreement) -> None:
    if generating(agreement):
        raise Conflict(
            f"联盟协议书 {agreement.number} 的定稿正在{GENERATING_LABEL}，完成后方可签署，请稍后刷新再试",
            code="agreement_generating",
        )


def current_job(session: Session, agreement: Agreement) -> jobs.Job | None:
    """The freeze job of the agreement's current round (the latest one), for its progress."""
    rows = session.scalars(select(jobs.Job).where(jobs.Job.kind == JOB_KIND).order_by(jobs.Job.created_at.desc()))
    for job in rows.yield_per(50):
        if job.params.get("agreement_id") == str(agreement.id) and job.params.get("round") == agreement.round:
            return job
    return None


def run_freeze(*, runtime: Runtime, job_id: uuid.UUID) -> None:
    """The job's task body: freeze its agreement (one item), with progress like any job."""
    jobs.run_items(runtime=runtime, job_id=job_id, handle=freeze_item)


def _due(agreement: Agreement | None, round_no: int) -> bool:
    return agreement is not None and agreement.round == round_no and generating(agreement)


def freeze_item(runtime: Runtime, creator: uuid.UUID, item: dict[str, Any]) -> None:
    """Freeze one agreement's round ``item["round"]``; a redelivery or a stale round does nothing."""
    settings, objects = runtime.settings, runtime.objects
    agreement_id, round_no = uuid.UUID(str(item["id"])), int(item["round"])
    # 1. Read what the files show, in a transaction that writes nothing (rolled back on close).
    with runtime.db.sessionmaker() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None or not _due(agreement, round_no):
            return
        refresh_parties(session, agreement)
        parties = agreement.parties
        context = agreement_context(session, settings, agreement, final=True)
        seals = {SEAL_PICTURES[p]: seal_key(session, agreement, p) or "" for p in agreement.party_keys}
        template, code = TEMPLATES[agreement.kind], agreement.verification_code
        stem = f"{agreement.number}_联盟协议书_第{round_no}轮"
        session.rollback()
    # 2. Render, convert and store with no transaction open (content-addressed: a failed step 3 leaves
    # orphans the sweep removes).
    docx_stored, pdf_stored = _render_and_store(objects, template, context, seals, verify_url(settings, code), stem)
    # 3. Reference them, if the round is still waiting for them.
    with runtime.db.session() as session:
        agreement = session.get(Agreement, agreement_id, with_for_update=True)
        if agreement is None or not _due(agreement, round_no):
            return
        docx = record_stored(
            session=session, stored=docx_stored, owner_type="agreement", owner_id=agreement.id,
            kind="agreement_final", title=f"联盟协议书定稿（第 {round_no} 轮签署）", created_by=str(creator),
        )  # fmt: skip
        pdf = None
        if pdf_stored is not None:
            pdf = record_stored(
                session=session, stored=pdf_stored, owner_type="agreement", owner_id=agreement.id,
                kind="agreement_pdf", title=f"联盟协议书定稿 PDF（第 {round_no} 轮签署）", created_by=str(creator),
            )  # fmt: skip
        # Not a change anyone made: the version a signer saw stays valid.
        pdf_id = pdf.id if pdf else None
        session.execute(
            update(Agreement)
            .where(Agreement.id == agreement.id)
            .values(parties=parties, frozen_docx_id=docx.id, frozen_pdf_id=pdf_id, signed_pdf_id=pdf_id)
        )
        session.expire(agreement, ["parties", "frozen_docx_id", "frozen_pdf_id", "signed_pdf_id"])
        actor = item["actor"]
        audit.append(
            session, entity_type="agreement", entity_id=agreement.id, event="freeze",
            actor=audit.Actor(id=actor["id"], name=actor["name"], role=actor["role"]),
            from_state=agreement.state, to_state=agreement.state,
            data={"round": round_no, "docx_sha256": docx.sha256, "pdf_sha256": pdf.sha256 if pdf else None},
        )  # fmt: skip
        notices.notify_awaiting(session, agreement)


def _render_and_store(
    objects: ObjectStore, template: str, context: dict[str, Any], seals: dict[str, str], url: str, stem: str
) -> tuple[StoredObject, StoredObject | None]:
    pictures = {name: read_object(objects, key) for name, key in seals.items()}
    pictures[QR_PICTURE] = qr_png(url)
    content = replace_pictures(render_docx(template, context), pictures)
    docx = objects.put(io.BytesIO(content), filename=f"{stem}.docx", content_type=DOCX)
    try:
        pdf_bytes = docx_to_pdf(content)
    except ServiceUnavailable as exc:
        # LibreOffice timed out: transient, so the task is retried (Celery) or re-driven (embedded,
        # by the reconciler) rather than the job recording a failure nobody could retry.
        raise TimeoutError(f"PDF conversion: {exc.message}") from exc
    pdf = objects.put(io.BytesIO(pdf_bytes), filename=f"{stem}.pdf", content_type=PDF) if pdf_bytes else None
    return docx, pdf
