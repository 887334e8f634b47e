"""及交流工作 (经验交流): the officer publishes an alliance's semester summary to every alliance; the other
alliances' accounts read and download the published version; it is taken down with a reason. Only the
officer publishes; a summary not handed in yet cannot be published."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.fixtures.activities import SEMESTER
from tests.web.test_semester_work_pages import SUMMARY
from workflows.accounts.models import User
from workflows.notifications import Notification


@pytest.fixture
def summary_url(browser, world, semester):
    """Alliance A's summary page, the summary written in the form by its lead."""
    url = f"/semester-work/{world.alliances['A'].id}"
    lead = browser("lead-a")
    assert lead.post(f"{url}/{SEMESTER}/summary", {**SUMMARY, "version": "0"}).status_code == 303
    return url


def _notices(runtime, username: str) -> list[Notification]:
    with runtime.db.session() as s:
        stmt = select(Notification).join(User, User.id == Notification.user_id).where(User.username == username)
        return [n for n in s.scalars(stmt) if n.kind == "semester_work.shared"]


def test_a_published_summary_is_read_by_other_alliances_及交流工作(browser, runtime, world, summary_url):
    officer = browser("officer")
    page = officer.get(summary_url).text
    assert "发布到经验交流" in page
    r = officer.post(f"{summary_url}/{SEMESTER}/summary/publish", {"return_to": f"{summary_url}#summary"})
    assert r.status_code == 303
    page = officer.follow(r).text
    assert "已向各联盟发布" in page and "向各联盟发布" in page and ">发布到经验交流<" not in page
    # Another alliance's lead is told, and reads and downloads it on 「经验交流」.
    (notice,) = _notices(runtime, "lead-b")
    assert notice.link == "/exchange" and "2026年秋季学期教研经验小结" in notice.title
    assert _notices(runtime, "lead-a") == []  # the alliance's own lead is not told about its own summary
    other = browser("lead-b")
    listing = other.get("/exchange").text
    alliance_a = world.alliances["A"].name
    assert "<h1>经验交流</h1>" in listing and alliance_a in listing and "2026年秋季学期教研经验小结" in listing
    link = re.search(r'href="(/exchange/[0-9a-f-]+/content)"', listing).group(1)
    download = other.get(link)
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert other.get(summary_url).status_code == 404  # the alliance's own page stays its own
    # A member kindergarten of another alliance reads it too; one outside every alliance does not.
    assert other.get("/exchange").status_code == 200 and browser("kg-b1").get(link).status_code == 200
    assert browser("kg-out").get("/exchange").status_code == 404
    assert browser("kg-out").get(link).status_code == 404


def test_the_officer_takes_a_published_summary_down_with_a_reason_及交流工作(browser, world, summary_url):
    officer = browser("officer")
    officer.post(f"{summary_url}/{SEMESTER}/summary/publish")
    link = re.search(r'href="(/exchange/[0-9a-f-]+/content)"', browser("lead-b").get("/exchange").text).group(1)
    refused = officer.post(f"{summary_url}/{SEMESTER}/summary/unpublish", {"reason": "  "})
    assert refused.status_code == 200 and 'id="err-unshare-reason" role="alert">请填写撤下原因<' in refused.text
    assert '<details class="withdraw" open>' in refused.text
    r = officer.post(f"{summary_url}/{SEMESTER}/summary/unpublish", {"reason": "含幼儿个人信息，修改后再发布"})
    assert r.status_code == 303
    page = officer.follow(r).text
    assert "撤下：含幼儿个人信息，修改后再发布" in page and "发布到经验交流" in page
    other = browser("lead-b")
    assert "暂无已发布的教研经验小结" in other.get("/exchange").text
    assert other.get(link).status_code == 404


def test_only_the_officer_publishes_及交流工作(browser, summary_url):
    for username in ("lead-a", "researcher"):
        b = browser(username)
        assert ">发布到经验交流<" not in b.get(summary_url).text
        r = b.post(f"{summary_url}/{SEMESTER}/summary/publish", {"return_to": summary_url})
        assert r.status_code == 303
        assert "只有成幼科可以发布或撤下经验交流" in b.follow(r).text
    assert "暂无已发布的教研经验小结" in browser("lead-b").get("/exchange").text


def test_a_summary_not_yet_handed_in_cannot_be_published_及交流工作(browser, world, semester):
    url = f"/semester-work/{world.alliances['B'].id}"
    officer = browser("officer")
    page = officer.get(url).text
    assert ">发布到经验交流<" not in page and "小结提交后可发布到经验交流" in page
    r = officer.post(f"{url}/{SEMESTER}/summary/publish", {"return_to": url})
    assert r.status_code == 303
    assert "教研经验小结尚未提交，不能发布" in officer.follow(r).text
    assert "暂无已发布的教研经验小结" in browser("lead-a").get("/exchange").text


def test_publishing_through_the_api_names_the_state_及交流工作(client, login, world, summary_url):
    path = f"/api/semesters/{SEMESTER}/alliances/{world.alliances['A'].id}/summary"
    r = client.post(f"{path}/publish", headers=login("lead-a"))
    assert r.status_code == 403
    r = client.post(f"{path}/publish", headers=login("officer"))
    assert r.status_code == 200 and r.json()["shared_at"]
    assert client.post(f"{path}/publish", headers=login("officer")).status_code == 409  # already published
    shared = client.get("/api/exchange", headers=login("lead-b")).json()
    assert [s["semester_name"] for s in shared] == ["2026年秋季学期"]
    r = client.post(f"{path}/unpublish", headers=login("officer"), json={"reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"{path}/unpublish", headers=login("officer"), json={"reason": "撤下"})
    assert r.status_code == 200 and r.json()["unshare_reason"] == "撤下"
    missing = f"/api/semesters/{SEMESTER}/alliances/{world.alliances['B'].id}/summary/publish"
    assert client.post(missing, headers=login("officer")).status_code == 409
