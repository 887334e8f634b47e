"""The research resource library (课题研究资源库): promote, search, read, retag; recommend for publication."""

from __future__ import annotations

import uuid

from fastapi import Query
from fastapi.responses import StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, OffsetQuery, SessionDep, YearFilter
from api.routes.files import stream_object
from api.routing import api_router
from workflows import audit
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import list_for_owner
from workflows.library import recommendations, service
from workflows.library.schemas import (
    AgeGroup,
    ItemOut,
    ItemRemove,
    ItemUpdate,
    PromoteBody,
    RecommendationCreate,
    RecommendationEventBody,
    RecommendationOut,
    SearchOut,
)
from workflows.library.search import Filters, search
from workflows.library.views import item_out, recommendation_out

router = api_router(prefix="/library", tags=["library"])


@router.get("", response_model=SearchOut)
def search_library(
    session: SessionDep,
    viewer: CurrentViewer,
    q: str = Query(default="", max_length=100, description="检索词（中文分词，所有词都须出现）"),
    domain: str | None = None,
    age_group: AgeGroup | None = None,
    format: str | None = None,
    category: str | None = None,
    alliance_id: uuid.UUID | None = None,
    year: YearFilter = None,
    limit: int = Query(default=50, ge=1, le=200),
    offset: OffsetQuery = 0,
) -> SearchOut:
    service.require_reader(viewer)
    filters = Filters(
        domain=domain, age_group=age_group, format=format, category=category, alliance_id=alliance_id, year=year
    )
    found = search(session=session, query=q, filters=filters, limit=limit, offset=offset)
    return SearchOut(query=q, words=found.words, total=found.total, items=[item_out(i) for i in found.items])


@router.post("", response_model=ItemOut, status_code=201)
def promote(body: PromoteBody, session: SessionDep, viewer: CurrentViewer) -> ItemOut:
    return item_out(service.promote(session=session, viewer=viewer, body=body))


@router.get("/recommendations", response_model=list[RecommendationOut])
def list_recommendations(
    session: SessionDep, viewer: CurrentViewer, state: str | None = None
) -> list[RecommendationOut]:
    rows = recommendations.list_visible(session=session, viewer=viewer, state=state)
    return [recommendation_out(viewer, r) for r in rows]


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationOut)
def get_recommendation(recommendation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> RecommendationOut:
    found = recommendations.get_visible(session=session, viewer=viewer, recommendation_id=recommendation_id)
    return recommendation_out(viewer, found)


@router.post("/recommendations/{recommendation_id}/events/{event}", response_model=RecommendationOut)
def recommendation_event(
    recommendation_id: uuid.UUID,
    event: str,
    body: RecommendationEventBody,
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> RecommendationOut:
    moved = recommendations.fire_event(
        session=session, viewer=viewer, objects=objects, recommendation_id=recommendation_id, event=event, body=body
    )
    return recommendation_out(viewer, moved)


@router.get("/recommendations/{recommendation_id}/history", response_model=list[HistoryOut])
def recommendation_history(
    recommendation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer
) -> list[HistoryOut]:
    recommendations.get_visible(session=session, viewer=viewer, recommendation_id=recommendation_id)
    rows = audit.history(session, entity_type="library_recommendation", entity_id=recommendation_id)
    return [HistoryOut.of(e, viewer) for e in rows]


@router.get("/recommendations/{recommendation_id}/documents", response_model=list[DocumentOut])
def recommendation_documents(
    recommendation_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer
) -> list[DocumentOut]:
    recommendations.get_visible(session=session, viewer=viewer, recommendation_id=recommendation_id)
    rows = list_for_owner(session=session, owner_type="library_recommendation", owner_id=recommendation_id)
    return [DocumentOut.of(d) for d in rows]


@router.get("/{item_id}", response_model=ItemOut)
def get_item(item_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> ItemOut:
    return item_out(service.get_visible(session=session, viewer=viewer, item_id=item_id))


@router.put("/{item_id}", response_model=ItemOut)
def update_item(item_id: uuid.UUID, body: ItemUpdate, session: SessionDep, viewer: CurrentViewer) -> ItemOut:
    return item_out(service.update_tags(session=session, viewer=viewer, item_id=item_id, body=body))


@router.post("/{item_id}/remove", response_model=ItemOut)
def remove_item(item_id: uuid.UUID, body: ItemRemove, session: SessionDep, viewer: CurrentViewer) -> ItemOut:
    return item_out(service.remove(session=session, viewer=viewer, item_id=item_id, version=body.version))


@router.get("/{item_id}/content")
def item_content(
    item_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse:
    item = service.get_visible(session=session, viewer=viewer, item_id=item_id)
    return stream_object(objects, item.object_key, filename=item.filename, content_type=item.content_type)


@router.post("/{item_id}/recommendations", response_model=RecommendationOut, status_code=201)
def recommend(
    item_id: uuid.UUID, body: RecommendationCreate, session: SessionDep, viewer: CurrentViewer
) -> RecommendationOut:
    created = recommendations.recommend(session=session, viewer=viewer, item_id=item_id, body=body)
    return recommendation_out(viewer, created)
