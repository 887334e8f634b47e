"""The home page: what waits for the signed-in person (待办), from every area's provider."""

from __future__ import annotations

from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import UserPage
from api.web.routing import web_router

router = web_router()

nav.register(nav.NavItem("home", "首页", "/", order=0))


@router.get("/")
def home(page: UserPage) -> Response:
    return page.render("home.html", items=todo.collect(page.db, page.viewer))
