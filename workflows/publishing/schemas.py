"""Activity news on the wire: drafts, events, photos and their consent."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workflows.ranges import Version


class ReportFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str = Field(default="", max_length=1000)
    # Photos to go with the report; None chooses every photo of the activity.
    media_ids: list[uuid.UUID] | None = None


class ReportCreate(ReportFields):
    activity_id: uuid.UUID
    material_id: uuid.UUID


class ReportUpdate(ReportFields):
    version: Version
    material_id: uuid.UUID | None = None


class ReportEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = ""


class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    consent: bool
    note: str = Field(default="", max_length=200)


class ConsentOut(BaseModel):
    material_id: uuid.UUID
    filename: str
    content_type: str
    consent: bool | None
    note: str
    recorder_name: str
    recorded_at: datetime | None


class ReportMediaOut(BaseModel):
    material_id: uuid.UUID
    filename: str
    consent: bool | None
    # True when the photo goes (or went) out with the report: chosen, an image, and consented.
    publishable: bool


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activity_id: uuid.UUID
    activity_topic: str
    alliance_name: str
    material_id: uuid.UUID
    title: str
    summary: str
    state: str
    state_label: str
    version: Version
    last_comment: str
    author_name: str
    approver_name: str
    created_at: datetime
    approved_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    # After publication the text is read by a task: pending (处理中), ready (on the public page), failed.
    body_state: str
    body_state_label: str
    body_problem: str
    public_url: str | None
    media: list[ReportMediaOut]
    allowed_events: list[str]
