"""Activity news (活动报道): drafts, approval and publication under /api; the public page and feed at /news.

``router`` is the signed-in API (/api/news/...). ``public_router`` needs no sign-in: the news page,
one report, the Atom feed the district information site pulls, and the consented photos.
"""

from __future__ import annotations

import uuid

from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routes.files import stream_object
from api.routing import api_router
from workflows import audit
from workflows.documents.schemas import HistoryOut
from workflows.publishing import events, public, service
from workflows.publishing.feed import build_feed
from workflows.publishing.page import render_news_page
from workflows.publishing.schemas import ConsentBody, ConsentOut, ReportCreate, ReportEventBody, ReportOut, ReportUpdate
from workflows.publishing.views import consent_out, report_out

router = api_router(prefix="/news", tags=["news"])
public_router = api_router(prefix="/news", tags=["news (public)"])
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# Consent can be withdrawn: public copies may be kept only briefly.
PUBLIC_CACHE = "public, max-age=300"


@router.post("/reports", response_model=ReportOut, status_code=201)
def create_report(body: ReportCreate, session: SessionDep, viewer: CurrentViewer, settings: SettingsDep) -> ReportOut:
    report = service.create(session=session, viewer=viewer, body=body)
    return report_out(session, viewer, report, base_url=settings.base_url)


@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    session: SessionDep,
    viewer: CurrentViewer,
    settings: SettingsDep,
    state: str | None = None,
    activity_id: uuid.UUID | None = None,
) -> list[ReportOut]:
    rows = service.list_visible(session=session, viewer=viewer, state=state, activity_id=activity_id)
    return [report_out(session, viewer, r, base_url=settings.base_url) for r in rows]


@router.get("/reports/{report_id}", response_model=ReportOut)
def get_report(report_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, settings: SettingsDep) -> ReportOut:
    report = service.get_visible(session=session, viewer=viewer, report_id=report_id)
    return report_out(session, viewer, report, base_url=settings.base_url)


@router.put("/reports/{report_id}", response_model=ReportOut)
def update_report(
    report_id: uuid.UUID, body: ReportUpdate, session: SessionDep, viewer: CurrentViewer, settings: SettingsDep
) -> ReportOut:
    report = service.update(session=session, viewer=viewer, report_id=report_id, body=body)
    return report_out(session, viewer, report, base_url=settings.base_url)


@router.post("/reports/{report_id}/events/{event}", response_model=ReportOut)
def report_event(
    report_id: uuid.UUID,
    event: str,
    body: ReportEventBody,
    session: SessionDep,
    viewer: CurrentViewer,
    settings: SettingsDep,
) -> ReportOut:
    report = events.fire_event(session=session, viewer=viewer, report_id=report_id, event=event, body=body)
    return report_out(session, viewer, report, base_url=settings.base_url)


@router.get("/reports/{report_id}/history", response_model=list[HistoryOut])
def report_history(report_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_visible(session=session, viewer=viewer, report_id=report_id)
    return [HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="news_report", entity_id=report_id)]


@router.get("/activities/{activity_id}/photos", response_model=list[ConsentOut])
def list_photos(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[ConsentOut]:
    found, consents = service.list_consents(session=session, viewer=viewer, activity_id=activity_id)
    return [consent_out(m, consents.get(m.id)) for m in found]


@router.put("/activities/{activity_id}/photos/{material_id}/consent", response_model=ConsentOut)
def set_consent(
    activity_id: uuid.UUID, material_id: uuid.UUID, body: ConsentBody, session: SessionDep, viewer: CurrentViewer
) -> ConsentOut:
    row = service.set_consent(
        session=session, viewer=viewer, activity_id=activity_id, material_id=material_id, body=body
    )
    found, _ = service.list_consents(session=session, viewer=viewer, activity_id=activity_id)
    return consent_out(next(m for m in found if m.id == material_id), row)


# --- public ------------------------------------------------------------------------------------------


@public_router.get("", response_class=HTMLResponse, include_in_schema=False)
def news_page(session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    entries = public.published_entries(session=session)
    return HTMLResponse(render_news_page(entries, base_url=settings.base_url), headers={"Cache-Control": PUBLIC_CACHE})


@public_router.get("/feed.atom", include_in_schema=False)
def news_feed(session: SessionDep, settings: SettingsDep) -> Response:
    entries = public.published_entries(session=session)
    feed = build_feed(entries, base_url=settings.base_url, updated=public.last_withdrawal(session=session))
    return Response(feed, media_type=ATOM_TYPE, headers={"Cache-Control": PUBLIC_CACHE})


@public_router.get("/media/{material_id}", include_in_schema=False)
def news_media(material_id: uuid.UUID, session: SessionDep, objects: ObjectsDep) -> StreamingResponse:
    photo = public.public_photo(session=session, material_id=material_id)
    response = stream_object(
        objects, photo.object_key, filename=public.public_filename(photo), content_type=photo.content_type, inline=True
    )
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@public_router.get("/{report_id}", response_class=HTMLResponse, include_in_schema=False)
def news_entry(report_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    entry = public.public_entry(session=session, report_id=report_id)
    page = render_news_page([entry], base_url=settings.base_url, single=True)
    return HTMLResponse(page, headers={"Cache-Control": PUBLIC_CACHE})
