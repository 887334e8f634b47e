"""The activity pages in full: every field on the planning and edit forms with the roster pickers,
attendance with 「全部出席」 and walk-ins, withdrawing a material with a reason, and member kindergartens'
menus and pages (their alliance only)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.fixtures.activities import SEMESTER, teacher_ids, today
from tests.fixtures.files import pdf_bytes

INLINE_HANDLER = re.compile(r"\son[a-z]+=|\sstyle=")


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{re.escape(name)}" role="alert">([^<]*)</p>', html)
    assert found, f"no error element for {name}"
    return found.group(1)


def checked(html: str, name: str) -> set[str]:
    return set(re.findall(rf'name="{name}" value="([^"]+)" checked', html))


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def full_form(runtime, world, **overrides):
    start = datetime.combine(today() - timedelta(days=2), datetime.min.time()).replace(hour=9)
    return {
        "semester": SEMESTER,
        "topic": "绘本阅读中的提问策略",
        "domain": "语言",
        "format": "公开课",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "place": "A-M1 多功能厅",
        "meeting_no": "",
        "host_kindergarten_id": world.kid("A-M1"),
        "chair": "A-LEAD业务",
        "goal": "学会设计开放式提问",
        "credit_hours": "2.5",
        "presenters": teacher_ids(runtime, "A-PIL-T1", "A-M1-T2"),
        "participants": teacher_ids(runtime, "A-LEAD-T1", "A-M2-T1"),
        **overrides,
    }


@pytest.fixture
def planned(browser, runtime, world, semester):
    lead = browser("lead-a")
    r = lead.post("/activities/new", full_form(runtime, world))
    assert r.status_code == 303, r.text
    return lead, r.headers["location"]


def test_the_form_has_every_field_and_the_roster_of_every_kindergarten(browser, runtime, world, semester):
    lead = browser("lead-a")
    page = lead.get("/activities/new").text
    assert not INLINE_HANDLER.search(page)
    for name in ("topic", "domain", "format", "starts_at", "ends_at", "place", "meeting_no", "host_kindergarten_id",
                 "chair", "goal", "credit_hours"):  # fmt: skip
        assert f'name="{name}"' in page, name
    for code in ("A-LEAD", "A-PIL", "A-M1", "A-M2"):
        assert f'data-group="{code} A&amp;B&lt;幼儿园&gt;"' in page
    assert "B-M1" not in page  # another alliance's teachers are not offered
    # The research group (every kindergarten's 业务园长) is invited by default; nobody presents yet.
    assert checked(page, "participants") == set(teacher_ids(runtime, "A-LEAD-T1", "A-PIL-T1", "A-M1-T1", "A-M2-T1"))
    assert checked(page, "presenters") == set()


def test_planning_with_every_field_shows_them_on_the_activity(browser, runtime, world, planned):
    lead, url = planned
    page = lead.get(url).text
    for shown in ("绘本阅读中的提问策略", "公开课", "A-M1 多功能厅", "A-LEAD业务", "学会设计开放式提问", "2.5 学时", "2026年秋季学期",
                  "A-PIL业务（A-PIL A&amp;B&lt;幼儿园&gt;）", "A&amp;B&lt;幼儿园&gt;老师（A-M1 A&amp;B&lt;幼儿园&gt;）"):  # fmt: skip
        assert shown in page, shown
    assert "应到 4 人" in page


def test_a_refused_plan_keeps_every_input_and_ticked_teacher(browser, runtime, world, semester):
    lead = browser("lead-a")
    outsider = teacher_ids(runtime, "B-M1-T1")
    form = full_form(runtime, world, topic="", ends_at="2000-01-01T09:00", credit_hours="2.3",
                     presenters=[*teacher_ids(runtime, "A-PIL-T1"), *outsider])  # fmt: skip
    r = lead.post("/activities/new", form)
    assert r.status_code == 200
    assert field_error(r.text, "topic") and field_error(r.text, "credit_hours")
    assert checked(r.text, "participants") == set(form["participants"])
    assert 'value="学会设计开放式提问"' not in r.text and "学会设计开放式提问</textarea>" in r.text
    r = lead.post("/activities/new", full_form(runtime, world, ends_at="2000-01-01T09:00", presenters=outsider))
    assert field_error(r.text, "ends_at") == "结束时间须晚于开始时间"
    assert field_error(r.text, "presenters") == "该教师不在本联盟的幼儿园"
    assert 'value="2000-01-01T09:00"' in r.text and 'value="A-M1 多功能厅"' in r.text


def test_the_lead_edits_the_activity_and_a_stale_form_is_refused(browser, runtime, world, planned):
    lead, url = planned
    page = lead.get(f"{url}/edit").text
    assert 'value="绘本阅读中的提问策略"' in page and 'value="2.5"' in page
    assert checked(page, "presenters") == set(teacher_ids(runtime, "A-PIL-T1", "A-M1-T2"))
    form = full_form(runtime, world, topic="改过的主题", ends_at="", place="", meeting_no="腾讯会议 111",
                     presenters=teacher_ids(runtime, "A-M2-T1"), version=version_of(page))  # fmt: skip
    assert lead.post(f"{url}/edit", form).status_code == 303
    shown = lead.get(url).text
    assert "改过的主题" in shown and "腾讯会议 111" in shown and "A-M2业务（A-M2" in shown
    stale = lead.post(f"{url}/edit", {**form, "topic": "又改"})
    assert stale.status_code == 200 and "记录已被他人修改" in stale.text and 'value="又改"' in stale.text
    assert browser("kg-a1").get(f"{url}/edit").status_code == 404
    assert browser("lead-b").get(f"{url}/edit").status_code == 404


def fire(b, url, event):
    return b.post(f"{url}/events/{event}", {"version": version_of(b.get(url).text)})


def test_attendance_all_present_walk_ins_and_guests(browser, runtime, world, planned):
    lead, url = planned
    officer = browser("officer")  # recorded after the fact: announced late with the section's leave
    late = {"version": version_of(officer.get(url).text), "reason": "事后补录"}
    assert officer.post(f"{url}/late-notice", late).status_code == 303
    assert fire(lead, url, "announce").status_code == 303
    page = lead.get(url).text
    people = re.findall(r'name="att-([0-9a-f-]+)" value="present"', page)
    assert len(people) == 4 and 'type="radio"' in page
    r = lead.post(f"{url}/attendance", {})
    assert r.status_code == 200 and field_error(r.text, "attendance").startswith("请至少为一人选择出勤情况")
    # One on leave, then 全部出席 for the rest.
    r = lead.post(f"{url}/attendance", {f"att-{people[0]}": "leave", "rest_present": "1"})
    assert r.status_code == 303
    page = lead.get(url).text
    assert "实到 3 · 迟到 0 · 请假 1" in page
    # A walk-in: a guest needs a name and a kindergarten; what was typed stays.
    r = lead.post(
        f"{url}/walk-ins", {"teacher_id": "", "guest_name": "王老师", "guest_kindergarten": "", "attendance": "late"}
    )
    assert r.status_code == 200 and field_error(r.text, "guest_kindergarten") == "请填写来宾所在幼儿园或单位"
    assert '<details class="walk-in" open>' in r.text and 'value="王老师"' in r.text
    assert re.search(r'name="attendance" value="late" checked', r.text)
    r = lead.post(
        f"{url}/walk-ins", {"guest_name": "王老师", "guest_kindergarten": "青云谱区某幼儿园", "attendance": "late"}
    )
    assert r.status_code == 303
    walk_in = teacher_ids(runtime, "A-LEAD-T2")[0]
    assert f'<option value="{walk_in}">' in lead.get(url).text
    assert lead.post(f"{url}/walk-ins", {"teacher_id": walk_in, "attendance": "present"}).status_code == 303
    page = lead.get(url).text
    assert "王老师" in page and "来宾" in page and "龙头骨干" in page and "临时参加" in page
    assert "应到 6 人 · 实到 5 · 迟到 1" in page
    assert f'<option value="{walk_in}">' not in page  # on the list now
    # Only the lead and the host record; another alliance does not see the page at all.
    assert "全部出席" not in browser("kg-a2").get(url).text
    assert "全部出席" in browser("kg-a1").get(url).text  # A-M1 hosts
    outsider = browser("kg-b1")  # refused, and the page it is sent back to is a 404 for it too
    assert (
        outsider.follow(outsider.post(f"{url}/walk-ins", {"guest_name": "x", "guest_kindergarten": "y"})).status_code
        == 404
    )


def test_a_wrong_material_is_withdrawn_with_a_reason(browser, runtime, world, planned):
    lead, url = planned
    r = lead.post(f"{url}/materials", {"category": "lesson_plan"}, htmx=True,
                  files={"file": ("错的教案.pdf", pdf_bytes("wrong"), "application/pdf")})  # fmt: skip
    assert r.status_code == 200 and "错的教案.pdf" in r.text and "撤回原因" in r.text
    material = re.search(r"/materials/([0-9a-f-]+)/withdraw", r.text).group(1)
    # Only the uploader and the lead may take it back.
    assert f"/materials/{material}/withdraw" not in browser("kg-a1").get(url).text
    refused = lead.post(f"{url}/materials/{material}/withdraw", {"reason": "  "})
    assert refused.status_code == 200 and field_error(refused.text, f"reason-{material}") == "请填写撤回原因"
    assert '<details class="withdraw" open>' in refused.text
    member = browser("kg-a1")  # refused: back on the activity with the message
    assert member.follow(member.post(f"{url}/materials/{material}/withdraw", {"reason": "x"})).status_code == 200
    r = lead.post(f"{url}/materials/{material}/withdraw", {"reason": "传成了上学期的教案"})
    assert r.status_code == 303
    page = lead.get(url).text
    assert "已撤回「错的教案.pdf」" in page and "已撤回的资料（1 个）" in page and "传成了上学期的教案" in page
    assert "✗ 教案" in page


@pytest.mark.parametrize("member", ["kg-a1", "pillar-a"])
def test_member_kindergartens_get_the_alliance_menus_and_pages(browser, world, planned, member):
    lead, url = planned
    person = browser(member)
    home = person.get("/").text
    for entry in ('href="/activities"', 'href="/semester-work"', 'href="/evaluations"'):
        assert entry in home, entry
    assert url in person.get("/activities").text
    page = person.get(url).text
    assert "绘本阅读中的提问策略" in page and "修改活动" not in page and "/events/" not in page
    plan = person.get("/semester-work")
    assert plan.url.path == f"/semester-work/{world.alliances['A'].id}" and "保存并生成文档" not in plan.text
    assert person.get("/evaluations").status_code == 200
    assert "新建活动" not in person.get("/activities").text or member == "pillar-a"


def test_a_member_hosting_uploads_and_another_alliance_gets_404(browser, world, planned):
    lead, url = planned
    host = browser("kg-a1")
    assert 'id="in-material"' in host.get(url).text
    r = host.post(f"{url}/materials", {"category": "report"}, htmx=True,
                  files={"file": ("报道.pdf", pdf_bytes("report"), "application/pdf")})  # fmt: skip
    assert r.status_code == 200 and "报道.pdf" in r.text
    assert 'id="in-material"' not in browser("kg-a2").get(url).text  # neither host nor presenter
    for outsider in ("kg-b1", "lead-b"):
        b = browser(outsider)
        assert b.get(url).status_code == 404
        assert url not in b.get("/activities").text
    applicant = browser("kg-out")  # still applying: no alliance, no alliance menus
    home = applicant.get("/").text
    assert 'href="/activities"' not in home and 'href="/evaluations"' not in home
    assert applicant.get(url).status_code == 404
