"""Wire formats: channel settings per kind, admin input, and what the API shows (never a secret)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workflows.channels.models import ChannelConfig, ChannelDelivery, ChannelKind, DeliveryState
from workflows.errors import FieldError, ValidationFailed
from workflows.presenters import Presented

_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def check_webhook_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, else raise ValueError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Webhook 地址须以 http:// 或 https:// 开头，并包含主机名")
    if parts.username or parts.password:
        raise ValueError("Webhook 地址不能包含用户名或密码")
    return url.strip()


class WebhookSettings(BaseModel):
    """A group robot: its webhook URL (holds the robot's key) and, for DingTalk, the signing secret."""

    webhook_url: str
    secret: str = ""

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_webhook_url(value)


class SmtpSettings(BaseModel):
    host: str = Field(min_length=1, max_length=200)
    port: int = Field(default=25, ge=1, le=65535)
    from_addr: str
    recipients: list[str] = Field(min_length=1, max_length=200)
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("from_addr")
    @classmethod
    def _from(cls, value: str) -> str:
        if not _ADDRESS.match(value.strip()):
            raise ValueError("发件人地址格式不正确")
        return value.strip()

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ADDRESS.match(v.strip())]
        if bad:
            raise ValueError(f"收件人地址格式不正确：{'、'.join(bad[:3])}")
        return [v.strip() for v in value]


SETTINGS_MODELS: dict[ChannelKind, type[BaseModel]] = {
    ChannelKind.WECOM: WebhookSettings,
    ChannelKind.DINGTALK: WebhookSettings,
    ChannelKind.SMTP: SmtpSettings,
}
SECRET_FIELDS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.WECOM: ("webhook_url",),
    ChannelKind.DINGTALK: ("webhook_url", "secret"),
    ChannelKind.SMTP: ("password",),
}


def parse_settings(kind: ChannelKind, values: dict[str, Any]) -> BaseModel:
    """Validate plain settings for ``kind``; problems become a 422 naming each field."""
    try:
        return SETTINGS_MODELS[kind].model_validate(values)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"])
            message = str(error.get("ctx", {}).get("error") or "") or (
                "此项必填" if error["type"] == "missing" else "内容不正确"
            )
            errors.append(FieldError(f"settings.{path}", error["type"], message))
        raise ValidationFailed(errors) from None


class ChannelConfigIn(BaseModel):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    settings: dict[str, Any]
    # The alliance whose group it is (its notices only); none for the district's channel.
    alliance_id: uuid.UUID | None = None


class ChannelConfigUpdate(BaseModel):
    """Only the fields given change; a secret left out or empty keeps its stored value. ``alliance_id``
    given as null makes the channel the district's; left out, it stays where it is."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = None
    settings: dict[str, Any] | None = None
    alliance_id: uuid.UUID | None = None


class ChannelConfigOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ChannelKind
    name: str
    enabled: bool
    alliance_id: uuid.UUID | None
    target: str
    # The settings without any secret; ``secrets_set`` names the secrets that are stored.
    settings: dict[str, Any]
    secrets_set: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, config: ChannelConfig) -> ChannelConfigOut:
        secret = SECRET_FIELDS[config.kind]
        return cls.model_validate(
            Presented(
                config,
                settings={k: v for k, v in config.settings.items() if k not in secret},
                secrets_set=[k for k in secret if config.settings.get(k)],
            )
        )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    config_id: uuid.UUID | None
    channel: ChannelKind
    target: str
    topic: str
    title: str
    state: DeliveryState
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    will_retry: bool
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: ChannelDelivery) -> DeliveryOut:
        return cls.model_validate(
            Presented(
                delivery,
                title=str(delivery.payload.get("title", "")),
                will_retry=delivery.state != DeliveryState.SENT and delivery.next_attempt_at is not None,
            )
        )
