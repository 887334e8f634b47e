"""The evaluation scheme of a year, as data the officer may edit until the year's evaluation opens.

Each item has a maximum, an assessor and a method. ``assessor`` says who gives the final score:
``auto`` items are computed from the activity records (``workflows.evaluations.scoring``; the
officer may override one with a reason), ``researcher`` items are the professional ones the
district researcher (教研室) scores, ``officer`` items the ones the preschool section (成幼科)
scores. A ``veto`` item can bar 优秀 whatever the total; a ``bonus`` item counts beyond the 100.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.vocabulary import FORMATS, MIN_CENTRALISED
from workflows.errors import Conflict, Forbidden, StaleVersion
from workflows.evaluations.models import Evaluation, EvaluationScheme
from workflows.roles import Role

Assessor = Literal["auto", "officer", "researcher"]
BASE_POINTS = 100


class SemesterWorkParams(BaseModel):
    """Per semester, the plan or summary: on time earns the semester's share, late ``late_share`` of it."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["plan", "summary"]
    late_share: Annotated[float, Field(ge=0, le=1)] = 0.0


class ActivityCountParams(BaseModel):
    """Centralised activities held per semester against the minimum; ``per_missing`` off for each short."""

    model_config = ConfigDict(extra="forbid")
    per_missing: Annotated[float, Field(gt=0, le=100)] = 5.0
    # None: the semester's own minimum (Semester.min_centralised, 2 by default). Never below the plan's
    # floor of two (「每学期集中研讨活动不少于2次」): a scheme may ask more, not less.
    per_semester: Annotated[int, Field(le=20)] | None = None

    @field_validator("per_semester")
    @classmethod
    def _plan_floor(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_CENTRALISED:
            raise ValueError(
                f"方案规定每学期集中研讨活动不少于 {MIN_CENTRALISED} 次，每学期要求次数（per_semester）不能低于 {MIN_CENTRALISED}"
            )
        return value


class AttendanceParams(BaseModel):
    """Points by attendance rate: the first band whose minimum percentage is reached, else 0."""

    model_config = ConfigDict(extra="forbid")
    bands: list[tuple[Annotated[float, Field(ge=0, le=100)], Annotated[float, Field(ge=0)]]] = [
        (90, 10),
        (80, 7),
        (70, 4),
    ]

    @field_validator("bands")
    @classmethod
    def _distinct(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len({minimum for minimum, _ in value}) != len(value):
            raise ValueError("出勤率分档的起点不能重复")
        return value


class DomainsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_domains: Annotated[int, Field(ge=1, le=6)] = 4


class VisitsParams(BaseModel):
    """送教/跟岗 visits held in the year against a target number."""

    model_config = ConfigDict(extra="forbid")
    target: Annotated[int, Field(ge=1, le=100)] = 2
    formats: list[Literal[FORMATS]] = ["送教", "跟岗"]  # type: ignore[valid-type]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


METHOD_PARAMS: dict[str, type[BaseModel]] = {
    "semester_work": SemesterWorkParams,
    "activity_count": ActivityCountParams,
    "attendance": AttendanceParams,
    "materials_complete": NoParams,
    "materials_on_time": NoParams,
    "domains": DomainsParams,
    "members_active": NoParams,
    "visits": VisitsParams,
    "manual": NoParams,
}


def _param_problem(error: ErrorDetails) -> str:
    where = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ") if error["type"] == "value_error" else "取值不正确"
    return f"参数 {where}：{message}" if where else message


class SchemeItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    section: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    criteria: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    max_points: Annotated[float, Field(gt=0, le=100)]
    assessor: Assessor
    method: Literal[tuple(METHOD_PARAMS)]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)
    veto: bool = False
    bonus: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> SchemeItem:
        if (self.assessor == "auto") != (self.method != "manual"):
            raise ValueError("自动计算的项目须选择计算方法；人工评分的项目计算方法为 manual")
        try:
            params = METHOD_PARAMS[self.method].model_validate(self.params)
        except ValidationError as exc:  # said in Chinese, at the parameter it is about
            raise ValueError("；".join(_param_problem(e) for e in exc.errors())) from None
        self.params = params.model_dump(mode="json")
        if self.method == "attendance" and any(points > self.max_points for _, points in self.params["bands"]):
            raise ValueError("出勤率分档的分值不能超过该项满分")
        return self


class Scheme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[SchemeItem], Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _whole(self) -> Scheme:
        keys = [i.key for i in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError("项目代码不能重复")
        base = sum(i.max_points for i in self.items if not i.bonus)
        if abs(base - BASE_POINTS) > 1e-9:
            raise ValueError(f"基本项目满分合计须为 {BASE_POINTS} 分（现为 {base:g} 分），加分项另计")
        return self


def _item(key: str, section: str, label: str, max_points: float, assessor: str, method: str, criteria: str,
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"key": key, "section": section, "label": label, "max_points": max_points, "assessor": assessor,
            "method": method, "criteria": criteria, **extra}  # fmt: skip


DEFAULT_ITEMS: list[dict[str, Any]] = [
    _item("plan_on_time", "有计划", "学期计划按时提交", 5, "auto", "semester_work",
          "每学期按时提交联盟互动计划（截止日期前），每学期占本项分值的相应份额；逾期不得分",
          params={"kind": "plan", "late_share": 0.0}),
    _item("summary", "有计划", "学期小结", 5, "auto", "semester_work",
          "每学期提交教研经验小结，每学期占本项分值的相应份额",
          params={"kind": "summary", "late_share": 1.0}),
    _item("activity_count", "有内容", "集中研讨活动每学期不少于两次", 20, "auto", "activity_count",
          "每学期已举行的集中研讨类活动（集中研讨、公开课、观摩、讲座）不少于规定次数，每缺一次扣 5 分",
          params={"per_missing": 5}),
    _item("attendance", "有内容", "出勤率", 10, "auto", "attendance",
          "已举行活动的出勤人次 ÷ 应到人次：≥90% 得 10 分，80%–89% 得 7 分，70%–79% 得 4 分，其余 0 分"),
    _item("materials_complete", "有内容", "活动资料完整", 15, "auto", "materials_complete",
          "已举行活动七类资料（签到表、教案、反思、课例、研讨记录、影像资料、活动报道）齐全的比例 × 15"),
    _item("materials_on_time", "有内容", "活动资料及时", 5, "auto", "materials_on_time",
          "活动资料在活动后规定天数内上传的比例 × 5"),
    _item("domains", "有内容", "领域覆盖", 5, "auto", "domains",
          "全年已举行活动覆盖的领域（健康、语言、社会、科学、艺术、游戏）不少于四个得满分，不足按比例"),
    _item("members_active", "有成效", "成员园承办或展示", 10, "auto", "members_active",
          "联盟每所幼儿园全年至少承办一次活动或有教师主讲/执教一次，按达到的园所比例计分"),
    _item("visits", "有成效", "送教、跟岗", 5, "auto", "visits",
          "全年开展送教、跟岗活动不少于两次，不足按比例"),
    _item("outcomes", "有成效", "成效", 15, "researcher", "manual",
          "成员园保教质量提升、教师成长与获奖、家长满意度等，由教研室评定"),
    _item("safety", "规范", "安全与规范", 5, "officer", "manual",
          "活动组织安全规范；发生重大安全事故的，不得评为优秀（否决项）", veto=True),
    _item("bonus", "加分", "特色加分", 10, "officer", "manual",
          "区级以上展示、课题研究、经验推广等，最多加 10 分", bonus=True),
]  # fmt: skip


def default_scheme() -> Scheme:
    return Scheme.model_validate({"items": DEFAULT_ITEMS})


def scheme_for(*, session: Session, year: int) -> Scheme:
    """The year's scheme: as the officer set it, or the default."""
    stored = session.get(EvaluationScheme, year)
    return Scheme.model_validate({"items": stored.items}) if stored is not None else default_scheme()


def _opened(session: Session, year: int) -> bool:
    return session.scalar(select(Evaluation.id).where(Evaluation.year == year).limit(1)) is not None


def scheme_version(*, session: Session, year: int) -> int | None:
    """The stored scheme's version (None while the year uses the default)."""
    stored = session.get(EvaluationScheme, year)
    return stored.version if stored is not None else None


def is_open(*, session: Session, year: int) -> bool:
    """Whether the year's evaluation has opened (its scheme is then fixed)."""
    return _opened(session, year)


def save_scheme(*, session: Session, viewer: Viewer, year: int, scheme: Scheme, version: int | None) -> Scheme:
    """Set the year's scheme (officer), until the year's evaluation opens."""
    if viewer.role != Role.OFFICER:
        raise Forbidden("只有成幼科可以设置考核方案")
    if _opened(session, year):
        raise Conflict(f"{year} 年度考核已开始，考核方案不能再修改", code="scheme_locked")
    stored = session.get(EvaluationScheme, year)
    if stored is None:
        stored = EvaluationScheme(year=year)
        session.add(stored)
    elif version is not None and version != stored.version:
        raise StaleVersion()
    stored.items = scheme.model_dump(mode="json")["items"]
    stored.updated_by = viewer.display_name
    stored.updated_at = utcnow()
    session.flush()
    audit.append(session, entity_type="evaluation_scheme", entity_id=str(year), event="edit", actor=viewer.actor,
                 data={"keys": [i.key for i in scheme.items]})  # fmt: skip
    return scheme
