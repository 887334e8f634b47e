"""Members' withdrawals from their alliance: request, read, decide (approve · refuse), cancel, history."""

from __future__ import annotations

import uuid

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routing import api_router
from workflows import audit
from workflows.documents.schemas import HistoryOut
from workflows.withdrawals import service
from workflows.withdrawals.schemas import WithdrawalEventBody, WithdrawalIn, WithdrawalOut
from workflows.withdrawals.views import withdrawal_out

router = api_router(prefix="/withdrawals", tags=["withdrawals"])


@router.get("", response_model=list[WithdrawalOut])
def list_withdrawals(session: SessionDep, viewer: CurrentViewer, state: str | None = None) -> list[WithdrawalOut]:
    return [withdrawal_out(viewer, w) for w in service.list_visible(session=session, viewer=viewer, state=state)]


@router.post("", response_model=WithdrawalOut, status_code=201)
def request_withdrawal(body: WithdrawalIn, session: SessionDep, viewer: CurrentViewer) -> WithdrawalOut:
    """A member kindergarten asks to leave its alliance (申请退出联盟), giving its reason."""
    return withdrawal_out(viewer, service.request(session=session, viewer=viewer, reason=body.reason))


@router.get("/{withdrawal_id}", response_model=WithdrawalOut)
def get_withdrawal(withdrawal_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> WithdrawalOut:
    return withdrawal_out(viewer, service.get_visible(session=session, viewer=viewer, withdrawal_id=withdrawal_id))


@router.post("/{withdrawal_id}/events/{event}", response_model=WithdrawalOut)
def fire_event(
    withdrawal_id: uuid.UUID,
    event: str,
    body: WithdrawalEventBody,
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
) -> WithdrawalOut:
    """approve (ends the membership and the agreement) · refuse (``comment`` required) · cancel."""
    withdrawal = service.fire_event(
        session=session, viewer=viewer, settings=settings, objects=objects, withdrawal_id=withdrawal_id,
        event=event, version=body.version, comment=body.comment,
    )  # fmt: skip
    return withdrawal_out(viewer, withdrawal)


@router.get("/{withdrawal_id}/history", response_model=list[HistoryOut])
def history(withdrawal_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_visible(session=session, viewer=viewer, withdrawal_id=withdrawal_id)
    return [HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="withdrawal", entity_id=withdrawal_id)]
