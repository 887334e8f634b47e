"""Semesters, semester work and activities on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from workflows.clock import BEIJING
from workflows.documents.schemas import DocumentOut
from workflows.ranges import Version

Domain = Literal["健康", "语言", "社会", "科学", "艺术", "游戏"]
Format = Literal["集中研讨", "公开课", "讲座", "送教", "观摩", "跟岗", "线上"]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Paragraphs = Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)]
SemesterCode = Annotated[str, StringConstraints(pattern=r"^\d{4}-(spring|autumn)$")]


def in_china(value: datetime) -> datetime:
    """A time without a zone was typed in China: give it CST."""
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


ChinaTime = Annotated[datetime, AfterValidator(in_china)]


# --- semesters -------------------------------------------------------------------------------------


class SemesterCreate(BaseModel):
    """A new semester; its name (2026年秋季学期) follows from the code. Dates are checked by the service,
    each problem at its field."""

    model_config = ConfigDict(extra="forbid")

    code: SemesterCode
    starts_on: date
    ends_on: date
    plan_due_on: date | None = None
    summary_due_on: date | None = None
    materials_due_days: Annotated[int, Field(ge=0, le=90)] = 7
    # The plan's floor of 2 is the service's to explain (a Chinese message at the field), not a bare bound here.
    min_centralised: Annotated[int, Field(le=20)] = 2
    # 提前通报: days before the start an activity must be announced (at least 1, the service says why).
    notice_days: Annotated[int, Field(le=60)] = 3


class SemesterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date | None = None
    ends_on: date | None = None
    plan_due_on: date | None = None
    summary_due_on: date | None = None
    materials_due_days: Annotated[int, Field(ge=0, le=90)] | None = None
    min_centralised: Annotated[int, Field(le=20)] | None = None
    notice_days: Annotated[int, Field(le=60)] | None = None


class SemesterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    starts_on: date
    ends_on: date
    plan_due_on: date
    summary_due_on: date
    materials_due_days: int
    min_centralised: int
    notice_days: int


# --- plan and summary ------------------------------------------------------------------------------


class ScheduleItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: Line
    topic: Line
    format: Format | None = None
    domain: Domain | None = None
    host: Line = ""


class PlanForm(BaseModel):
    """联盟互动计划: what the alliance means to do this semester and when."""

    model_config = ConfigDict(extra="forbid")

    guiding_idea: Paragraphs = ""
    goals: Paragraphs = ""
    measures: Paragraphs = ""
    schedule: Annotated[list[ScheduleItem], Field(max_length=40)] = []
    safeguards: Paragraphs = ""


class SummaryForm(BaseModel):
    """教研经验小结: what was done, what came of it, what was learnt."""

    model_config = ConfigDict(extra="forbid")

    overview: Paragraphs = ""
    practices: Paragraphs = ""
    outcomes: Paragraphs = ""
    reflection: Paragraphs = ""
    improvements: Paragraphs = ""


class PlanSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = None
    form: PlanForm


class SummarySave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = None
    form: SummaryForm


class WorkOut(BaseModel):
    alliance_id: uuid.UUID
    alliance_name: str
    semester: str
    semester_name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    overdue: bool
    due_on: date
    source: str | None
    form: dict[str, Any]
    document: DocumentOut | None
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    version: Version | None
    # 经验交流: published to every alliance (and since when), or taken down (when and why).
    shared_at: datetime | None = None
    unshared_at: datetime | None = None
    unshare_reason: str = ""


# --- activities ------------------------------------------------------------------------------------


class ActivityFields(BaseModel):
    """What the organiser fills in; all optional so the same model serves edits."""

    model_config = ConfigDict(extra="forbid")

    topic: Topic | None = None
    domain: Domain | None = None
    format: Format | None = None
    starts_at: ChinaTime | None = None
    ends_at: ChinaTime | None = None
    place: Line | None = None
    meeting_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    host_kindergarten_id: uuid.UUID | None = None
    chair: Name | None = None
    goal: Paragraphs | None = None
    credit_hours: Annotated[float, Field(ge=0.5, le=40, multiple_of=0.5)] | None = None
    presenter_teacher_ids: Annotated[list[uuid.UUID], Field(max_length=20)] | None = None
    # None on create: the alliance's research group (every kindergarten's 业务园长).
    participant_teacher_ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = None


class ActivityCreate(ActivityFields):
    alliance_id: uuid.UUID
    semester: SemesterCode
    topic: Topic
    domain: Domain
    format: Format
    starts_at: ChinaTime
    host_kindergarten_id: uuid.UUID


class ActivityUpdate(ActivityFields):
    version: Version


class LateNoticeBody(BaseModel):
    """The section's leave to announce an activity after its notice period (逾期通报), with a reason."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class EventBody(BaseModel):
    """The uniform body of ``POST .../events/<event>``."""

    model_config = ConfigDict(extra="allow")

    version: Version
    comment: str = Field(default="", max_length=2000)


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    # None for a guest (someone not on any roster, recorded by name and kindergarten).
    teacher_id: uuid.UUID | None
    guest: bool
    walk_in: bool
    name: str
    post: str
    kindergarten_id: uuid.UUID | None
    kindergarten_name: str
    role: str
    # The researcher's account when a researcher came to guide (role ``guidance``).
    user_id: uuid.UUID | None = None
    attendance: str
    attendance_label: str
    signed_at: datetime | None
    # When they signed in themselves on the sign-in sheet's QR page (扫码签到).
    self_signed_at: datetime | None = None
    note: str


class AttendanceCounts(BaseModel):
    expected: int
    present: int
    late: int
    leave: int
    absent: int
    unrecorded: int


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    seq: int
    alliance_id: uuid.UUID
    alliance_name: str
    semester: str
    semester_name: str
    topic: str
    domain: str
    format: str
    # Counts towards the semester's minimum (held, a topic, its 研讨记录 on file), and why or why not.
    centralised: bool
    counting_reason: str
    starts_at: datetime
    ends_at: datetime | None
    place: str
    meeting_no: str
    host_kindergarten_id: uuid.UUID
    host_name: str
    chair: str
    goal: str
    credit_hours: float
    state: str
    state_label: str
    version: Version
    cancel_reason: str
    announced_at: datetime | None
    announced_in_advance: bool | None
    # 未提前通报: announced later than the semester's notice period, with the section's leave.
    announced_late: bool
    notice_due_on: date
    late_notice_allowed: bool
    late_notice_reason: str
    late_notice_allowed_by: str
    held_at: datetime | None
    archived_at: datetime | None
    cancelled_at: datetime | None
    participants: list[ParticipantOut]
    attendance: AttendanceCounts
    materials: int
    allowed_events: list[str]


class AttendanceEntry(BaseModel):
    """One person's attendance: someone on the list (``participant_id``, guests included) or a teacher
    (``teacher_id``; one of the alliance not on the list is added as a walk-in); exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    participant_id: uuid.UUID | None = None
    teacher_id: uuid.UUID | None = None
    attendance: Literal["present", "late", "leave", "absent"]
    signed_at: ChinaTime | None = None
    note: Line = ""


class AttendanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: Annotated[list[AttendanceEntry], Field(max_length=500)] = []
    # 「全部出席」: everyone on the list not yet recorded (nor in ``entries``) is recorded present.
    rest_present: bool = False


class WalkIn(BaseModel):
    """Someone who came without being on the list: a teacher of the alliance, or a guest by name and kindergarten."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: uuid.UUID | None = None
    guest_name: Name = ""
    guest_kindergarten: Line = ""
    attendance: Literal["present", "late"] = "present"
    signed_at: ChinaTime | None = None
    note: Line = ""


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    category: str
    category_label: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploader_name: str
    uploaded_at: datetime
    # Set once the material was withdrawn (撤回).
    withdrawn_at: datetime | None = None
    withdrawn_by: str = ""
    withdraw_reason: str = ""


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service, so an empty reason is refused in Chinese at the field.
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class CategoryStatus(BaseModel):
    category: str
    label: str
    files: int


class CompletenessOut(BaseModel):
    activity_id: uuid.UUID
    due_on: date
    overdue: bool
    complete: bool
    missing: list[str]
    categories: list[CategoryStatus]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    author_name: str
    author_role: str
    body: str
    created_at: datetime


class BundleStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    activity_id: uuid.UUID
    state: str
    state_label: str
    phase: str
    done: int
    total: int
    percent: int
    filename: str
    size: int | None
    sha256: str | None
    manifest_sha256: str | None
    error: str
    requested_at: datetime
    finished_at: datetime | None
