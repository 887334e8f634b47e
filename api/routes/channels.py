"""Notification channels: configuration (admins) and the delivery log (officers and admins)."""

from __future__ import annotations

import uuid

from fastapi import Query

from api.deps import CurrentViewer, SessionDep, SettingsDep
from api.routing import api_router
from workflows.channels import service
from workflows.channels.models import DeliveryState
from workflows.channels.schemas import ChannelConfigIn, ChannelConfigOut, ChannelConfigUpdate, DeliveryOut

router = api_router(tags=["channels"])


@router.get("/channels", response_model=list[ChannelConfigOut])
def list_channels(session: SessionDep, viewer: CurrentViewer) -> list[ChannelConfigOut]:
    return [ChannelConfigOut.of(c) for c in service.list_configs(session=session, viewer=viewer)]


@router.post("/channels", response_model=ChannelConfigOut, status_code=201)
def create_channel(
    data: ChannelConfigIn, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> ChannelConfigOut:
    return ChannelConfigOut.of(service.create_config(session=session, settings=settings, viewer=viewer, data=data))


@router.put("/channels/{config_id}", response_model=ChannelConfigOut)
def update_channel(
    config_id: uuid.UUID, data: ChannelConfigUpdate, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer
) -> ChannelConfigOut:
    config = service.update_config(session=session, settings=settings, viewer=viewer, config_id=config_id, data=data)
    return ChannelConfigOut.of(config)


@router.get("/channels/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    session: SessionDep,
    viewer: CurrentViewer,
    state: DeliveryState | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[DeliveryOut]:
    deliveries = service.list_deliveries(session=session, viewer=viewer, state=state, limit=limit)
    return [DeliveryOut.of(d) for d in deliveries]


@router.post("/channels/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
def retry_delivery(delivery_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> DeliveryOut:
    return DeliveryOut.of(service.retry_now(session=session, viewer=viewer, delivery_id=delivery_id))
