"""What the registry looks like on the wire."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from workflows.presenters import Presented
from workflows.ranges import Version
from workflows.registry import roster_rules
from workflows.registry.models import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    Alliance,
    Kindergarten,
    Teacher,
    TeacherLevel,
)
from workflows.registry.research_group import ResearchGroup
from workflows.registry.roster_rules import STATUS_LABELS as ROSTER_STATUS_LABELS
from workflows.registry.service import KindergartenView


class Contacts(BaseModel):
    address: str
    head_name: str
    head_phone: str
    contact_name: str
    contact_phone: str


class KindergartenRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str


class KindergartenOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    category: str
    category_label: str
    rating: str
    rating_label: str
    status: str
    status_label: str
    town: str
    credit_code: str | None
    licence_no: str | None
    licence_issued_on: date | None
    alliance_id: uuid.UUID | None
    alliance_role: str | None
    alliance_role_label: str | None
    # Present only for viewers allowed to see the kindergarten's private details.
    contacts: Contacts | None = None

    @classmethod
    def of(cls, view: KindergartenView) -> KindergartenOut:
        k, m = view.kindergarten, view.membership
        return cls(
            id=k.id,
            code=k.code,
            name=k.name,
            category=k.category.value,
            category_label=CATEGORY_LABELS[k.category],
            rating=k.rating.value,
            rating_label=RATING_LABELS[k.rating],
            status=k.status.value,
            status_label=STATUS_LABELS[k.status],
            town=k.town,
            credit_code=k.credit_code,
            licence_no=k.licence_no,
            licence_issued_on=k.licence_issued_on,
            alliance_id=m.alliance_id if m else None,
            alliance_role=m.role.value if m else None,
            alliance_role_label=ROLE_LABELS[m.role] if m else None,
            contacts=Contacts(
                address=k.address,
                head_name=k.head_name,
                head_phone=k.head_phone,
                contact_name=k.contact_name,
                contact_phone=k.contact_phone,
            )
            if view.private
            else None,
        )


def ref(k: Kindergarten | None) -> KindergartenRef | None:
    return KindergartenRef.model_validate(k) if k else None


class TeacherRef(BaseModel):
    """A teacher as the alliance sees them (research group, activity lists): no contacts."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    post: str
    level: str
    level_label: str
    mentor_team: str | None
    kindergarten_id: uuid.UUID

    @classmethod
    def of(cls, t: Teacher) -> Self:
        return cls.model_validate(_teacher(t))


def _teacher(t: Teacher, **extra: object) -> Presented:
    return Presented(t, level=t.level.value, level_label=LEVEL_LABELS[t.level], **extra)


class TeacherOut(TeacherRef):
    """A roster entry (教师名册), for those who keep or may read the roster."""

    kindergarten_name: str
    birth_year: int | None
    phone: str | None
    active: bool
    status_label: str
    left_on: date | None
    version: Version

    @classmethod
    def of(cls, t: Teacher) -> Self:
        return cls.model_validate(
            _teacher(t, kindergarten_name=t.kindergarten.name, status_label=ROSTER_STATUS_LABELS[t.active])
        )


def _name(value: Any) -> Any:
    return roster_rules.clean_name(value) if isinstance(value, str) else _required(value, "请填写姓名")


def _post(value: Any) -> Any:
    return roster_rules.clean_post(value) if isinstance(value, str) else _required(value, "请填写岗位")


def _level(value: Any) -> Any:
    return roster_rules.level_of(value) if isinstance(value, str) else _required(value, "请选择教师层级")


CLEARING = {"name": "请填写姓名", "post": "请填写岗位", "level": "请选择教师层级", "active": "请选择在职或离职"}


def _required(value: Any, message: str) -> Any:
    if value is None:
        raise ValueError(message)
    return value


def _birth_year(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return roster_rules.parse_birth_year(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return roster_rules.check_birth_year(value)
    raise ValueError("出生年份须为四位数字，例如 1990")


def _phone(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return roster_rules.normalise_phone(value)
    raise ValueError(f"电话号码格式不正确（{roster_rules.PHONE_FORMAT}）")


Name = Annotated[str, BeforeValidator(_name)]
Post = Annotated[str, BeforeValidator(_post)]
Level = Annotated[TeacherLevel, BeforeValidator(_level)]
BirthYear = Annotated[int | None, BeforeValidator(_birth_year)]
Phone = Annotated[str | None, BeforeValidator(_phone)]


class TeacherCreate(BaseModel):
    """A new roster entry. ``kindergarten_id`` may be left out by a principal (its own)."""

    model_config = ConfigDict(extra="forbid")

    kindergarten_id: uuid.UUID | None = None
    name: Name
    post: Post = roster_rules.DEFAULT_POST
    level: Level
    birth_year: BirthYear = None
    phone: Phone = None


class TeacherUpdate(BaseModel):
    """Changes to a roster entry; fields left out stay as they are, ``null`` clears phone or birth year.
    ``active: false`` marks the teacher as left (离职), ``true`` back at work."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    name: Name | None = None
    post: Post | None = None
    level: Level | None = None
    birth_year: BirthYear = None
    phone: Phone = None
    active: bool | None = None

    @field_validator("name", "post", "level", "active", mode="before")
    @classmethod
    def _not_cleared(cls, value: Any, info: ValidationInfo) -> Any:
        # Leaving a field out keeps it; only phone and birth year may be cleared with null.
        return _required(value, CLEARING.get(info.field_name or "", "此项必填"))


class SeatOut(BaseModel):
    kindergarten: KindergartenRef
    role: str
    role_label: str
    teacher: TeacherRef | None
    named: bool


class ResearchGroupOut(BaseModel):
    leader: TeacherRef | None
    members: list[TeacherRef]
    seats: list[SeatOut]

    @classmethod
    def of(cls, group: ResearchGroup) -> ResearchGroupOut:
        return cls(
            leader=TeacherRef.of(group.leader) if group.leader else None,
            members=[TeacherRef.of(t) for t in group.members],
            seats=[
                SeatOut(
                    kindergarten=KindergartenRef(
                        id=s.kindergarten.id, code=s.kindergarten.code, name=s.kindergarten.name
                    ),
                    role=s.role.value,
                    role_label=s.role_label,
                    teacher=TeacherRef.of(s.teacher) if s.teacher else None,
                    named=s.named,
                )
                for s in group.seats
            ],
        )


class SeatIn(BaseModel):
    """The teacher a kindergarten sends to the group; ``null`` returns the seat to its 业务园长."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: uuid.UUID | None


class LeaderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teacher_id: uuid.UUID


class AllianceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    active: bool
    lead: KindergartenRef | None
    pillar: KindergartenRef | None
    members: list[KindergartenRef]
    service_area: list[str]
    research_group: ResearchGroupOut | None = None

    @classmethod
    def of(cls, a: Alliance, group: ResearchGroup | None = None) -> AllianceOut:
        return cls.model_validate(
            Presented(
                a,
                service_area=list(a.service_area or []),
                research_group=ResearchGroupOut.of(group) if group else None,
            )
        )


class ServiceAreaIn(BaseModel):
    """The 乡镇/街道 an alliance serves, replacing the list it had (checked by the service, in Chinese)."""

    service_area: list[str]
