"""In a real browser: the teaching-research office adds a 管理制度 that belongs to no activity. A picture
chosen by mistake is refused next to the file input with the title kept; the .docx goes in with the
progress bar, its text is read, and a member kindergarten of another alliance finds it by a phrase
inside the document."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.activity_records import docx_bytes
from tests.fixtures.agreements import drain
from tests.fixtures.files import png_bytes

pytestmark = pytest.mark.slow

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RULES = "第三条　各成员园每学期至少承办一次幼儿科学探究活动，活动资料于一周内归档。"


def test_office_adds_a_policy_a_member_finds_its_text(person, live_server: LiveServer):
    runtime = live_server.runtime
    office = person()
    office.login("researcher")
    page = office.open("/library")
    page.get_by_role("link", name="添加资料").click()
    page.get_by_label("类别").select_option(label="管理制度")
    page.get_by_label("标题").fill("联盟教研管理制度")
    page.get_by_label("关键词").fill("制度、归档")
    office.screenshot("library-add")
    page.get_by_label("文件（.docx 或 PDF）").set_input_files(
        {"name": "制度.docx", "mimeType": DOCX, "buffer": png_bytes()}
    )
    page.get_by_role("button", name="上传并加入资源库").click()
    expect(page.locator("#err-file")).to_contain_text("文件类型不符")
    expect(page.get_by_label("标题")).to_have_value("联盟教研管理制度")
    expect(page.get_by_label("关键词")).to_have_value("制度、归档")
    office.screenshot("library-add-error")

    page.get_by_label("文件（.docx 或 PDF）").set_input_files(
        {"name": "联盟教研管理制度.docx", "mimeType": DOCX, "buffer": docx_bytes(RULES, heading="教研管理制度")}
    )
    page.get_by_role("button", name="上传并加入资源库").click()
    expect(page.locator(".flash")).to_contain_text("已加入资源库")
    drain(runtime)  # the task reads the text
    page.reload()
    expect(page.locator("#preview-title + p")).to_contain_text("幼儿科学探究活动")
    expect(page.locator("dl.pairs")).to_contain_text("直接上传（不属于某次活动）")
    office.screenshot("library-document")

    reader = person()
    reader.login("kg-b1")
    page = reader.open("/library")
    page.get_by_label("检索词").fill("科学探究")
    page.get_by_label("类别").select_option(label="管理制度")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_role("status")).to_contain_text("共找到 1 份资源")
    expect(page.locator(".library-hit .preview-text mark").first).to_be_visible()
    expect(page.locator(".library-hit")).to_contain_text("全区通用")
    reader.screenshot("library-search-document")
