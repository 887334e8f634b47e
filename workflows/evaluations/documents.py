"""The evaluation form (年度考核评价表, 附件4) of one alliance as a Word document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from templates.docx import render_docx
from workflows.access import Viewer
from workflows.clock import BEIJING
from workflows.documents.models import Document
from workflows.documents.service import store_generated
from workflows.evaluations.machine import ASSESSOR_LABELS, EVALUATION_WORKFLOW
from workflows.evaluations.models import Evaluation, EvaluationItem

TEMPLATE = "evaluation_form.docx"
FORM_KIND = "evaluation_form"


def number_text(value: float | None) -> str:
    """A score as printed: 12.5, 15 (no trailing .0), blank when there is none."""
    return "" if value is None else f"{value:g}"


def _remark(item: EvaluationItem) -> str:
    parts = []
    if item.veto_triggered:
        parts.append("重大安全事故（否决优秀）")
    if item.final_comment:
        parts.append(item.final_comment)
    if item.self_remark:
        parts.append(f"自评：{item.self_remark}")
    return "\n".join(parts)


def _item_row(no: int, item: EvaluationItem) -> dict[str, str]:
    label = item.label + ("（加分）" if item.bonus else "") + ("（否决项）" if item.veto else "")
    evidence = list(item.evidence) or [item.criteria]
    return {
        "no": str(no),
        "section": item.section,
        "label": label,
        "max_points": number_text(item.max_points),
        "assessor": ASSESSOR_LABELS[item.assessor],
        "evidence": "\n".join(evidence),
        "computed": number_text(item.computed) if item.method != "manual" else "—",
        "self_score": number_text(item.self_score),
        "final": number_text(item.final),
        "remark": _remark(item),
    }


def _day(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(BEIJING).date().isoformat()


def form_context(evaluation: Evaluation) -> dict[str, Any]:
    """Every variable of the evaluation form, as text."""
    alliance = evaluation.alliance
    published = evaluation.state == "published"
    base = sum(i.max_points for i in evaluation.items if not i.bonus)
    bonus = sum(i.max_points for i in evaluation.items if i.bonus)
    return {
        "number": evaluation.number,
        "year": str(evaluation.year),
        "alliance_name": alliance.name,
        "alliance_code": alliance.code,
        "lead_name": alliance.lead.name if alliance.lead else "",
        "pillar_name": alliance.pillar.name if alliance.pillar else "",
        "members_count": str(len(alliance.current_memberships)),
        "state_label": EVALUATION_WORKFLOW.label(evaluation.state),
        "status_note": "" if published else "（未公布，仅供核对）",
        "full_marks": f"基本分 {base:g} 分，加分最多 {bonus:g} 分" if bonus else f"满分 {base:g} 分",
        "items": [_item_row(n, item) for n, item in enumerate(evaluation.items, start=1)],
        # Before publication the running total is no result: the form says so (never 不合格 at opening).
        "total": number_text(evaluation.total) if published else "待评分",
        "grade": evaluation.grade if published else "待评分",
        "veto_note": "有否决项，不评优秀" if evaluation.vetoed else "无",
        "self_remarks": evaluation.self_remarks or "（无）",
        "review_remarks": evaluation.last_comment or "（无）",
        "self_assessed_on": _day(evaluation.self_assessed_at),
        "published_on": _day(evaluation.published_at),
        "computed_on": _day(evaluation.computed_at),
    }


def render_form_bytes(evaluation: Evaluation) -> bytes:
    """The form as it stands (a preview before publication)."""
    return render_docx(TEMPLATE, form_context(evaluation))


def form_filename(evaluation: Evaluation) -> str:
    return f"{evaluation.number}_{evaluation.alliance.name}_年度考核评价表.docx"


def render_form(*, session: Session, objects: ObjectStore, evaluation: Evaluation, actor: Viewer) -> Document:
    """Render the form and store it as the evaluation's next 评价表 version."""
    return store_generated(
        session=session,
        objects=objects,
        owner_type="evaluation",
        owner_id=evaluation.id,
        kind=FORM_KIND,
        title=f"{evaluation.year} 年度考核评价表（{evaluation.alliance.name}）",
        filename=form_filename(evaluation),
        content=render_form_bytes(evaluation),
        created_by=str(actor.user_id),
    )
