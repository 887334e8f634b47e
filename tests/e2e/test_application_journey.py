"""In a real browser: a private kindergarten applies with attachments, the officer returns it, the
kindergarten fixes and resubmits, the officer approves with the suggested alliance.

Screenshots of each main page are saved at desktop and phone width; no page may log an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.files import pdf_bytes, png_bytes

pytestmark = pytest.mark.slow


def write_files(folder: Path) -> dict[str, Path]:
    files = {
        "licence": ("办园许可证.pdf", pdf_bytes("licence")),
        "inspection": ("年检证明.png", png_bytes((600, 400), "#d9e8f5")),
        "safety_pledge": ("安全承诺书.pdf", pdf_bytes("pledge")),
        "fire_safety": ("消防安全证明.pdf", pdf_bytes("fire")),
    }
    paths = {}
    for kind, (name, content) in files.items():
        paths[kind] = folder / name
        paths[kind].write_bytes(content)
    return paths


def fill_application(page: Page) -> None:
    """Everything the registry could not prefill, as a person would type it."""
    page.fill("#in-licence_no", "教民360111000099")
    page.fill("#in-licence_issued_on", "2019-03-01")
    page.fill("#in-sponsor", "南昌市某教育咨询有限公司")
    page.fill("#in-legal_representative", "张三")
    page.select_option("#in-ownership", "nonprofit")
    page.select_option("#in-inclusive", "true")
    page.fill("#in-head_name", "李园长")
    page.fill("#in-contact_name", "王老师")
    page.fill("#in-contact_phone", "0791-88886666")
    page.fill("#in-address", "湖坊镇民强路 8 号")
    page.fill("#in-town", "湖坊镇")
    for name, value in {
        "classes": "6",
        "children": "180",
        "staff": "30",
        "teachers": "14",
        "certified_teachers": "12",
        "site_area_m2": "2400.5",
        "building_area_m2": "1800",
        "last_inspection_year": "2025",
        "penalties_last_3_years": "0",
        "safety_incidents_last_3_years": "0",
    }.items():
        page.fill(f"#in-{name}", value)
    page.select_option("#in-last_inspection_result", "passed")
    page.fill("#in-reasons", "希望加入联盟，借助龙头园的课程与教研提升保教质量。")
    page.check("input[name=needs][value=课程]")
    page.check("input[name=needs][value=游戏]")
    page.check("#in-commitments_accepted")


def upload(page: Page, kind: str, path: Path) -> None:
    slot = page.locator(f"#att-{kind}")
    slot.locator("input[type=file]").set_input_files(path)
    slot.locator("button[type=submit]").click()
    expect(page.locator(f"#att-{kind} .attachment-head a")).to_have_text(path.name)


def test_apply_return_fix_resubmit_approve(person, live_server: LiveServer, tmp_path: Path) -> None:
    files = write_files(tmp_path)
    alliance_a = str(live_server.world.alliances["A"].id)

    # --- the kindergarten applies -------------------------------------------------------------
    kg = person()
    kg.open("/login")
    kg.screenshot("01-login")
    kg.login("kg-out")
    page = kg.page
    expect(page.locator(".todo")).to_contain_text("提交加入联盟申请")
    kg.screenshot("02-home-applicant")

    page.get_by_role("link", name="提交加入联盟申请").click()
    expect(page.locator("#in-name")).to_have_value("C-OUT 园外幼儿园")  # prefilled from the registry
    # Inline validation: a wrong phone number is named next to its field at once, and cleared.
    page.fill("#in-head_phone", "12345")
    page.press("#in-head_phone", "Tab")
    expect(page.locator("#err-head_phone")).to_contain_text("电话号码格式不正确")
    page.fill("#in-head_phone", "13800009999")
    page.press("#in-head_phone", "Tab")
    expect(page.locator("#err-head_phone")).to_have_text("")
    fill_application(page)
    kg.screenshot("03-application-form")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".flash")).to_contain_text("草稿已保存")
    app_id = re.search(r"/applications/([0-9a-f-]{36})/edit", page.url).group(1)

    # A file over the limit is refused in the page, before it is sent.
    too_big = tmp_path / "扫描件.pdf"
    too_big.write_bytes(pdf_bytes() + b"\0" * (20 * 1024 * 1024))
    page.locator("#att-licence input[type=file]").set_input_files(too_big)
    page.locator("#att-licence button[type=submit]").click()
    expect(page.locator("#att-err-licence")).to_have_text("文件过大：不能超过 20 MB")
    for kind in ("licence", "inspection", "safety_pledge"):
        upload(page, kind, files[kind])
    expect(page.locator("#att-inspection .preview img")).to_be_visible()
    page.locator("#att-licence .pdf-preview summary").click()
    expect(page.locator("#att-licence .preview iframe")).to_be_visible()
    kg.screenshot("04-attachments")
    page.get_by_role("button", name="保存并提交").click()
    page.wait_for_url(f"{live_server.url}/applications/{app_id}")
    expect(page.locator(".flash")).to_contain_text("申请已提交")
    expect(page.locator(".page-head .state")).to_have_text("已提交")
    kg.screenshot("05-application-submitted")

    # --- the officer starts the review in bulk, then returns it --------------------------------
    officer = person()
    officer.login("officer")
    expect(officer.page.locator(".todo")).to_contain_text("受理新申请")
    officer.screenshot("06-home-officer")
    q = officer.open("/applications?state=submitted")
    q.check(f"input.bulk-pick[value='{app_id}']")
    q.click("#bulk-run")
    expect(q.locator(f"#row-{app_id}")).to_contain_text("审核中")
    expect(q.locator("#bulk-status")).to_have_text("已处理 1 件")
    expect(q.locator("#bulk-progress")).to_have_attribute("value", "100")
    officer.screenshot("07-review-queue")

    q.click(f"#row-{app_id} a")
    expect(q.locator(".checks")).to_contain_text("办园许可证满一年")
    expect(q.locator("#att-licence .preview iframe")).to_be_visible()
    expect(q.locator("#ev-approve-alliance")).to_have_value(alliance_a)  # the suggested alliance
    officer.screenshot("08-review-detail")
    q.locator("form.event-return button").click()
    expect(q.locator("#ev-return-comment-err")).to_have_text("退回修改时必须填写退回意见")
    q.fill("#ev-return-comment", "请补充消防安全证明，并核对班级数。")
    q.locator("form.event-return button").click()
    expect(q.locator(".flash")).to_contain_text("已退回修改")

    # --- the kindergarten reads the comment, fixes and resubmits -------------------------------
    page.goto(live_server.url + "/notifications")
    item = page.locator(".notification.unread").first
    expect(item).to_contain_text("已退回修改")
    kg.screenshot("09-notifications")
    item.get_by_role("button", name="标为已读").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    page.locator(".notification a").first.click()
    expect(page.locator(".notice")).to_contain_text("请补充消防安全证明")
    expect(page.locator(".timeline")).to_contain_text("退回修改")
    kg.screenshot("10-application-returned")
    page.get_by_role("link", name="修改申请").click()
    upload(page, "fire_safety", files["fire_safety"])
    page.fill("#in-classes", "7")
    page.get_by_role("button", name="保存并提交").click()
    page.wait_for_url(f"{live_server.url}/applications/{app_id}")
    expect(page.locator(".page-head .state")).to_have_text("已提交")
    expect(page.locator(".documents li")).to_have_count(2, timeout=30_000)  # the 申请表 renders after the commit
    with page.expect_download() as download:
        page.get_by_role("link", name="加入联盟申请表（第 1 版）").click()
    assert download.value.suggested_filename.endswith("_申请表_v1.docx")

    # --- the officer approves with the suggested alliance --------------------------------------
    q = officer.open(f"/applications/{app_id}")
    q.locator("form.event-start_review button").click()
    expect(q.locator(".page-head .state")).to_have_text("审核中")
    expect(q.locator("#ev-approve-alliance")).to_have_value(alliance_a)
    q.fill("#ev-approve-comment", "材料齐全，同意加入。")
    q.locator("form.event-approve button").click()
    expect(q.locator(".flash")).to_contain_text("已批准")
    expect(q.locator(".page-head .state")).to_have_text("已批准")
    officer.screenshot("11-approved")

    page.goto(live_server.url + "/notifications")
    expect(page.locator(".notification").first).to_contain_text("已批准")
    page.goto(live_server.url + "/applications")
    kg.screenshot("12-applications-applicant")


def test_registry_pages_and_arrangement_round_trip(person, live_server: LiveServer, tmp_path: Path) -> None:
    officer = person()
    officer.login("officer")
    page = officer.open("/registry/kindergartens")
    expect(page.locator("table.list tbody tr")).to_have_count(9)
    officer.screenshot("20-kindergartens")
    officer.open("/registry/alliances")
    expect(page.locator(".alliance")).to_have_count(2)
    officer.screenshot("21-alliances")
    officer.open("/registry/arrangement")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载联盟安排表.xlsx").click()
    saved = tmp_path / "联盟安排表.xlsx"
    download.value.save_as(saved)
    page.set_input_files("#arrangement-file", saved)
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#import-result")).to_contain_text("导入完成")
    officer.screenshot("22-arrangement")

    visitor = person()
    visitor.open("/verify")
    expect(visitor.page.locator("#verify-code")).to_be_visible()
    visitor.screenshot("23-verify")
