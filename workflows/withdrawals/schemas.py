"""Withdrawal requests on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from workflows.ranges import Version


class WithdrawalIn(BaseModel):
    """A member kindergarten's request to leave its alliance."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class WithdrawalEventBody(BaseModel):
    """``POST /api/withdrawals/<id>/events/<event>``: approve · refuse (``comment`` required) · cancel."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = Field(default="", max_length=2000)


class WithdrawalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    state: str
    state_label: str
    version: Version
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    alliance_id: uuid.UUID
    alliance_name: str
    reason: str
    decision_comment: str
    created_at: datetime
    decided_at: datetime | None
    ended_on: date | None
    allowed_events: list[str]
