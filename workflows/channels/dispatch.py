"""Announcing to the configured channels: what workflows call when something should be broadcast."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import outbox
from workflows.channels.models import ChannelConfig, ChannelDelivery
from workflows.channels.service import DELIVER_TOPIC

logger = logging.getLogger(__name__)


def announce(
    session: Session,
    *,
    topic: str,
    title: str,
    body: str,
    link: str,
    recipient_user_ids: list[uuid.UUID],
    alliance_id: uuid.UUID | None = None,
) -> None:
    """Record one delivery per enabled channel that should hear it, sent after the caller commits; never
    waits on a channel. An alliance's notice goes to the district's channels and to that alliance's own
    group, never to another alliance's; a notice of no alliance only to the district's."""
    stmt = select(ChannelConfig).where(ChannelConfig.enabled)
    if alliance_id is None:
        stmt = stmt.where(ChannelConfig.alliance_id.is_(None))
    else:
        stmt = stmt.where(or_(ChannelConfig.alliance_id.is_(None), ChannelConfig.alliance_id == alliance_id))
    configs = session.scalars(stmt.order_by(ChannelConfig.name))
    now = utcnow()
    payload = {
        "title": title,
        "body": body,
        "link": link,
        # Kept for channels that address people; group robots and the mail list reach everyone.
        "recipient_user_ids": [str(u) for u in recipient_user_ids],
    }
    for config in configs:
        delivery = ChannelDelivery(
            id=uuid.uuid4(),
            config_id=config.id,
            channel=config.kind,
            target=config.target,
            topic=topic[:100],
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(delivery)
        outbox.record(session, DELIVER_TOPIC, delivery_id=str(delivery.id))
        logger.debug("announce %s via %s (%s)", topic, config.name, delivery.id)
