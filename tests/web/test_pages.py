"""The pages on the application services: errors next to fields, object-level 404s, the review."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.files import exe_bytes, pdf_bytes, png_bytes
from tests.web.conftest import FORM, upload


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}" role="alert">([^<]*)</p>', html)
    assert found, f"no error element {name}"
    return found.group(1)


def test_new_application_starts_from_the_registry(browser, world):
    page = browser("kg-out").get("/applications/new").text
    assert 'value="C-OUT 园外幼儿园"' in page
    assert 'value="罗家镇"' in page
    assert "请先保存草稿" in page


def test_field_errors_appear_next_to_their_fields(browser, world):
    b = browser("kg-out")
    bad = {**FORM, "credit_code": FORM["credit_code"][:-1] + "0", "head_phone": "12345", "classes": "三个"}
    if bad["credit_code"] == FORM["credit_code"]:
        bad["credit_code"] = FORM["credit_code"][:-1] + "1"
    r = b.post("/applications/new", bad)
    assert r.status_code == 200  # the form comes back, errors next to the fields
    assert "校验位" in field_error(r.text, "err-credit_code")
    assert "电话号码格式不正确" in field_error(r.text, "err-head_phone")
    assert field_error(r.text, "err-classes") == "须为整数"
    assert field_error(r.text, "err-name") == ""
    # What was typed is kept.
    assert 'value="三个"' in r.text and 'value="12345"' in r.text


def test_inline_check_answers_for_one_field(browser, world):
    b = browser("kg-out")
    r = b.post(
        "/applications/check-field", {"contact_phone": "12"}, htmx=True, headers={"HX-Trigger-Name": "contact_phone"}
    )
    assert "电话号码格式不正确" in field_error(r.text, "err-contact_phone")
    ok = b.post(
        "/applications/check-field",
        {"contact_phone": "13800001111"},
        htmx=True,
        headers={"HX-Trigger-Name": "contact_phone"},
    )
    assert field_error(ok.text, "err-contact_phone") == ""


def test_submitting_an_incomplete_application_shows_what_is_missing_where(draft):
    b, app_id = draft
    version = re.search(r'name="version" value="(\d+)"', b.get(f"/applications/{app_id}/edit").text).group(1)
    form = {**FORM, "version": version, "action": "submit"}
    del form["sponsor"]
    r = b.post(f"/applications/{app_id}/edit", form)
    assert r.status_code == 200
    assert "草稿已保存，但还不能提交" in r.text
    assert field_error(r.text, "err-sponsor") == "请填写「举办者」"
    assert field_error(r.text, "att-err-licence") == "请上传「办园许可证」"
    assert field_error(r.text, "att-err-fire_safety") == ""  # optional
    assert "已提交" not in b.get(f"/applications/{app_id}").text


def test_uploads_answer_with_a_preview_or_the_error(draft):
    b, app_id = draft
    png = upload(b, app_id, "inspection", png_bytes(), "年检.png")
    assert png.status_code == 200
    assert re.search(rf'<img src="/applications/{app_id}/attachments/[0-9a-f-]+/content"', png.text)
    pdf = upload(b, app_id, "licence", pdf_bytes(), "许可证.pdf")
    assert re.search(rf'<iframe src="/applications/{app_id}/attachments/[0-9a-f-]+/content"', pdf.text)
    exe = upload(b, app_id, "licence", exe_bytes(), "许可证.pdf")
    assert exe.status_code == 200
    assert "文件类型不符" in field_error(exe.text, "att-err-licence")
    src = re.search(r'<iframe src="([^"]+)"', b.get(f"/applications/{app_id}/edit").text).group(1)
    content = b.get(src)
    assert content.content == pdf_bytes()
    assert content.headers["x-frame-options"] == "SAMEORIGIN"
    assert content.headers["content-disposition"].startswith("inline;")


def test_stored_files_are_never_pages_of_the_site_and_names_lose_bidi_controls(draft, client, login):
    b, app_id = draft
    # "年检\u202egnp.exe" would show as 年检exe.png
    upload(b, app_id, "inspection", png_bytes(), "年检\u202egnp.exe\u2066\u200f.png")
    upload(b, app_id, "licence", pdf_bytes(), "许可证.pdf")
    page = b.get(f"/applications/{app_id}/edit").text
    image = b.get(re.search(r'<img src="([^"]+)"', page).group(1))
    assert image.headers["content-disposition"].startswith("inline;")
    assert image.headers["content-security-policy"].startswith("sandbox;")
    assert image.headers["x-content-type-options"] == "nosniff"
    app = client.get(f"/api/applications/{app_id}", headers=login("kg-out")).json()
    names = {a["filename"] for a in app["attachments"]}
    assert "年检gnp.exe.png" in names and not any(c in "".join(names) for c in "\u202e\u2066\u200f")
    for a in app["attachments"]:  # the API downloads
        body = client.get(f"/api/applications/{app_id}/attachments/{a['id']}/content", headers=login("kg-out"))
        assert body.headers["content-disposition"].startswith("attachment;")
        assert "%E2%80%AE" not in body.headers["content-disposition"]


def test_other_kindergartens_get_404_pages(browser, world, submitted):
    owner, app_id = submitted
    detail = owner.get(f"/applications/{app_id}").text
    attachment = re.search(r'href="(/applications/[^"]+/content)"', detail).group(1)
    document = re.search(r'href="(/documents/[^"]+/download)"', detail).group(1)
    for who in ("kg-a1", "kg-b1", "lead-b"):
        other = browser(who)
        for url in (f"/applications/{app_id}", f"/applications/{app_id}/edit", attachment, document):
            r = other.get(url)
            assert r.status_code == 404, (who, url)
            assert "未找到该记录，或您无权查看" in r.text or "不存在" in r.text
        assert app_id not in other.get("/applications").text
        # A refused action sends the browser back (here to the application, which is as unknown to them).
        back = other.follow(other.post(f"/applications/{app_id}/events/withdraw", {"version": "1"}))
        assert back.status_code == 404 and back.text.count("申请不存在") == 1
    assert browser("lead-a").get(f"/applications/{app_id}").status_code == 200
    assert browser("officer").get(document).status_code == 200
    assert browser("kg-out").get("/applications/not-a-uuid").status_code == 404


def test_review_cycle_through_the_pages(browser, world, submitted):
    applicant, app_id = submitted
    officer = browser("officer")
    assert "受理新申请" in officer.get("/").text
    queue = officer.get("/applications?state=submitted").text
    assert f"/applications/{app_id}" in queue and 'class="bulk-pick"' in queue

    version = re.search(rf'id="row-{app_id}" data-version="(\d+)"', queue).group(1)
    row = officer.post(f"/applications/{app_id}/bulk/start_review", {"version": version}, htmx=True)
    assert row.status_code == 200 and "审核中" in row.text and "已开始审核" in row.text

    detail = officer.get(f"/applications/{app_id}").text
    assert "资格核查" in detail and "办园许可证满一年" in detail
    # The town is 湖坊镇, where alliance A's lead is: A is suggested and preselected.
    alliance_a = str(world.alliances["A"].id)
    assert f'<option value="{alliance_a}" selected>' in detail
    version = re.search(r'name="version" value="(\d+)"', detail).group(1)

    no_comment = officer.post(f"/applications/{app_id}/events/return", {"version": version, "comment": ""})
    assert no_comment.status_code == 200
    assert field_error(no_comment.text, "ev-return-comment-err") == "退回修改时必须填写退回意见"
    returned = officer.post(f"/applications/{app_id}/events/return", {"version": version, "comment": "请补充消防证明"})
    assert returned.status_code == 303

    page = applicant.get(f"/applications/{app_id}").text
    assert "请补充消防证明" in page and "退回修改" in page
    assert "申请被退回" in applicant.get("/").text
    notes = applicant.get("/notifications").text
    assert "已退回修改" in notes
    note_id = re.search(r'id="n-([0-9a-f-]+)"', notes).group(1)
    read = applicant.post(f"/notifications/{note_id}/read", htmx=True)
    assert read.status_code == 200 and "unread" not in read.text

    stale = officer.post(f"/applications/{app_id}/events/start_review", {"version": version})
    assert stale.headers["location"] == f"/applications/{app_id}"
    assert "记录已被他人修改，请刷新后重试" in officer.follow(stale).text


def test_arrangement_export_and_import(browser, world):
    officer = browser("officer")
    assert "安排表" in officer.get("/").text
    xlsx = officer.get("/registry/arrangement.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    again = officer.post(
        "/registry/arrangement", htmx=True, files={"file": ("安排表.xlsx", xlsx.content, "application/octet-stream")}
    )
    assert again.status_code == 200 and "导入完成" in again.text
    broken = officer.post(
        "/registry/arrangement", htmx=True, files={"file": ("x.xlsx", b"not a workbook", "application/octet-stream")}
    )
    assert broken.status_code == 200 and "未导入" in broken.text

    applicant = browser("kg-out")
    assert applicant.get("/registry/arrangement").status_code == 404
    assert applicant.get("/registry/arrangement.xlsx").status_code == 404
    refused = applicant.post("/registry/arrangement", files={"file": ("x.xlsx", xlsx.content, "x")})
    assert refused.headers["location"] == "/registry/arrangement"
    assert applicant.follow(refused).status_code == 404
    researcher = browser("researcher")
    assert researcher.get("/registry/arrangement.xlsx").status_code == 200
    assert 'action="/registry/arrangement"' not in researcher.get("/registry/arrangement").text


def test_registry_pages_hide_contacts_from_strangers(browser, world):
    outsider = browser("kg-out").get("/registry/kindergartens").text
    assert "A-LEAD A&amp;B&lt;幼儿园&gt;" in outsider  # escaped, never markup
    assert "13900000001" not in outsider
    assert "13900000001" in browser("officer").get("/registry/kindergartens?q=A-LEAD").text
    alliances = browser("lead-a").get("/registry/alliances").text
    assert "测试联盟A" in alliances and "A-LEAD业务" in alliances


def test_verification_page_is_public_and_answers(browser, world):
    b = browser()
    r = b.get("/verify")
    assert r.status_code == 200
    assert "核验服务即将上线" not in r.text  # the agreements area connected the service
    assert "核验未通过" in b.post("/verify", {"code": "ABC"}).text


@pytest.mark.parametrize("username", ["officer", "researcher", "admin", "lead-a", "pillar-a", "kg-a1", "kg-out"])
def test_every_role_reaches_every_page_of_its_menu(browser, world, username):
    b = browser(username)
    home = b.get("/").text
    links = re.findall(r'<li><a href="(/[^"]*)"', home)
    assert links and links[0] == "/"
    for link in links:
        r = b.get(link)
        assert r.status_code == 200, (username, link)
        assert "<h1>" in r.text


def test_a_file_over_the_limit_is_named_next_to_its_input(draft, runtime, monkeypatch):
    b, app_id = draft
    monkeypatch.setattr(runtime.settings, "max_upload_bytes", 500)
    r = upload(b, app_id, "licence", png_bytes((400, 400)), "big.png")
    assert r.status_code == 200
    assert field_error(r.text, "att-err-licence").startswith("文件过大")
    assert 'data-max-bytes="500"' in r.text  # the page refuses it before sending, too
