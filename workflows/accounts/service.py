"""Accounts: sign-in with throttling, user creation, and who may see which users."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer, ensure_visible
from workflows.accounts.models import KINDERGARTEN_ROLES, LoginFailure, Role, User
from workflows.accounts.passwords import dummy_verify, hash_password, verify_password
from workflows.errors import Conflict, FieldError, NotFound, TooManyAttempts, Unauthenticated, ValidationFailed
from workflows.registry.models import Kindergarten

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
MIN_PASSWORD_LENGTH = 10


class BadCredentials(Unauthenticated):
    code = "bad_credentials"
    # One message for every failure, so it does not reveal whether the account exists.
    message = "用户名或密码错误"


def authenticate(*, session: Session, settings: Settings, username: str, password: str, address: str) -> User:
    """Check a password, throttled per account and per client address; failures are recorded."""
    since = utcnow() - timedelta(minutes=settings.login_failure_window_minutes)
    by_account = session.scalar(select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since))
    by_address = session.scalar(select(func.count()).where(LoginFailure.address == address, LoginFailure.at >= since))
    if (by_account or 0) >= settings.login_max_failures_per_account or (
        by_address or 0
    ) >= settings.login_max_failures_per_address:
        raise TooManyAttempts(f"登录失败次数过多，请 {settings.login_failure_window_minutes} 分钟后再试")

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        dummy_verify(settings, password)
    if user is None or not user.is_active or not verify_password(settings, user.password_hash, password):
        session.add(LoginFailure(username=username[:64], address=address[:64]))
        # The failure must count even though the request ends in an error (and a rollback).
        session.commit()
        raise BadCredentials()
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def get_active_user(*, session: Session, user_id: uuid.UUID) -> User:
    """The signed-in user behind a token; a disabled or deleted account is not found."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound()
    return user


def create_user(
    *,
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    kindergarten_id: uuid.UUID | None = None,
    section_id: uuid.UUID | None = None,
    is_demo: bool = False,
    actor: audit.Actor = audit.SYSTEM_ACTOR,
) -> User:
    """Create an account bound to a kindergarten (applicant, lead, pillar) or to the bureau."""
    problems = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            ("username", "invalid_username", "用户名须以小写字母开头，由 3–64 位小写字母、数字或 _ . - 组成")
        )
    if len(password) < MIN_PASSWORD_LENGTH and not is_demo:
        problems.append(("password", "password_too_short", f"密码至少 {MIN_PASSWORD_LENGTH} 位"))
    if role in KINDERGARTEN_ROLES and kindergarten_id is None:
        problems.append(("kindergarten_id", "required", "园所账号必须关联一所幼儿园"))
    if role not in KINDERGARTEN_ROLES and kindergarten_id is not None:
        problems.append(("kindergarten_id", "not_allowed", "教育局账号不能关联幼儿园"))
    if kindergarten_id is not None and session.get(Kindergarten, kindergarten_id) is None:
        problems.append(("kindergarten_id", "not_found", "幼儿园不存在"))
    if problems:
        raise ValidationFailed([FieldError(*p) for p in problems])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在", code="username_taken")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(settings, password),
        role=role,
        kindergarten_id=kindergarten_id,
        section_id=section_id,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="created",
        actor=actor,
        data={"username": username, "role": role.value},
    )
    return user


def list_kindergarten_users(
    *, session: Session, viewer: Viewer, kindergarten_id: uuid.UUID, alliance_id: uuid.UUID | None
) -> list[User]:
    """The accounts of one kindergarten, for those allowed to see its private details."""
    ensure_visible(viewer.may_see_kindergarten_private(kindergarten_id, alliance_id))
    stmt = select(User).where(User.kindergarten_id == kindergarten_id).order_by(User.username)
    return list(session.scalars(stmt))


def list_users(*, session: Session, viewer: Viewer) -> list[User]:
    """Every account, by username, for the administrator."""
    viewer.require_role(Role.ADMIN)
    return list(session.scalars(select(User).order_by(User.username)))


def set_active(*, session: Session, viewer: Viewer, user_id: uuid.UUID, active: bool) -> User:
    """Enable or disable an account (an administrator cannot disable their own)."""
    viewer.require_role(Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("账号不存在")
    if user.id == viewer.user_id:
        raise ValidationFailed([FieldError("active", "own_account", "不能停用或启用自己的账号")])
    if user.is_active != active:
        user.is_active = active
        audit.append(
            session,
            entity_type="user",
            entity_id=user.id,
            event="activated" if active else "deactivated",
            actor=viewer.actor,
            data={"username": user.username},
        )
    return user


def reset_password(*, session: Session, settings: Settings, viewer: Viewer, user_id: uuid.UUID, password: str) -> User:
    """Set a new password for an account, as the administrator."""
    viewer.require_role(Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("账号不存在")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.single("password", "password_too_short", f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    user.password_hash = hash_password(settings, password)
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="password_reset",
        actor=viewer.actor,
        data={"username": user.username},
    )
    return user
