"""Compliance with the plan's semester rules and the 继续教育 ledger, on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class WorkStatusOut(BaseModel):
    status: str
    status_label: str
    overdue: bool
    due_on: date
    submitted_at: datetime | None


class CountingOut(BaseModel):
    """One activity of the semester and whether (and why) it counts towards the minimum."""

    model_config = ConfigDict(from_attributes=True)

    activity_id: uuid.UUID
    number: str
    topic: str
    format: str
    state: str
    counts: bool
    reason: str
    announced_late: bool


class ComplianceOut(BaseModel):
    alliance_id: uuid.UUID
    alliance_code: str
    alliance_name: str
    semester: str
    semester_name: str
    centralised_held: int
    minimum: int
    meets_minimum: bool
    behind: bool
    activities: list[CountingOut]
    activities_by_state: dict[str, int]
    plan: WorkStatusOut
    summary: WorkStatusOut
    materials_overdue: list[str]


class LedgerRow(BaseModel):
    teacher_id: uuid.UUID
    teacher_code: str
    teacher_name: str
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    activities_attended: int
    presented: int
    participated: int
    leave: int
    absent: int
    hours: float
