"""Accounts: sign-in with throttling, user creation, one's own password, and who may see which users.

What the administrator does to other accounts (search, create for a kindergarten or a bureau post,
deactivate, reset a password) is in ``management``.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.settings import Settings
from templates.district import BUREAU_SHORT
from workflows import audit
from workflows.access import Viewer, ensure_visible
from workflows.accounts.models import LoginFailure, User
from workflows.accounts.passwords import dummy_verify, hash_password, verify_password
from workflows.accounts.tokens import TokenSubject
from workflows.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    ValidationFailed,
)
from workflows.registry.models import Kindergarten
from workflows.roles import KINDERGARTEN_ROLES, Role

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128


class BadCredentials(Unauthenticated):
    code = "bad_credentials"
    # One message for every failure, so it does not reveal whether the account exists.
    message = "用户名或密码错误"


class WrongPassword(Forbidden):
    """A signed-in user's password, asked again before a sensitive change, is not right."""

    code = "wrong_password"
    message = "登录密码错误"


# Past the free failures of the window, each further attempt waits for a delay that doubles with every
# failure, up to a cap: guessing slows to one try a minute per account, while no one can lock a chosen
# account (or a school's shared address) out for longer than the cap.
FIRST_DELAY = timedelta(seconds=2)
ACCOUNT_DELAY_CAP = timedelta(minutes=1)
ADDRESS_DELAY_CAP = timedelta(minutes=5)


def throttle_delay(failures: int, *, free: int, cap: timedelta) -> timedelta:
    """How long after the last of ``failures`` recent failures the next attempt must wait."""
    if failures < free:
        return timedelta(0)
    return min(FIRST_DELAY * (1 << min(failures - free, 32)), cap)


def _wait_after(count: int, last: datetime | None, *, free: int, cap: timedelta) -> timedelta:
    if not count or last is None:
        return timedelta(0)
    if last.tzinfo is None:  # SQLite gives naive UTC
        last = last.replace(tzinfo=UTC)
    return max(last + throttle_delay(count, free=free, cap=cap) - utcnow(), timedelta(0))


def _check_throttle(session: Session, settings: Settings, *, username: str, address: str) -> bool:
    """Refuse (429) while the account's or the address's recent failures ask for a wait; otherwise
    whether the account has any failure on record (for sign-in to clear). One statement for all."""
    since = utcnow() - timedelta(minutes=settings.login_failure_window_minutes)
    by_account, by_address, recent = (
        LoginFailure.username == username,
        LoginFailure.address == address,
        LoginFailure.at >= since,
    )
    account_count, account_last, address_count, address_last, account_any = session.execute(
        select(
            func.count().filter(by_account, recent), func.max(LoginFailure.at).filter(by_account, recent),
            func.count().filter(by_address, recent), func.max(LoginFailure.at).filter(by_address, recent),
            func.count().filter(by_account),
        ).where(by_account | by_address)
    ).one()  # fmt: skip
    wait = max(
        _wait_after(account_count, account_last, free=settings.login_max_failures_per_account, cap=ACCOUNT_DELAY_CAP),
        _wait_after(address_count, address_last, free=settings.login_max_failures_per_address, cap=ADDRESS_DELAY_CAP),
    )
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooManyAttempts(f"登录失败次数过多，请 {seconds} 秒后再试", retry_after=seconds)
    return bool(account_any)


def _record_failure(session: Session, *, username: str, address: str) -> None:
    session.add(LoginFailure(username=username[:64], address=address[:64]))
    # The failure must count even though the request ends in an error (and a rollback).
    session.commit()


def authenticate(*, session: Session, settings: Settings, username: str, password: str, address: str) -> User:
    """Check a password, throttled per account and per client address; failures are recorded."""
    failed_before = _check_throttle(session, settings, username=username, address=address)
    user = session.scalar(select(User).where(User.username == username))
    # The same work whatever the account: unknown and disabled ones are checked against a hash too.
    if user is None or not user.is_active:
        dummy_verify(settings, password)
    if user is None or not user.is_active or not verify_password(settings, user.password_hash, password):
        _record_failure(session, username=username, address=address)
        raise BadCredentials()
    # Cleared only if there is something to clear: a sign-in that writes nothing waits for no writer.
    if failed_before:
        session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def confirm_password(*, session: Session, settings: Settings, user: User, password: str, address: str) -> None:
    """The signed-in user proves their password again (before a sensitive change); throttled like sign-in."""
    _check_throttle(session, settings, username=user.username, address=address)
    if not verify_password(settings, user.password_hash, password):
        _record_failure(session, username=user.username, address=address)
        raise WrongPassword()


def password_problem(password: str, *, username: str) -> str | None:
    """Why a new password is refused (None if acceptable)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"密码不超过 {MAX_PASSWORD_LENGTH} 位"
    if len(set(password)) < 4:
        return "密码过于简单：请勿使用重复的字符"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if password.isdigit():
        return "密码不能全是数字，请加入字母或符号"
    return None


def change_password(
    *, session: Session, settings: Settings, user_id: uuid.UUID, current_password: str, new_password: str, address: str
) -> User:
    """The user replaces their password (a first or reset one included); needs the current one."""
    user = get_active_user(session=session, user_id=user_id)
    problem = password_problem(new_password, username=user.username)
    if problem is None and new_password == current_password:
        problem = "新密码不能与当前密码相同"
    if problem:
        raise ValidationFailed.single("new_password", "weak_password", problem)
    confirm_password(session=session, settings=settings, user=user, password=current_password, address=address)
    user.password_hash = hash_password(settings, new_password)
    user.must_change_password = False
    end_sessions(user)
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="password_changed",
        actor=audit.Actor(id=str(user.id), name=user.display_name, role=Role(user.role).value),
        data={"username": user.username},
    )
    return user


def end_sessions(user: User) -> None:
    """Every session cookie and bearer token ``user`` holds stops working (checked on each request)."""
    user.session_version = (user.session_version or 0) + 1


def get_session_user(*, session: Session, subject: TokenSubject) -> User:
    """The active user a token speaks for, if it was issued under their current session version."""
    user = get_active_user(session=session, user_id=subject.user_id)
    if user.session_version != subject.session_version:
        raise NotFound()
    return user


def sign_out(*, session: Session, user_id: uuid.UUID) -> None:
    """End every session of the user: this browser's, their other browsers' and their API tokens."""
    user = session.get(User, user_id)
    if user is not None:
        end_sessions(user)


def get_active_user(*, session: Session, user_id: uuid.UUID) -> User:
    """The signed-in user behind a token; a disabled or deleted account is not found."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound()
    return user


def credential_problems(username: str, password: str, *, is_demo: bool = False) -> list[FieldError]:
    """What is wrong with a new account's username and password (demo passwords are exempt)."""
    problems = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            FieldError("username", "invalid_username", "用户名须以小写字母开头，由 3–64 位小写字母、数字或 _ . - 组成")
        )
    problem = None if is_demo else password_problem(password, username=username)
    if problem:
        problems.append(FieldError("password", "weak_password", problem))
    return problems


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
    must_change_password: bool = False,
    actor: audit.Actor = audit.SYSTEM_ACTOR,
) -> User:
    """Create an account bound to a kindergarten (applicant, lead, pillar) or to the bureau."""
    problems = [(e.field, e.code, e.message) for e in credential_problems(username, password, is_demo=is_demo)]
    if role in KINDERGARTEN_ROLES and kindergarten_id is None:
        problems.append(("kindergarten_id", "required", "园所账号必须关联一所幼儿园"))
    if role not in KINDERGARTEN_ROLES and kindergarten_id is not None:
        problems.append(("kindergarten_id", "not_allowed", f"{BUREAU_SHORT}账号不能关联幼儿园"))
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
        must_change_password=must_change_password,
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
