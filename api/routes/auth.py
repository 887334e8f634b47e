"""Sign-in and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ClientAddress, ReadingSessionDep, SessionDep, SettingsDep, ViewerBeforePasswordChange
from api.routing import api_router
from workflows.accounts import service as accounts
from workflows.accounts.schemas import MeOut, TokenOut
from workflows.accounts.tokens import issue_token

router = api_router(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: ReadingSessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> TokenOut:
    """OAuth2 password flow: a short-lived bearer token.

    A reading transaction: the password check holds no writer's slot, and only a failure (or clearing
    earlier ones) waits for a writer's turn, at its write."""
    user = accounts.authenticate(
        session=session, settings=settings, username=form.username, password=form.password, address=address
    )
    return TokenOut(
        access_token=issue_token(settings, user_id=user.id, role=user.role.value, session_version=user.session_version),
        expires_in=settings.token_ttl_minutes * 60,
    )


@router.post("/auth/logout", status_code=204)
def logout(session: SessionDep, viewer: ViewerBeforePasswordChange) -> None:
    """Sign out everywhere: this token, the user's other tokens and their browser sessions all end."""
    accounts.sign_out(session=session, user_id=viewer.user_id)


@router.get("/me", response_model=MeOut)
def me(viewer: ViewerBeforePasswordChange) -> MeOut:
    """Who is signed in; ``must_change_password`` says every other call is refused until they change it."""
    return MeOut.of(viewer)
