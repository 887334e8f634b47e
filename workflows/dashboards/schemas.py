"""The overview dashboards on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class WorkStatusOut(BaseModel):
    status: str
    status_label: str
    due_on: date
    submitted_on: date | None
    overdue: bool


class SemesterOut(BaseModel):
    code: str
    name: str
    starts_on: date
    ends_on: date
    min_centralised: int
    centralised_held: int
    meets_minimum: bool
    by_state: dict[str, int]
    plan: WorkStatusOut
    summary: WorkStatusOut
    # 教研员深入各联盟: activities held with a researcher guiding, and who came.
    researcher_visits: int = 0
    researchers: list[str] = []


class MemberOut(BaseModel):
    kindergarten_id: uuid.UUID
    name: str
    role: str
    role_label: str
    hosted: int
    presented: int
    attended_activities: int
    never_attended: bool


class MaterialsOut(BaseModel):
    activities: int
    categories_present: int
    categories_expected: int
    completeness: float | None  # percent, one decimal
    overdue_activities: list[str]


class AttendanceOut(BaseModel):
    expected: int
    attended: int
    leave: int
    absent: int
    unrecorded: int
    rate: float | None  # percent, one decimal


class EvaluationBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    state: str
    state_label: str
    total: float | None  # None before publication unless the caller is the bureau
    grade: str | None


class AllianceDashboard(BaseModel):
    alliance_id: uuid.UUID
    code: str
    name: str
    lead_name: str
    pillar_name: str
    year: int
    members: list[MemberOut]
    semesters: list[SemesterOut]
    materials: MaterialsOut
    attendance: AttendanceOut
    evaluation: EvaluationBrief | None  # this year's, in whatever state
    last_grade: EvaluationBrief | None  # the latest published


class SemesterVisits(BaseModel):
    semester: str
    semester_name: str
    visits: int
    researchers: list[str]


class AllianceRow(BaseModel):
    alliance_id: uuid.UUID
    code: str
    name: str
    members: int
    centralised_held: int
    centralised_required: int
    meets_minimum: bool
    plans_on_time: int
    plans_late: int
    plans_missing: int
    summaries_in: int
    summaries_missing: int
    materials_completeness: float | None
    attendance_rate: float | None
    never_attended: int
    evaluation_state: str
    evaluation_total: float | None
    evaluation_grade: str
    last_grade: str
    # 教研员深入各联盟: per semester of the year, how many activities a researcher came to guide.
    researcher_visits: list[SemesterVisits] = []


class OverdueItem(BaseModel):
    kind: str
    kind_label: str
    alliance_code: str
    alliance_name: str
    reference: str
    label: str
    due_on: date
    days_overdue: int


class WaitingApplication(BaseModel):
    id: uuid.UUID
    number: str
    kindergarten_name: str
    state: str
    submitted_at: datetime | None
    days_waiting: int


class ApplicationsWaiting(BaseModel):
    count: int
    by_state: dict[str, int]
    oldest: list[WaitingApplication]


class DistrictDashboard(BaseModel):
    year: int
    today: date
    alliances: list[AllianceRow]
    overdue: list[OverdueItem]
    applications_waiting: ApplicationsWaiting
    review_flags_open: int
