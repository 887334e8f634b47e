"""In a real browser: a principal keeps its roster (a duplicate phone is refused next to the field,
nothing typed is lost), the officer imports the district roster (a bad row refuses the workbook,
named by row and column; fixed, it goes in) and fixes an alliance's 教研组 组长.

Every new page is photographed at desktop and phone width and may not scroll sideways.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.slow


def test_principal_keeps_its_roster(person, live_server: LiveServer) -> None:
    kg = person()
    kg.login("kg-a1")
    page = kg.page
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="教师名册").click()
    expect(page.locator("h1")).to_have_text("教师名册")
    expect(page.locator("#roster tbody tr")).to_have_count(1)

    page.get_by_role("link", name="添加教师").click()
    page.fill("#in-name", "周晓梅")
    page.fill("#in-post", "教师")
    page.select_option("#in-level", "young")
    page.fill("#in-birth_year", "1995")
    page.fill("#in-phone", "138 0013 8000")
    kg.screenshot("roster-01-new-teacher")
    page.get_by_role("button", name="添加").click()
    expect(page.locator(".flash")).to_contain_text("已添加教师 周晓梅")
    expect(page.locator("#roster")).to_contain_text("13800138000")

    # A second teacher with the same number: the message stands by the phone input, all typed kept.
    page.get_by_role("link", name="添加教师").click()
    page.fill("#in-name", "李思雨")
    page.fill("#in-post", "保育员")
    page.select_option("#in-level", "new")
    page.fill("#in-birth_year", "2001")
    page.fill("#in-phone", "13800138000")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("#err-phone")).to_have_text("该电话号码已由本园在职教师周晓梅使用，在职教师的电话不能重复")
    expect(page.locator("#in-phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#in-name")).to_have_value("李思雨")
    expect(page.locator("#in-post")).to_have_value("保育员")
    expect(page.locator("#in-level")).to_have_value("new")
    expect(page.locator("#in-birth_year")).to_have_value("2001")
    expect(page.locator("#in-phone")).to_have_value("13800138000")
    kg.screenshot("roster-02-duplicate-phone")
    page.fill("#in-phone", "13800138001")
    page.get_by_role("button", name="添加").click()
    expect(page.locator(".flash")).to_contain_text("已添加教师 李思雨")
    expect(page.locator("#roster tbody tr")).to_have_count(3)
    kg.screenshot("roster-03-principal-list")

    # Edit: 周晓梅 becomes the 业务园长.
    page.locator("#roster").get_by_role("link", name="周晓梅").click()
    expect(page.locator("h1")).to_contain_text("周晓梅")
    page.fill("#in-post", "业务园长")
    page.select_option("#in-level", "backbone")
    kg.screenshot("roster-04-edit-teacher")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("已保存教师 周晓梅 的信息")
    expect(page.locator("#roster")).to_contain_text("骨干教师")

    # 李思雨 leaves: kept in the roster as 离职, out of the default (在职) list.
    page.locator("#roster").get_by_role("link", name="李思雨").click()
    page.get_by_role("button", name="标记为离职").click()  # the confirmation is accepted
    expect(page.locator(".flash")).to_contain_text("李思雨已标记为离职")
    expect(page.locator("#roster tbody tr")).to_have_count(2)
    page.select_option("#t-status", "left")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#roster tbody tr")).to_have_count(1)
    expect(page.locator("#roster")).to_contain_text("离职")
    kg.screenshot("roster-05-left-filter")


def test_officer_imports_the_roster_and_fixes_a_research_group(person, live_server: LiveServer, tmp_path: Path) -> None:
    officer = person()
    officer.login("officer")
    page = officer.page
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="教师名册").click()
    expect(page.locator("h1")).to_have_text("教师名册（全区）")
    officer.screenshot("roster-10-district-list")
    before = page.locator("#roster tbody tr").count()

    page.get_by_role("link", name="导入 / 导出名册").click()
    expect(page.locator("h1")).to_have_text("导入 / 导出教师名册")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载空白模板.xlsx").click()
    assert download.value.suggested_filename == "教师名册（空白模板）.xlsx"
    template = tmp_path / "模板.xlsx"
    download.value.save_as(template)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载全区教师名册.xlsx").click()
    assert download.value.suggested_filename == "教师名册.xlsx"

    workbook = load_workbook(template)
    sheet = workbook["教师名册"]
    sheet.append([None, "A-LEAD", None, None, "王新组", "业务园长", "学科带头人", 1980, "13612340001", "在职"])
    sheet.append([None, "B-M1", None, None, "陈一帆", "教师", "新教师", 2000, "1361234", None])
    bad = tmp_path / "教师名册（有误）.xlsx"
    workbook.save(bad)
    page.set_input_files("#roster-file", bad)
    page.get_by_role("button", name="导入").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("未导入")
    expect(result.locator("tbody tr")).to_have_count(1)
    expect(result.locator("tbody tr td").first).to_have_text("I3")
    expect(result).to_contain_text("第3行「联系电话」“1361234”有误")
    expect(page.locator("progress.upload-progress")).to_have_attribute("value", "100")
    officer.screenshot("roster-11-import-problems")
    officer.open("/teachers?q=王新组")
    expect(page.locator("#roster")).to_have_count(0)  # nothing was imported

    sheet["I3"] = "13612340002"
    fixed = tmp_path / "教师名册.xlsx"
    workbook.save(fixed)
    officer.open("/teachers/import")
    page.set_input_files("#roster-file", fixed)
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#import-result")).to_contain_text("导入完成")
    expect(page.locator("#import-result")).to_contain_text("新增教师 2 位")
    officer.screenshot("roster-12-import-done")
    officer.open("/teachers")
    expect(page.locator("#roster tbody tr")).to_have_count(before + 2)

    # 教研组: the alliance page links to it; the officer names the imported teacher as 组长.
    officer.open("/registry/alliances")
    page.locator(".alliance").filter(has_text="测试联盟A").get_by_role("link", name="教研组").click()
    expect(page.locator("h1")).to_contain_text("测试联盟A · 教研组")
    leader = page.locator("#seat-A-LEAD")
    expect(leader).to_contain_text("A-LEAD业务")
    officer.screenshot("roster-13-research-group")
    leader.get_by_label("指定组长").select_option(label="王新组（业务园长）")
    leader.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("教研组组长已设为 王新组")
    expect(page.locator("#seat-A-LEAD")).to_contain_text("王新组")
    expect(page.locator("#seat-A-LEAD .tag")).to_have_text("指定")
    officer.screenshot("roster-14-research-group-fixed")

    # The researcher reads a teacher's entry without a form.
    researcher = person()
    researcher.login("researcher")
    researcher.open("/teachers?q=王新组")
    researcher.page.locator("#roster").get_by_role("link", name="王新组").click()
    expect(researcher.page.locator(".pairs")).to_contain_text("13612340001")
    expect(researcher.page.locator("form[action^='/teachers/']")).to_have_count(0)
    researcher.screenshot("roster-15-researcher-reads")
