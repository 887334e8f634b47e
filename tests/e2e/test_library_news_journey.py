"""In a real browser: the lead puts an archived lesson case into the resource library, a member
kindergarten of another alliance finds it by 科学探究 with the hit highlighted, the lead recommends
it for publication and the teaching-research office sends it on with its letter. Then the office
drafts an activity report, the lead records the guardians' consent photo by photo, approves and
publishes it; the public news page and the Atom feed carry it without the photo left out.

The activities and their files are set up through the fixtures; everything after that is in the pages.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.test_news import report_docx
from tests.e2e.conftest import LiveServer
from tests.fixtures.activity_records import FileSpec, docx_bytes, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.files import jpeg_bytes, png_bytes

pytestmark = pytest.mark.slow

CASE = "本课例记录了一次幼儿科学探究活动，孩子们用磁铁寻找铁制品。"


def test_library_search_promotion_and_recommendation(person, live_server: LiveServer):
    runtime, world = live_server.runtime, live_server.world
    make_activity(
        runtime,
        world,
        topic="磁铁的秘密",
        files=[FileSpec("lesson_case", "磁铁课例.docx", docx_bytes(CASE, heading="大班科学活动《有趣的磁铁》"))],
    )
    lead = person()
    lead.login("lead-a")
    page = lead.open("/library")
    page.get_by_role("link", name="收入资源").click()
    card = page.locator("section.card", has_text="磁铁课例.docx")
    card.get_by_label("年龄段").select_option("大班")
    card.get_by_label("关键词").fill("磁铁、科学区")
    lead.screenshot("library-promote")
    card.get_by_role("button", name="收入资源库").click()
    expect(page.locator(".flash")).to_contain_text("已收入资源库")
    drain(runtime)  # the task reads the text
    page.reload()
    expect(page.locator("#preview-title + p")).to_contain_text("幼儿科学探究活动")
    lead.screenshot("library-item")

    reader = person()
    reader.login("kg-b1")
    page = reader.open("/")
    page.locator("nav").get_by_role("link", name="资源库").first.click()
    page.get_by_label("检索词").fill("科学探究")
    page.get_by_label("领域").select_option("科学")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_role("status")).to_contain_text("共找到 1 份资源")
    hit = page.locator(".library-hit").first
    expect(hit.locator(".preview-text mark").first).to_be_visible()
    expect(hit.locator(".preview-text")).to_contain_text("幼儿科学探究活动")
    reader.screenshot("library-search")
    page.get_by_label("年份").fill("今年")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#err-year")).to_contain_text("年份应为四位数字")
    expect(page.get_by_label("检索词")).to_have_value("科学探究")

    page = lead.page
    page.get_by_label("推荐理由").fill("探究过程完整，幼儿表现充分")
    page.get_by_role("button", name="推荐发表").click()
    expect(page.locator(".flash")).to_contain_text("已推荐发表")
    recommendation_url = page.url

    office = person()
    office.login("researcher")
    page = office.page
    page.get_by_role("link", name="推荐发表待审核").first.click()
    page.get_by_role("button", name="入围").click()
    expect(page.locator(".flash")).to_contain_text("已入围")
    page.get_by_role("button", name="报送刊物").click()
    expect(page.locator(".flash")).to_contain_text("推荐函已生成")
    office.screenshot("library-recommendation")
    with page.expect_download() as download:
        page.get_by_role("link", name="推荐发表函（磁铁课例）").click()
    assert download.value.suggested_filename.endswith("_推荐发表函.docx")
    page.goto(live_server.url + "/library/recommendations")
    expect(page.locator(".card", has_text="磁铁课例")).to_contain_text("已报送")
    office.screenshot("library-recommendations")
    assert recommendation_url.startswith(live_server.url + "/library/recommendations/")


def test_report_drafted_approved_published_without_the_unconsented_photo(person, live_server: LiveServer):
    runtime, world = live_server.runtime, live_server.world
    held = make_activity(
        runtime,
        world,
        state="held",
        topic="大班科学探究公开课",
        files=[
            FileSpec("report", "活动报道.docx", report_docx()),
            FileSpec("media", "同意.jpg", jpeg_bytes((300, 200)), "image/jpeg"),
            FileSpec("media", "未同意.png", png_bytes((310, 200)), "image/png"),
        ],
    )
    office = person()
    office.login("researcher")
    page = office.open("/reports")
    page.get_by_role("link", name="撰写报道").click()
    page.get_by_label("活动", exact=True).select_option(str(held.activity_id))
    page.get_by_role("button", name="选择活动").click()
    page.get_by_label("活动报道文件").select_option(label="活动报道.docx")
    page.get_by_label("标题").fill("联盟开展大班科学探究公开课")
    page.get_by_label("导语").fill("龙头园承办，区教研员现场指导。")
    office.screenshot("news-new")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".flash")).to_contain_text("草稿已保存")
    report_path = page.url.removeprefix(live_server.url)

    lead = person()
    lead.login("lead-a")
    page = lead.page
    page.get_by_role("link", name="审定活动报道：联盟开展大班科学探究公开课").click()
    page.get_by_role("link", name="登记监护人同意").first.click()
    consented = page.locator("li.card", has_text="同意.jpg").filter(has_not_text="未同意")
    consented.get_by_label("同意发布").check()
    consented.get_by_label("备注（同意书编号等）").fill("同意书 2026-01")
    consented.get_by_role("button", name="登记").click()
    expect(page.locator(".flash")).to_contain_text("监护人同意发布")
    refused = page.locator("li.card", has_text="未同意.png")
    refused.get_by_label("不同意").check()
    refused.get_by_role("button", name="登记").click()
    expect(page.locator(".flash")).to_contain_text("监护人不同意发布")
    lead.screenshot("news-photos")
    page = lead.open(report_path)
    expect(page.locator("#media-title + ul")).to_contain_text("监护人不同意，不发布")
    page.get_by_role("button", name="审定").click()
    expect(page.locator(".flash")).to_contain_text("已审定")
    page.get_by_role("button", name="发布").click()
    expect(page.locator(".flash")).to_contain_text("已发布")
    drain(runtime)  # the body is read by a task
    page.reload()
    lead.screenshot("news-detail")
    public_path = page.get_by_role("link", name="查看公开页面").get_attribute("href")
    assert public_path == report_path.replace("/reports/", "/news/")
    response = page.goto(live_server.url + public_path)
    assert response is not None and response.status == 200, (response.status, response.text()[:300])
    assert lead.problems == [], lead.problems

    visitor = person()
    page = visitor.open("/login")
    page.get_by_role("link", name="信息网 · 活动报道").click()
    expect(page.locator("h2", has_text="联盟开展大班科学探究公开课")).to_be_visible()
    visitor.screenshot("news-public")
    page.get_by_role("link", name="联盟开展大班科学探究公开课").click()
    images = page.locator("article img")
    expect(images).to_have_count(1)
    assert str(held.materials["同意.jpg"]) in (images.first.get_attribute("src") or "")
    visitor.screenshot("news-public-entry")
    assert visitor.problems == [], visitor.problems
    feed = httpx.get(live_server.url + "/news/feed.atom", timeout=30)
    assert feed.status_code == 200 and "联盟开展大班科学探究公开课" in feed.text
    assert str(held.materials["同意.jpg"]) in feed.text and str(held.materials["未同意.png"]) not in feed.text
