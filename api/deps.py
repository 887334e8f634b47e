"""Request dependencies as ``Annotated`` aliases: settings, runtime, session, the signed-in viewer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.runtime import Runtime
from storage.settings import Settings
from workflows.access import Viewer, viewer_for
from workflows.accounts import service as accounts
from workflows.accounts.tokens import InvalidToken, read_token
from workflows.errors import NotFound

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_objects(runtime: RuntimeDep) -> ObjectStore:
    return runtime.objects


SettingsDep = Annotated[Settings, Depends(get_settings)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    session = runtime.db.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]

UNAUTHENTICATED = HTTPException(
    status_code=401,
    detail={"code": "not_authenticated", "message": "请先登录，或登录已过期"},
    headers={"WWW-Authenticate": "Bearer"},
)


def get_viewer(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Viewer:
    """The signed-in caller, from a bearer token; anything doubtful is a 401."""
    if not token:
        raise UNAUTHENTICATED
    try:
        user_id = read_token(settings, token)
        user = accounts.get_active_user(session=session, user_id=user_id)
    except (InvalidToken, NotFound):
        raise UNAUTHENTICATED from None
    return viewer_for(session, user)


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
