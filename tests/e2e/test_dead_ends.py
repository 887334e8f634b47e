"""In a real browser, no dead ends: an unknown address is the Chinese 404 page; a refused action brings
the browser back to the page it came from with the message, never leaving an action URL in the address
bar; a session that expires while a form is open loses nothing typed; the pages that notifications
open (动态管理, mentor nominations) are there, at desktop and phone width.

What is not under test here (the application, the evaluation year, nominations) is set up through the
API and the services, as the other journeys do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.web import session as web_session
from tests.e2e.conftest import LiveServer, Person
from tests.fixtures.activity_records import add_teacher
from tests.fixtures.app import PASSWORD
from tests.fixtures.evaluation_year import YEAR, build_year
from tests.fixtures.files import pdf_bytes, png_bytes
from tests.web.conftest import FORM
from workflows.accounts.tokens import issue_token
from workflows.registry.models import TeacherLevel

pytestmark = pytest.mark.slow

STALE = "记录已被他人修改，请刷新后重试"
TYPED = "希望加入联盟，A&B<共同>成长。\n第二行：借助龙头园的课程提升保教质量。"


class Api:
    """The JSON API of the server under test, as each account (only for setting the scene)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.tokens: dict[str, dict[str, str]] = {}

    def __call__(self, method: str, path: str, who: str, **kwargs: object) -> dict:
        if who not in self.tokens:
            r = self.http.post("/api/auth/token", data={"username": who, "password": PASSWORD})
            self.tokens[who] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = self.http.request(method, path, headers=self.tokens[who], **kwargs)  # type: ignore[arg-type]
        assert r.status_code in (200, 201), r.text
        return r.json()


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Api:
    return Api(live_server.url)


def _accept_refused_status(p: Person, status: int) -> None:
    # Chromium reports an error page's own status on the console; here that status is the point.
    p.problems[:] = [m for m in p.problems if f"status of {status}" not in m]


def test_an_unknown_address_shows_the_chinese_404_page(person: Callable[[], Person], live_server: LiveServer) -> None:
    visitor = person()
    response = visitor.page.goto(live_server.url + "/no/such/page")
    assert response is not None and response.status == 404
    expect(visitor.page.locator("h1")).to_have_text("页面不存在")
    expect(visitor.page.get_by_role("link", name="前往登录")).to_be_visible()
    visitor.screenshot("dead-ends-404-visitor")
    _accept_refused_status(visitor, 404)

    lead = person()
    lead.login("lead-a")
    response = lead.page.goto(live_server.url + "/semester-work/not-a-page/at-all")
    assert response is not None and response.status == 404
    expect(lead.page.locator("h1")).to_have_text("页面不存在")
    expect(lead.page.get_by_role("navigation", name="主菜单")).to_be_attached()  # still in the app
    lead.screenshot("dead-ends-404-signed-in")
    _accept_refused_status(lead, 404)


def _submitted_application(api: Api, live_server: LiveServer) -> str:
    alliance = str(live_server.world.alliances["A"].id)
    app = api(
        "POST", "/api/applications", "kg-out", json={**FORM, "needs": ["课程"], "preferred_alliance_id": alliance}
    )
    for kind, content in (("licence", pdf_bytes()), ("inspection", png_bytes()), ("safety_pledge", pdf_bytes("p"))):
        api("POST", f"/api/applications/{app['id']}/attachments", "kg-out", data={"kind": kind},
            files={"file": (f"{kind}.pdf", content, "application/octet-stream")})  # fmt: skip
    app = api("GET", f"/api/applications/{app['id']}", "kg-out")
    api("POST", f"/api/applications/{app['id']}/events/submit", "kg-out", json={"version": app["version"]})
    return str(app["id"])


def test_a_refused_action_returns_to_the_application_with_the_message(
    person: Callable[[], Person], live_server: LiveServer, api: Api
) -> None:
    app_id = _submitted_application(api, live_server)
    detail = f"{live_server.url}/applications/{app_id}"
    officer = person()
    officer.login("officer")
    page = officer.open(f"/applications/{app_id}")
    expect(page.get_by_role("button", name="开始审核")).to_be_visible()
    # Meanwhile a colleague starts the review: this page's version is stale.
    current = api("GET", f"/api/applications/{app_id}", "officer")
    api("POST", f"/api/applications/{app_id}/events/start_review", "officer", json={"version": current["version"]})
    page.get_by_role("button", name="开始审核").click()
    page.wait_for_load_state()
    assert page.url == detail  # the application, not /applications/…/events/start_review
    expect(page.locator(".flash-error")).to_have_text(STALE)
    expect(page.locator(".page-head .state")).to_have_text("审核中")
    officer.screenshot("dead-ends-refused-action")
    page.reload()
    expect(page.locator(".flash-error")).to_have_count(0)  # the message was for once


def _log_in_again(page: Page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_typed_input_survives_a_session_that_expired_while_the_form_was_open(
    person: Callable[[], Person], live_server: LiveServer
) -> None:
    applicant = person()
    applicant.login("kg-a2")
    page = applicant.open("/applications/new")
    page.fill("#in-head_name", "周园长")
    page.fill("#in-reasons", TYPED)
    page.select_option("#in-ownership", "nonprofit")
    # The browser dropped the session cookie (closed and reopened, or cleared): the form is still open.
    applicant.context.clear_cookies()
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/login\?"))
    assert "next=/applications/new" in page.url and "expired=1" in page.url
    expect(page.locator("#login-expired")).to_contain_text("登录已过期，请重新登录")
    expect(page.locator("#draft-kept")).to_be_visible()
    applicant.screenshot("dead-ends-login-expired")

    _log_in_again(page, "kg-a2")
    page.wait_for_url(live_server.url + "/applications/new")
    expect(page.locator(".draft-restored")).to_contain_text("已恢复您上次填写的内容")
    expect(page.locator("#in-head_name")).to_have_value("周园长")
    expect(page.locator("#in-reasons")).to_have_value(TYPED)
    expect(page.locator("#in-ownership")).to_have_value("nonprofit")
    applicant.screenshot("dead-ends-draft-restored")

    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".flash-ok")).to_contain_text("草稿已保存")
    expect(page.locator("#in-reasons")).to_have_value(TYPED)
    page.reload()
    expect(page.locator(".draft-restored")).to_have_count(0)  # saved: the draft is gone
    page.goto(live_server.url + "/applications/new")  # and nothing comes back on the new form either
    expect(page.locator(".draft-restored")).to_have_count(0)


def test_typed_input_survives_an_expired_sign_in_too(person: Callable[[], Person], live_server: LiveServer) -> None:
    applicant = person()
    applicant.login("kg-a2")  # the draft saved above
    page = applicant.open("/applications")
    page.get_by_role("link", name=re.compile("SQ")).first.click()
    page.get_by_role("link", name="修改申请").click()
    form_url = page.url
    page.fill("#in-reasons", "改写后的申请理由：加强游戏化教学")
    # The cookie is still there, but the sign-in in it ran out an hour ago.
    settings = live_server.runtime.settings
    cookie = next(c for c in applicant.context.cookies() if c["name"] == web_session.COOKIE_NAME)
    data = web_session.decode(settings, cookie["value"])
    past = datetime.now(UTC) - timedelta(minutes=settings.token_ttl_minutes + 60)
    data["t"] = issue_token(settings, user_id=live_server.world.users["kg-a2"].id, role="applicant", now=past)
    applicant.context.add_cookies([{**cookie, "value": web_session.encode(settings, data)}])
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/login\?.*expired=1"))
    _log_in_again(page, "kg-a2")
    page.wait_for_url(form_url)
    expect(page.locator("#in-reasons")).to_have_value("改写后的申请理由：加强游戏化教学")
    page.get_by_role("button", name="撤销恢复").click()  # the person may drop it: the saved text is back
    expect(page.locator("#in-reasons")).to_have_value(TYPED)
    expect(page.locator(".draft-restored")).to_have_count(0)


def test_the_pages_notifications_open(person: Callable[[], Person], live_server: LiveServer, api: Api) -> None:
    runtime, world = live_server.runtime, live_server.world
    build_year(runtime, world)
    opened = api("POST", "/api/evaluations/open", "officer", json={"year": YEAR})
    a = next(e for e in opened if e["alliance_code"] == "TA")

    def step(who: str, event: str, **body: object) -> None:
        nonlocal a
        a = api("POST", f"/api/evaluations/{a['id']}/events/{event}", who, json={"version": a["version"], **body})

    step("lead-a", "self_assess", items=[{"key": "outcomes", "score": 12}, {"key": "safety", "score": 5},
                                         {"key": "bonus", "score": 3}])  # fmt: skip
    step("researcher", "score", scores=[{"key": "outcomes", "score": 0, "comment": "无成效材料"}])
    step("officer", "score", scores=[{"key": "safety", "score": 0, "comment": "未报送安全预案"},
                                     {"key": "bonus", "score": 0, "comment": "无"}])  # fmt: skip
    step("officer", "publish", comment="限期整改")

    teacher = add_teacher(runtime, world, "A-M1", name="王敏", level=TeacherLevel.BACKBONE)
    api("POST", "/api/mentors/rounds", "officer", json={"deadline": "2099-12-31"})
    nomination = api("POST", "/api/mentors/nominations", "kg-a1", json={
        "teacher_id": str(teacher), "team": "科学", "qualifications": ["backbone"], "professional_title": "一级教师",
        "teaching_years": 12, "achievements": "执教市级公开课《有趣的磁铁》；A&B<获奖>",
        "reasons": "长期带领本园科学领域教研，\n善于指导青年教师"})  # fmt: skip
    nomination = api(
        "POST",
        f"/api/mentors/nominations/{nomination['id']}/events/review",
        "researcher",
        json={"version": nomination["version"], "comment": "同意推荐"},
    )
    api("POST", f"/api/mentors/nominations/{nomination['id']}/events/appoint", "officer",
        json={"version": nomination["version"], "term_start": "2026-09-01", "term_end": "2029-08-31",
              "alliance_ids": [str(world.alliances["A"].id)]})  # fmt: skip

    officer = person()
    officer.login("officer")
    page = officer.open("/notifications")
    page.get_by_role("link", name=re.compile("项动态管理待处理")).click()
    page.wait_for_url(live_server.url + "/review-flags")
    expect(page.locator("h1")).to_have_text("动态管理")
    expect(page.locator(".review-flag")).to_have_count(2)
    page.locator(".evidence summary").first.click()
    expect(page.locator(".evidence-list li").first).to_be_visible()
    officer.screenshot("dead-ends-review-flags")

    page = officer.open("/notifications")
    page.get_by_role("link", name=re.compile("导师推荐待聘任")).click()
    expect(page.locator("h1")).to_contain_text("王敏")
    expect(page.locator(".page-head .state")).to_have_text("已聘任")
    officer.screenshot("dead-ends-mentor-nomination")
    page.get_by_role("link", name="全部推荐").click()
    expect(page.locator("table.list")).to_contain_text(nomination["number"])
    officer.screenshot("dead-ends-mentor-nominations")

    kindergarten = person()
    kindergarten.login("kg-a1")
    page = kindergarten.open("/notifications")
    page.get_by_role("link", name=re.compile("已聘任为")).click()
    expect(page.locator(".documents")).to_contain_text("推荐表")
    kindergarten.screenshot("dead-ends-mentor-nomination-kindergarten")
