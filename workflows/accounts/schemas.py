"""Accounts on the wire."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.presenters import Presented
from workflows.roles import ROLE_LABELS, Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    role_label: str
    kindergarten_id: uuid.UUID | None
    alliance_id: uuid.UUID | None
    must_change_password: bool = False

    @classmethod
    def of(cls, viewer: Viewer) -> MeOut:
        return cls(
            id=viewer.user_id,
            username=viewer.username,
            display_name=viewer.display_name,
            role=viewer.role.value,
            role_label=ROLE_LABELS[viewer.role],
            kindergarten_id=viewer.kindergarten_id,
            alliance_id=viewer.alliance_id,
            must_change_password=viewer.must_change_password,
        )


class PasswordChangedOut(MeOut):
    """After a password change every earlier token has ended: this one, issued now, replaces the caller's."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    role: str
    role_label: str
    phone: str
    is_active: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls.model_validate(Presented(u, role=u.role.value, role_label=ROLE_LABELS[Role(u.role)]))


class AccountOut(UserOut):
    """An account as the administrator sees it."""

    kindergarten_id: uuid.UUID | None
    kindergarten_name: str | None
    section: str | None
    section_name: str | None
    must_change_password: bool
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> AccountOut:
        return cls.model_validate(
            Presented(
                u,
                role=u.role.value,
                role_label=ROLE_LABELS[Role(u.role)],
                kindergarten_name=u.kindergarten.name if u.kindergarten else None,
                section=u.section.code if u.section else None,
                section_name=u.section.name if u.section else None,
            )
        )


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int
    offset: int
    limit: int


class AccountIn(BaseModel):
    """A new account: for a kindergarten (``kindergarten_id``; ``role`` defaults to the one its alliance
    role suggests) or for a bureau post (``role`` officer/researcher/admin, ``section`` defaults to the
    post's section). Without ``password`` a temporary one is generated and returned once."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    kindergarten_id: uuid.UUID | None = None
    role: Role | None = None
    section: str | None = Field(default=None, max_length=32)
    password: SecretStr | None = Field(default=None, max_length=128)
    phone: str = Field(default="", max_length=32)


class CreatedAccountOut(BaseModel):
    user: AccountOut
    # Present only when generated: shown once, never stored in clear.
    temporary_password: str | None


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: SecretStr | None = Field(default=None, max_length=128)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: SecretStr = Field(max_length=256)
    new_password: SecretStr = Field(max_length=256)
