"""In a real browser: a mentor from nomination to the yearly review.

The officer opens a nomination round; a principal nominates a teacher of its roster (a missing field
comes back next to its input, the rest kept); the researcher reviews, the officer appoints with a term
(the 聘书 is generated), assigns a second alliance; the lead records plan guidance on its semester plan;
the officer keeps the mentor in the yearly review (a rotation without a comment is refused first) and
names the team leader.

Every new page is photographed at desktop and phone width and may not scroll sideways; the Person
helper fails the test on any console error (a CSP violation is one) or uncaught exception.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.activity_records import add_plan, add_teacher
from workflows.clock import BEIJING
from workflows.registry.models import Teacher, TeacherLevel

pytestmark = pytest.mark.slow

ENGLISH = re.compile(r"\b(nominated|reviewed|appointed|declined|active|retired|pending|countersigned|None|null)\b")


def no_raw_codes(text: str) -> None:
    """What a person reads: Chinese, no state codes or semester codes left over."""
    assert not ENGLISH.search(text), ENGLISH.search(text)
    assert not re.search(r"\d{4}-(spring|autumn)", text)


def test_nomination_to_yearly_review(person, live_server: LiveServer) -> None:
    runtime, world = live_server.runtime, live_server.world
    teacher_id = add_teacher(runtime, world, "A-M1", name="王敏", level=TeacherLevel.BACKBONE)
    with runtime.db.session() as s:
        s.get(Teacher, teacher_id).birth_year = datetime.now(BEIJING).year - 35  # in the roster: the 30–39岁 band

    # --- the officer opens a round ------------------------------------------------------------
    officer = person()
    officer.login("officer")
    page = officer.page
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="导师团").click()
    expect(page.locator("h1")).to_have_text("幼教导师团")
    page.get_by_role("link", name="导师推荐").first.click()
    expect(page.locator("h1")).to_have_text("幼教导师推荐")
    page.fill("#in-deadline", "2000-01-01")
    page.fill("#in-note", "请各园从本园教师名册中推荐")
    page.get_by_role("button", name="发起推荐").click()
    expect(page.locator("#err-deadline")).to_contain_text("截止日期不能早于今天")
    expect(page.locator("#in-note")).to_have_value("请各园从本园教师名册中推荐")
    officer.screenshot("mentors-01-open-round-refused")
    page.fill("#in-deadline", "2099-12-31")
    page.get_by_role("button", name="发起推荐").click()
    expect(page.locator(".flash")).to_contain_text("已发起导师推荐")
    officer.screenshot("mentors-02-round-open")

    # --- a principal nominates a teacher of its roster -------------------------------------------
    kg = person()
    kg.login("kg-a1")
    page = kg.open("/mentors/nominations")
    page.get_by_role("link", name="推荐教师").click()
    expect(page.locator("h1")).to_have_text("推荐导师团成员")
    teacher = page.locator("#in-teacher_id option", has_text="王敏")
    expect(teacher).not_to_contain_text("None")
    page.select_option("#in-teacher_id", teacher.get_attribute("value"))
    page.select_option("#in-team", "科学")
    page.get_by_label("骨干教师").check()
    page.fill("#in-professional_title", "一级教师")
    page.fill("#in-teaching_years", "12")
    page.fill("#in-achievements", "执教市级公开课《有趣的磁铁》")
    kg.screenshot("mentors-03-nominate")
    page.get_by_role("button", name="提交推荐").click()
    expect(page.locator("#err-reasons")).to_have_text("请填写推荐理由")
    expect(page.locator("#in-reasons")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#in-achievements")).to_have_value("执教市级公开课《有趣的磁铁》")
    expect(page.locator("#in-teaching_years")).to_have_value("12")
    kg.screenshot("mentors-04-nominate-missing-reasons")
    page.fill("#in-reasons", "长期带领本园科学领域教研，善于指导青年教师")
    page.get_by_role("button", name="提交推荐").click()
    expect(page.locator(".flash")).to_contain_text("等待教研室审核")
    nomination_url = page.url.removeprefix(live_server.url)
    kg.screenshot("mentors-05-nomination-submitted")

    # --- the researcher reviews ------------------------------------------------------------------
    researcher = person()
    researcher.login("researcher")
    page = researcher.open("/mentors/nominations")
    expect(page.locator("table.list")).to_contain_text("王敏")
    researcher.screenshot("mentors-06-nomination-list")
    page.locator("table.list").get_by_role("link").first.click()
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#err-review-comment")).not_to_be_empty()
    expect(page.locator("#in-review-comment")).to_have_attribute("aria-describedby", "err-review-comment")
    researcher.screenshot("mentors-07-review-refused")
    page.fill("#in-review-comment", "同意推荐")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".flash")).to_contain_text("已")
    expect(page.locator(".notice")).to_contain_text("等待成幼科聘任")

    # --- the officer appoints; the 聘书 is generated ----------------------------------------------
    page = officer.open(nomination_url)
    page.fill("#in-term_start", "2026-09-01")
    page.fill("#in-term_end", "2029-08-31")
    page.locator("fieldset.choices").get_by_label("测试联盟A").check()
    officer.screenshot("mentors-08-appoint")
    page.get_by_role("button", name="聘任并生成聘书").click()
    expect(page.locator(".notice")).to_contain_text("已聘任")
    expect(page.locator(".documents")).to_contain_text("幼教导师聘书")
    no_raw_codes(page.locator("main").inner_text())
    officer.screenshot("mentors-09-appointed")

    # --- assignment to a second alliance ----------------------------------------------------------
    page.locator("dl.pairs").get_by_role("link").first.click()  # the mentor's number
    expect(page.locator("h1")).to_contain_text("王敏")
    mentor_url = page.url.removeprefix(live_server.url)
    page.select_option("#in-alliance_id", label="测试联盟B")
    page.get_by_role("button", name="分派", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已分派指导联盟")
    expect(page.locator("#alliances-title + ul")).to_contain_text("测试联盟B")

    # --- the lead records the mentor's work on its semester plan ----------------------------------
    add_plan(runtime, world, "A")
    lead = person()
    lead.login("lead-a")
    page = lead.open(mentor_url)
    page.select_option("#in-kind", label="参与制定计划")
    page.get_by_role("button", name="登记指导").click()
    expect(page.locator("#err-guidance-plan_id")).to_contain_text("参与制定计划须选择联盟的学期计划")
    expect(page.locator("#in-kind")).to_have_value("plan_review")
    lead.screenshot("mentors-10-guidance-refused")
    page.select_option("#in-plan_id", label="测试联盟A 2026年秋季学期联盟互动计划")
    page.fill("#in-note", "参与修订本学期联盟互动计划")
    page.get_by_role("button", name="登记指导").click()
    expect(page.locator(".flash")).to_contain_text("已登记导师指导")
    expect(page.locator("#guidance-title + ul")).to_contain_text("参与修订本学期联盟互动计划")
    expect(page.locator("#guidance-title + ul")).to_contain_text("测试联盟A 2026年秋季学期联盟互动计划")
    lead.screenshot("mentors-11-guidance")

    # --- the yearly review: a rotation needs a comment; the mentor is kept -------------------------
    page = officer.open(mentor_url)
    page.fill("#in-year", "2026")
    page.get_by_role("button", name="轮换").click()
    expect(page.locator("#err-review-comment")).not_to_be_empty()
    officer.screenshot("mentors-12-rotate-refused")
    page.get_by_role("button", name="留任").click()
    expect(page.locator(".flash")).to_contain_text("已记录")
    expect(page.locator("#reviews-title + ul")).to_contain_text("2026年度：留任")
    no_raw_codes(page.locator("main").inner_text())
    officer.screenshot("mentors-13-mentor")
    download_link = page.get_by_role("link", name=re.compile("下载工作量统计表"))
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # --- the team overview: members by kindergarten, level and age; the leader named -------------
    page = officer.open("/mentors?team=科学")
    page.select_option("#leader-科学", page.locator("#leader-科学 option", has_text="王敏").get_attribute("value"))
    page.get_by_role("button", name="设为团长").click()
    expect(page.locator(".flash")).to_contain_text("已更新科学导师团团长")
    expect(page.locator("section.card").first).to_contain_text("团长：王敏")
    expect(page.locator("section.card").first).to_contain_text("30–39岁：1 人")
    no_raw_codes(page.locator("main").inner_text())
    officer.screenshot("mentors-14-teams")
    page = kg.open("/mentors")
    expect(page.locator("main")).to_contain_text("按年龄段")
    kg.screenshot("mentors-15-teams-all")
