"""In a real browser at 1280 and 360 px: the lead records the district researcher as 指导 at a held
activity (教研员深入各联盟) and the officer's dashboard shows the visit per alliance and semester; the lead
writes the semester summary, the officer publishes it to every alliance (及交流工作) and another
alliance's lead reads it on 「经验交流」."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.activity_records import make_activity
from tests.web.test_semester_work_pages import SUMMARY

pytestmark = pytest.mark.slow

LABELS = {"overview": "基本情况", "practices": "主要做法", "outcomes": "取得成效", "reflection": "反思",
          "improvements": "改进方向"}  # fmt: skip


def test_the_researcher_guides_and_a_summary_is_shared(person, live_server: LiveServer):
    runtime, world = live_server.runtime, live_server.world
    held = make_activity(runtime, world, state="held", topic="区域游戏观察研讨")
    alliance_a = world.alliances["A"].id

    lead = person()
    lead.login("lead-a")
    page = lead.open(f"/activities/{held.activity_id}")
    page.get_by_text("登记到场指导（教研员、导师）").click()
    page.get_by_label("指导人员").select_option(label="researcher")
    lead.screenshot("guidance-form")
    page.get_by_role("button", name="登记指导").click()
    expect(page.locator(".flash")).to_contain_text("已登记researcher到场指导")
    expect(page.locator("#attendance .tag", has_text="指导")).to_be_visible()
    lead.screenshot("guidance-recorded")

    page = lead.open(f"/semester-work/{alliance_a}?semester=2026-autumn")
    summary = page.locator("#summary")
    for name, label in LABELS.items():
        summary.get_by_label(label).fill(SUMMARY[name])
    summary.get_by_role("button", name="保存并生成文档").click()
    expect(page.locator(".flash")).to_contain_text("已保存")

    officer = person()
    officer.login("officer")
    page = officer.open(f"/semester-work/{alliance_a}?semester=2026-autumn")
    page.locator("#summary").get_by_role("button", name="发布到经验交流").click()
    expect(page.locator(".flash")).to_contain_text("已向各联盟发布")
    page.locator("#summary details.withdraw > summary").click()
    officer.screenshot("exchange-published")
    page = officer.open("/dashboards?year=2026")
    expect(page.locator("#researcher-visits")).to_contain_text("1 次")
    officer.screenshot("dashboard-researcher-visits")

    reader = person()
    reader.login("lead-b")
    page = reader.open("/")
    page.locator("nav").get_by_role("link", name="经验交流").first.click()
    expect(page.locator(".exchange-list")).to_contain_text("2026年秋季学期教研经验小结")
    reader.screenshot("exchange-list")
    with page.expect_download() as download:
        page.locator(".exchange-list a").first.click()
    assert download.value.suggested_filename.endswith(".docx")
    for p in (lead, officer, reader):
        p.assert_clean()
