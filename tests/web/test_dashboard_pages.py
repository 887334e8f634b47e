"""The dashboards: the district for the bureau, one's own alliance for a kindergarten."""

from __future__ import annotations


def test_bureau_sees_the_district_and_any_alliance(browser, world):
    b = browser("officer")
    r = b.get("/dashboards")
    assert r.status_code == 200 and "年度联盟统计概览" in r.text and "测试联盟A" in r.text
    alliance = b.get(f"/dashboards/alliances/{world.alliances['B'].id}")
    assert alliance.status_code == 200 and "测试联盟B" in alliance.text


def test_a_kindergarten_sees_only_its_own_alliance(browser, world):
    b = browser("kg-a1")
    r = b.get("/dashboards")
    assert r.status_code == 200 and "测试联盟A" in r.text and "年度联盟统计概览" not in r.text
    assert b.get(f"/dashboards/alliances/{world.alliances['B'].id}").status_code == 404
    assert b.get("/dashboards?year=abc").status_code == 200
    outside = browser("kg-out").get("/dashboards")
    assert outside.status_code == 200 and "尚未加入联盟" in outside.text
