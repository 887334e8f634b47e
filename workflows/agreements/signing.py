"""Signing an agreement: one party, in route order, with its own key in the token, released by its own PIN.

Each signature is (a) a detached CMS signature over the frozen .docx and (b) where a PDF exists, an
incremental PAdES signature with the party's seal as the visible stamp. A refused attempt (out of
turn, twice, for another party, wrong PIN) changes nothing: only an audit entry of the refusal is
kept, committed on its own so the request's rollback does not lose it. Wrong PINs are throttled per
account (``pins``: the same count as for changing the key).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from templates.build_agreement import signature_box
from workflows import audit
from workflows.access import Viewer
from workflows.agreements import ca, cms, completion, documents, freezing, keys, notices, pades, pins, seals, token
from workflows.agreements.documents import CMS, PDF, read_document
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement, Signature
from workflows.agreements.parties import PARTY_LABELS, party_of
from workflows.agreements.service import get_visible
from workflows.clock import BEIJING
from workflows.documents.models import Document
from workflows.documents.service import record_stored
from workflows.errors import (
    FieldError,
    Forbidden,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from workflows.machine import fire

STAMP_DPI = 300
LOCATION = "江西省南昌市青山湖区"


def _refuse(
    session: Session, viewer: Viewer, agreement: Agreement, *, event: str, code: str, message: str, **data: Any
) -> None:
    """Record a refused attempt in the audit chain and commit it alone (nothing else is pending)."""
    audit.append(
        session,
        entity_type="agreement",
        entity_id=agreement.id,
        event=event,
        actor=viewer.actor,
        from_state=agreement.state,
        to_state=agreement.state,
        comment=message,
        data={"reason": code, **data},
    )
    session.commit()


def _turn_refusal(agreement: Agreement, mine: str | None, claimed: str | None) -> tuple[str, str] | None:
    """Why this signer may not sign now (code, message), or None."""
    if claimed is not None and claimed != mine:
        return "not_your_party", f"您不能代表{PARTY_LABELS.get(claimed, claimed)}签署"
    if mine is None:
        return "not_a_party", "您不是本协议的签署方"
    if mine in agreement.signed_parties:
        return "already_signed", f"{PARTY_LABELS[mine]}已签署，不能重复签署"
    if mine not in agreement.awaiting:
        waiting = "、".join(PARTY_LABELS[p] for p in agreement.awaiting)
        return "out_of_turn", f"尚未轮到{PARTY_LABELS[mine]}签署（当前等待：{waiting}）"
    return None


def check_may_decline(session: Session, viewer: Viewer, agreement: Agreement, version: int) -> None:
    """A party that has not signed this round may decline; refusals are recorded like signing's."""
    rule = AGREEMENT_WORKFLOW.rules["decline"]
    if viewer.role not in rule.roles or version != agreement.version or agreement.state != "signing":
        return  # fire() answers these (403, 409) in its own words
    mine = party_of(viewer, agreement)
    refusal = (
        ("not_a_party", "您不是本协议的签署方")
        if mine is None
        else ("already_signed", f"{PARTY_LABELS[mine]}已签署，不能再拒签")
        if mine in agreement.signed_parties
        else None
    )
    if refusal is not None:
        _refuse(session, viewer, agreement, event="decline_refused", code=refusal[0], message=refusal[1], party=mine)
        raise TransitionNotAllowed(refusal[1], code=refusal[0])


def _stamp(
    session: Session, objects: ObjectStore, agreement: Agreement, party: str, viewer: Viewer, when: str
) -> tuple[pades.Box, Image.Image]:
    box = signature_box(party, parties=agreement.party_keys)
    width = round((box[2] - box[0]) / 72 * STAMP_DPI)
    height = round((box[3] - box[1]) / 72 * STAMP_DPI)
    key = seals.seal_key(session, agreement, party)
    if key is None:
        raise RuntimeError("checked before the PIN was tried (_signing_problems)")
    seal_png = seals.read_object(objects, key)
    lines = [f"{PARTY_LABELS[party]}　{viewer.display_name[:14]}", when]
    return box, seals.stamp_image(seal_png, lines=lines, width=width, height=height)


def _signing_problems(
    session: Session, agreement: Agreement, party: str, *, pin: str | None, read_confirmed: bool
) -> list[FieldError]:
    """What the signer must put right before the PIN is even tried (a refusal here costs no attempt)."""
    problems = []
    if not read_confirmed:
        problems.append(FieldError("read_confirmed", "not_read", "请先阅读协议全文，并勾选「我已阅读协议全文」"))
    if not pin:
        problems.append(FieldError("pin", "required", "请输入签名密码"))
    seal = documents.seal_problem(session, agreement, party)
    if seal is not None:
        problems.append(seal)
    return problems


def sign(
    *,
    session: Session,
    viewer: Viewer,
    settings: Settings,
    objects: ObjectStore,
    agreement_id: uuid.UUID,
    version: int,
    pin: str | None,
    read_confirmed: bool = False,
    party: str | None = None,
    address: str = "",
) -> Agreement:
    """Sign for the viewer's party, if it is that party's turn, the signer confirmed having read the
    whole text, and the PIN opens the viewer's key."""
    agreement = get_visible(session=session, viewer=viewer, agreement_id=agreement_id, lock=True)
    rule = AGREEMENT_WORKFLOW.rules["sign"]
    if viewer.role not in rule.roles:
        raise Forbidden(f"您的角色不能执行「{rule.label}」")
    if version != agreement.version:
        raise StaleVersion()
    if agreement.state != "signing":
        raise TransitionNotAllowed(f"当前状态为「{AGREEMENT_WORKFLOW.label(agreement.state)}」，不能签署")
    freezing.refuse_while_generating(agreement)  # 409 until the send's job stored the final files
    mine = party_of(viewer, agreement)
    refusal = _turn_refusal(agreement, mine, party)
    if refusal is not None:
        _refuse(session, viewer, agreement, event="sign_refused", code=refusal[0], message=refusal[1], party=mine)
        raise TransitionNotAllowed(refusal[1], code=refusal[0])
    if mine is None:
        raise RuntimeError("expected mine is not None")
    problems = _signing_problems(session, agreement, mine, pin=pin, read_confirmed=read_confirmed)
    if problems:
        raise ValidationFailed(problems)
    if agreement.signed_pdf_id is not None:
        seals.chinese_font()  # the visible stamp prints Chinese: without a font, say so (503) before the PIN
    if pin is None:
        raise RuntimeError("expected pin is not None")
    pins.check_throttle(session, viewer.user_id)
    try:
        unlocked = keys.unlock(session=session, settings=settings, user_id=viewer.user_id, pin=pin)
    except keys.WrongPin:
        pins.record_wrong_pin(
            session, entity_type="agreement", entity_id=agreement.id, actor=viewer.actor, state=agreement.state,
            party=mine, purpose="sign",
        )  # fmt: skip
        raise Forbidden("签名密码错误，未签署", code="wrong_pin") from None

    step = agreement.current_step
    if step is None or agreement.frozen_docx_id is None:
        raise RuntimeError("expected step is not None and agreement.frozen_docx_id is not None")
    signed_at = utcnow()
    frozen = session.get(Document, agreement.frozen_docx_id)
    if frozen is None:
        raise RuntimeError("expected frozen is not None")
    content = read_document(objects, frozen)
    label = PARTY_LABELS[mine]
    stem = f"{agreement.number}_第{agreement.round}轮_{label}"
    # The slow part (the CMS signature, the stamped PDF, storing both) comes before anything is
    # written: a signature starts as a reading request (``api.deps.starts_reading``), so on SQLite it
    # holds no writer's slot until its first write below, which begins a fresh write transaction
    # where the versioned UPDATE of fire() refuses an agreement that moved on meanwhile (409).
    cms_stored = objects.put(
        io.BytesIO(cms.sign_detached(content, key=unlocked.key, certificate=unlocked.certificate)),
        filename=f"{stem}_签名.p7s", content_type=CMS,
    )  # fmt: skip
    pdf_stored = None
    if agreement.signed_pdf_id is not None:
        previous = session.get(Document, agreement.signed_pdf_id)
        if previous is None:
            raise RuntimeError("expected previous is not None")
        box, stamp = _stamp(
            session, objects, agreement, mine, viewer, signed_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        )
        chain = [ca.authority_certificate(session=session, settings=settings)]
        with token.pdf_signer(unlocked.key, certificate=unlocked.certificate, chain=chain) as signer:
            signed_pdf = pades.sign_pdf(
                read_document(objects, previous),
                signer=signer,
                field_name=f"{mine}-round{agreement.round}",
                box=box,
                stamp=stamp,
                reason=f"签署联盟协议书 {agreement.number}（验证码 {agreement.verification_code}）",
                location=LOCATION,
            )
        pdf_stored = objects.put(io.BytesIO(signed_pdf), filename=f"{stem}签署后.pdf", content_type=PDF)
    # Documents first: record_stored flushes, and the agreement row must not change before fire().
    cms_document = record_stored(
        session=session, stored=cms_stored, owner_type="agreement", owner_id=agreement.id,
        kind="agreement_signature", title=f"{label} CMS 签名（第 {agreement.round} 轮）", created_by=str(viewer.user_id),
    )  # fmt: skip
    pdf_document = None
    if pdf_stored is not None:
        pdf_document = record_stored(
            session=session, stored=pdf_stored, owner_type="agreement", owner_id=agreement.id,
            kind="agreement_signed_pdf", title=f"联盟协议书 PDF（{label}签署后）", created_by=str(viewer.user_id),
        )  # fmt: skip
    signature = Signature(
        round=agreement.round,
        step=step,
        party=mine,
        signer_id=viewer.user_id,
        signer_name=viewer.display_name,
        signing_key_id=unlocked.record.id,
        certificate_serial=unlocked.record.certificate_serial,
        certificate_sha256=unlocked.record.certificate_sha256,
        signed_at=signed_at,
        address=address[:64],
        content_sha256=frozen.sha256,
        cms_document_id=cms_document.id,
        pdf_document_id=pdf_document.id if pdf_document else None,
        pdf_field=f"{mine}-round{agreement.round}" if pdf_document else "",
    )
    agreement.signatures.append(signature)
    if pdf_document is not None:
        agreement.signed_pdf_id = pdf_document.id
    was_awaiting = list(agreement.awaiting)
    fire(
        session=session,
        workflow=AGREEMENT_WORKFLOW,
        record=agreement,
        event="sign",
        actor=viewer.actor,
        role=viewer.role,
        version=version,
        data={
            "party": mine,
            "step": step,
            "round": agreement.round,
            "content_sha256": frozen.sha256,
            "cms_sha256": cms_document.sha256,
            "pdf_sha256": pdf_document.sha256 if pdf_document else None,
            "certificate_serial": unlocked.record.certificate_serial,
            "address": address[:64],
            "read_confirmed": True,
        },
    )
    if agreement.state == "effective":
        completion.complete(session=session, settings=settings, objects=objects, agreement=agreement)
    elif agreement.awaiting and agreement.awaiting != [p for p in was_awaiting if p != mine]:
        notices.notify_awaiting(session, agreement)  # the route moved on to the next step
    session.flush()
    return agreement
