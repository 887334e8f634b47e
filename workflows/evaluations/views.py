"""Turning evaluations and review flags into what the API returns."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.evaluations.machine import ASSESSOR_LABELS, EVALUATION_WORKFLOW, ITEM_SCORERS
from workflows.evaluations.models import Evaluation, EvaluationItem, ReviewFlag
from workflows.evaluations.review import DECISION_LABELS, REASON_LABELS
from workflows.evaluations.schemas import EvaluationOut, ItemOut, ReviewFlagOut

SCORING_STATES = frozenset({"self_assessed", "scored"})


def results_visible(viewer: Viewer, evaluation: Evaluation) -> bool:
    """Total and grade: the bureau's at any time, everyone else's only once published (before: 待评分)."""
    return viewer.is_bureau or evaluation.state == "published"


def _item_out(viewer: Viewer, evaluation: Evaluation, item: EvaluationItem) -> ItemOut:
    return ItemOut(
        key=item.key,
        section=item.section,
        label=item.label,
        criteria=item.criteria,
        max_points=item.max_points,
        assessor=item.assessor,
        assessor_label=ASSESSOR_LABELS[item.assessor],
        method=item.method,
        veto=item.veto,
        bonus=item.bonus,
        computed=item.computed,
        evidence=list(item.evidence),
        self_score=item.self_score,
        self_remark=item.self_remark,
        final_score=item.final_score,
        final_comment=item.final_comment,
        final=item.final,
        veto_triggered=item.veto_triggered,
        scored_by=item.scored_by,
        scored_at=item.scored_at,
        may_score=evaluation.state in SCORING_STATES and viewer.role in ITEM_SCORERS[item.assessor],
    )


def evaluation_out(viewer: Viewer, evaluation: Evaluation) -> EvaluationOut:
    """The evaluation as this viewer sees it, with the events the viewer may fire now."""
    shown = results_visible(viewer, evaluation)
    return EvaluationOut(
        id=evaluation.id,
        number=evaluation.number,
        alliance_id=evaluation.alliance_id,
        alliance_code=evaluation.alliance.code,
        alliance_name=evaluation.alliance.name,
        year=evaluation.year,
        state=evaluation.state,
        state_label=EVALUATION_WORKFLOW.label(evaluation.state),
        version=evaluation.version,
        total=evaluation.total if shown else None,
        grade=evaluation.grade if shown else None,
        vetoed=evaluation.vetoed,
        self_remarks=evaluation.self_remarks,
        last_comment=evaluation.last_comment,
        computed_at=evaluation.computed_at,
        self_assessed_at=evaluation.self_assessed_at,
        scored_at=evaluation.scored_at,
        published_at=evaluation.published_at,
        items=[_item_out(viewer, evaluation, i) for i in evaluation.items],
        pending_items=[i.key for i in evaluation.items if i.final is None],
        allowed_events=EVALUATION_WORKFLOW.allowed_events(evaluation, viewer.role),
    )


def review_flag_out(flag: ReviewFlag) -> ReviewFlagOut:
    return ReviewFlagOut(
        id=flag.id,
        evaluation_id=flag.evaluation_id,
        alliance_id=flag.alliance_id,
        alliance_name=flag.alliance.name,
        kindergarten_id=flag.kindergarten_id,
        kindergarten_name=flag.kindergarten.name if flag.kindergarten else "",
        year=flag.year,
        reason=flag.reason,
        reason_label=REASON_LABELS.get(flag.reason, flag.reason),
        detail=flag.detail,
        decision=flag.decision,
        decision_label=DECISION_LABELS.get(flag.decision or "", ""),
        decision_comment=flag.decision_comment,
        decided_by=flag.decided_by,
        decided_at=flag.decided_at,
        version=flag.version,
    )
