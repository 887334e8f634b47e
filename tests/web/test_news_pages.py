"""活动报道 pages: consent per photo, a draft by the teaching-research office, the lead's approval and
publication, the public page and the feed; refusals and bad input answered next to their field."""

from __future__ import annotations

import re

import pytest

from tests.api.test_news import report_docx
from tests.fixtures.activity_records import FileSpec, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.files import jpeg_bytes, png_bytes


@pytest.fixture
def activity(runtime, world):
    return make_activity(
        runtime,
        world,
        state="held",
        files=[
            FileSpec("report", "活动报道.docx", report_docx()),
            FileSpec("media", "同意.jpg", jpeg_bytes((30, 20)), "image/jpeg"),
            FileSpec("media", "不同意.png", png_bytes((31, 20)), "image/png"),
        ],
    )


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def consent_url(activity, name):
    return f"/activities/{activity.activity_id}/photos/{activity.materials[name]}/consent"


def test_consent_draft_approve_publish(browser, runtime, activity):
    lead = browser("lead-a")
    photos = lead.get(f"/activities/{activity.activity_id}/photos").text
    assert "同意.jpg" in photos and "未登记" in photos
    r = lead.post(consent_url(activity, "同意.jpg"), {"consent": "", "note": "同意书 01"})
    assert r.status_code == 200 and "请选择监护人是否同意" in r.text and 'value="同意书 01"' in r.text
    assert lead.post(consent_url(activity, "同意.jpg"), {"consent": "yes", "note": "同意书 01"}).status_code == 303
    assert lead.post(consent_url(activity, "不同意.png"), {"consent": "no"}).status_code == 303
    member = browser("kg-a1")
    member.get(f"/activities/{activity.activity_id}/photos")
    r = member.post(consent_url(activity, "同意.jpg"), {"consent": "no"})
    assert r.status_code == 303 and "只有龙头园可以登记" in member.follow(r).text

    researcher = browser("researcher")
    form = researcher.get(f"/reports/new?activity_id={activity.activity_id}").text
    assert "活动报道.docx" in form and "监护人不同意" in form
    data = {
        "activity_id": str(activity.activity_id),
        "title": "科学探究公开课",
        "summary": "龙头园承办",
        "media_ids": [str(activity.materials["同意.jpg"]), str(activity.materials["不同意.png"])],
    }
    r = researcher.post("/reports/new", {**data, "material_id": ""})
    assert r.status_code == 200 and 'id="err-material_id" role="alert">请选择活动报道文件' in r.text
    assert 'value="科学探究公开课"' in r.text and "龙头园承办</textarea>" in r.text
    r = researcher.post("/reports/new", {**data, "material_id": str(activity.materials["同意.jpg"])})
    assert r.status_code == 200 and "请选择本次活动的「活动报道」资料" in r.text
    r = researcher.post("/reports/new", {**data, "material_id": str(activity.materials["活动报道.docx"])})
    assert r.status_code == 303, r.text
    report_url = r.headers["location"]

    home = lead.get("/").text
    assert "审定活动报道：科学探究公开课" in home
    page = lead.get(report_url).text
    assert "监护人不同意，不发布" in page and "将随报道发布" in page
    r = lead.post(report_url + "/events/withdraw", {"version": version_of(page), "comment": ""})
    assert r.status_code == 200 and 'ev-withdraw-comment-err" role="alert">撤下时必须填写撤下原因' in r.text
    r = lead.post(report_url + "/events/approve", {"version": version_of(page)})
    assert r.status_code == 303
    page = lead.follow(r).text
    assert "发布活动报道：科学探究公开课" in lead.get("/").text
    assert browser("kg-a1").post(report_url + "/events/publish", {"version": version_of(page)}).status_code == 303
    r = lead.post(report_url + "/events/publish", {"version": version_of(page)})
    assert r.status_code == 303
    drain(runtime)  # the body is read by a task
    page = lead.get(report_url).text
    assert "查看公开页面" in page and "已随报道发布" in page

    public = browser().get("/news").text
    assert "科学探究公开课" in public
    entry = browser().get(report_url.replace("/reports/", "/news/")).text
    assert entry.count("/news/media/") == 1 and str(activity.materials["同意.jpg"]) in entry
    assert str(activity.materials["不同意.png"]) not in entry
    feed = browser().get("/news/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml") and "科学探究公开课" in feed.text
    assert '<a href="/news">' in browser("kg-a1").get("/").text  # the footer links the public page


def test_returned_draft_goes_back_to_its_author_with_the_remark(browser, runtime, activity):
    researcher = browser("researcher")
    data = {"activity_id": str(activity.activity_id), "material_id": str(activity.materials["活动报道.docx"])}
    report_url = researcher.post("/reports/new", {**data, "title": "初稿"}).headers["location"]
    lead = browser("lead-a")
    page = lead.get(report_url).text
    page = lead.follow(lead.post(report_url + "/events/approve", {"version": version_of(page)})).text
    r = lead.post(report_url + "/events/return", {"version": version_of(page), "comment": "请补充幼儿表现"})
    assert r.status_code == 303
    home = researcher.get("/").text
    assert "修改活动报道：初稿" in home and "请补充幼儿表现" in home
    assert "活动报道退回修改" in researcher.get("/notifications").text
    page = researcher.get(report_url).text
    r = researcher.post(report_url + "/edit", {"version": version_of(page), "title": "x" * 201, "summary": "补充"})
    assert r.status_code == 200 and "内容过长" in r.text and "补充</textarea>" in r.text
    r = researcher.post(report_url + "/edit", {"version": version_of(page), "title": "修改稿", "summary": "补充"})
    assert r.status_code == 303
    assert "修改稿" in researcher.follow(r).text


def test_who_may_not(browser, runtime, activity):
    assert browser("kg-b1").get(f"/activities/{activity.activity_id}/photos").status_code == 404
    assert browser("kg-out").get("/reports").status_code == 200  # an empty list, nothing of anyone's
    member = browser("kg-a1")
    assert "撰写报道" not in member.get("/reports").text  # neither host nor lead
    r = member.post(
        "/reports/new",
        {"activity_id": str(activity.activity_id), "material_id": str(activity.materials["活动报道.docx"])},
    )
    assert r.status_code == 303 and "只有龙头园、承办园和教研室可以撰写活动报道" in member.follow(r).text
