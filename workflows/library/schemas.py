"""The resource library on the wire: promotion, tags, search results, recommendations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.activities.vocabulary import DOMAINS, MaterialCategory
from workflows.ranges import Version

AgeGroup = Literal["小班", "中班", "大班"]
AGE_GROUPS: tuple[str, ...] = ("小班", "中班", "大班")
# What may be promoted: the research products of an activity, not its sign-in sheets or photos.
PROMOTABLE = (
    MaterialCategory.LESSON_CASE,
    MaterialCategory.REFLECTION,
    MaterialCategory.LESSON_PLAN,
    MaterialCategory.REPORT,
)


def _keywords(values: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if any(len(v) > 20 for v in cleaned):
        raise ValueError("每个关键词不超过 20 个字")
    return cleaned


def _domain(value: str | None) -> str | None:
    if value is not None and value not in DOMAINS:
        raise ValueError(f"领域只能是{'、'.join(DOMAINS)}之一")
    return value


class Tags(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200)
    domain: str | None = None
    age_group: AgeGroup | None = None
    keywords: list[str] = Field(default_factory=list, max_length=10)

    _check_keywords = field_validator("keywords")(_keywords)
    _check_domain = field_validator("domain")(_domain)


class PromoteBody(Tags):
    material_id: uuid.UUID


class ItemUpdate(Tags):
    version: Version


class ItemRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version


class ItemOut(BaseModel):
    id: uuid.UUID
    material_id: uuid.UUID
    activity_id: uuid.UUID
    activity_number: str
    activity_topic: str
    alliance_id: uuid.UUID
    alliance_name: str
    title: str
    category: str
    category_label: str
    domain: str
    age_group: str | None
    format: str
    year: int
    keywords: list[str]
    filename: str
    content_type: str
    size: int
    sha256: str
    excerpt: str
    text_indexed: bool
    text_state: str  # pending (处理中), ready, none (a PDF: title and tags only), failed
    text_state_label: str
    text_problem: str
    promoter_name: str
    promoted_at: datetime
    version: Version


class SearchOut(BaseModel):
    query: str
    words: list[str]
    total: int
    items: list[ItemOut]


class RecommendationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Empty: the journal the policy names for the item's kind (课例 or 反思).
    journal: str | None = Field(default=None, min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class RecommendationEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = ""


class RecommendationOut(BaseModel):
    id: uuid.UUID
    number: str
    item_id: uuid.UUID
    item_title: str
    journal: str
    reason: str
    state: str
    state_label: str
    version: Version
    last_comment: str
    recommender_name: str
    created_at: datetime
    shortlisted_at: datetime | None
    submitted_at: datetime | None
    allowed_events: list[str]
