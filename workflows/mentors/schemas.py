"""Mentor teams on the wire: nomination form, events, mentors, assignments, guidance, workload."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.mentors.vocabulary import TEAMS, GuidanceKind, Qualification
from workflows.ranges import Version


def _team(value: str) -> str:
    if value not in TEAMS:
        raise ValueError(f"导师团只能是{'、'.join(TEAMS)}之一")
    return value


class NominationForm(BaseModel):
    """What the nominating kindergarten writes about its teacher (推荐表)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    professional_title: str = Field(default="", max_length=50)
    teaching_years: int | None = Field(default=None, ge=0, le=60)
    phone: str = Field(default="", max_length=32)
    research_topics: str = Field(default="", max_length=2000)
    achievements: str = Field(min_length=1, max_length=4000)
    reasons: str = Field(min_length=1, max_length=4000)


class NominationCreate(NominationForm):
    teacher_id: uuid.UUID
    team: str
    qualifications: list[Qualification] = Field(min_length=1)

    _check_team = field_validator("team")(_team)


class NominationEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = ""
    term_start: date | None = None
    term_end: date | None = None
    alliance_ids: list[uuid.UUID] = Field(default_factory=list)


class ReviewEventBody(BaseModel):
    """A yearly review decision; rotate names the new alliances (and may change the team)."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = ""
    year: int | None = Field(default=None, ge=2000, le=2100)
    team: str | None = None
    alliance_ids: list[uuid.UUID] | None = None
    term_end: date | None = None

    @field_validator("team")
    @classmethod
    def _check_team(cls, value: str | None) -> str | None:
        return None if value is None else _team(value)


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance_id: uuid.UUID


class GuidanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    activity_id: uuid.UUID | None = None
    # 参与制定计划 attaches to the alliance's semester plan (联盟互动计划) instead of an activity.
    plan_id: uuid.UUID | None = None
    mentor_id: uuid.UUID
    kind: GuidanceKind
    note: str = Field(default="", max_length=500)


class NominationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    teacher_id: uuid.UUID
    teacher_name: str
    teacher_level_label: str
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    team: str
    qualifications: list[str]
    qualification_labels: list[str]
    form: dict[str, Any]
    state: str
    state_label: str
    version: Version
    last_comment: str
    created_at: datetime
    decided_at: datetime | None
    mentor_id: uuid.UUID | None
    allowed_events: list[str]


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    alliance_id: uuid.UUID
    alliance_name: str
    started_on: date
    ended_on: date | None


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    decision: str
    decision_label: str
    comment: str
    team_before: str
    team_after: str | None
    alliances_after: list[str]
    decider_name: str
    decided_at: datetime


class MentorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    teacher_id: uuid.UUID
    teacher_name: str
    teacher_level_label: str
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    team: str
    team_label: str
    term_start: date
    term_end: date
    state: str
    state_label: str
    version: Version
    appointed_at: datetime
    retired_at: datetime | None
    assignments: list[AssignmentOut]
    reviews: list[ReviewOut]
    allowed_events: list[str]


class GuidanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activity_id: uuid.UUID | None
    plan_id: uuid.UUID | None
    mentor_id: uuid.UUID
    mentor_name: str
    kind: str
    kind_label: str
    note: str
    recorded_at: datetime


class WorkloadRow(BaseModel):
    # A plan's row has no activity: it names the plan (``plan_id``) and its semester.
    activity_id: uuid.UUID | None
    plan_id: uuid.UUID | None = None
    number: str
    held_on: date
    alliance_name: str
    topic: str
    format: str
    role: str
    role_label: str
    hours: float


class WorkloadOut(BaseModel):
    mentor_id: uuid.UUID
    year: int
    activities: int
    presented: int
    guided: dict[str, int]
    alliances: list[str]
    rows: list[WorkloadRow]


class RoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deadline: date
    note: str = Field(default="", max_length=2000)


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    deadline: date
    note: str
    opened_at: datetime
    closed_at: datetime | None


class LeaderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leader_id: uuid.UUID | None
    version: Version | None = None


class TeamOut(BaseModel):
    team: str
    label: str
    version: int
    leader_id: uuid.UUID | None
    leader_name: str | None
    members: int
    by_kindergarten: dict[str, int]
    by_level: dict[str, int]
    by_age: dict[str, int]
