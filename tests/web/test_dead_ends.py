"""No dead ends in the browser: unknown addresses, action URLs, refused actions, expired sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request
from starlette.responses import Response

from api.web import session as web_session
from api.web.deps import safe_next, safe_path
from tests.web.test_session import replace_cookie
from workflows.accounts.tokens import issue_token

STALE = "记录已被他人修改，请刷新后重试"
SITE = "http://testserver"


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def flash_errors(html: str) -> list[str]:
    return re.findall(r'<div class="flash flash-error" role="alert">\s*<p>([^<]*)</p>', html)


def test_an_unknown_address_is_the_chinese_404_page_signed_in_or_not(browser, world):
    for who in (None, "kg-out"):
        r = browser(who).get("/no/such/page", follow_redirects=False)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert r.text.startswith("<!doctype html>") and '<html lang="zh-CN">' in r.text and "页面不存在" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
        # A signed-in person keeps the menu; a visitor is offered the login.
        assert ('aria-label="主菜单"' in r.text) == (who is not None)
        assert ("前往登录" in r.text) == (who is None)
    assert browser("kg-out").get("/applications/not-a-uuid/edit/x").status_code == 404
    api = browser("kg-out").client.get("/api/no/such/thing")
    assert api.status_code == 404 and api.json()["code"] == "not_found"


def test_an_action_url_opened_as_a_page_is_a_chinese_405_page(browser, draft):
    b, app_id = draft
    r = b.get(f"/applications/{app_id}/events/withdraw", follow_redirects=False)
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    assert "无法打开此地址" in r.text and "不能直接打开" in r.text
    assert f'<a class="button primary" href="/applications/{app_id}">返回原页面</a>' in r.text
    posted = b.post("/notifications", {})
    assert posted.status_code == 405 and "此页面不接受这种提交方式" in posted.text
    api = b.client.get("/api/auth/token")
    assert api.status_code == 405 and api.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "value",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ok\u3000",
        "evil.example",
        "",
        None,
    ],
)
def test_return_paths_are_only_paths_of_this_site(value):
    assert safe_path(value) is None
    assert safe_next(value) == "/"


def test_return_paths_keep_a_path_with_its_query():
    for value in ("/", "/applications?state=submitted", "/semester-work/x?semester=2026-autumn#plan", "/%2F%2Fx"):
        assert safe_path(value) == value


@pytest.fixture
def under_review(browser, submitted):
    """The application under review, and the officer's page of it from before that (its version is stale)."""
    _, app_id = submitted
    officer = browser("officer")
    stale = officer.get(f"/applications/{app_id}").text
    started = officer.post(f"/applications/{app_id}/events/start_review", {"version": version_of(stale)})
    assert started.status_code == 303
    return officer, app_id, version_of(stale)


def test_a_stale_approve_returns_to_the_application_with_the_message(under_review, world):
    officer, app_id, stale = under_review
    detail = f"/applications/{app_id}"
    body = {"version": stale, "alliance_id": str(world.alliances["A"].id), "comment": "同意"}
    r = officer.post(f"{detail}/events/approve", body, headers={"Referer": SITE + detail})
    assert r.status_code == 303 and r.headers["location"] == detail
    back = officer.follow(r)
    assert back.status_code == 200 and flash_errors(back.text) == [STALE]
    assert "审核中" in back.text  # the page as it is now, nothing approved
    assert flash_errors(officer.get(detail).text) == []  # shown once


def test_the_way_back_is_the_form_page_and_never_another_site(under_review, world):
    officer, app_id, stale = under_review
    detail = f"/applications/{app_id}"
    action = f"{detail}/events/approve"
    body = {"version": stale, "alliance_id": str(world.alliances["A"].id)}

    def back_to(extra: dict, referer: str | None = None) -> str:
        headers = {"Referer": referer} if referer else {}
        r = officer.post(action, {**body, **extra}, headers=headers)
        assert r.status_code == 303
        officer.follow(r)  # take the message, as the browser would
        return r.headers["location"]

    queue = "/applications?state=under_review"
    assert back_to({"return_to": queue}, SITE + detail) == queue
    assert back_to({}, SITE + queue) == queue  # the Referer, with its query
    # Another site, a protocol-relative or backslashed address, an action URL: never; the nearest page instead.
    assert back_to({"return_to": "//evil.example/"}, "http://evil.example" + queue) == detail
    assert back_to({"return_to": "/\\evil.example"}) == detail
    assert back_to({"return_to": "https://evil.example/"}) == detail
    assert back_to({"return_to": action}, SITE + action) == detail
    assert back_to({}) == detail


def test_a_refusal_to_htmx_lands_in_the_message_region(under_review, world):
    officer, app_id, stale = under_review
    r = officer.post(
        f"/applications/{app_id}/events/approve",
        {"version": stale, "alliance_id": str(world.alliances["A"].id)},
        htmx=True,
        headers={"HX-Current-URL": f"{SITE}/applications/{app_id}"},
    )
    assert r.status_code == 200
    assert (r.headers["hx-retarget"], r.headers["hx-reswap"]) == ("#messages", "innerHTML")
    assert flash_errors(r.text) == [STALE] and "<html" not in r.text
    assert flash_errors(officer.get(f"/applications/{app_id}").text) == []  # not left for the next page


def test_forms_with_field_errors_still_come_back_with_them(under_review):
    officer, app_id, _ = under_review
    version = version_of(officer.get(f"/applications/{app_id}").text)
    r = officer.post(f"/applications/{app_id}/events/return", {"version": version, "comment": ""})
    assert r.status_code == 200 and "退回修改时必须填写退回意见" in r.text


def _expire(b, settings, user) -> None:
    """The browser keeps its cookie, but the sign-in in it ran out (as after an idle lunch break)."""
    subject = web_session.subject_of(settings, _loaded(b, settings))
    assert subject is None or subject.user_id == user.id
    past = datetime.now(UTC) - timedelta(minutes=settings.token_ttl_minutes + 1)
    token = issue_token(settings, user_id=user.id, role="applicant", now=past)
    replace_cookie(b, web_session.encode(settings, {"c": b.csrf, "t": token, "i": int(past.timestamp())}))


def _loaded(b, settings) -> web_session.WebSession:
    cookie = f"{web_session.COOKIE_NAME}={b.client.cookies[web_session.COOKIE_NAME]}".encode()
    return web_session.load(settings, Request({"type": "http", "headers": [(b"cookie", cookie)]}))


def test_a_post_after_the_session_expired_goes_to_login_and_back_to_the_form(browser, draft, settings, world):
    b, app_id = draft
    form_page = f"/applications/{app_id}/edit"
    version = version_of(b.get(form_page).text)
    _expire(b, settings, world.users["kg-out"])
    r = b.post(form_page, {"name": "改过的名字", "version": version}, headers={"Referer": SITE + form_page})
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={form_page}&expired=1"
    login = b.get(r.headers["location"]).text
    assert "登录已过期，请重新登录" in login and f'name="next" value="{form_page}"' in login
    signed_in = b.post("/login", {"username": "kg-out", "password": "pw-test-2026", "next": form_page})
    assert signed_in.headers["location"] == form_page
    assert "改过的名字" not in b.get(form_page).text  # nothing was saved without a session


def test_a_post_whose_session_cookie_is_gone_goes_to_login_not_to_a_403(browser, draft):
    b, app_id = draft
    detail = f"/applications/{app_id}"
    token = b.csrf
    b.client.cookies.clear()  # the browser dropped the session cookie; the open page still has its token
    r = b.client.post(
        f"{detail}/events/withdraw",
        data={"csrf_token": token, "version": "1"},
        headers={"Referer": SITE + detail},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={detail}&expired=1"


def test_htmx_after_expiry_goes_to_login_and_back_to_the_page_not_the_fragment(browser, draft, settings, world):
    b, app_id = draft
    form_page = f"/applications/{app_id}/edit"
    b.get(form_page)
    _expire(b, settings, world.users["kg-out"])
    here = {"HX-Current-URL": SITE + form_page, "HX-Trigger-Name": "head_phone"}
    r = b.post("/applications/check-field", {"head_phone": "1"}, htmx=True, headers=here)
    assert r.status_code == 204 and r.headers["hx-redirect"] == f"/login?next={form_page}&expired=1"
    _expire(b, settings, world.users["kg-out"])  # the answer above dropped the token; a polling page meets the same
    polled = b.client.get("/notifications", headers={"HX-Request": "true", "HX-Current-URL": SITE + "/applications"})
    assert polled.status_code == 204 and polled.headers["hx-redirect"] == "/login?next=/applications&expired=1"


def test_a_refusal_keeps_a_few_short_details_in_the_cookie(settings):
    session = web_session.anonymous()
    session.add_flash("有 12 处需要修改", "error", [f"第 {n} 行：" + "很长的说明" * 60 for n in range(12)])
    response = Response()
    request = Request({"type": "http", "scheme": "http", "headers": [], "path": "/", "server": ("testserver", 80)})
    web_session.write(settings, request, response, session)
    cookie = response.headers["set-cookie"].split(";")[0]
    assert len(cookie) < 4000
    again = web_session.load(settings, Request({"type": "http", "headers": [(b"cookie", cookie.encode())]}))
    [flash] = again.pop_flash()
    assert (flash.level, flash.message, len(flash.details)) == ("error", "有 12 处需要修改", 5)
    assert flash.details[0].startswith("第 0 行：") and len(flash.details[0]) == 120


def test_a_template_sets_where_a_refused_form_comes_back_to(browser, world, semester):
    lead = browser("lead-a")
    page = f"/semester-work/{world.alliances['A'].id}"
    html = lead.get(f"{page}?semester={semester}").text
    back = f"{page}?semester={semester}#plan"
    assert f'name="return_to" value="{back}"' in html
    plan = {"guiding_idea": "以游戏为基本活动", "goals": "每月一次", "measures": "结对", "safeguards": "园长负责"}
    # A version that is no longer current (as when another window saved meanwhile).
    r = lead.post(f"{page}/{semester}/plan", {**plan, "version": "7", "return_to": back})
    assert r.headers["location"] == back  # this semester, this section; not the current semester's page
    assert flash_errors(lead.follow(r).text) == [STALE]


def test_an_oversized_upload_from_a_page_is_refused_in_a_chinese_page(browser, draft, settings):
    b, app_id = draft
    big = b"%PDF-1.4\n" + b"0" * (settings.max_upload_bytes + 128 * 1024)
    r = b.post(f"/applications/{app_id}/attachments", {"kind": "licence"}, files={"file": ("扫描件.pdf", big, "x")})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text and "文件过大" in r.text and "不能超过 20 MB" in r.text
