"""The 1+1+N composition of an alliance, as the plan sets it: 「以1所省级示范园、公办园为龙头，1所乡镇中心
幼儿园为支柱，N所民办园为主体」. Every registry edit that places a kindergarten in an alliance (the
arrangement import, an approved application) asks here first."""

from __future__ import annotations

from workflows.registry.models import (
    CATEGORY_LABELS,
    RATING_LABELS,
    AllianceRole,
    Category,
    Rating,
)

RULES = {
    AllianceRole.LEAD: "龙头园须为省级示范园或区直属公办园",
    AllianceRole.PILLAR: "支柱园须为乡镇中心幼儿园",
    AllianceRole.MEMBER: "成员园须为民办园（民办及企事业办园）",
}


def fits(role: AllianceRole, category: Category, rating: Rating) -> bool:
    """Whether a kindergarten of this category and rating may hold this place in an alliance."""
    if role is AllianceRole.LEAD:
        return category is Category.DISTRICT_DIRECT or rating is Rating.PROVINCIAL_DEMO
    if role is AllianceRole.PILLAR:
        return category is Category.TOWNSHIP_CENTRAL
    return category is Category.PRIVATE


def kind_label(category: Category, rating: Rating) -> str:
    """「民办及企事业办园（市级示范）」: the category, with the rating when there is one."""
    rating_label = RATING_LABELS[rating]
    return CATEGORY_LABELS[category] + (f"（{rating_label}）" if rating_label else "")


def composition_problem(role: AllianceRole, category: Category, rating: Rating) -> str | None:
    """Why a kindergarten may not hold ``role`` (「该园为…；龙头园须为…」), or None when it may."""
    if fits(role, category, rating):
        return None
    return f"该园为{kind_label(category, rating)}；{RULES[role]}"
