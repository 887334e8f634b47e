"""Channel configurations (set by the admin at runtime) and the deliveries made through them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.registry.models import _enum


class ChannelKind(enum.StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    SMTP = "smtp"


KIND_LABELS = {
    ChannelKind.WECOM: "企业微信群机器人",
    ChannelKind.DINGTALK: "钉钉群机器人",
    ChannelKind.SMTP: "电子邮件",
}


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class ChannelConfig(UUIDPrimaryKey, Base):
    __tablename__ = "channel_configs"

    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, "channel_kind"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The alliance whose group this is: it gets that alliance's notices only. None: the district's
    # (the bureau's) channel, which gets every notice.
    alliance_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    # Kind-specific settings; secret values (webhook URL, signing secret, password) are sealed.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the channel reaches, with every secret left out (shown in lists and on deliveries).
    target: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChannelDelivery(UUIDPrimaryKey, Base):
    """One message to one channel. ``next_attempt_at`` is when it is due; None once sent or given up."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        Index("ix_channel_deliveries_due", "state", "next_attempt_at"),
        Index("ix_channel_deliveries_created", "created_at"),
    )

    config_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_configs.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, "delivery_channel"))
    target: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(100))
    # {"title", "body", "link", "recipient_user_ids"}: what to say; how is the channel's business.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
