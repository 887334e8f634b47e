"""The semester plan and summary pages: writing the plan in the form renders a .docx, status on time or
late, Chinese field errors, uploads, other alliances 404, CSRF, the bureau reads, the 待办 item."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.activities import SEMESTER, docx_bytes

PLAN = {
    "guiding_idea": "以游戏为基本活动",
    "goals": "每月一次集中研讨",
    "measures": "结对帮扶",
    "safeguards": "园长负责",
}
SUMMARY = {
    "overview": "本学期开展四次活动",
    "practices": "课例研讨",
    "outcomes": "教师成长",
    "reflection": "观察不够细",
    "improvements": "加强观察记录",
}


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}" role="alert">([^<]*)</p>', html)
    assert found, f"no error element {name}"
    return found.group(1)


def status_of(html: str, kind: str) -> str:
    section = html.split(f'<section class="card stack" id="{kind}">', 1)[1].split("</section>", 1)[0]
    return re.search(r'class="work-status status-\w+">([^<]*)<', section).group(1)


def version_of(html: str, kind: str) -> str:
    section = html.split(f'<section class="card stack" id="{kind}">', 1)[1]
    return re.search(r'name="version" value="(\d+)"', section).group(1)


@pytest.fixture
def page_url(world, semester):
    return f"/semester-work/{world.alliances['A'].id}"


def test_lead_saves_the_plan_and_downloads_the_docx(browser, page_url):
    lead = browser("lead-a")
    r = lead.get("/semester-work")
    assert r.status_code == 200 and r.url.path == page_url
    html = lead.get(page_url).text
    assert status_of(html, "plan") == "未提交" and status_of(html, "summary") == "未提交"
    assert "已逾期" in html  # the plan was due 14 days after the start, 60 days ago
    assert "提交" in lead.get("/").text and "联盟互动计划" in lead.get("/").text  # 待办
    r = lead.post(f"{page_url}/{SEMESTER}/plan", {**PLAN, "version": version_of(html, "plan")})
    assert r.status_code == 303, r.text
    html = lead.get(page_url).text
    assert status_of(html, "plan") == "逾期提交"
    link = re.search(rf'href="({re.escape(page_url)}/{SEMESTER}/plan/content)"', html).group(1)
    doc = lead.get(link)
    assert doc.status_code == 200
    assert doc.content[:2] == b"PK"  # a .docx
    r = lead.post(f"{page_url}/{SEMESTER}/summary", {**SUMMARY, "version": version_of(html, "summary")})
    assert r.status_code == 303, r.text
    assert status_of(lead.get(page_url).text, "summary") == "按时提交"


def test_missing_field_is_shown_next_to_it(browser, page_url):
    lead = browser("lead-a")
    r = lead.post(f"{page_url}/{SEMESTER}/summary", {**SUMMARY, "outcomes": " "})
    assert r.status_code == 200
    assert field_error(r.text, "err-outcomes") == "请填写取得成效"
    assert field_error(r.text, "err-overview") == ""
    assert "加强观察记录" in r.text  # what was typed stays
    assert status_of(r.text, "summary") == "未提交"


def test_upload_instead_of_the_form(browser, page_url):
    lead = browser("lead-a")
    lead.get(page_url)
    r = lead.post(
        f"{page_url}/{SEMESTER}/summary/upload",
        htmx=True,
        files={"file": ("小结.docx", docx_bytes("小结"), "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    assert status_of(r.text, "summary") == "按时提交"
    r = lead.post(
        f"{page_url}/{SEMESTER}/plan/upload",
        htmx=True,
        files={"file": ("计划.exe", b"MZ\x90\x00" * 100, "application/octet-stream")},
    )
    assert r.status_code == 200
    assert field_error(r.text, "err-file-plan")


def test_other_alliance_csrf_and_readers(browser, world, page_url):
    assert browser("lead-b").get(page_url).status_code == 404
    lead = browser("lead-a")
    r = lead.client.post(f"{page_url}/{SEMESTER}/plan", data=PLAN, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    other = browser("lead-b")
    assert other.follow(other.post(f"{page_url}/{SEMESTER}/plan", PLAN)).status_code == 404
    pillar = browser("pillar-a")
    html = pillar.get(page_url).text
    assert status_of(html, "plan") == "未提交" and "保存并生成文档" not in html
    refused = pillar.follow(pillar.post(f"{page_url}/{SEMESTER}/plan", PLAN))
    assert refused.status_code == 200 and 'class="flash flash-error"' in refused.text
    officer = browser("officer")
    assert "学期计划与小结" in officer.get("/").text  # menu
    index = officer.get("/semester-work")
    assert index.status_code == 200 and "测试联盟A" in index.text and "测试联盟B" in index.text
    html = officer.get(page_url).text
    assert status_of(html, "plan") == "未提交" and "保存并生成文档" not in html
    assert "集中教研活动" in html


def test_too_long_a_section_is_refused_by_the_schema(browser, page_url):
    r = browser("lead-a").post(f"{page_url}/{SEMESTER}/plan", {**PLAN, "goals": "长" * 20000})
    assert r.status_code == 200
    assert field_error(r.text, "err-goals")
