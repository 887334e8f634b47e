"""What the registry looks like on the wire."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict

from workflows.registry.models import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    Alliance,
    Kindergarten,
    Teacher,
)
from workflows.registry.service import KindergartenView, ResearchGroup


class Contacts(BaseModel):
    address: str
    head_name: str
    head_phone: str
    contact_name: str
    contact_phone: str


class KindergartenRef(BaseModel):
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
    return KindergartenRef(id=k.id, code=k.code, name=k.name) if k else None


class TeacherOut(BaseModel):
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
    def of(cls, t: Teacher) -> TeacherOut:
        return cls(
            id=t.id,
            code=t.code,
            name=t.name,
            post=t.post,
            level=t.level.value,
            level_label=LEVEL_LABELS[t.level],
            mentor_team=t.mentor_team,
            kindergarten_id=t.kindergarten_id,
        )


class ResearchGroupOut(BaseModel):
    leader: TeacherOut | None
    members: list[TeacherOut]

    @classmethod
    def of(cls, group: ResearchGroup) -> ResearchGroupOut:
        return cls(
            leader=TeacherOut.of(group.leader) if group.leader else None,
            members=[TeacherOut.of(t) for t in group.members],
        )


class AllianceOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    active: bool
    lead: KindergartenRef | None
    pillar: KindergartenRef | None
    members: list[KindergartenRef]
    research_group: ResearchGroupOut | None = None

    @classmethod
    def of(cls, a: Alliance, group: ResearchGroup | None = None) -> AllianceOut:
        return cls(
            id=a.id,
            code=a.code,
            name=a.name,
            active=a.active,
            lead=ref(a.lead),
            pillar=ref(a.pillar),
            members=[r for r in (ref(k) for k in a.members) if r is not None],
            research_group=ResearchGroupOut.of(group) if group else None,
        )
