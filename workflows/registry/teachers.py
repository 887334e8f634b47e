"""The teacher roster (教师名册): who may read and keep it, and keeping it.

A kindergarten's principal account (applicant, lead or pillar) keeps its own kindergarten's
roster; the officer and the admin keep every kindergarten's; the researcher reads them all.
Another kindergarten's teacher is not found (404), as everywhere. A phone number belongs to one
active teacher in the district; a teacher who leaves is marked left, and deleted only when
nothing refers to them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.db import Base
from workflows import audit
from workflows.access import Viewer, ensure_visible
from workflows.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from workflows.numbering import next_value
from workflows.registry.models import Kindergarten, Membership, Teacher, TeacherLevel
from workflows.registry.roster_rules import district_today
from workflows.registry.schemas import TeacherCreate, TeacherUpdate
from workflows.registry.service import get_kindergarten
from workflows.roles import KINDERGARTEN_ROLES, Role

KEEPERS = frozenset({Role.OFFICER, Role.ADMIN})
PHONE_INDEX = "uq_teachers_active_phone"
EDITABLE = ("name", "post", "level", "birth_year", "phone")


# --- who may read and keep which roster -------------------------------------------------------


def roster_kindergarten(viewer: Viewer) -> uuid.UUID | None:
    """The one kindergarten whose roster a principal keeps; None for the bureau (every roster)."""
    if viewer.is_bureau:
        return None
    if viewer.role in KINDERGARTEN_ROLES and viewer.kindergarten_id is not None:
        return viewer.kindergarten_id
    raise NotFound()


def may_keep(viewer: Viewer, kindergarten_id: uuid.UUID) -> bool:
    """The officer and admin keep every roster, a principal its own kindergarten's."""
    if viewer.role in KEEPERS:
        return True
    return viewer.role in KINDERGARTEN_ROLES and viewer.kindergarten_id == kindergarten_id


def _filtered(
    stmt: Select[Teacher],
    *,
    kindergarten_id: uuid.UUID | None,
    alliance_id: uuid.UUID | None,
    level: TeacherLevel | None,
    active: bool | None,
    query: str | None,
) -> Select[Teacher]:
    if kindergarten_id is not None:
        stmt = stmt.where(Teacher.kindergarten_id == kindergarten_id)
    if alliance_id is not None:
        current = select(Membership.kindergarten_id).where(
            Membership.alliance_id == alliance_id, Membership.ended_on.is_(None)
        )
        stmt = stmt.where(Teacher.kindergarten_id.in_(current))
    if level is not None:
        stmt = stmt.where(Teacher.level == level)
    if active is not None:
        stmt = stmt.where(Teacher.active.is_(active))
    if query:
        stmt = stmt.where(or_(Teacher.name.contains(query), Teacher.phone.contains(query)))
    return stmt.options(selectinload(Teacher.kindergarten)).order_by(Kindergarten.code, Teacher.code)


def list_roster(
    *,
    session: Session,
    viewer: Viewer,
    kindergarten_id: uuid.UUID | None = None,
    alliance_id: uuid.UUID | None = None,
    level: TeacherLevel | None = None,
    active: bool | None = None,
    query: str | None = None,
) -> list[Teacher]:
    """The roster the viewer keeps or reads: the district's for the bureau, else its own kindergarten's."""
    own = roster_kindergarten(viewer)
    if own is not None and kindergarten_id not in (None, own):
        return []
    stmt = select(Teacher).join(Kindergarten)
    stmt = _filtered(
        stmt, kindergarten_id=own or kindergarten_id, alliance_id=alliance_id, level=level, active=active, query=query
    )
    return list(session.scalars(stmt))


def list_teachers(
    *,
    session: Session,
    viewer: Viewer,
    kindergarten_id: uuid.UUID | None = None,
    alliance_id: uuid.UUID | None = None,
    level: TeacherLevel | None = None,
    active: bool | None = True,
    query: str | None = None,
) -> list[Teacher]:
    """Teachers the viewer may name (to pick an activity's participants, say): the bureau every one,
    a kindergarten its own, and an alliance's lead and pillar every teacher of their alliance."""
    stmt = select(Teacher).join(Kindergarten)
    if not viewer.is_bureau:
        readable = [viewer.kindergarten_id] if viewer.kindergarten_id else []
        if viewer.role in (Role.LEAD, Role.PILLAR) and viewer.alliance_id is not None:
            in_alliance = select(Membership.kindergarten_id).where(
                Membership.alliance_id == viewer.alliance_id, Membership.ended_on.is_(None)
            )
            stmt = stmt.where(or_(Teacher.kindergarten_id.in_(readable), Teacher.kindergarten_id.in_(in_alliance)))
        else:
            stmt = stmt.where(Teacher.kindergarten_id.in_(readable))
    stmt = _filtered(
        stmt, kindergarten_id=kindergarten_id, alliance_id=alliance_id, level=level, active=active, query=query
    )
    return list(session.scalars(stmt))


def get_teacher(*, session: Session, viewer: Viewer, teacher_id: uuid.UUID, lock: bool = False) -> Teacher:
    """One roster entry the viewer may read; another kindergarten's is not found."""
    stmt = select(Teacher).where(Teacher.id == teacher_id)
    teacher = session.scalar(stmt.with_for_update() if lock else stmt)
    own = roster_kindergarten(viewer)
    if teacher is None or own not in (None, teacher.kindergarten_id):
        raise NotFound("教师不存在")
    return teacher


def _kept(session: Session, viewer: Viewer, teacher_id: uuid.UUID) -> Teacher:
    teacher = get_teacher(session=session, viewer=viewer, teacher_id=teacher_id, lock=True)
    if not may_keep(viewer, teacher.kindergarten_id):
        raise NotFound("教师不存在")  # the researcher reads rosters but keeps none
    return teacher


# --- keeping it ---------------------------------------------------------------------------------


def phone_holder(session: Session, phone: str, *, other_than: uuid.UUID | None = None) -> Teacher | None:
    """The active teacher who has ``phone``, if any (besides ``other_than``)."""
    stmt = select(Teacher).where(Teacher.phone == phone, Teacher.active)
    if other_than is not None:
        stmt = stmt.where(Teacher.id != other_than)
    return session.scalar(stmt.options(selectinload(Teacher.kindergarten)))


def duplicate_phone(viewer: Viewer, holder: Teacher) -> FieldError:
    # The office may learn who holds the number; a principal learns only that someone does.
    if viewer.is_bureau:
        who = f"{holder.kindergarten.name}的在职教师{holder.name}"
    else:
        who = "本区另一位在职教师" if holder.kindergarten_id != viewer.kindergarten_id else f"本园在职教师{holder.name}"
    return FieldError("phone", "duplicate", f"该电话号码已由{who}使用，在职教师的电话不能重复")


def _check_phone(session: Session, viewer: Viewer, teacher: Teacher) -> None:
    if teacher.active and teacher.phone:
        with session.no_autoflush:  # the change itself is checked before it is written
            holder = phone_holder(session, teacher.phone, other_than=teacher.id)
        if holder is not None:
            raise ValidationFailed([duplicate_phone(viewer, holder)])


def _flush(session: Session) -> None:
    """Flush, turning a phone taken meanwhile by a concurrent writer into the same 422 as above."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if PHONE_INDEX not in str(exc.orig) and "teachers.phone" not in str(exc.orig):
            raise
        message = "该电话号码已由另一位在职教师使用，在职教师的电话不能重复"
        raise ValidationFailed.single("phone", "duplicate", message) from None


def next_code(session: Session, kindergarten: Kindergarten) -> str:
    """``K01-T09``: the kindergarten's next teacher number, past any code already in use."""
    drawn = next_value(session, f"teacher:{kindergarten.id}")
    pattern = re.compile(rf"{re.escape(kindergarten.code)}-T(\d+)")
    codes = session.scalars(select(Teacher.code).where(Teacher.kindergarten_id == kindergarten.id))
    highest = max((int(m.group(1)) for c in codes if (m := pattern.fullmatch(c))), default=0)
    return f"{kindergarten.code}-T{max(drawn, highest + 1):02d}"


def create_teacher(*, session: Session, viewer: Viewer, body: TeacherCreate) -> Teacher:
    """Add a teacher to a roster the viewer keeps (a principal's own kindergarten by default)."""
    kindergarten_id = body.kindergarten_id or (viewer.kindergarten_id if viewer.role in KINDERGARTEN_ROLES else None)
    if kindergarten_id is None:
        raise ValidationFailed.single("kindergarten_id", "required", "请选择幼儿园")
    kindergarten = session.get(Kindergarten, kindergarten_id)
    if kindergarten is None or not may_keep(viewer, kindergarten_id):
        raise NotFound("幼儿园不存在")
    teacher = Teacher(
        kindergarten=kindergarten,
        code=next_code(session, kindergarten),
        **body.model_dump(include=set(EDITABLE)),
        active=True,
    )
    _check_phone(session, viewer, teacher)
    session.add(teacher)
    _flush(session)
    _record(session, viewer, teacher, "create", sorted(EDITABLE))
    return teacher


def update_teacher(*, session: Session, viewer: Viewer, teacher_id: uuid.UUID, body: TeacherUpdate) -> Teacher:
    """Change a roster entry; ``active=False`` marks the teacher as left (kept for history)."""
    teacher = _kept(session, viewer, teacher_id)
    if body.version != teacher.version:
        raise StaleVersion()
    values: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"version"})
    changed = [name for name, value in values.items() if getattr(teacher, name) != value]
    for name in changed:
        setattr(teacher, name, values[name])
    if "active" in changed:
        teacher.left_on = None if teacher.active else district_today()
    if not changed:
        return teacher
    _check_phone(session, viewer, teacher)
    _flush(session)
    event = {True: "return", False: "leave"}[teacher.active] if "active" in changed else "update"
    _record(session, viewer, teacher, event, changed)
    return teacher


def _references(session: Session, teacher_id: uuid.UUID) -> list[str]:
    """Tables that refer to the teacher: every foreign key to ``teachers.id``, whoever added it."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            refers = fk.column.table.name == "teachers" and fk.column.name == "id"
            if refers and session.scalar(select(exists().where(fk.parent == teacher_id))):
                found.append(table.name)
    return found


def delete_teacher(*, session: Session, viewer: Viewer, teacher_id: uuid.UUID, version: int) -> None:
    """Remove an entry made by mistake; a teacher anything refers to can only be marked left."""
    teacher = _kept(session, viewer, teacher_id)
    if version != teacher.version:
        raise StaleVersion()
    if _references(session, teacher.id):
        raise Conflict(
            "该教师已有活动、教研组或带教等记录，不能删除；如已离开本园，请标记为离职", code="teacher_referenced"
        )
    _record(session, viewer, teacher, "delete", [])
    session.delete(teacher)
    session.flush()


def _record(session: Session, viewer: Viewer, teacher: Teacher, event: str, fields: list[str]) -> None:
    # Names of the changed fields only: the audit chain is kept for good, personal data is not.
    audit.append(
        session,
        entity_type="teacher",
        entity_id=teacher.id,
        event=event,
        actor=viewer.actor,
        data={"kindergarten": teacher.kindergarten.code, "code": teacher.code, "fields": fields},
    )


def kindergarten_teachers(*, session: Session, viewer: Viewer, kindergarten_id: uuid.UUID) -> list[Teacher]:
    """One kindergarten's teachers, left ones too, for whoever may see its contacts (else 404)."""
    view = get_kindergarten(session=session, viewer=viewer, kindergarten_id=kindergarten_id)
    ensure_visible(view.private)
    return list_teachers(session=session, viewer=viewer, kindergarten_id=kindergarten_id, active=None)
