"""Accounts: users bound to a kindergarten or to a bureau section, and failed-login records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.registry.models import Kindergarten, Section, _enum

# The roles live in the core (workflows.roles); these names stay importable from here.
from workflows.roles import BUREAU_ROLES as BUREAU_ROLES
from workflows.roles import KINDERGARTEN_ROLES as KINDERGARTEN_ROLES
from workflows.roles import ROLE_LABELS as ROLE_LABELS
from workflows.roles import Role as Role


class User(UUIDPrimaryKey, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    kindergarten_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("kindergartens.id", ondelete="RESTRICT"), index=True
    )
    section_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sections.id", ondelete="RESTRICT"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    # Set when someone other than the user chose the password (a new account, an administrator's
    # reset): until the user picks their own, every page and API call but changing it is refused.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Every token and session cookie carries the version it was issued under; signing out, a password
    # change or reset and deactivation raise it, which ends all of them at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kindergarten: Mapped[Kindergarten | None] = relationship()
    section: Mapped[Section | None] = relationship()


class LoginFailure(Base):
    """One failed login, kept for the throttling window; shared by every API process."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
