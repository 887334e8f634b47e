"""What every page request gets: its transaction, its browser session, the signed-in viewer, CSRF.

``UserPage`` is the dependency of a page for signed-in users (a visitor is sent to /login);
``PublicPage`` for the login and verification pages. Both carry ``render`` and ``redirect``, so
page functions stay thin: parse, call one service, render.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse

from api.deps import RuntimeDep, request_session
from api.web import nav
from api.web import session as web_session
from api.web.rendering import render
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import notifications
from workflows.access import Viewer, signed_in_viewer
from workflows.errors import NotFound

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No one is signed in (or the session expired): the page sends the browser to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """The signed-in user must change a password someone else chose before any other page."""


# The pages a user who must change their password may still open.
PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})
PASSWORD_CHANGE_PAGE = "/account/password"


class CsrfRefused(Exception):
    """An unsafe request without this browser session's CSRF token."""


async def get_page_db(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """The page's transaction. ``routing.WebRoute`` commits it once the page is built, or rolls it
    back on any error, before the response leaves, so a redirect never races its own commit.

    Like the API's sessions, pages queue for a database slot on the event loop (see
    ``api.deps.get_session``), so a burst cannot fill every worker thread with lock waiters; a page
    (GET) reads without SQLite's write lock, a form post (POST) writes (``api.deps.request_session``)."""
    async with request_session(request, runtime) as session:
        request.state.page_db = session
        yield session


PageDb = Annotated[Session, Depends(get_page_db, scope="function")]


def get_web_session(request: Request, runtime: RuntimeDep) -> web_session.WebSession:
    existing = getattr(request.state, "web_session", None)
    if existing is None:
        existing = web_session.load(runtime.settings, request)
        request.state.web_session = existing
    return existing


WebSessionDep = Annotated[web_session.WebSession, Depends(get_web_session)]


async def check_csrf(request: Request, web: WebSessionDep) -> None:
    """Every unsafe request must carry the session's token, as a header (htmx) or a form field."""
    if request.method not in UNSAFE_METHODS:
        return
    candidate = request.headers.get(web_session.CSRF_HEADER)
    if not candidate:
        form = await request.form()  # parsed once and cached; the page reads the same form
        value = form.get(web_session.CSRF_FIELD)
        candidate = value if isinstance(value, str) else None
    if not web.csrf_matches(candidate):
        raise CsrfRefused()


async def read_form(request: Request) -> FormData:
    """The submitted form as a whole, for pages whose inputs are not a fixed list of parameters."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


@dataclass
class Page:
    request: Request
    db: Session
    settings: Settings
    objects: ObjectStore
    web: web_session.WebSession
    viewer: Viewer | None

    @property
    def htmx(self) -> bool:
        return is_htmx(self.request)

    def context(self) -> dict[str, Any]:
        """What the layout needs: who is signed in, the menu, the CSRF token, one-time messages."""
        role = self.viewer.role if self.viewer else None
        unread = 0
        if self.viewer is not None:
            unread = len(notifications.list_for_user(self.db, self.viewer.user_id, unread_only=True, limit=100))
        return {
            "viewer": self.viewer,
            "nav_items": nav.items_for(
                role, in_alliance=self.viewer is not None and self.viewer.alliance_id is not None
            ),
            "current_path": self.request.url.path,
            "csrf_token": self.web.csrf,
            "flash": self.web.pop_flash(),
            "unread_count": unread,
            "max_upload_bytes": self.settings.max_upload_bytes,
        }

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A whole page in the layout.

        A form that comes back with its errors is a page that worked: it answers 200, and the
        errors stand next to their fields (browsers log every 4xx page as a console error)."""
        return render(self.request, template, {**self.context(), **context}, status_code=status_code)

    def fragment(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A piece of a page for htmx to swap in (no layout, no menu)."""
        base = {"viewer": self.viewer, "csrf_token": self.web.csrf, "max_upload_bytes": self.settings.max_upload_bytes}
        return render(self.request, template, {**base, **context}, status_code=status_code)

    def start_session(self, new: web_session.WebSession) -> None:
        """Replace the browser session (sign-in, sign-out); the new cookie goes out with this response."""
        self.web = new
        self.request.state.web_session = new

    def redirect(self, url: str, message: str | None = None, level: str = "ok") -> RedirectResponse:
        """After a successful form post: 303 to the page to show, with an optional one-time message."""
        if message:
            self.web.add_flash(message, level)
        return RedirectResponse(url, status_code=303)


@dataclass
class SignedInPage(Page):
    viewer: Viewer


def get_public_page(request: Request, db: PageDb, runtime: RuntimeDep, web: WebSessionDep) -> Page:
    settings = runtime.settings
    viewer = None
    subject = web_session.subject_of(settings, web)
    if subject is not None:
        try:
            viewer = signed_in_viewer(db, user_id=subject.user_id, session_version=subject.session_version)
        except NotFound:  # signed out, password changed or reset, disabled or deleted since signing in
            web_session.sign_out(web)
        else:
            web_session.renew_if_due(
                settings, web, user_id=viewer.user_id, role=viewer.role.value, session_version=subject.session_version
            )
    request.state.viewer = viewer
    return Page(request=request, db=db, settings=settings, objects=runtime.objects, web=web, viewer=viewer)


PublicPage = Annotated[Page, Depends(get_public_page)]


def get_user_page(page: PublicPage) -> SignedInPage:
    if page.viewer is None:
        request = page.request
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    if page.viewer.must_change_password and page.request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return SignedInPage(**{**page.__dict__, "viewer": page.viewer})


UserPage = Annotated[SignedInPage, Depends(get_user_page)]


def login_url(next_path: str, *, expired: bool = False) -> str:
    """The login page, coming back to ``next_path``; ``expired`` says the session ran out."""
    query = [] if next_path in ("", "/") else [f"next={quote(next_path, safe='/')}"]
    if expired:
        query.append("expired=1")
    return "/login" + (f"?{'&'.join(query)}" if query else "")


def safe_path(value: str | None) -> str | None:
    """``value`` when it is a path on this site, else None. Never an absolute URL or a protocol-relative
    ``//host``; no backslash (browsers read a leading slash-backslash as ``//``), no whitespace or control
    character (browsers drop a tab or newline inside a URL, which could make ``//host`` again)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def safe_next(value: str | None) -> str:
    """Only a path on this site (see ``safe_path``); the home page otherwise."""
    return safe_path(value) or "/"


def needs_sign_in(request: Request) -> bool:
    """Whether the route of ``request`` is a page for signed-in users (it depends on ``UserPage``)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        if current.call is get_user_page:
            return True
        pending.extend(current.dependencies)
    return False
