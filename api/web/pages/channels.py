"""通知渠道: the administrator configures the 企业微信/钉钉 group robots and mailing lists — each the
district's (every notice) or one alliance's (that alliance's notices only) — sends a test message, and
reads the delivery log with its retries; the officer reads the log and retries too."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import domain_errors, text
from api.web.routing import web_router
from workflows.accounts.models import Role
from workflows.channels import service
from workflows.channels.models import KIND_LABELS, ChannelKind, DeliveryState
from workflows.channels.schemas import ChannelConfigIn, ChannelConfigUpdate
from workflows.errors import ValidationFailed
from workflows.registry import service as registry

router = web_router()

ADMINS = frozenset({Role.ADMIN})
LOG_READERS = frozenset({Role.ADMIN, Role.OFFICER})
nav.register(nav.NavItem("admin-channels", "通知渠道", "/admin/channels", roles=LOG_READERS, order=92))
STATE_LABELS = {DeliveryState.PENDING: "待发送", DeliveryState.SENT: "已发送", DeliveryState.FAILED: "发送失败"}
LOG_SIZE = 100


def _show(page: SignedInPage, *, state: str = "", errors: dict[str, str] | None = None,
          entered: dict[str, Any] | None = None) -> Response:  # fmt: skip
    admin = page.viewer.role == Role.ADMIN
    chosen = DeliveryState(state) if state in DeliveryState.__members__.values() else None
    alliances = registry.list_alliances(session=page.db)
    return page.render(
        "admin/channels.html",
        configs=service.list_configs(session=page.db, viewer=page.viewer) if admin else [],
        deliveries=service.list_deliveries(session=page.db, viewer=page.viewer, state=chosen, limit=LOG_SIZE),
        alliances=alliances, alliance_names={a.id: a.name for a in alliances}, kinds=KIND_LABELS,
        state_labels=STATE_LABELS, state=state, admin=admin, errors=errors or {}, entered=entered or {},
    )  # fmt: skip


@router.get("/admin/channels")
def channels_page(page: UserPage, state: str = "") -> Response:
    page.viewer.require_role(*LOG_READERS)
    return _show(page, state=state)


def _settings(kind: str, form: FormDep) -> dict[str, Any]:
    if kind == ChannelKind.SMTP:
        recipients = [r for r in text(form, "recipients").replace("，", ",").replace("\n", ",").split(",") if r.strip()]
        port = text(form, "port")
        return {"host": text(form, "host"), "port": int(port) if port.isdigit() else port or 25,
                "from_addr": text(form, "from_addr"), "recipients": recipients, "username": text(form, "username"),
                "password": text(form, "password"), "starttls": bool(form.get("starttls")), "ssl": bool(form.get("ssl"))}  # fmt: skip
    return {"webhook_url": text(form, "webhook_url"), "secret": text(form, "secret")}


def _field(name: str) -> str:
    """``settings.webhook_url`` → the input ``webhook_url``."""
    return name.removeprefix("settings.")


@router.post("/admin/channels")
def create(page: UserPage, form: FormDep) -> Response:
    page.viewer.require_role(*ADMINS)
    kind, alliance = text(form, "kind"), text(form, "alliance_id")
    entered = {k: v for k, v in form.items() if k not in ("password", "secret", "webhook_url", "csrf_token")}
    try:
        errors: dict[str, str] = {}
        if kind not in ChannelKind.__members__.values():
            errors["kind"] = "请选择渠道类型"
        if not text(form, "name"):
            errors["name"] = "请填写渠道名称"
        if errors:
            raise ValidationFailed.single("form", "invalid", "请检查标出的内容")
        data = ChannelConfigIn(kind=ChannelKind(kind), name=text(form, "name"), settings=_settings(kind, form),
                               alliance_id=uuid.UUID(alliance) if alliance else None)  # fmt: skip
        config = service.create_config(session=page.db, settings=page.settings, viewer=page.viewer, data=data)
    except ValidationFailed as exc:
        page.db.rollback()
        errors = errors or {_field(k): v for k, v in domain_errors(exc).items()}
        return _show(page, errors=errors, entered=entered)
    return page.redirect("/admin/channels", f"已添加通知渠道「{config.name}」")


@router.post("/admin/channels/{config_id}/enabled")
def set_enabled(config_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    enabled = text(form, "enabled") == "true"
    config = service.update_config(session=page.db, settings=page.settings, viewer=page.viewer, config_id=config_id,
                                   data=ChannelConfigUpdate(enabled=enabled))  # fmt: skip
    return page.redirect("/admin/channels", f"已{'启用' if enabled else '停用'}「{config.name}」")


@router.post("/admin/channels/{config_id}/test")
def send_test(config_id: uuid.UUID, page: UserPage) -> Response:
    delivery = service.send_test(session=page.db, viewer=page.viewer, config_id=config_id)
    return page.redirect("/admin/channels#deliveries", f"已发出测试消息（{delivery.target}），结果见下方投递记录")


@router.post("/admin/channels/deliveries/{delivery_id}/retry")
def retry(delivery_id: uuid.UUID, page: UserPage) -> Response:
    delivery = service.retry_now(session=page.db, viewer=page.viewer, delivery_id=delivery_id)
    done = "已发送，无需重试" if delivery.state == DeliveryState.SENT else "已重新发送，结果稍后更新"
    return page.redirect("/admin/channels#deliveries", f"「{delivery.payload.get('title', '')}」{done}")
