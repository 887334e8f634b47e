"""Alliance agreements: read, edit the draft, workflow events (send, sign, decline, ...), history,
documents, renewal, the officer's bulk generate-and-send, and agreements for every member of an
alliance (founding members, the lead–pillar agreement)."""

from __future__ import annotations

import uuid

from api.deps import ClientAddress, CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routing import api_router
from workflows import audit
from workflows.agreements import bulk, events, generation, renewal, service
from workflows.agreements.schemas import (
    AgreementEventBody,
    AgreementOut,
    AgreementUpdate,
    AllianceAgreementsOut,
    GenerateBody,
    RenewBody,
)
from workflows.agreements.views import agreement_out, alliance_agreements_out
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import list_for_owner
from workflows.jobs import JobOut

router = api_router(tags=["agreements"])


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


@router.get("/agreements/overview", response_model=list[AllianceAgreementsOut])
def overview(session: SessionDep, viewer: CurrentViewer) -> list[AllianceAgreementsOut]:
    """Every alliance: its lead–pillar agreement and each current member's (the bureau only)."""
    return [alliance_agreements_out(o) for o in generation.district_agreements(session=session, viewer=viewer)]


@router.post("/agreements/generate", response_model=JobOut, status_code=202)
def generate_all(body: GenerateBody, session: SessionDep, viewer: CurrentViewer) -> JobOut:
    """Generate the missing agreements of every alliance's members (and lead–pillar agreements), as a job."""
    job = generation.start_generation(session=session, viewer=viewer, alliance_id=None, lead_pillar=body.lead_pillar)
    return JobOut.of(job)


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
    """send · sign (``pin``, ``read_confirmed``) · decline (reason) · revise · void (reason) · terminate (reason)."""
    fields = {
        "pin": body.pin.get_secret_value() if body.pin else None,
        "party": body.party,
        "read_confirmed": body.read_confirmed,
    }
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
    return [HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="agreement", entity_id=agreement_id)]


@router.get("/agreements/{agreement_id}/documents", response_model=list[DocumentOut])
def agreement_documents(agreement_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id)
    return [DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="agreement", owner_id=agreement_id)]


@router.post("/alliances/{alliance_id}/agreements/bulk-send", response_model=JobOut, status_code=202)
def bulk_send(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> JobOut:
    """Generate and send the agreements of every newly approved member, as a job run by the workers."""
    return JobOut.of(bulk.start_bulk_send(session=session, viewer=viewer, alliance_id=alliance_id))


@router.post("/agreements/{agreement_id}/renew", response_model=AgreementOut, status_code=201)
def renew(
    agreement_id: uuid.UUID,
    body: RenewBody,
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
) -> AgreementOut:
    """Draft the next term of an effective agreement; the current one stays as it is."""
    renewed = renewal.renew(
        session=session, viewer=viewer, settings=settings, objects=objects, agreement_id=agreement_id,
        version=body.version,
    )  # fmt: skip
    return agreement_out(session, settings, viewer, renewed)


@router.get("/agreements/{agreement_id}/terms", response_model=list[AgreementOut])
def agreement_terms(
    agreement_id: uuid.UUID, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> list[AgreementOut]:
    """Every term of the agreement's line (what it renewed and what renewed it), first to last."""
    agreement = service.get_visible(session=session, viewer=viewer, agreement_id=agreement_id)
    return [agreement_out(session, settings, viewer, a) for a in renewal.terms(session, agreement)]


@router.get("/alliances/{alliance_id}/agreements", response_model=AllianceAgreementsOut)
def alliance_agreements(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> AllianceAgreementsOut:
    """The alliance's members with the state of their agreements (the bureau only)."""
    return alliance_agreements_out(
        generation.alliance_agreements(session=session, viewer=viewer, alliance_id=alliance_id)
    )


@router.post("/alliances/{alliance_id}/agreements/generate", response_model=JobOut, status_code=202)
def generate_for_alliance(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> JobOut:
    """Generate the agreements of the alliance's members that have none (founding members), as a job."""
    return JobOut.of(generation.start_generation(session=session, viewer=viewer, alliance_id=alliance_id))


@router.post("/alliances/{alliance_id}/agreements/lead-pillar", response_model=AgreementOut, status_code=201)
def generate_lead_pillar(
    alliance_id: uuid.UUID, session: SessionDep, settings: SettingsDep, objects: ObjectsDep, viewer: CurrentViewer
) -> AgreementOut:
    """Generate the agreement between the alliance's lead (甲方) and pillar (乙方); 409 if it has one."""
    agreement = generation.generate_lead_pillar(
        session=session, viewer=viewer, settings=settings, objects=objects, alliance_id=alliance_id
    )
    return agreement_out(session, settings, viewer, agreement)
