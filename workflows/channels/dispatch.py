"""Announcing to the configured channels: what workflows call when something should be broadcast."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import outbox
from workflows.channels.models import ChannelConfig, ChannelDelivery
from workflows.channels.service import DELIVER_TOPIC

logger = logging.getLogger(__name__)


def announce(
    session: Session, *, topic: str, title: str, body: str, link: str, recipient_user_ids: list[uuid.UUID]
) -> None:
    """Record one delivery per enabled channel, sent after the caller commits; never waits on a channel."""
    configs = session.scalars(select(ChannelConfig).where(ChannelConfig.enabled).order_by(ChannelConfig.name))
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
