"""教师名册 and 教研组 pages through TestClient: forms keep what was typed, errors stand by their field."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.web.test_pages import field_error

ROW = re.compile(r'<tr id="t-([^"]+)"')


def codes(html: str) -> list[str]:
    return ROW.findall(html)


def teacher_id(html: str, code: str) -> str:
    return re.search(rf'<tr id="t-{re.escape(code)}".*?href="/teachers/([0-9a-f-]+)"', html, re.S).group(1)


def test_a_principal_adds_edits_and_marks_a_teacher_left(browser, world):
    kg = browser("kg-a1")
    assert '<a href="/teachers"' in kg.get("/").text
    page = kg.get("/teachers")
    assert page.status_code == 200 and "教师名册" in page.text and "A-M1 A&amp;B&lt;幼儿园&gt;" in page.text
    assert codes(page.text) == ["A-M1-T1"]
    form = kg.get("/teachers/new").text
    assert 'name="kindergarten_id"' not in form  # a principal adds to its own kindergarten only

    r = kg.post(
        "/teachers/new",
        {"name": "周晓梅", "post": "教师", "level": "young", "birth_year": "1995", "phone": "138 0013 8000"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/teachers"
    listing = kg.get("/teachers").text
    assert "已添加教师 周晓梅（A-M1-T02）" in listing and "13800138000" in listing and "青年教师" in listing
    tid = teacher_id(listing, "A-M1-T02")

    edit = kg.get(f"/teachers/{tid}").text
    assert 'value="周晓梅"' in edit and 'name="version" value="1"' in edit
    saved = kg.post(
        f"/teachers/{tid}",
        {"version": "1", "name": "周晓梅", "post": "业务园长", "level": "backbone", "birth_year": "", "phone": ""},
    )
    assert saved.status_code == 303
    listing = kg.get("/teachers").text
    assert "已保存教师 周晓梅 的信息" in listing and "13800138000" not in listing and "骨干教师" in listing

    stale = kg.post(f"/teachers/{tid}", {"version": "1", "name": "别的名字", "post": "教师", "level": "new"})
    assert stale.status_code == 200
    assert "记录已被他人修改，请刷新后重试" in stale.text and 'value="别的名字"' in stale.text

    left = kg.post(f"/teachers/{tid}/status", {"version": "2", "active": "false"})
    assert left.status_code == 303
    assert "周晓梅已标记为离职（保留在名册中）" in kg.get("/teachers").text
    assert codes(kg.get("/teachers").text) == ["A-M1-T1"]
    assert codes(kg.get("/teachers?status=left").text) == ["A-M1-T02"]
    assert codes(kg.get("/teachers?status=all").text) == ["A-M1-T02", "A-M1-T1"]
    assert "已于" in kg.get(f"/teachers/{tid}").text and "恢复为在职" in kg.get(f"/teachers/{tid}").text


def test_bad_input_is_named_next_to_its_field_and_nothing_typed_is_lost(browser, world):
    kg = browser("kg-a1")
    kg.post("/teachers/new", {"name": "原主人", "post": "教师", "level": "young", "phone": "13900139000"})
    typed = {"name": "新同事", "post": "保育员", "level": "new", "birth_year": "1999", "phone": "139-0013-9000"}
    r = kg.post("/teachers/new", typed)
    assert r.status_code == 200
    assert field_error(r.text, "err-phone") == "该电话号码已由本园在职教师原主人使用，在职教师的电话不能重复"
    for name, value in typed.items():
        if name == "level":
            assert '<option value="new" selected>' in r.text
        else:
            assert f'name="{name}"' in r.text and f'value="{value}"' in r.text, name
    assert 'aria-invalid="true"' in r.text

    bad = kg.post("/teachers/new", {"name": "", "post": "教师", "level": "", "birth_year": "1900", "phone": "12345"})
    assert field_error(bad.text, "err-name") == "请填写姓名"
    assert field_error(bad.text, "err-level").startswith("请选择教师层级")
    assert field_error(bad.text, "err-birth_year").startswith("出生年份须在 1940 至")
    assert field_error(bad.text, "err-phone").startswith("电话号码格式不正确")
    assert 'value="1900"' in bad.text and 'value="12345"' in bad.text
    # Another kindergarten's principal is not told whose number it is.
    other = browser("kg-b1").post("/teachers/new", {**typed, "phone": "13900139000"})
    assert field_error(other.text, "err-phone") == "该电话号码已由本区另一位在职教师使用，在职教师的电话不能重复"


def test_other_kindergartens_teachers_are_404_pages(browser, world):
    kg = browser("kg-a1")
    kg.post("/teachers/new", {"name": "周晓梅", "post": "教师", "level": "young"})
    tid = teacher_id(kg.get("/teachers").text, "A-M1-T02")
    for username in ("kg-a2", "lead-a", "kg-b1"):
        other = browser(username)
        assert other.get(f"/teachers/{tid}").status_code == 404, username
        # A refused post goes back to the teacher's page, which is as unknown to them.
        edited = other.post(f"/teachers/{tid}", {"version": "1", "name": "x", "post": "x", "level": "new"})
        assert other.follow(edited).status_code == 404
        assert (
            other.follow(other.post(f"/teachers/{tid}/status", {"version": "1", "active": "false"})).status_code == 404
        )
        assert other.follow(other.post(f"/teachers/{tid}/delete", {"version": "1"})).status_code == 404
        assert "A-M1-T02" not in other.get(f"/teachers?kindergarten={world.kid('A-M1')}").text
        assert other.get("/teachers/import").status_code == 404
    assert "页面不存在" in browser("kg-a2").get(f"/teachers/{tid}").text
    # The researcher reads, without a form.
    researcher = browser("researcher")
    view = researcher.get(f"/teachers/{tid}").text
    assert "周晓梅" in view and 'action="/teachers/' not in view
    refused = researcher.post(f"/teachers/{tid}/status", {"version": "1", "active": "false"})
    assert refused.headers["location"] == f"/teachers/{tid}"  # back to the teacher, read-only, with the message
    back = researcher.follow(refused)
    assert back.status_code == 200 and 'class="flash flash-error"' in back.text


def test_the_office_keeps_the_district_roster(browser, world):
    officer = browser("officer")
    page = officer.get("/teachers").text
    assert "教师名册（全区）" in page and "导入 / 导出名册" in page
    assert len(codes(page)) == len(world.kindergartens) - 1
    r = officer.post("/teachers/new", {"kindergarten_id": "", "name": "园外老师", "post": "教师", "level": "new"})
    assert field_error(r.text, "err-kindergarten_id") == "请选择幼儿园"
    r = officer.post(
        "/teachers/new", {"kindergarten_id": world.kid("C-OUT"), "name": "园外老师", "post": "教师", "level": "new"}
    )
    assert r.status_code == 303
    assert codes(officer.get(f"/teachers?kindergarten={world.kid('C-OUT')}").text) == ["C-OUT-T01"]
    assert codes(officer.get(f"/teachers?alliance={world.alliances['B'].id}&level=young").text) == [
        "B-LEAD-T1",
        "B-M1-T1",
        "B-M2-T1",
        "B-PIL-T1",
    ]
    assert codes(officer.get("/teachers?q=园外").text) == ["C-OUT-T01"]
    assert codes(officer.get("/teachers?kindergarten=not-an-id&level=bogus&status=odd").text)  # ignored, not an error


def test_deleting_is_refused_back_on_the_teachers_page_once_referenced(browser, world):
    lead = browser("lead-a")
    lead.post("/teachers/new", {"name": "龙头骨干", "post": "教师", "level": "backbone"})
    tid = teacher_id(lead.get("/teachers").text, "A-LEAD-T02")
    group = f"/registry/alliances/{world.alliances['A'].id}/research-group"
    assert lead.post(f"{group}/{world.kid('A-LEAD')}", {"teacher_id": tid}).status_code == 303
    refused = lead.post(f"/teachers/{tid}/delete", {"version": "1"})
    assert refused.status_code == 303 and refused.headers["location"] == f"/teachers/{tid}"
    assert "不能删除；如已离开本园，请标记为离职" in lead.get(f"/teachers/{tid}").text
    lead.post("/teachers/new", {"name": "录错了", "post": "教师", "level": "new"})
    typo = teacher_id(lead.get("/teachers").text, "A-LEAD-T03")
    assert lead.post(f"/teachers/{typo}/delete", {"version": "1"}).headers["location"] == "/teachers"
    assert "已删除教师 录错了" in lead.get("/teachers").text


def test_roster_import_page_lists_problems_and_imports_all_or_nothing(browser, world):
    officer = browser("officer")
    page = officer.get("/teachers/import").text
    assert "下载全区教师名册.xlsx" in page and 'hx-post="/teachers/import"' in page and "upload-progress" in page
    exported = officer.get("/teachers/roster.xlsx")
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    template = officer.get("/teachers/template.xlsx")
    assert template.status_code == 200

    workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook["教师名册"]
    sheet.append([None, "A-M1", None, None, "好老师", "教师", "新教师", 2000, "13811112222", None])
    sheet.append([None, "A-M2", None, None, "坏老师", "教师", "新教师", 2000, "1381111", None])
    out = io.BytesIO()
    workbook.save(out)
    files = {"file": ("名册.xlsx", out.getvalue(), "application/octet-stream")}
    r = officer.post("/teachers/import", htmx=True, files=files)
    assert r.status_code == 200 and "未导入" in r.text
    assert "<td>I3</td>" in r.text and "第3行「联系电话」“1381111”有误" in r.text
    assert "好老师" not in officer.get("/teachers").text

    sheet["I3"] = "13811113333"
    out = io.BytesIO()
    workbook.save(out)
    done = officer.post("/teachers/import", htmx=True, files={"file": ("名册.xlsx", out.getvalue(), "x")})
    assert "导入完成" in done.text and "新增教师 2 位" in done.text
    assert "好老师" in officer.get("/teachers").text
    # Without htmx the whole page comes back with the result.
    again = officer.post("/teachers/import", files={"file": ("名册.xlsx", b"junk", "x")})
    assert again.status_code == 200 and "<h1>导入 / 导出教师名册</h1>" in again.text and "未导入" in again.text

    researcher = browser("researcher")
    assert 'action="/teachers/import"' not in researcher.get("/teachers/import").text
    assert researcher.get("/teachers/roster.xlsx").status_code == 200
    refused = researcher.post("/teachers/import", files=files)
    assert refused.headers["location"] == "/teachers/import"
    assert 'class="flash flash-error"' in researcher.follow(refused).text


def test_research_group_page_shows_seats_and_fixes_the_leader(browser, world):
    path = f"/registry/alliances/{world.alliances['A'].id}/research-group"
    assert path in browser("kg-a1").get("/registry/alliances").text
    member = browser("kg-a1").get(path).text
    assert "组长（龙头园）" in member and "A-LEAD业务" in member and "默认（业务园长）" in member
    # A member may name only its own seat.
    assert member.count('<select id="in-seat-') == 1
    assert browser("kg-b1").get(path).status_code == 404

    officer = browser("officer")
    officer.post(
        "/teachers/new",
        {"kindergarten_id": world.kid("A-LEAD"), "name": "新组长", "post": "业务园长", "level": "leader"},
    )
    page = officer.get(path).text
    assert page.count('<select id="in-seat-') == 4
    new_leader = re.search(r'<option value="([0-9a-f-]+)">新组长（业务园长）</option>', page).group(1)
    wrong = re.search(r'<select id="in-seat-3".*?<option value="([0-9a-f-]+)">', page, re.S).group(1)  # an A-M1 teacher
    refused = officer.post(f"{path}/{world.kid('A-LEAD')}", {"teacher_id": wrong})
    assert refused.status_code == 200
    assert field_error(refused.text, "err-seat-1") == "教研组组长须为龙头园（A-LEAD A&amp;B&lt;幼儿园&gt;）的在职教师"
    done = officer.post(f"{path}/{world.kid('A-LEAD')}", {"teacher_id": new_leader})
    assert done.status_code == 303 and done.headers["location"] == path
    after = officer.get(path).text
    assert "A-LEAD A&amp;B&lt;幼儿园&gt;的教研组组长已设为 新组长" in after
    assert re.search(r'id="seat-A-LEAD".*?<strong>新组长</strong>.*?指定', after, re.S)
    forbidden = browser("kg-a1").post(f"{path}/{world.kid('A-LEAD')}", {"teacher_id": new_leader})
    assert forbidden.status_code == 303
