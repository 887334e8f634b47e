"""The route class of every page: one transaction, errors as Chinese pages, cookie and headers.

API routes answer errors as JSON (``api/errors.py``); a person in a browser gets a page instead, and
never an action URL in the address bar: a refused form post answers 303 back to the page the form
came from (``returns.return_path``) with the message as a one-time flash on top of it; an htmx
request gets the message in the page's ``#messages`` region, keeping everything else as it was.
A form that comes back with errors next to its fields is the page's own business (200).

With no valid session (expired token, or a cookie gone so the CSRF check fails) a page goes to the
login page and, once signed in, back: a form's page, not its action URL (``to_login``).
Every page response also carries the security headers, and the session cookie when it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
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
    UNSAFE_METHODS,
    CsrfRefused,
    LoginRequired,
    PasswordChangeRequired,
    check_csrf,
    is_htmx,
    login_url,
    needs_sign_in,
)
from api.web.rendering import render
from api.web.returns import current_page, nearest_page, return_path
from storage.objects import ObjectStoreUnavailable, ObjectTooLarge
from workflows import errors
from workflows.access import Viewer, signed_in_viewer

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
            except Exception as exc:  # noqa: BLE001 - any failure rolls back and becomes an error page
                db = getattr(request.state, "page_db", None)
                if db is not None:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(db.rollback)
                response = await error_response(request, exc)
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


@dataclass(frozen=True)
class Problem:
    """What went wrong, as a person reads it."""

    status: int
    title: str
    message: str
    details: tuple[str, ...] = ()


async def error_response(request: Request, exc: Exception) -> Response:
    """The answer to a failed page request.

    No session: to the login page (and back). A refused form post: back to the page the form came
    from, with the message on top (``refused``). A page that cannot be shown: a Chinese page with
    the right status."""
    if isinstance(exc, LoginRequired):
        return await to_login(request, exc.next_path)
    if isinstance(exc, PasswordChangeRequired):
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": PASSWORD_CHANGE_PAGE})
        return RedirectResponse(PASSWORD_CHANGE_PAGE, status_code=303)
    if isinstance(exc, CsrfRefused):
        if needs_sign_in(request) and not _signed_in(request):
            # The session cookie expired or went away while the form was open: the same way back
            # as an expired token, not a dead end.
            return await to_login(request, request.url.path)
        return error_page(
            request, 403, "页面已过期或请求来源不明", "为安全起见，本次提交未被受理。请刷新页面后重新操作。"
        )
    problem = describe(exc)
    if request.method in UNSAFE_METHODS:
        return await refused(request, problem)
    return error_page(request, problem.status, problem.title, problem.message, list(problem.details))


def describe(exc: Exception) -> Problem:
    """The Chinese title and message of an error a page may meet; anything else is a bug and raised."""
    if isinstance(exc, errors.DomainError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        details = tuple(e.message for e in exc.errors) if isinstance(exc, errors.ValidationFailed) else ()
        return Problem(status, TITLES.get(status, "操作未完成"), exc.message, details)
    if isinstance(exc, RequestValidationError):
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return Problem(404, TITLES[404], errors.NotFound.message)
        return Problem(422, TITLES[422], "提交的内容有误，请检查后重试。")
    if isinstance(exc, ObjectTooLarge):
        return Problem(413, TITLES[413], f"文件过大：不能超过 {exc.limit / 1024 / 1024:.0f} MB")
    if isinstance(exc, ObjectStoreUnavailable):
        log.warning("object store unavailable: %s", exc)
        return Problem(503, TITLES[503], "文件存储服务暂时不可用，请稍后重试。")
    if isinstance(exc, StarletteHTTPException):
        return Problem(exc.status_code, TITLES.get(exc.status_code, "出错了"), HTTP_MESSAGES.get(exc.status_code, ""))
    raise exc


def _signed_in(request: Request) -> bool:
    # Only whether the cookie holds a live token: an error handler opens no database session for it.
    session = _web_session(request)
    return web_session.subject_of(request.app.state.runtime.settings, session) is not None


def _web_session(request: Request) -> web_session.WebSession:
    session = getattr(request.state, "web_session", None)
    if session is None:
        session = web_session.load(request.app.state.runtime.settings, request)
        request.state.web_session = session
    return session


async def to_login(request: Request, next_path: str) -> Response:
    """To the login page, then back: to the page itself for a page, and to the page a form or an htmx
    request came from for those (never to an action URL or a fragment), marked as expired so the login
    page says so and the form's draft (``static/app.js``) is kept for the way back."""
    htmx, unsafe = is_htmx(request), request.method in UNSAFE_METHODS
    if unsafe:
        next_path = await return_path(request)
    elif htmx:
        next_path = current_page(request) or nearest_page(request.app, request.url.path)
    target = login_url(next_path, expired=unsafe or _web_session(request).expired)
    if htmx:
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def refused(request: Request, problem: Problem) -> Response:
    """A refused form post: back to the page the form came from, the message shown on top of it.

    An htmx request keeps its page as it is (a half-filled form, a chosen file) and gets the message
    in the page's message region instead (200: htmx swaps it, and browsers log no error)."""
    if is_htmx(request):
        flash = [web_session.Flash("error", problem.message, problem.details)]
        response = render(request, "_messages.html", {"flash": flash})
        response.headers.update({"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"})
        return response
    _web_session(request).add_flash(problem.message, "error", problem.details)
    return RedirectResponse(await return_path(request), status_code=303)


TITLES = {
    400: "操作未完成",
    403: "无权执行此操作",
    404: "页面不存在",
    405: "无法打开此地址",
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
    session = _web_session(request)
    # An action URL opened as a page (405): offer the page it belongs to.
    back = nearest_page(request.app, request.url.path) if status == 405 else "/"
    context = {
        "viewer": viewer,
        "nav_items": nav.items_for(
            viewer.role if viewer else None, in_alliance=viewer is not None and viewer.alliance_id is not None
        ),
        "current_path": request.url.path,
        "csrf_token": session.csrf,
        # A refusal that led here says what this page says already: once is enough.
        "flash": [f for f in session.pop_flash() if f.message != message],
        "unread_count": 0,
        "max_upload_bytes": request.app.state.runtime.settings.max_upload_bytes,
        "status": status,
        "title": title,
        "message": message,
        "details": details or [],
        "back": back,
    }
    return render(request, "error.html", context, status_code=status)


async def http_error_page(request: Request, exc: StarletteHTTPException) -> Response:
    """An address no page answers (404), or a page asked with another method (405): a Chinese page,
    with the menu when someone is signed in."""
    request.state.viewer = await anyio.to_thread.run_sync(_viewer_of, request)
    problem = describe(exc)
    if exc.status_code == 404:
        problem = Problem(404, TITLES[404], "您要打开的页面不存在，可能是地址有误，或链接已经失效。")
    elif exc.status_code == 405:
        problem = Problem(405, TITLES[405], METHOD_MESSAGES[request.method == "GET"])
    response = error_page(request, problem.status, problem.title, problem.message)
    finish(request, response)
    return response


METHOD_MESSAGES = {
    True: "此地址用于提交表单，不能直接打开。请回到页面上重新操作。",
    False: "此页面不接受这种提交方式。请回到页面上重新操作。",
}


def _viewer_of(request: Request) -> Viewer | None:
    runtime = request.app.state.runtime
    subject = web_session.subject_of(runtime.settings, _web_session(request))
    if subject is None:
        return None
    db = runtime.db.reading_sessionmaker()  # reads only: no slot, no write lock to wait for
    try:
        return signed_in_viewer(db, user_id=subject.user_id, session_version=subject.session_version)
    except errors.NotFound:  # signed out, password changed, disabled since signing in
        return None
    finally:
        db.close()
