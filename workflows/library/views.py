"""Turning library items and recommendations into what the API returns."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.library.extraction import TEXT_STATE_LABELS, TextState
from workflows.library.machine import RECOMMENDATION_WORKFLOW
from workflows.library.models import LibraryItem, Recommendation
from workflows.library.schemas import ItemOut, RecommendationOut, kind_label
from workflows.presenters import Presented

DISTRICT_WIDE = "全区通用"


def alliance_name(item: LibraryItem) -> str:
    """The item's alliance, or 全区通用 for an uploaded document meant for every alliance."""
    return item.alliance.name if item.alliance is not None else DISTRICT_WIDE


def item_out(item: LibraryItem) -> ItemOut:
    activity = item.activity
    return ItemOut.model_validate(
        Presented(
            item,
            source="upload" if item.uploaded else "activity",
            activity_number=activity.number if activity is not None else None,
            activity_topic=activity.topic if activity is not None else None,
            alliance_name=alliance_name(item),
            category_label=kind_label(item.category),
            text_state_label=TEXT_STATE_LABELS[TextState(item.text_state)],
        )
    )


def recommendation_out(viewer: Viewer, recommendation: Recommendation) -> RecommendationOut:
    return RecommendationOut.model_validate(
        Presented(
            recommendation,
            item_title=recommendation.item.title,
            state_label=RECOMMENDATION_WORKFLOW.label(recommendation.state),
            allowed_events=RECOMMENDATION_WORKFLOW.allowed_events(recommendation, viewer.role),
        )
    )
