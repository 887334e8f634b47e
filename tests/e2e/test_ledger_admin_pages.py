"""In a real browser: the 继续教育 ledger (district, kindergarten, teacher), the notification channels with
a test message and the delivery log, and the audit-chain check — each at desktop and phone width, none
scrolling sideways or logging an error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.evaluation_year import build_year

pytestmark = pytest.mark.slow


def test_ledger_channels_and_audit_pages(person, live_server: LiveServer) -> None:
    world = live_server.world
    build_year(live_server.runtime, world)

    officer = person()
    officer.login("officer")
    page = officer.open("/ledger?year=2026")
    expect(page.locator("h1")).to_contain_text("继续教育台账")
    officer.screenshot("70-ledger-district")
    page.locator("table a").first.click()
    expect(page.locator("table")).to_contain_text("学时")
    officer.screenshot("71-ledger-kindergarten")
    page.locator("table a").first.click()
    expect(page.locator("h1")).to_contain_text("继续教育")
    expect(page.locator("#years-title")).to_have_text("历年学时")
    officer.screenshot("72-ledger-teacher")
    with page.expect_download() as download:
        officer.open("/ledger?year=2026").get_by_role("link", name="下载 2026 年台账（Excel）").click()
    assert download.value.suggested_filename == "教师参加联盟教研活动台账_2026.xlsx"

    page = officer.open("/admin/audit")
    page.get_by_role("button", name="开始核验").click()
    expect(page.locator("#audit-result")).to_contain_text("核验通过")
    officer.screenshot("73-audit-check")

    admin = person()
    admin.login("admin")
    page = admin.open("/admin/channels")
    page.locator("details summary", has_text="添加渠道").click()
    page.select_option("#in-kind", "wecom")
    page.fill("#in-name", "测试联盟A教研群")
    page.select_option("#in-alliance", str(world.alliances["A"].id))
    page.fill("#in-webhook_url", "http://127.0.0.1:9/cgi-bin/webhook/send?key=abc")
    page.get_by_role("button", name="添加渠道").click()
    expect(page.locator(".flash")).to_contain_text("已添加通知渠道「测试联盟A教研群」")
    page.get_by_role("button", name="发送测试消息").click()
    expect(page.locator(".flash")).to_contain_text("已发出测试消息")
    expect(page.locator(".deliveries")).to_contain_text("【测试消息】")
    admin.screenshot("74-channels")

    # Editing the channel: the robot's URL is never shown; a wrong one is named next to its field.
    channel = page.locator(".channel", has_text="测试联盟A教研群")
    channel.locator("summary", has_text="修改").click()
    form = channel.locator("form.grid")
    expect(form.locator("input[name=webhook_url]")).to_have_value("")
    expect(form.locator("input[name=webhook_url]")).to_have_attribute("placeholder", "已设置，留空则不变")
    form.locator("input[name=name]").fill("全区教研群")
    form.locator("select[name=alliance_id]").select_option("")
    form.locator("input[name=webhook_url]").fill("ftp://example.cn/robot")
    form.get_by_role("button", name="保存修改").click()
    channel = page.locator(".channel", has_text="测试联盟A教研群")
    expect(channel.locator("[id$=err-webhook_url]")).to_contain_text("Webhook 地址须以")
    expect(channel.locator("input[name=name]")).to_have_value("全区教研群")
    admin.screenshot("75-channel-edit-error")
    channel.locator("input[name=webhook_url]").fill("")
    channel.get_by_role("button", name="保存修改").click()
    expect(page.locator(".flash")).to_contain_text("已保存通知渠道「全区教研群」")
    expect(page.locator(".channel", has_text="全区教研群")).to_contain_text("全区")
    admin.screenshot("76-channel-edited")

    # The scheme's method parameters: the plan's floor of two centralised activities is named at its input.
    page = officer.open("/evaluations/schemes/2027")
    count = page.locator(".scheme-item", has=page.locator("input[value=activity_count]"))
    count.locator("input[name$=-per_semester]").fill("1")
    page.get_by_role("button", name="保存考核方案").click()
    expect(count.locator(".field-error[id$=-per_semester]")).to_contain_text("不少于 2 次")
    count.scroll_into_view_if_needed()
    officer.screenshot("77-scheme-params-error")
    count.locator("input[name$=-per_semester]").fill("3")
    page.get_by_role("button", name="保存考核方案").click()
    expect(page.locator(".flash")).to_contain_text("已保存 2027 年度考核方案")
