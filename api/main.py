"""The FastAPI application: JSON API under /api, pages at /."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from http.cookies import CookieError, SimpleCookie

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import Scope

from api import docs, web
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.routes import (
    activities,
    agreements,
    applications,
    auth,
    certificates,
    channels,
    compliance,
    dashboards,
    evaluations,
    exchange,
    files,
    health,
    jobs,
    library,
    mentors,
    news,
    notifications,
    registry,
    semesters,
    signing,
    teachers,
    users,
    verify,
    withdrawals,
)
from api.security_headers import SecurityHeaders
from api.web import session as web_session
from storage.runtime import Runtime, build_runtime
from storage.settings import Settings, get_settings
from workers.wiring import start_publishing, stop_publishing
from workflows.accounts.tokens import InvalidToken, read_subject


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app for the given settings (from the environment by default)."""
    runtime = runtime or build_runtime(settings or get_settings())
    logging.basicConfig(level=runtime.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start_publishing(runtime)
        try:
            yield
        finally:
            stop_publishing(runtime)

    app = FastAPI(
        title="Kinderflow 幼教联盟文书流转",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,  # api.docs: Swagger UI from our own files
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit_for=lambda scope: upload_limit(runtime.settings, scope))
    # Added last, so outermost: the 413 answers of BodySizeLimit get the headers too.
    app.add_middleware(SecurityHeaders, https_everywhere=lambda: runtime.settings.base_url.startswith("https://"))

    # Each area's router straight under the app, not nested in an "/api" router: FastAPI matches a
    # nested router's routes twice (once to choose the branch, once inside it), and a request's route
    # is found by trying the routes in order. The busiest requests' routers come first.
    for module in (
        auth,
        applications,
        health,
        registry,
        teachers,
        files,
        notifications,
        activities,
        semesters,
        compliance,
        channels,
        evaluations,
        dashboards,
        certificates,
        agreements,
        withdrawals,
        signing,
        users,
        verify,
        jobs,
        mentors,
        library,
        news,
        exchange,
    ):
        app.include_router(module.router, prefix="/api")
    app.include_router(docs.router)
    app.include_router(news.public_router)  # /news, /news/feed.atom: public, no sign-in
    web.install(app)
    return app


def upload_limit(settings: Settings, scope: Scope) -> int:
    """Media materials may be large, from a signed-in caller; every other body, and any body from a
    caller with no valid token or session, is held to the general upload limit. FastAPI reads a form
    before it runs the dependencies that authenticate: without this, anyone could make it read 512 MiB."""
    if scope["path"].endswith("/materials") and carries_credentials(settings, Headers(scope=scope)):
        return settings.max_media_bytes
    return settings.max_upload_bytes


def carries_credentials(settings: Settings, headers: Headers) -> bool:
    """Whether the request holds a bearer token or a session cookie that this installation signed and
    that has not expired (no database: whether the session still holds is for authentication to say)."""
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    token: str | None = bearer
    if scheme.lower() != "bearer" or not token:
        cookie = SimpleCookie()
        with suppress(CookieError):
            cookie.load(headers.get("cookie", ""))
        morsel = cookie.get(web_session.COOKIE_NAME)
        try:
            token = web_session.decode(settings, morsel.value).get("t") if morsel else None
        except (ValueError, AttributeError):
            token = None
    if not token:
        return False
    try:
        read_subject(settings, token)
    except InvalidToken:
        return False
    return True
