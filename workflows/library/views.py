"""Turning library items and recommendations into what the API returns."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.library.extraction import TEXT_STATE_LABELS, TextState
from workflows.library.machine import RECOMMENDATION_WORKFLOW
from workflows.library.models import LibraryItem, Recommendation
from workflows.library.schemas import ItemOut, RecommendationOut, kind_label

DISTRICT_WIDE = "全区通用"


def alliance_name(item: LibraryItem) -> str:
    """The item's alliance, or 全区通用 for an uploaded document meant for every alliance."""
    return item.alliance.name if item.alliance is not None else DISTRICT_WIDE


def item_out(item: LibraryItem) -> ItemOut:
    activity = item.activity
    return ItemOut(
        id=item.id,
        source="upload" if item.uploaded else "activity",
        material_id=item.material_id,
        activity_id=item.activity_id,
        activity_number=activity.number if activity is not None else None,
        activity_topic=activity.topic if activity is not None else None,
        alliance_id=item.alliance_id,
        alliance_name=alliance_name(item),
        title=item.title,
        category=item.category,
        category_label=kind_label(item.category),
        domain=item.domain,
        age_group=item.age_group,
        format=item.format,
        year=item.year,
        keywords=item.keywords,
        filename=item.filename,
        content_type=item.content_type,
        size=item.size,
        sha256=item.sha256,
        excerpt=item.excerpt,
        text_indexed=item.text_indexed,
        text_state=item.text_state,
        text_state_label=TEXT_STATE_LABELS[TextState(item.text_state)],
        text_problem=item.text_problem,
        promoter_name=item.promoter_name,
        promoted_at=item.promoted_at,
        version=item.version,
    )


def recommendation_out(viewer: Viewer, recommendation: Recommendation) -> RecommendationOut:
    return RecommendationOut(
        id=recommendation.id,
        number=recommendation.number,
        item_id=recommendation.item_id,
        item_title=recommendation.item.title,
        journal=recommendation.journal,
        reason=recommendation.reason,
        state=recommendation.state,
        state_label=RECOMMENDATION_WORKFLOW.label(recommendation.state),
        version=recommendation.version,
        last_comment=recommendation.last_comment,
        recommender_name=recommendation.recommender_name,
        created_at=recommendation.created_at,
        shortlisted_at=recommendation.shortlisted_at,
        submitted_at=recommendation.submitted_at,
        allowed_events=RECOMMENDATION_WORKFLOW.allowed_events(recommendation, viewer.role),
    )
