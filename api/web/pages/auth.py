"""Signing in and out of the pages (the API keeps its own bearer-token sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.deps import ClientAddress
from api.web import session as web_session
from api.web.deps import PublicPage, UserPage, safe_next
from api.web.routing import web_router
from workflows.accounts import service as accounts
from workflows.errors import TooManyAttempts, Unauthenticated

router = web_router()


@router.get("/login")
def login_form(page: PublicPage, next: str = "/", expired: str = "") -> Response:
    """The login form; ``expired`` when a session ran out on the way (the page says so)."""
    if page.viewer is not None:
        return page.redirect(safe_next(next))
    return page.render("login.html", next=safe_next(next), username="", error="", expired=bool(expired))


@router.post("/login")
def login(
    page: PublicPage,
    address: ClientAddress,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    username, target = username.strip(), safe_next(next)
    try:
        user = accounts.authenticate(
            session=page.db, settings=page.settings, username=username, password=password, address=address
        )
    except (Unauthenticated, TooManyAttempts) as exc:
        return page.render("login.html", next=target, username=username, error=exc.message, expired=False)
    # A fresh session (new CSRF secret) on every sign-in, so a planted cookie is worth nothing.
    page.start_session(
        web_session.signed_in(
            page.settings, user_id=user.id, role=user.role.value, session_version=user.session_version
        )
    )
    return page.redirect(target, f"欢迎，{user.display_name}")


@router.post("/logout")
def logout(page: UserPage) -> Response:
    # Every session of the user ends, not only this cookie: a copy of it (or a token) is worth nothing.
    accounts.sign_out(session=page.db, user_id=page.viewer.user_id)
    page.start_session(web_session.anonymous())
    return page.redirect("/login", "您已退出登录")
