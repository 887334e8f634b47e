"""The application form (申请表) and what the API returns."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from workflows import clock
from workflows.ranges import Version
from workflows.registry.credit_code import credit_code_problem


class Ownership(StrEnum):
    NONPROFIT = "nonprofit"
    FORPROFIT = "forprofit"


class InspectionResult(StrEnum):
    PASSED = "passed"
    CONDITIONAL = "conditional"
    FAILED = "failed"


class AttachmentKind(StrEnum):
    LICENCE = "licence"
    INSPECTION = "inspection"
    FIRE_SAFETY = "fire_safety"
    FOOD_SAFETY = "food_safety"
    SAFETY_PLEDGE = "safety_pledge"


NEEDS = ("管理", "课程", "游戏", "环境", "保育", "师资", "家园共育", "其他")
OWNERSHIP_LABELS = {Ownership.NONPROFIT: "民办非营利性", Ownership.FORPROFIT: "营利性"}
INSPECTION_LABELS = {
    InspectionResult.PASSED: "合格",
    InspectionResult.CONDITIONAL: "基本合格",
    InspectionResult.FAILED: "不合格",
}
ATTACHMENT_LABELS = {
    AttachmentKind.LICENCE: "办园许可证",
    AttachmentKind.INSPECTION: "年检证明",
    AttachmentKind.FIRE_SAFETY: "消防安全证明",
    AttachmentKind.FOOD_SAFETY: "食品经营许可证",
    AttachmentKind.SAFETY_PLEDGE: "安全承诺书",
}
REQUIRED_ATTACHMENTS = (AttachmentKind.LICENCE, AttachmentKind.INSPECTION, AttachmentKind.SAFETY_PLEDGE)

FIELD_LABELS = {
    "name": "园所名称",
    "credit_code": "统一社会信用代码",
    "licence_no": "办园许可证编号",
    "licence_issued_on": "发证日期",
    "sponsor": "举办者",
    "legal_representative": "法定代表人",
    "head_name": "园长姓名",
    "head_phone": "园长电话",
    "contact_name": "联络人",
    "contact_phone": "联络人电话",
    "address": "地址",
    "town": "所属乡镇/街道",
    "ownership": "办园性质",
    "inclusive": "是否普惠",
    "classes": "班级数",
    "children": "在园幼儿数",
    "staff": "教职工数",
    "teachers": "专任教师数",
    "certified_teachers": "持证教师数",
    "site_area_m2": "占地面积",
    "building_area_m2": "建筑面积",
    "last_inspection_year": "最近年检年度",
    "last_inspection_result": "最近年检结果",
    "penalties_last_3_years": "近三年行政处罚次数",
    "safety_incidents_last_3_years": "近三年安全事故次数",
    "preferred_alliance_id": "申请加入的联盟",
    "reasons": "申请理由",
    "needs": "需求诊断",
    "commitments_accepted": "承诺事项",
}
# Everything but these must be present to submit (the bureau assigns the alliance in the end).
OPTIONAL_ON_SUBMIT = frozenset({"needs", "preferred_alliance_id"})

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
Text50 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=100000)]
Area = Annotated[float, Field(ge=0, le=1_000_000)]


class ApplicationForm(BaseModel):
    """Every field may be missing in a draft; what is present must be valid."""

    model_config = ConfigDict(extra="forbid")

    name: Text100 | None = None
    credit_code: str | None = None
    licence_no: Text50 | None = None
    licence_issued_on: date | None = None
    sponsor: Text100 | None = None
    legal_representative: Text50 | None = None
    head_name: Text50 | None = None
    head_phone: str | None = None
    contact_name: Text50 | None = None
    contact_phone: str | None = None
    address: Text200 | None = None
    town: Text50 | None = None
    ownership: Ownership | None = None
    inclusive: bool | None = None
    classes: Count | None = None
    children: Count | None = None
    staff: Count | None = None
    teachers: Count | None = None
    certified_teachers: Count | None = None
    site_area_m2: Area | None = None
    building_area_m2: Area | None = None
    last_inspection_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    last_inspection_result: InspectionResult | None = None
    penalties_last_3_years: Count | None = None
    safety_incidents_last_3_years: Count | None = None
    preferred_alliance_id: uuid.UUID | None = None
    reasons: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] | None = None
    needs: list[str] | None = None
    commitments_accepted: bool | None = None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        problem = credit_code_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("head_phone", "contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().replace(" ", "")
        if not PHONE.match(value):
            raise ValueError("电话号码格式不正确（手机 11 位，或区号-座机号）")
        return value

    @field_validator("needs")
    @classmethod
    def _needs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [v for v in value if v not in NEEDS]
        if unknown:
            raise ValueError(f"需求诊断只能选择：{'、'.join(NEEDS)}")
        return list(dict.fromkeys(value))

    @field_validator("licence_issued_on")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > clock.today():
            raise ValueError("发证日期不能晚于今天")
        return value


class ApplicationCreate(ApplicationForm):
    pass


class ApplicationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version
    form: ApplicationForm


class EventBody(BaseModel):
    """The uniform body of ``POST .../events/<event>``; extra event fields are allowed."""

    model_config = ConfigDict(extra="allow")

    version: Version
    comment: str = Field(default="", max_length=2000)
    alliance_id: uuid.UUID | None = None


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    kind_label: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    current: bool


class CheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    label: str
    result: str
    detail: str


class AllianceSuggestion(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    reason: str


class DecisionOut(BaseModel):
    """The 批复 on a decided application: its number, what it decided, and its files."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    outcome: str
    outcome_label: str
    alliance_name: str
    opinion: str
    decided_on: date
    verification_code: str
    docx_document_id: uuid.UUID | None
    pdf_document_id: uuid.UUID | None
    # The letter renders after the decision commits: 「生成中」 until its files are stored.
    letter_generating: bool = False


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    state: str
    state_label: str
    version: Version
    form: dict[str, Any]
    eligibility: list[CheckOut]
    approved_alliance_id: uuid.UUID | None
    last_comment: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    attachments: list[AttachmentOut]
    allowed_events: list[str]
    suggested_alliance: AllianceSuggestion | None = None
    decision: DecisionOut | None = None
    # The 申请表 of the last submission or decision: generating (「生成中」, rendered after commit), ready, none.
    form_status: str = "none"
    form_status_label: str = "未生成"


class MemberNeedsOut(BaseModel):
    """A member of an alliance and the needs (需求诊断) and reasons its approved application stated."""

    kindergarten_id: uuid.UUID
    kindergarten_name: str
    town: str
    joined_on: date
    application_id: uuid.UUID | None
    application_number: str | None
    needs: list[str]
    reasons: str
