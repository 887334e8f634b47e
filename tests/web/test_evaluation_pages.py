"""The evaluation pages: opening a year, the lead's self-assessment, scoring by role, publication."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.evaluation_year import build_year


@pytest.fixture
def opened(browser, runtime, world):
    build_year(runtime, world)
    officer = browser("officer")
    r = officer.post("/evaluations/open", {"year": "2026"})
    assert r.status_code == 303, r.text
    page = officer.get("/evaluations?year=2026").text
    ids = re.findall(r'href="/evaluations/([0-9a-f-]{36})"', page)
    assert len(ids) == 2
    ev_a = next(i for i in ids if "测试联盟A" in officer.get(f"/evaluations/{i}").text)
    return officer, ev_a


def post_form(b, url, event, values):
    page = b.get(url).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return b.post(f"{url}/events/{event}", {"version": version, **values})


def test_open_year_is_for_the_officer_and_names_a_bad_year(browser, world):
    officer = browser("officer")
    r = officer.post("/evaluations/open", {"year": "明年"})
    assert r.status_code == 200 and "请输入年度" in r.text
    assert "/evaluations/open" not in browser("lead-a").get("/evaluations").text
    lead = browser("lead-a")
    refused = lead.post("/evaluations/open", {"year": "2026"})
    assert refused.headers["location"] == "/evaluations"
    assert 'class="flash flash-error"' in lead.follow(refused).text  # refused in Chinese, back on the list


def test_self_assess_score_publish(browser, opened):
    officer, ev = opened
    url = f"/evaluations/{ev}"
    assert browser("lead-b").get(url).status_code == 404
    lead = browser("lead-a")
    page = lead.get(url).text
    keys = re.findall(r'name="self-([^"]+)"', page)
    assert keys and "系统计算" in page
    r = post_form(lead, url, "self_assess", {f"self-{keys[0]}": "很好"})
    assert r.status_code == 200 and re.search(rf'id="err-{re.escape(keys[0])}" role="alert">须为', r.text)
    r = lead.client.post(f"{url}/events/self_assess", data={"version": "1"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = post_form(lead, url, "self_assess", {f"self-{k}": "1" for k in keys})
    assert r.status_code == 303, r.text
    for who in ("researcher", "officer"):
        b = browser(who) if who == "researcher" else officer
        inputs = re.findall(r'name="score-([^"]+)" inputmode="decimal" size="5" value="([^"]*)"', b.get(url).text)
        if inputs:
            r = post_form(b, url, "score", {f"score-{k}": v or "1" for k, v in inputs})
            assert r.status_code == 303, r.text
    page = officer.get(url).text
    assert "已评分" in page and "/events/publish" in page
    assert post_form(officer, url, "publish", {}).status_code == 303
    assert "已公布" in lead.get(url).text
