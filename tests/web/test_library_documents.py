"""资源库 「添加资料」: the teaching-research office and the section upload 管理制度 and 课程 documents that
belong to no activity; every member kindergarten finds them (by the text inside a .docx too) and
downloads them; refusals come back next to their field with what was typed kept; a recommendation of
such a document gets its letter. The activity page links 「撰写报道」 to the report form, preselected."""

from __future__ import annotations

import io
import re

import docx
import pytest

from tests.fixtures.activity_records import docx_bytes, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.files import png_bytes

ADD = "/library/documents/new"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RULES = "第一条　各成员园每学期至少承办一次幼儿科学探究活动，活动资料于一周内归档。"


def upload(b, fields: dict, content: bytes, filename: str = "教研管理制度.docx", htmx: bool = False):
    return b.post(ADD, fields, files={"file": (filename, content, DOCX_TYPE)}, htmx=htmx)


def test_researcher_uploads_a_policy_every_member_finds_its_text(browser, runtime, world):
    researcher = browser("researcher")
    assert f'href="{ADD}">添加资料' in researcher.get("/library").text
    form = researcher.get(ADD).text
    assert 'class="upload-progress"' in form and 'hx-encoding="multipart/form-data"' in form
    r = upload(
        researcher,
        {"kind": "policy", "title": "联盟教研管理制度", "alliance_id": "", "year": "2026", "keywords": "制度、归档"},
        docx_bytes(RULES, heading="青山湖区幼教联盟教研管理制度"),
        filename="教研\u202excod.docx",  # a bidi override would show the name reversed: dropped
    )
    assert r.status_code == 303, r.text
    item_url = r.headers["location"]
    assert "已加入资源库" in researcher.follow(r).text
    drain(runtime)  # the text is read by the sandboxed task

    for who in ("kg-b1", "lead-a", "officer"):  # any member kindergarten, a lead, the section
        reader = browser(who)
        found = reader.get("/library", params={"q": "科学探究"}).text
        assert "共找到 1 份资源" in found and item_url in found, who
        assert "管理制度" in found and "全区通用" in found and "researcher上传" in found
    member = browser("kg-b1")
    assert "共找到 1 份资源" in member.get("/library", params={"category": "policy"}).text
    assert "共找到 0 份资源" in member.get("/library", params={"category": "curriculum"}).text
    detail = member.get(item_url).text
    assert "直接上传（不属于某次活动）" in detail and "全区通用" in detail and "来源活动" not in detail
    assert "正文已读取" in detail and "幼儿科学探究活动" in detail
    assert "修改标签" not in detail and "教研xcod.docx" in detail and "\u202e" not in detail
    content = member.get(item_url + "/content")
    assert content.status_code == 200 and content.content[:2] == b"PK"
    assert browser("kg-out").get(item_url).status_code == 404  # outside every alliance

    # The curator retags and takes it out; the message does not speak of an activity's archive.
    page = researcher.get(item_url).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = researcher.post(item_url + "/tags", {"version": version, "title": "联盟教研管理制度（修订）"})
    assert r.status_code == 303
    version = re.search(r'name="version" value="(\d+)"', researcher.get(item_url).text).group(1)
    r = researcher.post(item_url + "/remove", {"version": version})
    assert "已移出资源库" in researcher.follow(r).text and "活动档案" not in researcher.follow(r).text


def test_upload_through_htmx_for_one_alliance_and_a_pdf(browser, runtime, world):
    officer = browser("officer")
    alliance = str(world.alliances["A"].id)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    r = officer.post(
        ADD,
        {
            "kind": "curriculum",
            "title": "大班园本课程纲要",
            "alliance_id": alliance,
            "domain": "科学",
            "age_group": "大班",
        },
        files={"file": ("课程纲要.pdf", pdf, "application/pdf")},
        htmx=True,
    )
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/library/")
    page = officer.get(r.headers["HX-Redirect"]).text
    assert "已加入资源库" in page and "课程" in page and "无正文（按标题和标签检索）" in page
    found = browser("kg-a1").get("/library", params={"q": "园本课程", "alliance": alliance}).text
    assert "共找到 1 份资源" in found and "下载 课程纲要.pdf" in found and "officer上传" in found


def test_only_the_office_and_the_section_add(browser, runtime, world):
    for who in ("lead-a", "kg-a1"):
        b = browser(who)
        assert "添加资料" not in b.get("/library").text
        assert b.get(ADD).status_code == 403
        r = upload(b, {"kind": "policy", "title": "制度"}, docx_bytes(RULES))
        assert r.status_code == 303 and "只有教研室和成幼科可以向资源库添加资料" in b.follow(r).text
    assert browser("kg-out").get(ADD).status_code == 404
    assert "共找到 0 份资源" in browser("researcher").get("/library").text


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_file_and_missing_fields_are_answered_next_to_them(browser, runtime, world, htmx):
    b = browser("researcher")
    fields = {"kind": "policy", "title": "卫生保健制度", "year": "2026", "keywords": "卫生、保健", "domain": "健康"}
    r = upload(b, fields, png_bytes(), filename="制度.docx", htmx=htmx)
    assert r.status_code == 200
    assert re.search(r'id="err-file" role="alert">文件类型不符：此类材料只接受 Word 文档（\.docx）、PDF', r.text)
    assert 'value="卫生保健制度"' in r.text and 'value="卫生、保健"' in r.text and 'value="健康" selected' in r.text
    assert ("<html" in r.text) is not htmx  # htmx gets the form alone

    r = upload(b, {**fields, "kind": "", "title": "", "year": "二〇二六"}, docx_bytes(RULES), htmx=htmx)
    assert 'id="err-kind" role="alert">请选择资料类别' in r.text
    assert 'id="err-title" role="alert">请填写标题' in r.text
    assert 'id="err-year" role="alert">年份应为四位数字' in r.text
    assert 'id="err-file" role="alert">其他内容有误，改正后请重新选择文件' in r.text
    assert 'value="二〇二六"' in r.text and 'value="卫生、保健"' in r.text

    r = b.post(ADD, fields, htmx=htmx)  # no file chosen
    assert 'id="err-file" role="alert">请选择要上传的文件' in r.text
    assert "共找到 0 份资源" in b.get("/library").text


def test_a_recommended_document_gets_its_letter(browser, runtime, world):
    researcher = browser("researcher")
    r = upload(researcher, {"kind": "curriculum", "title": "科学探究课程方案"}, docx_bytes(RULES))
    item_url = r.headers["location"]
    drain(runtime)
    r = researcher.post(item_url + "/recommend", {"journal": "《学前教育研究》", "reason": "课程体系完整"})
    assert r.status_code == 303, r.text
    rec_url = r.headers["location"]
    page = researcher.follow(r).text
    assert "全区通用" in page
    for event in ("shortlist", "submit"):
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        r = researcher.post(f"{rec_url}/events/{event}", {"version": version})
        assert r.status_code == 303, r.text
        page = researcher.follow(r).text
    letter = re.search(r'href="(/documents/[^"]+/download)">推荐发表函', page).group(1)
    got = researcher.get(letter)
    cells = {c.text for t in docx.Document(io.BytesIO(got.content)).tables for row in t.rows for c in row.cells}
    assert {"科学探究课程方案", "课程", "全区通用", "无（researcher上传的课程）"} <= cells, cells


def test_the_activity_page_links_to_a_report_for_it(browser, runtime, world):
    made = make_activity(runtime, world, state="held")
    lead = browser("lead-a")
    page = lead.get(f"/activities/{made.activity_id}").text
    link = f'href="/reports/new?activity_id={made.activity_id}">撰写报道'
    assert link in page
    form = lead.get(f"/reports/new?activity_id={made.activity_id}").text
    assert f'value="{made.activity_id}" selected' in form
    assert link not in browser("kg-b1").get(f"/activities/{made.activity_id}").text  # another alliance
    planned = make_activity(runtime, world, state="planned", topic="尚未举行")
    assert "撰写报道" not in lead.get(f"/activities/{planned.activity_id}").text
