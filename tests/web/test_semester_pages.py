"""学期设置 for the officer: opening a semester and changing it on a page, every refusal in Chinese next to
its field with the typed input kept; the plan/summary page's semester selector; old reminder links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.fixtures.activities import PLAN_FORM, today
from workflows.activities.semesters import ensure_semester

NEW = {
    "year": "2027",
    "season": "spring",
    "starts_on": "2027-02-20",
    "ends_on": "2027-07-05",
    "plan_due_on": "",
    "summary_due_on": "",
    "min_centralised": "2",
    "materials_due_days": "7",
}


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{re.escape(name)}" role="alert">([^<]*)</p>', html)
    assert found, f"no error element for {name}"
    return found.group(1)


def value_of(html: str, name: str) -> str:
    found = re.search(rf'<input id="in-{re.escape(name)}" name="{re.escape(name)}"[^>]* value="([^"]*)"', html)
    assert found, f"no input {name}"
    return found.group(1)


def test_the_officer_opens_a_semester_after_fixing_what_the_page_points_out(browser, world):
    officer = browser("officer")
    assert "学期设置" in officer.get("/").text  # in the menu
    page = officer.get("/semesters/new").text
    assert 'name="year"' in page and "2026年秋季学期" in page  # the name follows year and season
    r = officer.post("/semesters/new", {**NEW, "ends_on": "2027-01-10", "min_centralised": "1"})
    assert r.status_code == 200
    assert field_error(r.text, "ends_on") == "学期结束日期须晚于开始日期"
    assert field_error(r.text, "min_centralised") == "方案规定每学期集中研讨活动不少于 2 次，最低次数不能低于 2"
    # The deadlines left empty follow the dates; with the dates wrong they are not blamed too.
    assert (
        field_error(r.text, "starts_on")
        == field_error(r.text, "plan_due_on")
        == field_error(r.text, "summary_due_on")
        == ""
    )
    # Nothing typed is lost.
    assert (value_of(r.text, "year"), value_of(r.text, "ends_on"), value_of(r.text, "min_centralised")) == (
        "2027",
        "2027-01-10",
        "1",
    )
    assert '<option value="spring" selected>' in r.text
    r = officer.post("/semesters/new", {**NEW, "year": "二〇二七", "season": "", "starts_on": "2027/02/20"})
    assert field_error(r.text, "year") == "请填写年度，如 2026" and field_error(r.text, "season") == "请选择春季或秋季"
    assert field_error(r.text, "starts_on") == "日期格式应为 YYYY-MM-DD"
    r = officer.post("/semesters/new", {**NEW, "min_centralised": "3"})
    assert r.status_code == 303 and r.headers["location"] == "/semesters"
    listing = officer.get("/semesters").text
    assert "已设置2027年春季学期" in listing and "2027年春季学期" in listing and "3 次" in listing
    assert "2027-03-06" in listing  # the plan due 14 days after the start
    again = officer.post("/semesters/new", NEW)
    assert again.status_code == 200 and field_error(again.text, "season") == "2027年春季学期已经设置过了"
    overlap = officer.post("/semesters/new", {**NEW, "year": "2026", "season": "autumn", "starts_on": "2026-09-01",
                                              "ends_on": "2027-03-01"})  # fmt: skip
    assert field_error(overlap.text, "ends_on") == "与2027年春季学期（2027-02-20 至 2027-07-05）时间重叠"


def test_with_no_semester_now_or_to_come_the_officer_is_asked_to_set_one(browser, world, runtime):
    officer, lead = browser("officer"), browser("lead-a")
    home = officer.get("/").text
    assert "设置本学期" in home and 'href="/semesters/new"' in home  # day one: nothing can be planned yet
    assert "设置本学期" not in lead.get("/").text  # only the officer sets semesters
    with runtime.db.session() as s:  # one set to start next month is enough: a summer break asks nothing
        ensure_semester(
            session=s, code="2099-spring", starts_on=today() + timedelta(days=30), ends_on=today() + timedelta(days=150)
        )
    assert "设置本学期" not in officer.get("/").text


def test_the_officer_edits_a_semester_and_a_bad_date_keeps_the_rest(browser, world):
    officer = browser("officer")
    assert officer.post("/semesters/new", NEW).status_code == 303
    page = officer.get("/semesters/2027-spring/edit").text
    assert value_of(page, "plan_due_on") == "2027-03-06" and "2027年春季学期" in page and 'name="year"' not in page
    edit = {"starts_on": "2027-02-20", "ends_on": "2027-07-05", "plan_due_on": "2027-03-20",
            "summary_due_on": "2027-02-01", "min_centralised": "4", "materials_due_days": "10"}  # fmt: skip
    r = officer.post("/semesters/2027-spring/edit", edit)
    assert r.status_code == 200 and field_error(r.text, "summary_due_on").startswith("小结截止日期须在学期开始之后")
    assert value_of(r.text, "plan_due_on") == "2027-03-20" and value_of(r.text, "min_centralised") == "4"
    r = officer.post("/semesters/2027-spring/edit", {**edit, "summary_due_on": "2027-07-20"})
    assert r.status_code == 303
    listing = officer.get("/semesters").text
    assert "已保存2027年春季学期" in listing and "2027-07-20" in listing and "4 次" in listing
    r = officer.post("/semesters/2027-spring/edit", {**edit, "summary_due_on": "2027-07-20", "min_centralised": "1"})
    assert field_error(r.text, "min_centralised").startswith("方案规定")


@pytest.mark.parametrize("who", ["lead-a", "researcher", "admin", "kg-a1"])
def test_only_the_officer_has_the_semester_pages(browser, world, who):
    person = browser(who)
    assert "学期设置" not in person.get("/").text
    assert person.get("/semesters").status_code == 404
    assert person.get("/semesters/new").status_code == 404
    assert person.follow(person.post("/semesters/new", NEW)).status_code == 404  # refused, and no page to go back to


def test_the_plan_page_switches_semesters_with_a_plain_form(browser, client, login, world, semester):
    officer = browser("officer")
    assert officer.post("/semesters/new", NEW).status_code == 303
    alliance = world.alliances["A"].id
    r = client.put(
        f"/api/semesters/{semester}/alliances/{alliance}/plan", headers=login("lead-a"), json={"form": PLAN_FORM}
    )
    assert r.status_code == 200, r.text
    lead = browser("lead-a")
    page = lead.get(f"/semester-work/{alliance}").text
    assert not re.search(r"\son[a-z]+=", page)  # no inline handler for the CSP to block
    form = re.search(r'<form method="get" action="([^"]+)" class="semester-pick">(.*?)</form>', page, re.S)
    assert (
        form
        and form.group(1) == f"/semester-work/{alliance}"
        and '<button type="submit">查看</button>' in form.group(2)
    )
    assert f'<option value="{semester}" selected>2026年秋季学期</option>' in page
    spring = lead.get(f"/semester-work/{alliance}", params={"semester": "2027-spring"}).text
    assert '<option value="2027-spring" selected>2027年春季学期</option>' in spring
    assert "未提交" in spring and "按时提交" not in spring and "逾期提交" not in spring
    index = officer.get("/semester-work", params={"semester": "2027-spring"}).text
    assert '<option value="2027-spring" selected>' in index and not re.search(r"\son[a-z]+=", index)
    assert lead.get(f"/semester-work/{alliance}", params={"semester": "2099-spring"}).status_code == 404


def test_a_reminder_sent_with_the_old_link_opens_the_plan_page(browser, world, semester):
    lead = browser("lead-a")
    alliance = world.alliances["A"].id
    r = lead.get(f"/semesters/{semester}/alliances/{alliance}/plan", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/semester-work/{alliance}?semester={semester}#plan"
    assert lead.get(r.headers["location"]).status_code == 200
