"""The evaluation pages: opening a year, the lead's self-assessment, scoring by role, publication."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.evaluation_year import build_year
from workflows.evaluations import scheme


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
        # Computed items are shown, not retyped: their adjustment inputs stay empty and are left alone.
        inputs = re.findall(r'name="score-([^"]+)" inputmode="decimal" value="([^"]*)"', b.get(url).text)
        if any(v for _, v in inputs):
            r = post_form(b, url, "score", {f"score-{k}": v for k, v in inputs if v})
            assert r.status_code == 303, r.text
    page = officer.get(url).text
    assert "已评分" in page and "/events/publish" in page
    assert post_form(officer, url, "publish", {}).status_code == 303
    assert "已公布" in lead.get(url).text


def test_open_year_shows_待评分_never_a_grade_and_offers_the_files(browser, opened):
    officer, ev = opened
    url = f"/evaluations/{ev}"
    for who in (officer, browser("lead-a")):
        page = who.get(url).text
        assert "待评分" in page and "不合格" not in page and "合格" not in page
        listing = who.get("/evaluations?year=2026").text
        assert "待评分" in listing and "不合格" not in listing
    form = browser("lead-a").get(f"{url}/form.docx")
    assert form.status_code == 200 and form.content[:2] == b"PK"
    assert "attachment" in form.headers["content-disposition"]
    ranking = officer.get("/evaluations/ranking/2026.xlsx")
    assert ranking.status_code == 200 and ranking.content[:2] == b"PK"
    assert browser("lead-a").get("/evaluations/ranking/2026.xlsx").status_code == 404  # the bureau's ranking
    assert officer.get("/evaluations/ranking/1999.xlsx").status_code == 404
    assert browser("lead-b").get(f"{url}/form.docx").status_code == 404


def test_待办_self_assess_score_publish(browser, opened):
    officer, ev = opened
    url = f"/evaluations/{ev}"
    lead = browser("lead-a")
    assert "提交 2026 年度自评" in lead.get("/").text
    assert "评分：" not in browser("researcher").get("/").text  # nothing to score before the self-assessment
    keys = re.findall(r'name="self-([^"]+)"', lead.get(url).text)
    manual = {"outcomes", "safety", "bonus"}
    assert post_form(lead, url, "self_assess", {f"self-{k}": "1" for k in keys if k in manual}).status_code == 303
    assert "提交 2026 年度自评" not in lead.get("/").text.split("测试联盟A")[0]
    assert "评分：测试联盟A" in browser("researcher").get("/").text
    assert "评分：测试联盟A" in officer.get("/").text


SCHEME = "/evaluations/schemes/2027"


def _scheme_form(b):
    page = b.get(SCHEME).text
    values = dict(
        re.findall(r'name="((?:label|key|section|max_points)-\d+)" (?:inputmode="decimal" )?value="([^"]*)"', page)
    )
    for name, chosen in re.findall(r'<select id="[^"]+" name="([^"]+)">.*?<option value="([^"]+)" selected>', page):
        values[name] = chosen
    for name in re.findall(r'name="((?:veto|bonus)-\d+)" value="true" checked', page):
        values[name] = "true"
    values |= dict(re.findall(r'name="(p-\d+-[^"]+|pmethod-\d+)" (?:inputmode="\w+" )?value="([^"]*)"', page))
    formats = re.findall(r'name="(p-\d+-formats)" value="([^"]+)" checked', page)
    return values | {name: [v for n, v in formats if n == name] for name, _ in formats}


def _row(values, key):
    return next(k.split("-")[1] for k, v in values.items() if k.startswith("key-") and v == key)


def test_scheme_editor_edits_the_method_parameters_with_messages_next_to_them(browser, world, runtime):
    officer = browser("officer")
    values = _scheme_form(officer)
    count, attendance, visits = _row(values, "activity_count"), _row(values, "attendance"), _row(values, "visits")
    summary = _row(values, "summary")
    assert values[f"p-{attendance}-band-0-min"] == "90" and values[f"p-{attendance}-band-0-points"] == "10"
    assert values[f"p-{count}-per_missing"] == "5" and values[f"p-{count}-per_semester"] == ""
    assert values[f"p-{summary}-late_share"] == "100" and values[f"p-{visits}-formats"] == ["送教", "跟岗"]
    # The plan's floor: never fewer than 2 centralised activities a semester.
    r = officer.post(SCHEME, {**values, f"p-{count}-per_semester": "1"})
    assert r.status_code == 200
    assert re.search(rf'id="err-p-{count}-per_semester" role="alert">方案规定每学期集中研讨活动不少于 2 次', r.text)
    assert f'name="p-{count}-per_semester" inputmode="numeric" value="1"' in r.text  # what was typed stays
    bad = {f"p-{attendance}-band-1-points": "12", f"p-{attendance}-band-2-min": "九十", f"p-{visits}-target": "0",
           f"p-{summary}-late_share": "150"}  # fmt: skip
    r = officer.post(SCHEME, {**values, **bad, f"p-{visits}-formats": []})
    assert r.status_code == 200
    for field, message in ((f"p-{attendance}-band-1-points", "分值不能超过该项满分 10 分"),
                           (f"p-{attendance}-band-2-min", "请填写数字"), (f"p-{visits}-target", "不能小于 1"),
                           (f"p-{visits}-formats", "请至少选择一种活动形式"),
                           (f"p-{summary}-late_share", "不能超过 100")):  # fmt: skip
        assert re.search(rf'id="err-{field}" role="alert">{message}', r.text), field
    changed = {f"p-{count}-per_semester": "3", f"p-{count}-per_missing": "4",
               f"p-{attendance}-band-0-min": "95", f"p-{attendance}-band-3-min": "60",
               f"p-{attendance}-band-3-points": "2", f"p-{visits}-target": "3", f"p-{visits}-formats": ["送教"],
               f"p-{summary}-late_share": "50"}  # fmt: skip
    r = officer.post(SCHEME, {**values, **changed})
    assert r.status_code == 303, re.findall(r'role="alert">([^<]+)', r.text)
    with runtime.db.session() as s:
        saved = {i.key: i.params for i in scheme.scheme_for(session=s, year=2027).items}
    assert saved["activity_count"] == {"per_missing": 4.0, "per_semester": 3}
    assert saved["attendance"]["bands"] == [[95.0, 10.0], [80.0, 7.0], [70.0, 4.0], [60.0, 2.0]]
    assert saved["visits"] == {"target": 3, "formats": ["送教"]}
    assert saved["summary"] == {"kind": "summary", "late_share": 0.5}
    page = browser("researcher").get(SCHEME).text  # those who read see the parameters in words
    assert "每学期不少于 3 次；每缺一次扣 4 分" in page and "≥95% 得 10 分；≥80% 得 7 分" in page


def test_the_api_refuses_a_minimum_below_the_plans_floor(client, login, world):
    stored = client.get("/api/evaluations/schemes/2027", headers=login("officer")).json()
    items = [i | {"params": {"per_semester": 1, "per_missing": 5}} if i["key"] == "activity_count" else i
             for i in stored["items"]]  # fmt: skip
    r = client.put("/api/evaluations/schemes/2027", json={"items": items}, headers=login("officer"))
    assert r.status_code == 422 and "不少于 2 次" in r.text


def test_scheme_editor_checks_the_points_and_saves(browser, world):
    officer = browser("officer")
    values = _scheme_form(officer)
    assert values["label-0"] and values["max_points-0"] == "5"
    r = officer.post(SCHEME, {**values, "max_points-0": "15"})  # 110 base points
    assert r.status_code == 200 and "基本项目满分合计须为 100 分（现为 110 分）" in r.text
    assert 'value="15"' in r.text  # what was typed stays
    r = officer.post(SCHEME, {**values, "max_points-0": "很多"})
    assert r.status_code == 200 and re.search(r'id="err-max_points-0" role="alert">[^<]+', r.text)
    # One more officer item of 5 points, taken from the first item's 5: still 100.
    new = len([k for k in values if k.startswith("label-")])
    added = {f"label-{new}": "家长满意度", f"key-{new}": "parents", f"max_points-{new}": "5",
             f"assessor-{new}": "officer", f"method-{new}": "manual", "remove-0": "true"}  # fmt: skip
    r = officer.post(SCHEME, {**values, **added})
    assert r.status_code == 303, r.text
    page = officer.get(SCHEME).text
    assert "家长满意度" in page and "已保存 2027 年度考核方案" in page
    assert browser("researcher").get(SCHEME).status_code == 200
    assert 'action="/evaluations/schemes/2027"' not in browser("researcher").get(SCHEME).text
    assert browser("lead-a").get(SCHEME).status_code == 404
    refused = browser("researcher").post(SCHEME, {**values})
    assert refused.status_code == 303, re.findall(r"form-error[^>]*>[^<]*", refused.text)  # not the officer


def test_scheme_is_locked_once_the_year_opens(browser, opened):
    officer, _ = opened
    page = officer.get("/evaluations/schemes/2026").text
    assert "方案不能再修改" in page and 'action="/evaluations/schemes/2026"' not in page


def test_the_alliance_dashboard_says_pending_to_the_alliance_before_publication(browser, opened, world):
    alliance = world.alliances["A"].id
    for username in ("lead-a", "kg-a1"):
        page = browser(username).get(f"/dashboards/alliances/{alliance}?year=2026").text
        section = page.split("<h2>年度考核</h2>")[1].split("</section>")[0]
        assert "待评分" in section and "分 ·" not in section and "不合格" not in section, username
    officer, _ = opened
    section = officer.get(f"/dashboards/alliances/{alliance}?year=2026").text.split("<h2>年度考核</h2>")[1]
    assert "暂计" in section.split("</section>")[0] and "未公布" in section.split("</section>")[0]
