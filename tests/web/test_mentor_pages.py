"""Mentor-team and certificate pages: the whole path through the pages, refusals and bad input."""

from __future__ import annotations

import re

from tests.fixtures.activity_records import add_plan, add_teacher, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.evaluation_year import build_year
from workflows.registry.models import TeacherLevel

NOMINATION = {"team": "科学", "qualifications": "backbone", "professional_title": "一级教师", "teaching_years": "12",
              "achievements": "执教市级公开课《有趣的磁铁》", "reasons": "长期带领本园科学领域教研"}  # fmt: skip


def _id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def ids_match(html: str) -> str:
    """Every id once, and every aria-describedby pointing at one of them (several forms on a page)."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    described = {d for v in re.findall(r'aria-describedby="([^"]+)"', html) for d in v.split()}
    assert described - set(ids) == set()
    return html


def _version(b, url: str) -> str:
    return re.search(r'name="version" value="(\d+)"', b.get(url).text).group(1)


def test_nomination_to_yearly_review_through_the_pages(browser, runtime, world):
    officer, researcher, kg = browser("officer"), browser("researcher"), browser("kg-a1")
    teacher = add_teacher(runtime, world, "A-M1", name="王敏", level=TeacherLevel.BACKBONE)

    # No round yet: the page says so and nominating is refused back to the page.
    assert "目前没有正在进行的导师推荐" in kg.get("/mentors/nominations").text
    r = kg.post("/mentors/nominations/new", {**NOMINATION, "teacher_id": str(teacher)})
    assert r.status_code == 303 and "没有正在进行的导师推荐" in kg.follow(r).text

    # A deadline in the past: the message next to the field, what was typed kept.
    r = officer.post("/mentors/rounds", {"deadline": "2000-01-01", "note": "请各园推荐"})
    assert r.status_code == 200 and 'id="err-deadline" role="alert">截止日期不能早于今天' in r.text
    assert "请各园推荐" in r.text
    r = officer.post("/mentors/rounds", {"deadline": "not-a-date", "note": ""})
    assert r.status_code == 200 and "请填写有效日期" in r.text
    assert officer.post("/mentors/rounds", {"deadline": "2099-12-31"}).status_code == 303

    # Missing fields come back next to their inputs with the rest kept.
    r = kg.post("/mentors/nominations/new", {**NOMINATION, "teacher_id": str(teacher), "reasons": ""})
    assert r.status_code == 200 and 'id="err-reasons" role="alert">请填写推荐理由' in r.text
    assert "执教市级公开课《有趣的磁铁》" in r.text and 'err-reasons" role="alert"></p>' not in r.text
    r = kg.post("/mentors/nominations/new", {"achievements": "执教市级公开课"})
    for name, message in (("teacher_id", "请选择推荐教师"), ("team", "请选择导师团"),
                          ("qualifications", "请至少选择一项推荐资格"), ("reasons", "请填写推荐理由")):  # fmt: skip
        assert f'id="err-{name}" role="alert">{message}</p>' in ids_match(r.text)
    r = kg.post("/mentors/nominations/new", {**NOMINATION, "teacher_id": str(teacher)})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    ids_match(researcher.get(url).text)  # review and decline on one page

    # The researcher reviews (comment required), the section appoints with a term.
    r = researcher.post(f"{url}/events/review", {"version": _version(researcher, url), "comment": ""})
    assert r.status_code == 200 and re.search(r'id="err-review-comment" role="alert">[^<]+审核意见', ids_match(r.text))
    assert (
        'id="in-review-comment" name="comment" rows="2" maxlength="2000" aria-describedby="err-review-comment" aria-invalid'
        in r.text
    )
    r = researcher.post(f"{url}/events/review", {"version": _version(researcher, url), "comment": "同意推荐"})
    assert r.status_code == 303, r.text
    version = _version(officer, url)
    ids_match(officer.get(url).text)  # appoint and decline on one page
    r = officer.post(f"{url}/events/appoint", {"version": version, "term_start": "2026-09-01", "term_end": "2026-08-01",
                                               "comment": "按期聘任"})  # fmt: skip
    assert r.status_code == 200 and "聘期结束日期须晚于开始日期" in ids_match(r.text) and "按期聘任" in r.text
    assert 'id="err-appoint-term_end" role="alert">聘期结束日期须晚于开始日期' in r.text
    r = officer.post(f"{url}/events/appoint", {"version": version, "term_start": "2026-09-01",
                                               "term_end": "2029-08-31", "alliance_ids": str(world.alliances["A"].id)})  # fmt: skip
    assert r.status_code == 303, r.text
    page = officer.get(url).text
    assert "已聘任" in page and "幼教导师聘书" in page
    mentor_url = re.search(r'href="(/mentors/[0-9a-f-]{36})"', page).group(1)

    # Assignment, guidance on the plan, the yearly review, the workload workbook, the team overview.
    r = officer.post(f"{mentor_url}/assignments", {"alliance_id": "x"})
    assert r.status_code == 200 and "请选择联盟" in r.text
    assert officer.post(f"{mentor_url}/assignments", {"alliance_id": str(world.alliances["B"].id)}).status_code == 303
    add_plan(runtime, world, "A")
    lead = browser("lead-a")
    r = lead.post(f"{mentor_url}/guidance", {"kind": "plan_review", "note": "参与制定计划"})
    assert r.status_code == 200 and "参与制定计划须选择联盟的学期计划" in r.text
    plan = re.search(r'<option value="([0-9a-f-]{36})">测试联盟A 2026年秋季学期联盟互动计划', lead.get(mentor_url).text)
    r = lead.post(f"{mentor_url}/guidance", {"kind": "plan_review", "plan_id": plan.group(1)})
    assert r.status_code == 303, r.text
    # A 讲座 on one of the alliance's activities: the activity page names the mentor.
    lecture = make_activity(runtime, world, topic="幼儿科学探究讲座", format="讲座")
    r = lead.post(f"{mentor_url}/guidance", {"kind": "lecture", "activity_id": str(lecture.activity_id)})
    assert r.status_code == 303, r.text
    activity_page = lead.get(f"/activities/{lecture.activity_id}").text
    assert f'<a href="{mentor_url}">王敏</a>（讲座）' in activity_page
    r = officer.post(f"{mentor_url}/events/rotate", {"version": _version(officer, mentor_url), "year": "2026",
                                                    "comment": ""})  # fmt: skip
    assert r.status_code == 200 and re.search(r'id="err-review-comment" role="alert">[^<]+', ids_match(r.text))
    r = officer.post(f"{mentor_url}/events/keep", {"version": _version(officer, mentor_url), "year": "2026"})
    assert r.status_code == 303, r.text
    assert "2026年度：留任" in ids_match(officer.get(mentor_url).text)
    assert "参与制定计划</strong> · 测试联盟A 2026年秋季学期联盟互动计划" in officer.get(mentor_url).text
    ids_match(lead.get(mentor_url).text)
    xlsx = lead.get(f"{mentor_url}/workload.xlsx?year=2026")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    overview = browser("kg-b1").get("/mentors?team=科学").text
    assert "王敏" in overview and "按年龄段" in overview and "骨干教师" in overview
    assert browser("kg-b1").get(f"{mentor_url}/workload.xlsx").status_code == 404


def test_certificates_issued_by_the_lead_countersigned_and_verified(browser, runtime, world):
    build_year(runtime, world)
    lead, officer = browser("lead-a"), browser("officer")
    assert "会签" not in lead.get("/certificates").text.split("<h1")[1].split("</h1>")[0]
    page = lead.get("/certificates").text
    activity = re.search(r'name="activity_id">\s*<option value="([0-9a-f-]{36})"', page).group(1)
    r = lead.post("/certificates/issue", {"activity_id": activity})
    assert r.status_code == 303 and "等待成幼科会签" in lead.follow(r).text
    r = lead.post("/certificates/issue", {"activity_id": activity})
    assert r.status_code == 303 and "已颁发" in lead.follow(r).text
    assert officer.post("/certificates/issue", {"activity_id": activity}).status_code == 303  # refused back
    r = lead.post("/certificates/countersign", {})  # only the section countersigns: refused back to the page
    assert r.status_code == 303 and r.headers["location"] == "/certificates" and "flash-error" in lead.follow(r).text
    r = officer.post("/certificates/countersign", {})
    assert r.status_code == 303, r.text
    job_url = r.headers["location"]
    drain(runtime)
    assert '已会签 <strong class="job-count">1/1</strong>' in officer.get(job_url).text
    listed = lead.get("/certificates").text
    cert_url = re.search(r'href="(/certificates/[0-9a-f-]{36})"', listed).group(1)
    detail = lead.get(cert_url).text
    code = re.search(r"/verify\?code=([A-Z2-7-]+)", detail).group(1)
    number = re.search(r"ZS\d{4}-\d{4}", detail).group(0)
    assert number in browser().get(f"/verify?code={code}").text
    assert "本园教师的证书" in browser("pillar-a").get("/account").text
