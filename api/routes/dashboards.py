"""Overview dashboards: one alliance's year, and the district's alliances side by side."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query

from api.deps import CurrentViewer, SessionDep
from api.routing import api_router
from workflows import clock
from workflows.dashboards.schemas import AllianceDashboard, DistrictDashboard
from workflows.dashboards.service import alliance_dashboard, district_dashboard

router = api_router(prefix="/dashboards", tags=["dashboards"])
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="the calendar year of the semester codes")]


def _today() -> date:
    return clock.today()


@router.get("/alliances/{alliance_id}", response_model=AllianceDashboard)
def alliance(
    alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, year: YearQuery = None
) -> AllianceDashboard:
    today = _today()
    return alliance_dashboard(
        session=session, viewer=viewer, alliance_id=alliance_id, year=year or today.year, today=today
    )


@router.get("/district", response_model=DistrictDashboard)
def district(session: SessionDep, viewer: CurrentViewer, year: YearQuery = None) -> DistrictDashboard:
    today = _today()
    return district_dashboard(session=session, viewer=viewer, year=year or today.year, today=today)
