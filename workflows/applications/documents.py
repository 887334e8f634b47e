"""The application form (申请表) as a Word document, rendered anew on every submission."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from templates.district import BUREAU_SHORT
from templates.docx import render_docx
from workflows.access import Viewer
from workflows.applications import decisions
from workflows.applications.eligibility import RESULT_LABELS
from workflows.applications.models import Application, Decision
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    INSPECTION_LABELS,
    OWNERSHIP_LABELS,
    ApplicationForm,
    AttachmentKind,
    InspectionResult,
    Ownership,
)
from workflows.certificates.documents import chinese_date
from workflows.documents.models import Document
from workflows.documents.service import next_version_no, store_generated
from workflows.registry.models import Alliance

TEMPLATE = "application_form.docx"
COMMITMENTS = (
    "本园承诺：按时参加联盟组织的各项教研活动；按要求提交活动资料并及时归档；如实填报各项信息；"
    f"接受联盟和{BUREAU_SHORT}的指导与年度考核评价。"
)


def _size_label(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def form_context(
    session: Session, application: Application, version_no: int, decision: Decision | None = None
) -> dict[str, Any]:
    """Every template variable of the application form, as plain text values; ``decision`` fills the
    审核意见 block (blank lines to write on while there is none)."""
    form = ApplicationForm.model_validate(application.form)
    alliance = session.get(Alliance, form.preferred_alliance_id) if form.preferred_alliance_id else None
    rate = (
        f"{form.certified_teachers / form.teachers:.0%}"
        if form.teachers and form.certified_teachers is not None
        else ""
    )
    plain = {
        name: _text(getattr(form, name))
        for name in (
            "name",
            "credit_code",
            "licence_no",
            "sponsor",
            "legal_representative",
            "head_name",
            "head_phone",
            "contact_name",
            "contact_phone",
            "address",
            "town",
            "classes",
            "children",
            "staff",
            "teachers",
            "certified_teachers",
            "site_area_m2",
            "building_area_m2",
            "last_inspection_year",
            "penalties_last_3_years",
            "safety_incidents_last_3_years",
            "reasons",
        )
    }
    return {
        **plain,
        "licence_issued_on": form.licence_issued_on.isoformat() if form.licence_issued_on else "",
        "ownership_label": OWNERSHIP_LABELS[Ownership(form.ownership)] if form.ownership else "",
        "inclusive_label": "" if form.inclusive is None else ("是" if form.inclusive else "否"),
        "certification_rate": rate,
        "last_inspection_result": INSPECTION_LABELS[InspectionResult(form.last_inspection_result)]
        if form.last_inspection_result
        else "",
        "preferred_alliance_name": alliance.name if alliance else "",
        "needs_label": "、".join(form.needs or []),
        "commitments": COMMITMENTS if form.commitments_accepted else "（未确认）",
        "attachments": [
            {
                "kind_label": ATTACHMENT_LABELS[AttachmentKind(a.kind)],
                "filename": a.filename,
                "size_label": _size_label(a.size),
                "sha256_short": a.sha256[:16],
            }
            for a in sorted(
                application.current_attachments, key=lambda a: list(AttachmentKind).index(AttachmentKind(a.kind))
            )
        ],
        "eligibility": [
            {"label": c["label"], "result": RESULT_LABELS[c["result"]], "detail": c["detail"]}
            for c in application.eligibility
        ],
        "application_no": application.number,
        "version_no": str(version_no),
        "generated_on": (application.submitted_at or utcnow()).date().isoformat(),
        "submitted_on": chinese_date(decisions.beijing_day(application.submitted_at))
        if application.submitted_at
        else "",
        **decisions.review_block(decision),
    }


def render_application_form(
    *, session: Session, objects: ObjectStore, application: Application, actor: Viewer
) -> Document:
    """Render the form as it stands and store it as the application's next 申请表 version."""
    version_no = next_version_no(session, owner_type="application", owner_id=application.id, kind="application_form")
    decision = decisions.find(session, application.id)
    content = render_docx(TEMPLATE, form_context(session, application, version_no, decision))
    return store_generated(
        session=session,
        objects=objects,
        owner_type="application",
        owner_id=application.id,
        kind="application_form",
        title=f"加入联盟申请表（第 {version_no} 版）",
        filename=f"{application.number}_申请表_v{version_no}.docx",
        content=content,
        created_by=str(actor.user_id),
    )
