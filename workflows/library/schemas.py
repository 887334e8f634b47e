"""The resource library on the wire: promotion, tags, search results, recommendations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.activities.vocabulary import CATEGORY_LABELS, DOMAINS, MaterialCategory
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
# What is uploaded on its own, not tied to an activity (policy §三(2)3: 管理制度 and 课程 resources).
DOCUMENT_KINDS: dict[str, str] = {"policy": "管理制度", "curriculum": "课程"}
KIND_LABELS: dict[str, str] = {**{c.value: CATEGORY_LABELS[c] for c in PROMOTABLE}, **DOCUMENT_KINDS}
DocumentKind = Literal["policy", "curriculum"]


def kind_label(category: str) -> str:
    """An item's kind as people read it: 课例、反思、教案、活动报道、管理制度、课程."""
    return KIND_LABELS.get(category, category)


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


class DocumentBody(Tags):
    """An uploaded document's description (the file comes beside it): kind, title, optional alliance and year."""

    title: str = Field(min_length=1, max_length=200)
    kind: DocumentKind
    alliance_id: uuid.UUID | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)


class ItemUpdate(Tags):
    version: Version


class ItemRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: Literal["activity", "upload"]  # promoted from an activity, or uploaded on its own
    material_id: uuid.UUID | None
    activity_id: uuid.UUID | None
    activity_number: str | None
    activity_topic: str | None
    alliance_id: uuid.UUID | None
    alliance_name: str  # 全区通用 for a document meant for every alliance
    title: str
    category: str
    category_label: str
    domain: str | None
    age_group: str | None
    format: str | None
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
    model_config = ConfigDict(from_attributes=True)

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
