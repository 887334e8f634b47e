"""通知渠道 pages: the administrator adds channels (the district's or one alliance's), sends a test
message and reads the log; a delivery that failed is retried from the log; an alliance's notices reach
its own group and the district's, never another alliance's."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.fixtures.agreements import drain
from workflows.channels import dispatch, service
from workflows.channels.models import ChannelConfig, ChannelDelivery

# Nothing listens on the discard port: a send fails at once, and the log says why.
NOWHERE = "http://127.0.0.1:9/cgi-bin/webhook/send?key=abc"


def _add(admin, world, name: str, alliance: str = "") -> None:
    body = {"kind": "wecom", "name": name, "webhook_url": NOWHERE,
            "alliance_id": str(world.alliances[alliance].id) if alliance else ""}  # fmt: skip
    r = admin.post("/admin/channels", body)
    assert r.status_code == 303, r.text


def test_add_a_channel_send_a_test_message_and_retry(browser, world, runtime):
    admin = browser("admin")
    r = admin.post("/admin/channels", {"kind": "wecom", "name": "联盟A群", "webhook_url": "ftp://x"})
    assert r.status_code == 200 and re.search(r'id="err-webhook_url" role="alert">Webhook 地址须以', r.text)
    assert 'value="联盟A群"' in r.text  # what was typed stays (the secret does not)
    r = admin.post("/admin/channels", {"kind": "", "name": ""})
    assert r.status_code == 200 and "请选择渠道类型" in r.text and "请填写渠道名称" in r.text
    _add(admin, world, "联盟A群", "A")
    page = admin.get("/admin/channels").text
    assert "联盟A群" in page and "测试联盟A" in page and "发送测试消息" in page
    assert "abc" not in page  # the robot's key is a secret
    config_id = re.search(r'action="/admin/channels/([0-9a-f-]{36})/test"', page).group(1)
    r = admin.post(f"/admin/channels/{config_id}/test")
    assert r.status_code == 303
    drain(runtime)  # the send runs after the commit, in the background
    log = admin.follow(r).text
    assert "已发出测试消息" in log and "【测试消息】" in log
    with runtime.db.session() as s:
        delivery = s.scalar(select(ChannelDelivery).where(ChannelDelivery.topic == "channel.test"))
        assert delivery is not None and delivery.state.value != "sent" and delivery.attempts >= 1
        attempts, delivery_id = delivery.attempts, delivery.id
    assert "重试" in log and "无法连接" in admin.get("/admin/channels").text
    r = browser("officer").post(f"/admin/channels/deliveries/{delivery_id}/retry")
    assert r.status_code == 303
    drain(runtime)
    with runtime.db.session() as s:
        assert s.get(ChannelDelivery, delivery_id).attempts == attempts + 1
    r = admin.post(f"/admin/channels/{config_id}/enabled", {"enabled": "false"})
    assert r.status_code == 303 and "已停用「联盟A群」" in admin.follow(r).text


def test_the_officer_reads_the_log_only_and_others_see_nothing(browser, world):
    officer = browser("officer")
    page = officer.get("/admin/channels")
    assert page.status_code == 200 and "投递记录" in page.text and 'action="/admin/channels"' not in page.text
    assert officer.post("/admin/channels", {"kind": "wecom", "name": "x", "webhook_url": NOWHERE}).status_code == 303
    for who in ("lead-a", "researcher"):
        assert browser(who).get("/admin/channels").status_code == 404


def test_an_alliance_notice_reaches_its_own_group_and_the_district_only(browser, world, runtime):
    admin = browser("admin")
    _add(admin, world, "全区群")
    _add(admin, world, "联盟A群", "A")
    _add(admin, world, "联盟B群", "B")
    with runtime.db.session() as s:
        names = {c.id: c.name for c in s.scalars(select(ChannelConfig))}
        dispatch.announce(s, topic="activity.announced", title="A 的活动", body="", link="/",
                          recipient_user_ids=[], alliance_id=world.alliances["A"].id)  # fmt: skip
        dispatch.announce(s, topic="activity.announced", title="全区通知", body="", link="/", recipient_user_ids=[])
        s.flush()
        got = {(d.payload["title"], names[d.config_id]) for d in s.scalars(select(ChannelDelivery))}
    assert got == {("A 的活动", "全区群"), ("A 的活动", "联盟A群"), ("全区通知", "全区群")}


def _config(runtime, name: str) -> tuple[ChannelConfig, dict]:
    with runtime.db.session() as s:
        config = s.scalar(select(ChannelConfig).where(ChannelConfig.name == name))
        s.expunge(config)
        return config, service.plain_settings(config, runtime.settings)


def test_edit_a_channel_keeps_blank_secrets_and_never_shows_them(browser, world, runtime):
    admin = browser("admin")
    _add(admin, world, "联盟A群", "A")
    config, before = _config(runtime, "联盟A群")
    edit = f"/admin/channels/{config.id}/edit"
    page = admin.get("/admin/channels").text
    assert f'action="{edit}"' in page and "已设置，留空则不变" in page and "abc" not in page
    bad = admin.post(edit, {"name": "", "alliance_id": "", "webhook_url": "ftp://x"})
    assert bad.status_code == 200 and re.search(rf'id="e-{config.id}-err-name" role="alert">请填写渠道名称', bad.text)
    bad = admin.post(edit, {"name": "全区群", "alliance_id": "", "webhook_url": "ftp://x"})
    assert re.search(rf'id="e-{config.id}-err-webhook_url" role="alert">Webhook 地址须以', bad.text)
    assert 'value="全区群"' in bad.text and "ftp://x" not in bad.text  # the name stays, a secret never
    # Renamed and made the district's; the blank webhook keeps the robot's key.
    r = admin.post(edit, {"name": "全区群", "alliance_id": "", "webhook_url": ""})
    assert r.status_code == 303 and "已保存通知渠道「全区群」" in admin.follow(r).text
    config, after = _config(runtime, "全区群")
    assert config.alliance_id is None and after == before
    other = "http://127.0.0.1:9/robot/send?key=robotkey-b7"
    r = admin.post(edit, {"name": "全区群", "alliance_id": str(world.alliances["B"].id), "webhook_url": other})
    assert r.status_code == 303
    config, after = _config(runtime, "全区群")
    assert config.alliance_id == world.alliances["B"].id and after["webhook_url"] == other
    assert "robotkey-b7" not in admin.get("/admin/channels").text
    officer = browser("officer")
    refused = officer.post(edit, {"name": "改名", "alliance_id": "", "webhook_url": ""})
    assert refused.status_code == 303 and _config(runtime, "全区群")[0].name == "全区群"


def test_edit_a_mail_channel_with_its_settings_in_the_form(browser, world, runtime):
    admin = browser("admin")
    mail = {"kind": "smtp", "name": "邮件", "alliance_id": "", "host": "smtp.example.cn", "port": "465",
            "from_addr": "kf@example.cn", "recipients": "a@example.cn，b@example.cn", "username": "kf",
            "password": "s3cret-pw", "ssl": "true"}  # fmt: skip
    assert admin.post("/admin/channels", mail).status_code == 303
    config, before = _config(runtime, "邮件")
    page = admin.get("/admin/channels").text
    form = page.split(f'action="/admin/channels/{config.id}/edit"')[1].split("</form>")[0]
    assert 'value="smtp.example.cn"' in form and 'value="a@example.cn, b@example.cn"' in form
    assert 'name="ssl" value="true" checked' in form and "s3cret-pw" not in page
    changed = {**mail, "password": "", "recipients": "c@example.cn", "port": "587", "ssl": "", "starttls": "true"}
    bad = admin.post(f"/admin/channels/{config.id}/edit", {**changed, "recipients": "不是地址"})
    assert bad.status_code == 200
    assert re.search(rf'id="e-{config.id}-err-recipients" role="alert">收件人地址格式不正确', bad.text)
    assert admin.post(f"/admin/channels/{config.id}/edit", changed).status_code == 303
    _, after = _config(runtime, "邮件")
    assert (after["recipients"], after["port"], after["ssl"], after["starttls"]) == (["c@example.cn"], 587, False, True)
    assert after["password"] == before["password"] == "s3cret-pw"  # blank kept it
