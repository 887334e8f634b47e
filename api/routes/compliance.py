"""Semester compliance per alliance, and the teachers' continuing-education ledger."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response

from api.deps import CurrentViewer, SessionDep
from api.routing import api_router
from storage.objects import content_disposition
from workflows import clock
from workflows.activities.compliance import compliance
from workflows.activities.compliance_schemas import ComplianceOut, LedgerRow
from workflows.activities.ledger import ledger, ledger_workbook
from workflows.activities.views import compliance_out, ledger_row
from workflows.documents.service import XLSX

router = api_router(tags=["compliance"])


@router.get("/compliance", response_model=list[ComplianceOut])
def semester_compliance(
    semester: Annotated[str, Query(pattern=r"^\d{4}-(spring|autumn)$")], session: SessionDep, viewer: CurrentViewer
) -> list[ComplianceOut]:
    rows = compliance(session=session, viewer=viewer, semester_code=semester, today=clock.today())
    return [compliance_out(c) for c in rows]


@router.get("/ledger", response_model=None)
def teacher_ledger(
    year: Annotated[int, Query(ge=2000, le=2100)],
    session: SessionDep,
    viewer: CurrentViewer,
    kindergarten_id: uuid.UUID | None = None,
    format: Literal["xlsx", "json"] = "xlsx",
) -> Response | list[LedgerRow]:
    entries = ledger(session=session, viewer=viewer, year=year, kindergarten_id=kindergarten_id)
    if format == "json":
        return [ledger_row(e) for e in entries]
    return Response(
        ledger_workbook(entries, year=year),
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(f"教师参加联盟教研活动台账_{year}.xlsx")},
    )
