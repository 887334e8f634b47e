"""The route class of every page: one transaction, errors as Chinese pages, cookie and headers.

API routes answer errors as JSON (``api/errors.py``); a person in a browser gets a page instead.
Every page response also carries the security headers, and the session cookie when it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.errors import HTTP_MESSAGES, STATUS
from api.web import nav
from api.web import session as web_session
from api.web.deps import (
    PASSWORD_CHANGE_PAGE,
    CsrfRefused,
    LoginRequired,
    PasswordChangeRequired,
    check_csrf,
    is_htmx,
    login_url,
)
from api.web.rendering import render
from storage.objects import ObjectStoreUnavailable, ObjectTooLarge
from workflows import errors
from workflows.access import Viewer

log = logging.getLogger(__name__)

# No inline script or style anywhere: scripts and styles come from /static only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class WebRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            db: Session | None = None
            try:
                response = await original(request)
                db = getattr(request.state, "page_db", None)
                if db is not None:
                    await anyio.to_thread.run_sync(db.commit)
            except Exception as exc:
                db = getattr(request.state, "page_db", None)
                if db is not None:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(db.rollback)
                response = error_response(request, exc)
            finish(request, response)
            return response

        return handler


def web_router() -> APIRouter:
    """A router for pages: every route checks CSRF on unsafe methods and answers in HTML."""
    return APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)


def finish(request: Request, response: Response) -> None:
    settings = request.app.state.runtime.settings
    session = getattr(request.state, "web_session", None)
    if session is not None:
        web_session.write(settings, request, response, session)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
    else:
        # Attachment previews are shown in a frame of our own pages, and nowhere else.
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")


def error_response(request: Request, exc: Exception) -> Response:
    """The page for an error: a login redirect, or a Chinese page with the right status."""
    if isinstance(exc, LoginRequired):
        target = login_url(exc.next_path)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, PasswordChangeRequired):
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": PASSWORD_CHANGE_PAGE})
        return RedirectResponse(PASSWORD_CHANGE_PAGE, status_code=303)
    if isinstance(exc, CsrfRefused):
        return error_page(
            request, 403, "页面已过期或请求来源不明", "为安全起见，本次提交未被受理。请刷新页面后重新操作。"
        )
    if isinstance(exc, errors.DomainError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        details = [e.message for e in exc.errors] if isinstance(exc, errors.ValidationFailed) else []
        return error_page(request, status, TITLES.get(status, "操作未完成"), exc.message, details)
    if isinstance(exc, RequestValidationError):
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return error_page(request, 404, TITLES[404], errors.NotFound.message)
        return error_page(request, 422, TITLES[422], "提交的内容有误，请返回检查后重试。")
    if isinstance(exc, ObjectTooLarge):
        return error_page(request, 413, TITLES[413], f"文件过大：不能超过 {exc.limit / 1024 / 1024:.0f} MB")
    if isinstance(exc, ObjectStoreUnavailable):
        log.warning("object store unavailable: %s", exc)
        return error_page(request, 503, TITLES[503], "文件存储服务暂时不可用，请稍后重试。")
    if isinstance(exc, StarletteHTTPException):
        return error_page(
            request, exc.status_code, TITLES.get(exc.status_code, "出错了"), HTTP_MESSAGES.get(exc.status_code, "")
        )
    raise exc


TITLES = {
    400: "操作未完成",
    403: "无权执行此操作",
    404: "页面不存在",
    409: "操作未能执行",
    413: "文件过大",
    422: "内容有误",
    429: "请稍后再试",
    503: "服务暂时不可用",
}


def error_page(
    request: Request, status: int, title: str, message: str, details: list[str] | None = None
) -> HTMLResponse:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    session = getattr(request.state, "web_session", None)
    context = {
        "viewer": viewer,
        "nav_items": nav.items_for(viewer.role if viewer else None),
        "current_path": request.url.path,
        "csrf_token": session.csrf if session else "",
        "flash": [],
        "unread_count": 0,
        "max_upload_bytes": request.app.state.runtime.settings.max_upload_bytes,
        "status": status,
        "title": title,
        "message": message,
        "details": details or [],
    }
    return render(request, "error.html", context, status_code=status)
