"""Alliance agreements: read, edit the draft, workflow events (send, sign, decline, ...), history,
documents, and the officer's bulk generate-and-send."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import ClientAddress, CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from workflows import audit
from workflows.agreements import bulk, events, service
from workflows.agreements.schemas import AgreementEventBody, AgreementOut, AgreementUpdate
from workflows.agreements.views import agreement_out
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import list_for_owner
from workflows.jobs import JobOut

router = APIRouter(tags=["agreements"])


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentViewer,
    state: str | None = None,
    alliance_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> list[AgreementOut]:
    rows = service.list_visible(
        session=session, viewer=viewer, state=state, alliance_id=alliance_id, application_id=application_id
    )
    return [agreement_out(session, settings, viewer, a) for a in rows]


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(
    agreement_id: uuid.UUID, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> AgreementOut:
    agreement = service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id)
    return agreement_out(session, settings, viewer, agreement)


@router.put("/agreements/{agreement_id}", response_model=AgreementOut)
def update_agreement(
    agreement_id: uuid.UUID,
    body: AgreementUpdate,
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
) -> AgreementOut:
    """The officer edits the term, special clauses or signing route of a draft; a new draft version is rendered."""
    agreement = service.update_terms(
        session=session,
        viewer=viewer,
        settings=settings,
        objects=objects,
        agreement_id=agreement_id,
        version=body.version,
        term_start=body.term_start,
        term_end=body.term_end,
        special_clauses=body.special_clauses,
        route=body.route,
    )
    return agreement_out(session, settings, viewer, agreement)


@router.post("/agreements/{agreement_id}/events/{event}", response_model=AgreementOut)
def fire_event(
    agreement_id: uuid.UUID,
    event: str,
    body: AgreementEventBody,
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
    address: ClientAddress,
) -> AgreementOut:
    """send · sign (``pin``) · decline (reason) · revise · void (reason) · terminate (reason)."""
    fields = {"pin": body.pin.get_secret_value() if body.pin else None, "party": body.party}
    agreement = events.fire_event(
        session=session,
        viewer=viewer,
        settings=settings,
        objects=objects,
        agreement_id=agreement_id,
        event=event,
        version=body.version,
        comment=body.comment or body.reason,
        fields=fields,
        address=address,
    )
    return agreement_out(session, settings, viewer, agreement)


@router.get("/agreements/{agreement_id}/history", response_model=list[HistoryOut])
def history(agreement_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id)
    return [HistoryOut.of(e) for e in audit.history(session, entity_type="agreement", entity_id=agreement_id)]


@router.get("/agreements/{agreement_id}/documents", response_model=list[DocumentOut])
def agreement_documents(agreement_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id)
    return [DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="agreement", owner_id=agreement_id)]


@router.post("/alliances/{alliance_id}/agreements/bulk-send", response_model=JobOut, status_code=202)
def bulk_send(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> JobOut:
    """Generate and send the agreements of every newly approved member, as a job run by the workers."""
    return JobOut.of(bulk.start_bulk_send(session=session, viewer=viewer, alliance_id=alliance_id))
