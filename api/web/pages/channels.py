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
from workflows.channels import service
from workflows.channels.models import KIND_LABELS, ChannelConfig, ChannelKind, DeliveryState
from workflows.channels.schemas import ChannelConfigIn, ChannelConfigOut, ChannelConfigUpdate
from workflows.errors import NotFound, ValidationFailed
from workflows.registry import service as registry
from workflows.roles import Role

router = web_router()

ADMINS = frozenset({Role.ADMIN})
LOG_READERS = frozenset({Role.ADMIN, Role.OFFICER})
nav.register(nav.NavItem("admin-channels", "通知渠道", "/admin/channels", roles=LOG_READERS, order=92))
STATE_LABELS = {DeliveryState.PENDING: "待发送", DeliveryState.SENT: "已发送", DeliveryState.FAILED: "发送失败"}
LOG_SIZE = 100
# Never typed back into a form: the robot's URL holds its key.
SECRET_INPUTS = ("password", "secret", "webhook_url", "csrf_token")


def _show(page: SignedInPage, *, state: str = "", errors: dict[str, str] | None = None,
          entered: dict[str, Any] | None = None, editing: uuid.UUID | None = None) -> Response:  # fmt: skip
    """The page; ``editing`` names the channel whose edit form holds ``errors`` and ``entered``."""
    admin = page.viewer.role == Role.ADMIN
    chosen = DeliveryState(state) if state in DeliveryState.__members__.values() else None
    alliances = registry.list_alliances(session=page.db)
    configs = service.list_configs(session=page.db, viewer=page.viewer) if admin else []
    add_errors, add_entered = (errors or {}, entered or {}) if editing is None else ({}, {})
    return page.render(
        "admin/channels.html",
        configs=[ChannelConfigOut.of(c) for c in configs],  # what a form may show: never a secret
        deliveries=service.list_deliveries(session=page.db, viewer=page.viewer, state=chosen, limit=LOG_SIZE),
        alliances=alliances, alliance_names={a.id: a.name for a in alliances}, kinds=KIND_LABELS,
        state_labels=STATE_LABELS, state=state, admin=admin, errors=add_errors, entered=add_entered, editing=editing,
        edit_errors={} if editing is None else errors or {}, edit_entered={} if editing is None else entered or {},
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
    entered = {k: v for k, v in form.items() if k not in SECRET_INPUTS}
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


def _alliance(form: FormDep, errors: dict[str, str]) -> uuid.UUID | None:
    chosen = text(form, "alliance_id")
    try:
        return uuid.UUID(chosen) if chosen else None
    except ValueError:
        errors["alliance_id"] = "请选择联盟或全区"
        return None


@router.post("/admin/channels/{config_id}/edit")
def edit(config_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    """Change a channel's name, settings and whose it is; a secret left blank keeps its stored value."""
    page.viewer.require_role(*ADMINS)
    config = page.db.get(ChannelConfig, config_id)
    if config is None:
        raise NotFound("渠道不存在")
    entered = {k: v for k, v in form.items() if k not in SECRET_INPUTS}
    errors: dict[str, str] = {}
    try:
        if not text(form, "name"):
            errors["name"] = "请填写渠道名称"
        alliance_id = _alliance(form, errors)
        if errors:
            raise ValidationFailed.single("form", "invalid", "请检查标出的内容")
        data = ChannelConfigUpdate(name=text(form, "name"), settings=_settings(config.kind, form),
                                   alliance_id=alliance_id)  # fmt: skip
        config = service.update_config(session=page.db, settings=page.settings, viewer=page.viewer,
                                       config_id=config_id, data=data)  # fmt: skip
    except ValidationFailed as exc:
        page.db.rollback()
        errors = errors or {_field(k): v for k, v in domain_errors(exc).items()}
        return _show(page, errors=errors, entered=entered, editing=config_id)
    return page.redirect(f"/admin/channels#channel-{config.id}", f"已保存通知渠道「{config.name}」")


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
