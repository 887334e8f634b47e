"""继续教育 ledger pages: the district by kindergarten for the bureau, one kindergarten's teachers, one
teacher's years and activities, the workbook; another kindergarten's ledger is not found."""

from __future__ import annotations

import html
import re

import pytest

from tests.fixtures.evaluation_year import build_year


@pytest.fixture
def year(runtime, world):
    build_year(runtime, world)


def test_the_officer_sees_the_district_then_a_kindergarten_then_a_teacher(browser, year, world):
    officer = browser("officer")
    page = officer.get("/ledger?year=2026").text
    assert "继续教育台账" in page and html.escape(world.kindergartens["A-M1"].name) in page
    link = re.search(rf'href="(/ledger\?year=2026&amp;kindergarten={world.kid("A-M1")})"', page)
    assert link is not None
    kg = officer.get(html.unescape(link.group(1))).text
    teachers = re.findall(r'href="(/ledger/teachers/[0-9a-f-]{36}\?year=2026)">([^<]+)<', kg)
    assert teachers and "学时" in kg
    teacher = officer.get(teachers[0][0]).text
    assert "历年学时" in teacher and "2026 年参加的活动" in teacher
    xlsx = officer.get(f"/ledger/2026.xlsx?kindergarten={world.kid('A-M1')}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]


def test_a_kindergarten_sees_only_its_own(browser, year, world):
    member = browser("kg-a1")
    page = member.get("/ledger?year=2026").text
    assert html.escape(world.kindergartens["A-M1"].name) in page
    assert html.escape(world.kindergartens["A-M2"].name) not in page
    assert member.get(f"/ledger?year=2026&kindergarten={world.kid('A-M2')}").status_code == 404
    assert member.get(f"/ledger/2026.xlsx?kindergarten={world.kid('A-M2')}").status_code == 404
    other = browser("officer").get(f"/ledger?year=2026&kindergarten={world.kid('A-M2')}").text
    teacher = re.search(r'href="(/ledger/teachers/[0-9a-f-]{36})', other)
    assert teacher is not None and member.get(teacher.group(1)).status_code == 404


def test_bad_addresses_are_not_found(browser, world):
    officer = browser("officer")
    assert officer.get("/ledger?year=明年").status_code == 404
    assert officer.get("/ledger?kindergarten=xyz").status_code == 404
    assert officer.get("/ledger/1999.xlsx").status_code == 404
