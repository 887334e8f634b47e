"""The annual evaluation: schemes, opening a year, workflow events, documents; and review flags."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import Response

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep, YearFilter
from api.routing import api_router
from storage.objects import content_disposition
from workflows import audit, clock
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import DOCX, XLSX, list_for_owner
from workflows.evaluations import events, review, scheme, service
from workflows.evaluations.documents import form_filename, render_form_bytes
from workflows.evaluations.schemas import (
    DecideBody,
    EvaluationOut,
    EventBody,
    OpenBody,
    ReviewFlagOut,
    SchemeOut,
    SchemeUpdate,
)
from workflows.evaluations.summary import summary_filename, summary_workbook
from workflows.evaluations.views import evaluation_out, results_visible, review_flag_out

router = api_router(tags=["evaluations"])
YearPath = Annotated[int, Path(ge=2000, le=2100)]


def _today() -> date:
    return clock.today()


def _file(content: bytes, filename: str, content_type: str) -> Response:
    return Response(content, media_type=content_type, headers={"Content-Disposition": content_disposition(filename)})


def _scheme_out(session: SessionDep, year: int) -> SchemeOut:
    current = scheme.scheme_for(session=session, year=year)
    return SchemeOut(
        year=year,
        version=scheme.scheme_version(session=session, year=year),
        locked=scheme.is_open(session=session, year=year),
        items=current.items,
    )


@router.get("/evaluations/schemes/{year}", response_model=SchemeOut)
def get_scheme(year: YearPath, session: SessionDep, viewer: CurrentViewer) -> SchemeOut:
    return _scheme_out(session, year)


@router.put("/evaluations/schemes/{year}", response_model=SchemeOut)
def put_scheme(year: YearPath, body: SchemeUpdate, session: SessionDep, viewer: CurrentViewer) -> SchemeOut:
    scheme.save_scheme(
        session=session, viewer=viewer, year=year, scheme=scheme.Scheme(items=body.items), version=body.version
    )
    return _scheme_out(session, year)


@router.post("/evaluations/open", response_model=list[EvaluationOut], status_code=201)
def open_year(body: OpenBody, session: SessionDep, viewer: CurrentViewer) -> list[EvaluationOut]:
    opened = service.open_year(session=session, viewer=viewer, year=body.year, today=_today())
    return [evaluation_out(viewer, e) for e in opened]


@router.get("/evaluations", response_model=list[EvaluationOut])
def list_evaluations(
    session: SessionDep, viewer: CurrentViewer, year: YearFilter = None, state: str | None = None
) -> list[EvaluationOut]:
    return [
        evaluation_out(viewer, e) for e in service.list_visible(session=session, viewer=viewer, year=year, state=state)
    ]


@router.get("/evaluations/summary.xlsx")
def summary(year: Annotated[int, Query(ge=2000, le=2100)], session: SessionDep, viewer: CurrentViewer) -> Response:
    return _file(summary_workbook(session=session, viewer=viewer, year=year), summary_filename(year), XLSX)


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationOut)
def get_evaluation(evaluation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> EvaluationOut:
    return evaluation_out(viewer, service.get_visible(session=session, viewer=viewer, evaluation_id=evaluation_id))


@router.post("/evaluations/{evaluation_id}/events/{event}", response_model=EvaluationOut)
def fire_event(
    evaluation_id: uuid.UUID,
    event: str,
    body: EventBody,
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> EvaluationOut:
    evaluation = events.fire_event(
        session=session,
        viewer=viewer,
        objects=objects,
        evaluation_id=evaluation_id,
        event=event,
        version=body.version,
        comment=body.comment,
        items=body.items,
        scores=body.scores,
    )
    return evaluation_out(viewer, evaluation)


@router.get("/evaluations/{evaluation_id}/history", response_model=list[HistoryOut])
def history(evaluation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    evaluation = service.get_visible(session=session, viewer=viewer, evaluation_id=evaluation_id)
    entries = [
        HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="evaluation", entity_id=evaluation_id)
    ]
    if not results_visible(viewer, evaluation):  # the running total recorded at opening is no result yet
        for entry in entries:
            entry.data = {k: v for k, v in entry.data.items() if k != "total"}
    return entries


@router.get("/evaluations/{evaluation_id}/form.docx")
def form_preview(evaluation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> Response:
    evaluation = service.get_visible(session=session, viewer=viewer, evaluation_id=evaluation_id)
    return _file(render_form_bytes(evaluation), form_filename(evaluation), DOCX)


@router.get("/evaluations/{evaluation_id}/documents", response_model=list[DocumentOut])
def evaluation_documents(evaluation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_visible(session=session, viewer=viewer, evaluation_id=evaluation_id)
    return [DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="evaluation", owner_id=evaluation_id)]


@router.get("/review-flags", response_model=list[ReviewFlagOut])
def list_review_flags(
    session: SessionDep, viewer: CurrentViewer, year: YearFilter = None, open_only: bool = False
) -> list[ReviewFlagOut]:
    return [
        review_flag_out(f) for f in review.list_flags(session=session, viewer=viewer, year=year, open_only=open_only)
    ]


@router.post("/review-flags/{flag_id}/decide", response_model=ReviewFlagOut)
def decide(
    flag_id: uuid.UUID,
    body: DecideBody,
    session: SessionDep,
    viewer: CurrentViewer,
    settings: SettingsDep,
    objects: ObjectsDep,
) -> ReviewFlagOut:
    """Decide a review flag; ``remove`` ends the member's membership and terminates its agreements."""
    flag = review.decide(
        session=session,
        viewer=viewer,
        settings=settings,
        objects=objects,
        flag_id=flag_id,
        version=body.version,
        decision=body.decision,
        comment=body.comment,
        today=_today(),
    )
    return review_flag_out(flag)
