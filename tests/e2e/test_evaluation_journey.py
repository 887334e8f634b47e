"""In a real browser on a 360 px phone: a year's evaluation from opening to publication — the lead
self-assesses from its 待办, the researcher and the officer score, the officer publishes — with the
evaluation form and the district ranking downloaded; then 动态管理: the officer removes a member that
never attended, and its membership and agreement end.

Screenshots at desktop and phone width; no page may log an error or scroll sideways.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import PHONE, LiveServer
from tests.fixtures.agreements import approved_application
from tests.fixtures.evaluation_year import build_year
from workflows.agreements import service as agreements
from workflows.agreements.models import Agreement
from workflows.registry.models import Membership

pytestmark = pytest.mark.slow


def test_evaluation_open_to_publish_on_a_phone_then_a_removal(person, live_server: LiveServer) -> None:
    runtime, world = live_server.runtime, live_server.world
    build_year(runtime, world)
    application_id = approved_application(runtime, world, "A-M2")
    with runtime.db.session() as s:
        agreement_id = agreements.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        ).id

    # --- the officer reads the scheme and opens the year, on a phone ------------------------------------
    officer = person()
    officer.login("officer")
    page = officer.page
    page.set_viewport_size(PHONE)
    officer.open("/evaluations/schemes/2026")
    expect(page.locator("#scheme-sum")).to_contain_text("基本项目合计 100 分")
    officer.screenshot("60-evaluation-scheme")
    page.set_viewport_size(PHONE)
    officer.open("/evaluations")
    page.fill("#in-open-year", "2026")
    page.get_by_role("button", name="发起").click()
    expect(page.locator(".flash")).to_contain_text("已发起 2026 年度考核")
    officer.screenshot("61-evaluations-opened")
    page.set_viewport_size(PHONE)
    link = page.locator("tr", has_text="测试联盟A").locator("a").first
    link.click()
    expect(page.locator(".eval-result")).to_contain_text("待评分")
    expect(page.locator(".eval-result")).not_to_contain_text("不合格")
    url = page.url

    # --- the lead self-assesses from its 待办 -----------------------------------------------------------
    lead = person()
    lead.login("lead-a")
    lead.page.set_viewport_size(PHONE)
    page = lead.open("/")
    page.get_by_role("link", name="提交 2026 年度自评").click()
    expect(page.locator("h1")).to_contain_text("2026 年度考核")
    page.fill("#self-outcomes", "12")
    page.fill("#self-safety", "5")
    page.fill("#self-bonus", "3")
    page.fill("#remark-bonus", "区级展示一次")
    lead.screenshot("62-evaluation-self-assess")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="提交自评").click()
    expect(page.locator(".flash")).to_contain_text("已提交自评")

    # --- the researcher and the officer score; computed items are not retyped ------------------------
    researcher = person()
    researcher.login("researcher")
    researcher.page.set_viewport_size(PHONE)
    page = researcher.open("/")
    page.get_by_role("link", name="评分：测试联盟A 2026 年度考核").click()
    expect(page.locator("#score-outcomes")).to_have_value("12")
    researcher.screenshot("63-evaluation-researcher-scores")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator(".flash")).to_contain_text("已评分")

    page = officer.page
    officer.open(url.removeprefix(live_server.url))
    expect(page.locator("#item-attendance .eval-final")).to_contain_text("按系统计算")
    expect(page.locator("#score-attendance")).not_to_be_visible()  # folded away: nothing to retype
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator(".page-head .state")).to_have_text("已评分")
    officer.screenshot("64-evaluation-scored")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="公布结果").click()
    # 70.1: A's 公开课 has no 研讨记录, so it does not count towards 每学期集中研讨活动不少于2次.
    expect(page.locator(".eval-result")).to_contain_text("合格")
    expect(page.locator(".eval-result")).not_to_contain_text("不合格")
    expect(page.locator(".eval-total")).to_have_text("70.1 分")
    officer.screenshot("65-evaluation-published")

    # --- the downloads, on the phone ----------------------------------------------------------------------
    page.set_viewport_size(PHONE)
    with page.expect_download() as download:
        page.get_by_role("link", name="考核评价表（Word）").click()
    assert download.value.suggested_filename.endswith("_年度考核评价表.docx")
    with page.expect_download() as download:
        page.get_by_role("link", name="2026 年度全区排名（Excel）").click()
    assert download.value.suggested_filename == "2026年度联盟考核汇总表.xlsx"
    page = lead.open(url.removeprefix(live_server.url))
    expect(page.locator(".eval-total")).to_have_text("70.1 分")
    with page.expect_download() as download:
        page.get_by_role("link", name="考核评价表（Word）").click()
    assert download.value.suggested_filename.endswith(".docx")
    lead.screenshot("66-evaluation-published-lead")

    # --- 动态管理: the member that never attended is removed ---------------------------------------------
    page = officer.open("/review-flags")
    flag = page.locator("li.review-flag", has_text=world.kindergartens["A-M2"].name)
    expect(flag).to_contain_text("全年未参加联盟活动")
    officer.screenshot("67-review-flags")
    page.set_viewport_size(PHONE)
    flag.locator("input[value=remove]").check()
    flag.locator("textarea").fill("全年未参加联盟活动，约谈后仍未改正")
    flag.get_by_role("button", name="提交决定").click()
    expect(page.locator(".flash")).to_contain_text("成员资格已终止")
    done = page.locator("li.review-flag", has_text=world.kindergartens["A-M2"].name)
    expect(done.locator(".removal-done")).to_contain_text("成员资格于")
    officer.screenshot("68-review-flag-removed")
    with runtime.db.session() as s:
        membership = s.scalar(select(Membership).where(Membership.kindergarten_id == world.kindergartens["A-M2"].id))
        assert membership is not None and membership.ended_on is not None
        agreement = s.get(Agreement, agreement_id)
        assert agreement is not None and agreement.state == "voided"
