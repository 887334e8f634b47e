"""Accounts: the administrator's user management, one's own password, and the officer's key revocation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from api.deps import ClientAddress, CurrentViewer, SessionDep, SettingsDep, ViewerBeforePasswordChange
from api.routing import api_router
from workflows.accounts import management
from workflows.accounts import service as accounts
from workflows.accounts.schemas import (
    AccountIn,
    AccountOut,
    AccountPage,
    CreatedAccountOut,
    MeOut,
    PasswordChangedOut,
    PasswordChangeIn,
    PasswordResetIn,
)
from workflows.accounts.tokens import issue_token
from workflows.agreements import keys
from workflows.agreements.schemas import SigningKeyOut
from workflows.agreements.views import signing_key_out
from workflows.roles import Role

router = api_router(tags=["accounts"])


@router.get("/users", response_model=AccountPage)
def search_users(
    session: SessionDep,
    viewer: CurrentViewer,
    q: Annotated[str, Query(max_length=100, description="用户名、姓名或幼儿园名称中包含的文字")] = "",
    role: Role | None = None,
    active: bool | None = None,
    kindergarten_id: uuid.UUID | None = None,
    section: Annotated[str | None, Query(max_length=32)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=management.MAX_PAGE_SIZE)] = management.PAGE_SIZE,
) -> AccountPage:
    """Accounts matching the search and filters, a page at a time (administrator only)."""
    criteria = management.UserFilter(
        query=q.strip(), role=role, active=active, kindergarten_id=kindergarten_id, section=section
    )
    found = management.search_users(session=session, viewer=viewer, criteria=criteria, offset=offset, limit=limit)
    return AccountPage(
        items=[AccountOut.of(u) for u in found.users], total=found.total, offset=found.offset, limit=found.limit
    )


@router.post("/users", response_model=CreatedAccountOut, status_code=201)
def create_account(
    body: AccountIn, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> CreatedAccountOut:
    """An account for a kindergarten or a bureau post; its password must be changed at first sign-in."""
    created = management.create_account(
        session=session,
        settings=settings,
        viewer=viewer,
        username=body.username.strip(),
        display_name=body.display_name,
        kindergarten_id=body.kindergarten_id,
        role=body.role,
        section=body.section,
        password=body.password.get_secret_value() if body.password else None,
        phone=body.phone.strip(),
    )
    return CreatedAccountOut(user=AccountOut.of(created.user), temporary_password=created.generated_password)


@router.get("/users/{user_id}", response_model=AccountOut)
def get_account(user_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> AccountOut:
    return AccountOut.of(management.get_user(session=session, viewer=viewer, user_id=user_id))


@router.post("/users/{user_id}/deactivate", response_model=AccountOut)
def deactivate(user_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> AccountOut:
    """Disable an account: it can no longer sign in, and its sessions and tokens stop working."""
    return AccountOut.of(management.set_active(session=session, viewer=viewer, user_id=user_id, active=False))


@router.post("/users/{user_id}/reactivate", response_model=AccountOut)
def reactivate(user_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> AccountOut:
    return AccountOut.of(management.set_active(session=session, viewer=viewer, user_id=user_id, active=True))


@router.post("/users/{user_id}/password-reset", response_model=CreatedAccountOut)
def reset_password(
    user_id: uuid.UUID, body: PasswordResetIn, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> CreatedAccountOut:
    """A temporary password (given, or generated and returned once); the user must change it at next sign-in."""
    reset = management.reset_password(
        session=session,
        settings=settings,
        viewer=viewer,
        user_id=user_id,
        password=body.password.get_secret_value() if body.password else None,
    )
    return CreatedAccountOut(user=AccountOut.of(reset.user), temporary_password=reset.generated_password)


@router.post("/users/{user_id}/signing-key/revoke", response_model=SigningKeyOut)
def revoke_signing_key(
    user_id: uuid.UUID, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> SigningKeyOut:
    """The officer revokes a user's signing key; the user must set a signing PIN again (officer, admin)."""
    record = keys.revoke_signing_key(session=session, settings=settings, viewer=viewer, user_id=user_id)
    return signing_key_out(record)


@router.post("/me/password", response_model=PasswordChangedOut)
def change_password(
    body: PasswordChangeIn,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerBeforePasswordChange,
    address: ClientAddress,
) -> PasswordChangedOut:
    """Change one's own password (the current one is required); allowed while a change is required.

    Every session and token of the user ends, the caller's included: the answer carries a new token."""
    user = accounts.change_password(
        session=session,
        settings=settings,
        user_id=viewer.user_id,
        current_password=body.current_password.get_secret_value(),
        new_password=body.new_password.get_secret_value(),
        address=address,
    )
    token = issue_token(settings, user_id=user.id, role=user.role.value, session_version=user.session_version)
    return PasswordChangedOut(
        **MeOut.of(viewer).model_copy(update={"must_change_password": False}).model_dump(),
        access_token=token,
        expires_in=settings.token_ttl_minutes * 60,
    )
