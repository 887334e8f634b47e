"""Overview dashboards: the district's alliances side by side (the bureau), one alliance's year
(the bureau, or a kindergarten for its own alliance)."""

from __future__ import annotations

import uuid
from datetime import date

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows import clock
from workflows.dashboards.service import alliance_dashboard, district_dashboard
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem(
        "dashboards",
        "统计概览",
        "/dashboards",
        roles=frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN, Role.LEAD, Role.PILLAR, Role.APPLICANT}),
        order=45,
    )
)


def _today() -> date:
    return clock.today()


def _year(value: str, today: date) -> int:
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else today.year


@router.get("/dashboards")
def overview(page: UserPage, year: str = "") -> Response:
    """The bureau sees the district; a kindergarten goes to its own alliance's page."""
    today = _today()
    if not page.viewer.is_bureau:
        if page.viewer.alliance_id is None:
            return page.render("dashboards/none.html")
        return alliance_page(page.viewer.alliance_id, page, year)
    board = district_dashboard(session=page.db, viewer=page.viewer, year=_year(year, today), today=today)
    return page.render("dashboards/district.html", board=board)


@router.get("/dashboards/alliances/{alliance_id}")
def alliance_page(alliance_id: uuid.UUID, page: UserPage, year: str = "") -> Response:
    today = _today()
    board = alliance_dashboard(
        session=page.db, viewer=page.viewer, alliance_id=alliance_id, year=_year(year, today), today=today
    )
    return page.render("dashboards/alliance.html", board=board)
