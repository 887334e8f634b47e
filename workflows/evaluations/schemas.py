"""Evaluations, schemes and review flags on the wire."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workflows.evaluations.scheme import Scheme, SchemeItem
from workflows.ranges import Version

Year = Annotated[int, Field(ge=2000, le=2100)]
Remark = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
ItemKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Score = Annotated[float, Field(ge=0, le=100)]


class SchemeOut(BaseModel):
    year: int
    version: Version | None
    locked: bool
    items: list[SchemeItem]


class SchemeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = None
    items: list[SchemeItem]

    @model_validator(mode="after")
    def _whole(self) -> SchemeUpdate:
        Scheme(items=self.items)  # the same checks as a stored scheme: unique keys, 100 base points
        return self


class OpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year


class SelfScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: ItemKey
    score: Score
    remark: Remark = ""


class FinalScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: ItemKey
    score: Score
    comment: Remark = ""
    # On a veto item: a major incident (重大安全事故) happened, so the alliance cannot be 优秀.
    veto: bool = False


class EventBody(BaseModel):
    """The uniform body of ``POST /api/evaluations/<id>/events/<event>``."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: Remark = ""
    items: list[SelfScore] | None = None  # self_assess
    scores: list[FinalScore] | None = None  # score


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    section: str
    label: str
    criteria: str
    max_points: float
    assessor: str
    assessor_label: str
    method: str
    veto: bool
    bonus: bool
    computed: float | None
    evidence: list[str]
    self_score: float | None
    self_remark: str
    final_score: float | None
    final_comment: str
    final: float | None
    veto_triggered: bool
    scored_by: str
    scored_at: datetime | None
    may_score: bool


class EvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    alliance_id: uuid.UUID
    alliance_code: str
    alliance_name: str
    year: int
    state: str
    state_label: str
    version: Version
    total: float | None  # None before publication unless the caller is the bureau (page: 待评分)
    grade: str | None
    vetoed: bool
    self_remarks: str
    last_comment: str
    computed_at: datetime
    self_assessed_at: datetime | None
    scored_at: datetime | None
    published_at: datetime | None
    items: list[ItemOut]
    pending_items: list[str]
    allowed_events: list[str]


class ReviewFlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    evaluation_id: uuid.UUID
    alliance_id: uuid.UUID
    alliance_name: str
    kindergarten_id: uuid.UUID | None
    kindergarten_name: str
    year: int
    reason: str
    reason_label: str
    detail: str
    decision: str | None
    decision_label: str
    decision_comment: str
    decided_by: str
    decided_at: datetime | None
    version: Version


class DecideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    decision: Literal["keep", "warn", "remove"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
