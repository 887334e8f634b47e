"""The administrator's accounts: search, create for a kindergarten or a bureau post, deactivate,
reset a password.

A password the administrator chose (or had generated) is temporary: the account must change it at
its next sign-in (``User.must_change_password``). Every change is audited.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.settings import Settings
from templates.district import BUREAU_SHORT
from workflows import audit
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.accounts.passwords import hash_password
from workflows.accounts.service import create_user, credential_problems, end_sessions, password_problem
from workflows.errors import FieldError, NotFound, ValidationFailed
from workflows.registry.models import AllianceRole, Category, Kindergarten, Section
from workflows.roles import KINDERGARTEN_ROLES, Role

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class BureauSection:
    code: str
    name: str
    role: Role  # the post an account of this section usually holds


# The bureau's sections an account can belong to; a real install creates them as accounts need them.
BUREAU_SECTIONS = (
    BureauSection("chengyou", "成幼科", Role.OFFICER),
    BureauSection("jiaoyan", "教研室", Role.RESEARCHER),
    BureauSection("xinxi", "信息中心", Role.ADMIN),
)
SECTION_BY_CODE = {s.code: s for s in BUREAU_SECTIONS}
# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class UserFilter:
    """What the administrator searched for; every part optional."""

    query: str = ""
    role: Role | None = None
    active: bool | None = None
    kindergarten_id: uuid.UUID | None = None
    section: str | None = None


@dataclass(frozen=True)
class UserResults:
    users: list[User]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class NewAccount:
    user: User
    # Shown once to the administrator when it was generated; None when they typed it themselves.
    generated_password: str | None


def temporary_password(username: str) -> str:
    """A random password to hand over (e.g. ``k7mq-x3bt-9hpw``, about 59 bits) that the rules accept."""
    while True:
        groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))
        candidate = "-".join(groups)
        if password_problem(candidate, username=username) is None:
            return candidate


def suggested_role(kindergarten: Kindergarten) -> Role:
    """The account role a kindergarten's principal usually has: its alliance role, else its category."""
    membership = kindergarten.current_membership
    if membership is not None:
        return {AllianceRole.LEAD: Role.LEAD, AllianceRole.PILLAR: Role.PILLAR}.get(membership.role, Role.APPLICANT)
    return Role.PILLAR if kindergarten.category == Category.TOWNSHIP_CENTRAL else Role.APPLICANT


def user_matches(text: str) -> ColumnElement[bool]:
    """Username, display name or kindergarten name contains ``text`` (the query must join Kindergarten)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        User.username.ilike(pattern, escape="\\"),
        User.display_name.ilike(pattern, escape="\\"),
        Kindergarten.name.ilike(pattern, escape="\\"),
    )


def _filtered(stmt: Select[Any], f: UserFilter) -> Select[Any]:
    if f.query:
        stmt = stmt.outerjoin(Kindergarten, User.kindergarten_id == Kindergarten.id).where(user_matches(f.query))
    if f.role is not None:
        stmt = stmt.where(User.role == f.role)
    if f.active is not None:
        stmt = stmt.where(User.is_active.is_(f.active))
    if f.kindergarten_id is not None:
        stmt = stmt.where(User.kindergarten_id == f.kindergarten_id)
    if f.section:
        stmt = stmt.join(Section, User.section_id == Section.id).where(Section.code == f.section)
    return stmt


def search_users(
    *, session: Session, viewer: Viewer, criteria: UserFilter, offset: int = 0, limit: int = PAGE_SIZE
) -> UserResults:
    """One page of the accounts matching ``filter``, by username, and how many match in all."""
    viewer.require_role(Role.ADMIN)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    total = session.scalar(_filtered(select(func.count(User.id)), criteria)) or 0
    stmt = (
        _filtered(select(User), criteria)
        .options(selectinload(User.kindergarten), selectinload(User.section))
        .order_by(User.username)
        .offset(offset)
        .limit(limit)
    )
    return UserResults(list(session.scalars(stmt)), total, offset, limit)


def get_user(*, session: Session, viewer: Viewer, user_id: uuid.UUID) -> User:
    """One account, for the administrator."""
    viewer.require_role(Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("账号不存在")
    return user


def ensure_section(session: Session, code: str) -> Section:
    """The bureau section with ``code``, created the first time an account needs it."""
    section = session.scalar(select(Section).where(Section.code == code))
    if section is None:
        known = SECTION_BY_CODE.get(code)
        if known is None:
            raise ValidationFailed.single("section", "unknown_section", "请选择所属科室")
        section = Section(code=known.code, name=known.name)
        session.add(section)
        session.flush()
    return section


def create_account(
    *,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    username: str,
    display_name: str,
    kindergarten_id: uuid.UUID | None = None,
    role: Role | None = None,
    section: str | None = None,
    password: str | None = None,
    phone: str = "",
    for_kindergarten: bool = False,
) -> NewAccount:
    """An account for a kindergarten (role suggested from the kindergarten) or for a bureau post.

    The password is temporary (typed or generated): the account must change it at first sign-in.
    ``for_kindergarten`` says a kindergarten account was meant even when none was picked."""
    viewer.require_role(Role.ADMIN)
    problems: list[FieldError] = []
    display_name = display_name.strip()
    if not display_name:
        problems.append(FieldError("display_name", "required", "请输入姓名"))
    elif len(display_name) > 100:
        problems.append(FieldError("display_name", "too_long", "姓名不超过 100 字"))
    if len(phone) > 32:
        problems.append(FieldError("phone", "too_long", "电话不超过 32 位"))
    section_row: Section | None = None
    if kindergarten_id is None and (for_kindergarten or role in KINDERGARTEN_ROLES):
        problems.append(FieldError("kindergarten_id", "required", "请选择幼儿园"))
    elif kindergarten_id is not None:
        kindergarten = session.get(Kindergarten, kindergarten_id)
        if kindergarten is None:
            problems.append(FieldError("kindergarten_id", "not_found", "幼儿园不存在"))
        elif role is None:
            role = suggested_role(kindergarten)
        elif role not in KINDERGARTEN_ROLES:
            problems.append(
                FieldError("role", "not_a_kindergarten_role", "园所账号的角色须为龙头园、乡镇中心园或民办园")
            )
        if section:
            problems.append(FieldError("section", "not_allowed", f"园所账号不属于{BUREAU_SHORT}科室"))
    else:
        if role is None:
            problems.append(FieldError("role", "required", "请选择岗位"))
        else:
            code = section or next(s.code for s in BUREAU_SECTIONS if s.role == role)
            if code not in SECTION_BY_CODE:
                problems.append(FieldError("section", "unknown_section", "请选择所属科室"))
            else:
                section_row = ensure_section(session, code)
    generated = None
    if not password:
        password = generated = temporary_password(username)
    problems += credential_problems(username, password)
    if problems:
        raise ValidationFailed(problems)
    if role is None:
        raise RuntimeError("expected role is not None")
    user = create_user(
        session=session,
        settings=settings,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        kindergarten_id=kindergarten_id,
        section_id=section_row.id if section_row else None,
        must_change_password=True,
        actor=viewer.actor,
    )
    user.phone = phone
    return NewAccount(user, generated)


def set_active(*, session: Session, viewer: Viewer, user_id: uuid.UUID, active: bool) -> User:
    """Enable or disable an account (an administrator cannot disable their own)."""
    user = get_user(session=session, viewer=viewer, user_id=user_id)
    if user.id == viewer.user_id:
        raise ValidationFailed([FieldError("active", "own_account", "不能停用或启用自己的账号")])
    if user.is_active != active:
        user.is_active = active
        end_sessions(user)
        audit.append(
            session,
            entity_type="user",
            entity_id=user.id,
            event="activated" if active else "deactivated",
            actor=viewer.actor,
            data={"username": user.username},
        )
    return user


def reset_password(
    *, session: Session, settings: Settings, viewer: Viewer, user_id: uuid.UUID, password: str | None = None
) -> NewAccount:
    """Give an account a temporary password (typed, or generated and shown once); it must be changed."""
    user = get_user(session=session, viewer=viewer, user_id=user_id)
    if user.id == viewer.user_id:
        raise ValidationFailed.single("password", "own_account", "请在「我的账号」中修改自己的密码")
    generated = None
    if not password:
        password = generated = temporary_password(user.username)
    problem = password_problem(password, username=user.username)
    if problem:
        raise ValidationFailed.single("password", "weak_password", problem)
    user.password_hash = hash_password(settings, password)
    user.must_change_password = True
    end_sessions(user)
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="password_reset",
        actor=viewer.actor,
        data={"username": user.username, "generated": generated is not None},
    )
    return NewAccount(user, generated)
