"""Signing in and out of the pages: the cookie, its renewal and expiry, the security headers."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

from api.web.session import COOKIE_NAME, decode, encode
from tests.fixtures.app import PASSWORD
from workflows.accounts.models import User
from workflows.accounts.tokens import issue_token


def replace_cookie(b, value: str) -> None:
    b.client.cookies.clear()
    b.client.cookies.set(COOKIE_NAME, value, domain="testserver.local")


def set_cookie_header(r) -> str:
    return next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE_NAME))


def test_pages_send_visitors_to_login_and_back(browser, world):
    b = browser()
    r = b.get("/applications?state=submitted", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/applications%3Fstate%3Dsubmitted"
    page = b.get(r.headers["location"])
    assert 'name="next" value="/applications?state=submitted"' in page.text
    signed_in = b.post("/login", {"username": "officer", "password": PASSWORD, "next": "/applications?state=submitted"})
    assert signed_in.headers["location"] == "/applications?state=submitted"


def test_login_cookie_is_httponly_samesite_and_signed(browser, world):
    b = browser()
    b.get("/login")
    r = b.post("/login", {"username": "kg-out", "password": PASSWORD})
    assert r.status_code == 303
    header = set_cookie_header(r).lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "path=/" in header
    assert "secure" not in header  # plain http in the tests; https deployments get Secure
    home = b.get("/")
    assert home.status_code == 200 and "kg-out，您好" in home.text

    # A cookie changed by hand is worth nothing: the visitor is signed out.
    value = b.client.cookies[COOKIE_NAME]
    replace_cookie(b, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert b.get("/", follow_redirects=False).status_code == 303


def test_a_new_session_on_every_login(browser, world):
    b = browser()
    b.get("/login")
    before = b.csrf
    b.post("/login", {"username": "kg-out", "password": PASSWORD})
    b.get("/")
    assert b.csrf and b.csrf != before


def test_wrong_password_says_so_in_chinese_next_to_the_form(browser, world):
    b = browser()
    b.get("/login")
    r = b.post("/login", {"username": "kg-out", "password": "nope"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert "用户名或密码错误" in r.text
    assert 'value="kg-out"' in r.text
    assert b.get("/", follow_redirects=False).status_code == 303


def test_login_is_throttled(browser, world, settings):
    b = browser()
    b.get("/login")
    for _ in range(settings.login_max_failures_per_account):
        b.post("/login", {"username": "kg-a1", "password": "wrong"})
    r = b.post("/login", {"username": "kg-a1", "password": PASSWORD})
    assert "登录失败次数过多" in r.text


def test_logout_ends_the_session(browser, world):
    b = browser("kg-out")
    r = b.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "您已退出登录" in b.get("/login").text
    assert b.get("/", follow_redirects=False).status_code == 303


def test_next_never_leaves_the_site(browser, world):
    b = browser()
    b.get("/login")
    r = b.post("/login", {"username": "kg-out", "password": PASSWORD, "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def _cookie(settings, **payload) -> str:
    return encode(settings, payload)


def test_expired_token_signs_out_and_a_half_used_one_is_renewed(browser, world, settings):
    user = world.users["kg-out"]
    b = browser()
    past = datetime.now(UTC) - timedelta(minutes=settings.token_ttl_minutes + 1)
    expired = issue_token(settings, user_id=user.id, role="applicant", now=past)
    replace_cookie(b, _cookie(settings, c="x" * 43, t=expired, i=int(past.timestamp())))
    r = b.get("/", follow_redirects=False)
    # The login page says the session ran out (a visitor who never signed in is just asked to).
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=1"
    assert "登录已过期" in b.get(r.headers["location"]).text
    assert browser().get("/", follow_redirects=False).headers["location"] == "/login"

    halfway = datetime.now(UTC) - timedelta(minutes=settings.token_ttl_minutes * 0.6)
    old = issue_token(settings, user_id=user.id, role="applicant", now=halfway)
    replace_cookie(b, _cookie(settings, c="y" * 43, t=old, i=int(halfway.timestamp())))
    r = b.get("/")
    assert r.status_code == 200
    renewed = decode(settings, b.client.cookies[COOKIE_NAME])
    assert renewed["t"] != old and renewed["i"] >= int(time.time()) - 5
    assert renewed["c"] == "y" * 43  # the CSRF secret stays for the session


def test_disabled_account_is_signed_out(browser, world, runtime):
    b = browser("kg-out")
    with runtime.db.session() as s:
        s.get(User, world.users["kg-out"].id).is_active = False
    assert b.get("/", follow_redirects=False).status_code == 303


def test_security_headers_on_pages(browser, world):
    b = browser("kg-out")
    r = b.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " style=" not in r.text and "onclick" not in r.text
    assert b.get("/static/htmx.min.js").status_code == 200


def test_logout_ends_the_old_cookie_and_every_other_session_of_the_user(browser, world, client, login):
    b, other = browser("kg-out"), browser("kg-out")
    token = login("kg-out")
    copied = b.client.cookies[COOKIE_NAME]
    assert b.post("/logout").status_code == 303
    # The cookie as it was before signing out (kept by an attacker, or a back-up of the profile) is dead.
    thief = browser()
    replace_cookie(thief, copied)
    assert thief.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert other.get("/", follow_redirects=False).status_code == 303  # another browser of the user
    assert client.get("/api/me", headers=token).status_code == 401  # and the API token
    assert browser("kg-out").get("/").status_code == 200  # signing in again works


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(browser, world, client, login):
    b, other = browser("kg-out"), browser("kg-out")
    token = login("kg-out")
    form = {
        "current_password": PASSWORD,
        "new_password": "Another-pass-2026",
        "new_password_confirm": "Another-pass-2026",
    }
    assert b.post("/account/password", form).status_code == 303
    assert b.get("/").status_code == 200
    assert other.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/me", headers=token).status_code == 401


def test_the_cookie_holds_no_readable_claims(browser, world):
    b = browser("kg-out")
    value = b.client.cookies[COOKIE_NAME]
    readable = value.encode()
    for chunk in value.replace("-", "+").replace("_", "/").split("."):
        readable += base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=False)
    user_id = str(world.users["kg-out"].id)
    for claim in (user_id.encode(), b"applicant", b"kinderflow", b'"sub"', b"eyJ"):
        assert claim not in readable
