"""Request dependencies as ``Annotated`` aliases: settings, runtime, session, the signed-in viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.client_address import client_address as resolve_client_address
from storage.objects import ObjectStore
from storage.runtime import Runtime
from storage.settings import Settings
from workflows.access import Viewer, viewer_for
from workflows.accounts import service as accounts
from workflows.accounts.tokens import InvalidToken, read_subject
from workflows.errors import NotFound
from workflows.ranges import INT32_MAX, OFFSET_MAX, YEAR_MAX, YEAR_MIN

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


# How many requests may hold a database connection at once: one for SQLite (its writers take turns
# anyway), else well inside the connection pool, since a committing request briefly takes a second
# connection (the outbox relay). See get_session for why requests wait for a slot here.
SQLITE_SLOTS = 1
SERVER_DB_SLOTS = 8


def db_slots(request: Request, runtime: Runtime) -> anyio.Semaphore:
    """The app's semaphore of database slots: one for SQLite, a pool's worth otherwise."""
    slots: anyio.Semaphore | None = getattr(request.app.state, "db_slots", None)
    if slots is None:
        sqlite = runtime.db.engine.dialect.name == "sqlite"
        slots = request.app.state.db_slots = anyio.Semaphore(SQLITE_SLOTS if sqlite else SERVER_DB_SLOTS)
    return slots


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on any error.

    A request's transaction spans several worker-thread borrows (dependencies, the route, the commit).
    Were requests to wait for the database inside those threads (SQLite's write lock, an exhausted
    connection pool), a burst could occupy every thread with waiters while the request holding the
    lock waits for a thread to commit in: a deadlock until timeouts turn it into errors. So requests
    queue for a database slot here, on the event loop, before they take a connection.
    """
    async with db_slots(request, runtime):
        session = runtime.db.sessionmaker()
        try:
            yield session
            await anyio.to_thread.run_sync(session.commit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.rollback)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close)


# scope="function": commit before the response is sent, so a 2xx means the change is durable and the
# caller's next request sees it (the default "request" scope would commit only after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

UNAUTHENTICATED = HTTPException(
    status_code=401,
    detail={"code": "not_authenticated", "message": "请先登录，或登录已过期"},
    headers={"WWW-Authenticate": "Bearer"},
)


PASSWORD_CHANGE_REQUIRED = HTTPException(
    status_code=403,
    detail={"code": "password_change_required", "message": "请先修改初始密码（或管理员重置的密码）后再继续"},
)


def get_any_viewer(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Viewer:
    """The signed-in caller, from a bearer token, even one who must still change their password."""
    if not token:
        raise UNAUTHENTICATED
    try:
        user = accounts.get_session_user(session=session, subject=read_subject(settings, token))
    except (InvalidToken, NotFound):
        raise UNAUTHENTICATED from None
    return viewer_for(session, user)


def get_viewer(viewer: Annotated[Viewer, Depends(get_any_viewer)]) -> Viewer:
    """The signed-in caller; one whose password must be changed first is refused (403)."""
    if viewer.must_change_password:
        raise PASSWORD_CHANGE_REQUIRED
    return viewer


# Only reading /api/me and changing the password accept an account whose password must be changed.
ViewerBeforePasswordChange = Annotated[Viewer, Depends(get_any_viewer)]
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def client_address(request: Request) -> str:
    """The client's address; X-Forwarded-For counts only from KINDERFLOW_TRUSTED_PROXIES."""
    return resolve_client_address(request)


ClientAddress = Annotated[str, Depends(client_address)]

# Integer query parameters, each with its range (422 outside it, never a 500 from an overflow).
YearFilter = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, description="年度")]
VersionQuery = Annotated[int, Query(ge=0, le=INT32_MAX)]
OffsetQuery = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
