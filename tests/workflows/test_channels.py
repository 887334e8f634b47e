"""Notification channels against real peers (a loopback webhook receiver, an aiosmtpd server), on
SQLite and PostgreSQL: message formats, the DingTalk signature, retries with backoff, idempotency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from storage.db import utcnow
from storage.runtime import Runtime
from storage.settings import Settings
from tests.fixtures.channels import Mailbox, Receiver
from tests.fixtures.s3 import free_port
from workers.inline import InlineRunner
from workers.relay import install_publisher
from workers.runtime import set_runtime
from workflows.access import Viewer
from workflows.channels import dispatch, senders, service
from workflows.channels.models import ChannelConfig, ChannelDelivery, ChannelKind, DeliveryState
from workflows.channels.schemas import ChannelConfigIn, ChannelConfigUpdate
from workflows.channels.sealing import UnsealError, seal, unseal
from workflows.errors import NotFound, ValidationFailed
from workflows.outbox import OutboxMessage
from workflows.roles import Role

ADMIN = Viewer(uuid.uuid4(), "admin", "管理员", Role.ADMIN, None, None)
OFFICER = Viewer(uuid.uuid4(), "officer", "成幼科", Role.OFFICER, None, None)
LEAD = Viewer(uuid.uuid4(), "lead", "龙头园", Role.LEAD, None, None)
WECOM_KEY = "wecom-robot-key-0123456789"
DING_TOKEN = "ding-access-token-abcdef"
DING_SECRET = "SEC0123456789abcdef-secret"
TITLE = "教研活动通报：绘本阅读 A&B<集中研讨>"
BODY = "测试联盟A定于 2026-10-15 09:00 在湖坊镇中心幼儿园开展集中研讨活动。"


@pytest.fixture(autouse=True)
def _no_runtime_override() -> Iterator[None]:
    yield
    set_runtime(None)


def add_config(runtime: Runtime, kind: ChannelKind, name: str, settings: dict[str, Any]) -> uuid.UUID:
    with runtime.db.session() as session:
        data = ChannelConfigIn(kind=kind, name=name, settings=settings)
        return service.create_config(session=session, settings=runtime.settings, viewer=ADMIN, data=data).id


def announce(runtime: Runtime, link: str = "/activities/42") -> list[uuid.UUID]:
    with runtime.db.session() as session:
        dispatch.announce(
            session, topic="activity.announced", title=TITLE, body=BODY, link=link, recipient_user_ids=[uuid.uuid4()]
        )
    return deliveries(runtime)


def deliveries(runtime: Runtime) -> list[uuid.UUID]:
    with runtime.db.session() as session:
        return list(session.scalars(select(ChannelDelivery.id).order_by(ChannelDelivery.created_at)))


def load(runtime: Runtime, delivery_id: uuid.UUID) -> ChannelDelivery:
    with runtime.db.session() as session:
        delivery = session.get(ChannelDelivery, delivery_id)
        assert delivery is not None
        return delivery


def deliver(runtime: Runtime, delivery_id: uuid.UUID, **kw: Any) -> service.Outcome | None:
    return service.deliver(db=runtime.db, settings=runtime.settings, delivery_id=delivery_id, **kw)


def test_wecom_gets_markdown_once(runtime: Runtime, webhook_receiver: Receiver) -> None:
    url = webhook_receiver.url("/cgi-bin/webhook/send", key=WECOM_KEY)
    add_config(runtime, ChannelKind.WECOM, "联盟企业微信群", {"webhook_url": url})
    [delivery_id] = announce(runtime)

    outcome = deliver(runtime, delivery_id)

    assert outcome == service.Outcome(DeliveryState.SENT, None, attempted=True)
    [request] = webhook_receiver.requests
    assert request.path == "/cgi-bin/webhook/send" and request.query == {"key": WECOM_KEY}
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert "### 教研活动通报：绘本阅读 A&B＜集中研讨＞" in content and BODY in content  # markup neutralised
    assert "[查看详情](http://127.0.0.1:8000/activities/42)" in content
    row = load(runtime, delivery_id)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == (DeliveryState.SENT, 1, "", None)
    assert row.sent_at is not None and row.target == f"{webhook_receiver.base_url}/cgi-bin/webhook/send"
    # Idempotent: a redelivered task (or the sweep) does not send it again.
    assert deliver(runtime, delivery_id) == service.Outcome(DeliveryState.SENT, None, attempted=False)
    assert service.retry_due(db=runtime.db, settings=runtime.settings, now=utcnow() + timedelta(days=1)) == 0
    assert len(webhook_receiver.requests) == 1


def test_dingtalk_request_is_signed(runtime: Runtime, webhook_receiver: Receiver) -> None:
    url = webhook_receiver.url("/robot/send", access_token=DING_TOKEN)
    add_config(runtime, ChannelKind.DINGTALK, "钉钉群", {"webhook_url": url, "secret": DING_SECRET})
    [delivery_id] = announce(runtime)

    before = int(time.time() * 1000)
    deliver(runtime, delivery_id)
    after = int(time.time() * 1000)

    [request] = webhook_receiver.requests
    assert request.query["access_token"] == DING_TOKEN
    timestamp = int(request.query["timestamp"])
    assert before <= timestamp <= after
    # Recomputed here from DingTalk's documented recipe: HMAC-SHA256 over "timestamp\nsecret", base64.
    expected = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(request.query["sign"]) == expected  # parse_qs already url-decoded it
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == TITLE and BODY in body["markdown"]["text"]
    assert load(runtime, delivery_id).state == DeliveryState.SENT


def test_markdown_neutralises_markup_and_fits_the_robot_limit() -> None:
    message = senders.Message(
        title="[点我](http://evil.example)", body="<a href=x>链接</a>" + "长" * 3000, link="http://kf/a"
    )
    text = message.markdown(senders.WECOM_MARKDOWN_BYTES)
    assert "](http://evil" not in text and "<a" not in text
    assert "［点我］(http://evil.example)" in text and "＜a href=x＞" in text
    assert len(text.encode()) <= senders.WECOM_MARKDOWN_BYTES
    assert text.endswith("…\n\n[查看详情](http://kf/a)")


def test_failure_backs_off_then_the_retry_succeeds(runtime: Runtime, webhook_receiver: Receiver) -> None:
    url = webhook_receiver.url("/cgi-bin/webhook/send", key=WECOM_KEY)
    add_config(runtime, ChannelKind.WECOM, "群", {"webhook_url": url})
    [delivery_id] = announce(runtime)
    webhook_receiver.status, webhook_receiver.answer = 500, {"errcode": -1, "errmsg": "system busy"}

    started = utcnow()
    outcome = deliver(runtime, delivery_id)

    row = load(runtime, delivery_id)
    assert outcome is not None and outcome.state == DeliveryState.FAILED
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "HTTP 500" in row.last_error and WECOM_KEY not in row.last_error
    assert row.next_attempt_at is not None and row.next_attempt_at >= started + service.backoff(1)
    # Not due yet: the sweep leaves it alone.
    assert service.retry_due(db=runtime.db, settings=runtime.settings) == 0
    assert len(webhook_receiver.requests) == 1

    webhook_receiver.status, webhook_receiver.answer = 200, {"errcode": 0, "errmsg": "ok"}
    due = row.next_attempt_at + timedelta(seconds=1)
    assert service.retry_due(db=runtime.db, settings=runtime.settings, now=due) == 1

    row = load(runtime, delivery_id)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == (DeliveryState.SENT, 2, "", None)
    assert len(webhook_receiver.requests) == 2


def test_attempts_are_capped(runtime: Runtime, webhook_receiver: Receiver) -> None:
    add_config(runtime, ChannelKind.WECOM, "群", {"webhook_url": webhook_receiver.url("/hook", key="k")})
    webhook_receiver.status = 503
    [delivery_id] = announce(runtime)
    waits = []
    now = utcnow()
    for _ in range(service.MAX_ATTEMPTS + 2):
        service.retry_due(db=runtime.db, settings=runtime.settings, now=now)
        row = load(runtime, delivery_id)
        if row.next_attempt_at is None:
            break
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at + timedelta(seconds=1)

    row = load(runtime, delivery_id)
    assert (row.state, row.attempts, row.next_attempt_at) == (DeliveryState.FAILED, service.MAX_ATTEMPTS, None)
    assert len(webhook_receiver.requests) == service.MAX_ATTEMPTS
    # Exponential: each wait about twice the one before.
    assert all(b > a * 1.5 for a, b in zip(waits, waits[1:], strict=False))


def test_robot_error_code_is_a_failure(runtime: Runtime, webhook_receiver: Receiver) -> None:
    add_config(runtime, ChannelKind.WECOM, "群", {"webhook_url": webhook_receiver.url("/hook", key=WECOM_KEY)})
    webhook_receiver.answer = {"errcode": 93000, "errmsg": f"invalid webhook url, key={WECOM_KEY}"}
    [delivery_id] = announce(runtime)
    deliver(runtime, delivery_id)
    row = load(runtime, delivery_id)
    assert row.state == DeliveryState.FAILED and "93000" in row.last_error
    assert WECOM_KEY not in row.last_error


def test_smtp_sends_utf8_mail(runtime: Runtime, smtp_server: Mailbox) -> None:
    settings = {
        "host": smtp_server.host,
        "port": smtp_server.port,
        "from_addr": "kinderflow@edu.example.cn",
        "recipients": ["chengyouke@edu.example.cn", "jiaoyanshi@edu.example.cn"],
        "timeout_seconds": 5,
    }
    add_config(runtime, ChannelKind.SMTP, "成幼科邮箱", settings)
    [delivery_id] = announce(runtime)

    deliver(runtime, delivery_id)

    assert load(runtime, delivery_id).state == DeliveryState.SENT
    [(mail_from, rcpt_tos, message)] = smtp_server.messages
    assert mail_from == "kinderflow@edu.example.cn"
    assert rcpt_tos == ["chengyouke@edu.example.cn", "jiaoyanshi@edu.example.cn"]
    assert message["Subject"] == TITLE
    assert message["To"] == "chengyouke@edu.example.cn, jiaoyanshi@edu.example.cn"
    part = message.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    text = part.get_content()
    assert BODY in text and "http://127.0.0.1:8000/activities/42" in text


def test_smtp_server_down_is_a_recorded_failure(runtime: Runtime) -> None:
    settings = {"host": "127.0.0.1", "port": free_port(), "from_addr": "a@b.cn", "recipients": ["c@d.cn"]}
    add_config(runtime, ChannelKind.SMTP, "邮箱", {**settings, "password": "mail-pass-123"})
    [delivery_id] = announce(runtime)
    deliver(runtime, delivery_id)
    row = load(runtime, delivery_id)
    assert row.state == DeliveryState.FAILED and row.attempts == 1 and "无法发送邮件" in row.last_error
    assert "mail-pass-123" not in row.last_error


def test_announce_commits_while_a_channel_is_down(runtime: Runtime, webhook_receiver: Receiver) -> None:
    """The caller's transaction and the outbox relay go through; the task records the failure."""
    dead = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={WECOM_KEY}"
    add_config(runtime, ChannelKind.WECOM, "坏掉的群", {"webhook_url": dead})
    add_config(runtime, ChannelKind.WECOM, "好的群", {"webhook_url": webhook_receiver.url("/ok", key="k")})
    with runtime.db.session() as session:
        data = ChannelConfigIn(kind=ChannelKind.WECOM, name="停用的群", enabled=False, settings={"webhook_url": dead})
        service.create_config(session=session, settings=runtime.settings, viewer=ADMIN, data=data)
    runner = InlineRunner(runtime)
    install_publisher(runtime, runner)
    try:
        ids = announce(runtime)
        assert runner.drain(30)
    finally:
        runtime.uninstall_publisher()
        runner.close(10)

    assert runner.failures == []
    rows = {load(runtime, i).target.split("/")[-1]: load(runtime, i) for i in ids}
    assert len(ids) == 2  # the disabled channel gets nothing
    states = sorted((r.state, r.attempts) for r in rows.values())
    assert states == [(DeliveryState.FAILED, 1), (DeliveryState.SENT, 1)]
    failed = next(r for r in rows.values() if r.state == DeliveryState.FAILED)
    assert "无法连接" in failed.last_error and WECOM_KEY not in failed.last_error
    with runtime.db.session() as session:
        published = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "channels.deliver")).all()
        assert len(published) == 2 and all(m.published_at is not None for m in published)


def test_disabled_or_deleted_channel_gives_up(runtime: Runtime, webhook_receiver: Receiver) -> None:
    config_id = add_config(runtime, ChannelKind.WECOM, "群", {"webhook_url": webhook_receiver.url("/h", key="k")})
    [delivery_id] = announce(runtime)
    with runtime.db.session() as session:
        service.update_config(
            session=session,
            settings=runtime.settings,
            viewer=ADMIN,
            config_id=config_id,
            data=ChannelConfigUpdate(enabled=False),
        )
    deliver(runtime, delivery_id)
    row = load(runtime, delivery_id)
    assert (row.state, row.next_attempt_at, row.attempts) == (DeliveryState.FAILED, None, 0)
    assert webhook_receiver.requests == []


def test_manual_retry_after_giving_up(runtime: Runtime, webhook_receiver: Receiver) -> None:
    add_config(runtime, ChannelKind.WECOM, "群", {"webhook_url": webhook_receiver.url("/h", key="k")})
    [delivery_id] = announce(runtime)
    with runtime.db.session() as session:
        row = session.get(ChannelDelivery, delivery_id)
        assert row is not None
        row.state, row.attempts, row.next_attempt_at = DeliveryState.FAILED, service.MAX_ATTEMPTS, None
    assert deliver(runtime, delivery_id) == service.Outcome(DeliveryState.FAILED, None, attempted=False)

    with runtime.db.session() as session:
        with pytest.raises(NotFound):
            service.retry_now(session=session, viewer=LEAD, delivery_id=delivery_id)
        service.retry_now(session=session, viewer=OFFICER, delivery_id=delivery_id)
    deliver(runtime, delivery_id)
    assert load(runtime, delivery_id).state == DeliveryState.SENT


def test_secrets_are_sealed_at_rest(runtime: Runtime) -> None:
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    config_id = add_config(runtime, ChannelKind.DINGTALK, "钉钉", {"webhook_url": url, "secret": DING_SECRET})
    with runtime.db.session() as session:
        config = session.get(ChannelConfig, config_id)
        assert config is not None
        stored = repr(config.settings)
        assert WECOM_KEY not in stored and DING_SECRET not in stored
        assert config.settings["webhook_url"].startswith("sealed:v1:")
        assert config.target == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
        assert service.plain_settings(config, runtime.settings) == {"webhook_url": url, "secret": DING_SECRET}


def test_sealing_is_bound_to_key_and_field(settings: Settings, tmp_path: Path) -> None:
    sealed = seal(settings, "secret", "值 value")
    assert unseal(settings, "secret", sealed) == "值 value"
    assert seal(settings, "secret", "值 value") != sealed  # a fresh nonce each time
    with pytest.raises(UnsealError):
        unseal(settings, "password", sealed)
    other = Settings(demo=True, var_dir=tmp_path / "other", secret_key=SecretStr("x" * 40))
    with pytest.raises(UnsealError):
        unseal(other, "secret", sealed)
    with pytest.raises(UnsealError):
        unseal(settings, "secret", "plain text")


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        (ChannelKind.WECOM, {"webhook_url": "ftp://127.0.0.1/hook"}, "settings.webhook_url"),
        (ChannelKind.WECOM, {"webhook_url": "javascript:alert(1)"}, "settings.webhook_url"),
        (ChannelKind.DINGTALK, {"webhook_url": "http://user:pw@127.0.0.1/x"}, "settings.webhook_url"),
        (ChannelKind.WECOM, {}, "settings.webhook_url"),
        (ChannelKind.SMTP, {"host": "h", "from_addr": "nope", "recipients": ["a@b.cn"]}, "settings.from_addr"),
        (ChannelKind.SMTP, {"host": "h", "from_addr": "a@b.cn", "recipients": []}, "settings.recipients"),
        (ChannelKind.SMTP, {"host": "h", "from_addr": "a@b.cn", "recipients": ["x"]}, "settings.recipients"),
        (ChannelKind.SMTP, {"host": "h", "port": 0, "from_addr": "a@b.cn", "recipients": ["a@b.cn"]}, "settings.port"),
    ],
)
def test_invalid_settings_are_refused(runtime: Runtime, kind: ChannelKind, values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught, runtime.db.session() as session:
        service.create_config(
            session=session,
            settings=runtime.settings,
            viewer=ADMIN,
            data=ChannelConfigIn(kind=kind, name="x", settings=values),
        )
    assert field in [e.field for e in caught.value.errors]
    assert all(e.message for e in caught.value.errors)


def test_celery_beat_runs_the_retry_sweep(tmp_path: Path) -> None:
    code = "import workers.tasks; from workers.app import app; print(app.conf.beat_schedule['channels-retry-due'])"
    env = {**os.environ, "KINDERFLOW_BROKER_URL": "redis://127.0.0.1:6379/0", "KINDERFLOW_DEMO": "true"}
    env["KINDERFLOW_VAR_DIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "'task': 'channels.retry_due'" in out and "'schedule': 60.0" in out
