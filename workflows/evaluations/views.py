"""Turning evaluations and review flags into what the API returns."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.evaluations.machine import ASSESSOR_LABELS, EVALUATION_WORKFLOW, ITEM_SCORERS
from workflows.evaluations.models import Evaluation, EvaluationItem, ReviewFlag
from workflows.evaluations.review import DECISION_LABELS, REASON_LABELS
from workflows.evaluations.schemas import EvaluationOut, ItemOut, ReviewFlagOut
from workflows.presenters import Presented

SCORING_STATES = frozenset({"self_assessed", "scored"})


def results_visible(viewer: Viewer, evaluation: Evaluation) -> bool:
    """Total and grade: the bureau's at any time, everyone else's only once published (before: 待评分)."""
    return viewer.is_bureau or evaluation.state == "published"


def _item_out(viewer: Viewer, evaluation: Evaluation, item: EvaluationItem) -> ItemOut:
    return ItemOut.model_validate(
        Presented(
            item,
            assessor_label=ASSESSOR_LABELS[item.assessor],
            evidence=list(item.evidence),
            may_score=evaluation.state in SCORING_STATES and viewer.role in ITEM_SCORERS[item.assessor],
        )
    )


def evaluation_out(viewer: Viewer, evaluation: Evaluation) -> EvaluationOut:
    """The evaluation as this viewer sees it, with the events the viewer may fire now."""
    shown = results_visible(viewer, evaluation)
    return EvaluationOut.model_validate(
        Presented(
            evaluation,
            alliance_code=evaluation.alliance.code,
            alliance_name=evaluation.alliance.name,
            state_label=EVALUATION_WORKFLOW.label(evaluation.state),
            total=evaluation.total if shown else None,
            grade=evaluation.grade if shown else None,
            items=[_item_out(viewer, evaluation, i) for i in evaluation.items],
            pending_items=[i.key for i in evaluation.items if i.final is None],
            allowed_events=EVALUATION_WORKFLOW.allowed_events(evaluation, viewer.role),
        )
    )


def review_flag_out(flag: ReviewFlag) -> ReviewFlagOut:
    return ReviewFlagOut.model_validate(
        Presented(
            flag,
            alliance_name=flag.alliance.name,
            kindergarten_name=flag.kindergarten.name if flag.kindergarten else "",
            reason_label=REASON_LABELS.get(flag.reason, flag.reason),
            decision_label=DECISION_LABELS.get(flag.decision or "", ""),
        )
    )
