"""The FastAPI application: JSON API under /api, pages at /."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

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
from storage.runtime import Runtime, build_runtime
from storage.settings import Settings, get_settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app for the given settings (from the environment by default)."""
    runtime = runtime or build_runtime(settings or get_settings())
    logging.basicConfig(level=runtime.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from workers.wiring import start_publishing, stop_publishing

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
    app.add_middleware(BodySizeLimit, limit_for=lambda path: upload_limit(runtime.settings, path))
    # Added last, so outermost: the 413 answers of BodySizeLimit get the headers too.
    app.add_middleware(SecurityHeaders, https_everywhere=lambda: runtime.settings.base_url.startswith("https://"))

    api = APIRouter(prefix="/api")
    for module in (
        health,
        auth,
        registry,
        teachers,
        applications,
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
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(docs.router)
    app.include_router(news.public_router)  # /news, /news/feed.atom: public, no sign-in
    web.install(app)
    return app


def upload_limit(settings: Settings, path: str) -> int:
    """Media materials may be large; every other body is held to the general upload limit."""
    if path.endswith("/materials"):
        return settings.max_media_bytes
    return settings.max_upload_bytes
