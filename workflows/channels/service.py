"""Channel configurations (admin) and deliveries: listing, and sending with retries and backoff."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import Database, utcnow
from storage.settings import Settings
from workflows import outbox
from workflows.access import Viewer
from workflows.channels import senders
from workflows.channels.models import ChannelConfig, ChannelDelivery, ChannelKind, DeliveryState
from workflows.channels.schemas import (
    SECRET_FIELDS,
    ChannelConfigIn,
    ChannelConfigUpdate,
    SmtpSettings,
    WebhookSettings,
    parse_settings,
)
from workflows.channels.sealing import UnsealError, seal, unseal
from workflows.errors import Conflict, NotFound, ValidationFailed
from workflows.registry.models import Alliance
from workflows.roles import Role

logger = logging.getLogger(__name__)

DELIVER_TOPIC = "channels.deliver"
TEST_TOPIC = "channel.test"
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# While one worker sends, the delivery is not due for others; a crashed send is due again after this.
SEND_LEASE = timedelta(minutes=2)
_ERROR_LIMIT = 2000


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8, 16 minutes …, at most an hour."""
    return min(BACKOFF_BASE * (1 << max(attempts - 1, 0)), BACKOFF_CAP)


# Admin: configurations.


def list_configs(*, session: Session, viewer: Viewer) -> list[ChannelConfig]:
    """Every channel configuration, by name (admins only)."""
    viewer.require_role(Role.ADMIN)
    return list(session.scalars(select(ChannelConfig).order_by(ChannelConfig.name)))


def create_config(*, session: Session, settings: Settings, viewer: Viewer, data: ChannelConfigIn) -> ChannelConfig:
    """Add a channel; its secrets are sealed before they are stored."""
    viewer.require_role(Role.ADMIN)
    plain = parse_settings(data.kind, data.settings).model_dump()
    if data.alliance_id is not None and session.get(Alliance, data.alliance_id) is None:
        raise ValidationFailed.single("alliance_id", "unknown", "联盟不存在")
    config = ChannelConfig(
        id=uuid.uuid4(), kind=data.kind, name=data.name.strip(), enabled=data.enabled, alliance_id=data.alliance_id
    )
    _store_settings(config, settings, plain)
    session.add(config)
    _flush_unique(session)
    return config


def update_config(
    *, session: Session, settings: Settings, viewer: Viewer, config_id: uuid.UUID, data: ChannelConfigUpdate
) -> ChannelConfig:
    """Change a channel; secrets not given (or given empty) keep their stored values."""
    viewer.require_role(Role.ADMIN)
    config = session.get(ChannelConfig, config_id, with_for_update=True)
    if config is None:
        raise NotFound("渠道不存在")
    if data.name is not None:
        config.name = data.name.strip()
    if data.enabled is not None:
        config.enabled = data.enabled
    if "alliance_id" in data.model_fields_set:
        if data.alliance_id is not None and session.get(Alliance, data.alliance_id) is None:
            raise ValidationFailed.single("alliance_id", "unknown", "联盟不存在")
        config.alliance_id = data.alliance_id
    if data.settings is not None:
        current = plain_settings(config, settings)
        given = {k: v for k, v in data.settings.items() if not (k in SECRET_FIELDS[config.kind] and not v)}
        _store_settings(config, settings, parse_settings(config.kind, {**current, **given}).model_dump())
    _flush_unique(session)
    return config


def plain_settings(config: ChannelConfig, settings: Settings) -> dict[str, Any]:
    """The configuration's settings with its secrets unsealed (for sending, never for showing)."""
    values = dict(config.settings)
    for name in SECRET_FIELDS[config.kind]:
        if values.get(name):
            values[name] = unseal(settings, name, values[name])
    return values


def _store_settings(config: ChannelConfig, settings: Settings, plain: dict[str, Any]) -> None:
    stored = dict(plain)
    for name in SECRET_FIELDS[config.kind]:
        if stored.get(name):
            stored[name] = seal(settings, name, stored[name])
    config.settings = stored
    config.target = describe_target(config.kind, plain)


def describe_target(kind: ChannelKind, plain: dict[str, Any]) -> str:
    """What a channel reaches, secrets left out: a webhook without its query, or the mail server and recipients."""
    if kind == ChannelKind.SMTP:
        return f"smtp://{plain['host']}:{plain['port']} → {', '.join(plain['recipients'])}"[:300]
    parts = urlsplit(str(plain["webhook_url"]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:300]


def _flush_unique(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("已有同名的通知渠道", code="channel_name_taken") from None


# Officers and admins: deliveries.


def list_deliveries(
    *, session: Session, viewer: Viewer, state: DeliveryState | None = None, limit: int = 200
) -> list[ChannelDelivery]:
    """Deliveries, newest first, optionally only those in ``state`` (officers and admins)."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    stmt = select(ChannelDelivery)
    if state is not None:
        stmt = stmt.where(ChannelDelivery.state == state)
    return list(session.scalars(stmt.order_by(ChannelDelivery.created_at.desc()).limit(limit)))


def retry_now(*, session: Session, viewer: Viewer, delivery_id: uuid.UUID) -> ChannelDelivery:
    """Make an unsent delivery due now (even one that ran out of attempts) and send it after commit."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    delivery = session.get(ChannelDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("投递记录不存在")
    if delivery.state != DeliveryState.SENT:
        delivery.next_attempt_at = utcnow()
        outbox.record(session, DELIVER_TOPIC, delivery_id=str(delivery.id))
    return delivery


def send_test(*, session: Session, viewer: Viewer, config_id: uuid.UUID) -> ChannelDelivery:
    """A test message through one channel (admins), delivered after commit like any other; its
    outcome shows in the delivery log."""
    viewer.require_role(Role.ADMIN)
    config = session.get(ChannelConfig, config_id)
    if config is None:
        raise NotFound("渠道不存在")
    now = utcnow()
    delivery = ChannelDelivery(
        id=uuid.uuid4(), config_id=config.id, channel=config.kind, target=config.target, topic=TEST_TOPIC,
        payload={"title": "【测试消息】幼教联盟文书流转", "body": f"这是发往「{config.name}」的测试消息，收到即表示渠道配置正确。",
                 "link": "/", "recipient_user_ids": []},
        next_attempt_at=now, created_at=now,
    )  # fmt: skip
    session.add(delivery)
    outbox.record(session, DELIVER_TOPIC, delivery_id=str(delivery.id))
    return delivery


# Workers: sending.


@dataclass(frozen=True)
class Outcome:
    """What one delivery run did: its state afterwards and, when it will be retried, when."""

    state: DeliveryState
    next_attempt_at: datetime | None
    attempted: bool


@dataclass(frozen=True)
class _Job:
    kind: ChannelKind
    settings: dict[str, Any]
    message: senders.Message


def deliver(*, db: Database, settings: Settings, delivery_id: uuid.UUID, now: datetime | None = None) -> Outcome | None:
    """Send one delivery if it is due; idempotent: a sent (or not yet due) delivery is left alone."""
    now = now or utcnow()
    with db.session() as session:
        delivery = session.get(ChannelDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            return None
        if delivery.state == DeliveryState.SENT or delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            return Outcome(delivery.state, delivery.next_attempt_at, attempted=False)
        config = session.get(ChannelConfig, delivery.config_id) if delivery.config_id else None
        if config is None or not config.enabled:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
            delivery.last_error = "渠道已删除或停用，不再发送"
            return Outcome(delivery.state, None, attempted=False)
        try:
            job: _Job | str = _Job(config.kind, plain_settings(config, settings), _message(delivery, settings))
        except UnsealError as exc:
            job = f"渠道密钥无法解密（安装密钥是否已更换？）：{exc}"
        delivery.next_attempt_at = now + SEND_LEASE  # taken: not due for anyone else meanwhile
    # Sent outside any transaction: a slow channel must not hold a database lock.
    error = job if isinstance(job, str) else _send(job)
    finished = max(utcnow(), now)
    with db.session() as session:
        delivery = session.get(ChannelDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.state == DeliveryState.SENT:
            return None if delivery is None else Outcome(delivery.state, None, attempted=True)
        delivery.attempts += 1
        if error is None:
            delivery.state, delivery.sent_at = DeliveryState.SENT, finished
            delivery.next_attempt_at, delivery.last_error = None, ""
        else:
            delivery.state, delivery.last_error = DeliveryState.FAILED, error[:_ERROR_LIMIT]
            retry = delivery.attempts < MAX_ATTEMPTS
            delivery.next_attempt_at = finished + backoff(delivery.attempts) if retry else None
            logger.warning("channel delivery %s failed (attempt %d): %s", delivery_id, delivery.attempts, error)
        return Outcome(delivery.state, delivery.next_attempt_at, attempted=True)


def due_deliveries(*, db: Database, now: datetime | None = None, limit: int = 100) -> list[uuid.UUID]:
    """Ids of unsent deliveries whose next attempt is due, oldest first."""
    now = now or utcnow()
    with db.session() as session:
        stmt = (
            select(ChannelDelivery.id)
            .where(ChannelDelivery.state != DeliveryState.SENT, ChannelDelivery.next_attempt_at <= now)
            .order_by(ChannelDelivery.next_attempt_at)
            .limit(limit)
        )
        return list(session.scalars(stmt))


def retry_due(*, db: Database, settings: Settings, now: datetime | None = None, limit: int = 100) -> int:
    """Send every delivery that is due (failed ones after their backoff, pending ones never sent); returns sent."""
    sent = 0
    for delivery_id in due_deliveries(db=db, now=now, limit=limit):
        outcome = deliver(db=db, settings=settings, delivery_id=delivery_id, now=now)
        sent += bool(outcome and outcome.attempted and outcome.state == DeliveryState.SENT)
    return sent


def _message(delivery: ChannelDelivery, settings: Settings) -> senders.Message:
    payload = delivery.payload
    link = str(payload.get("link", ""))
    if link:
        link = urljoin(settings.base_url.rstrip("/") + "/", link)
    return senders.Message(title=str(payload.get("title", "")), body=str(payload.get("body", "")), link=link)


def _send(job: _Job) -> str | None:
    """Send through the channel; the reason it failed, or None."""
    try:
        if job.kind == ChannelKind.SMTP:
            senders.send_smtp(SmtpSettings.model_validate(job.settings), job.message)
        else:
            robot = WebhookSettings.model_validate(job.settings)
            if job.kind == ChannelKind.WECOM:
                senders.send_wecom(robot.webhook_url, job.message)
            else:
                senders.send_dingtalk(robot.webhook_url, robot.secret, job.message)
    except senders.ChannelError as exc:
        return str(exc)
    except Exception as exc:  # whatever a channel does, it is recorded, never raised
        logger.exception("channel send failed unexpectedly")
        return f"发送出错：{type(exc).__name__}"
    return None
