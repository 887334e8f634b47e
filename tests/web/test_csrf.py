"""Every unsafe request from a page must carry its session's CSRF token; the API is not affected."""

from __future__ import annotations

from tests.fixtures.app import PASSWORD


def test_post_without_token_is_refused_with_a_chinese_page(browser, world):
    b = browser("kg-out")
    r = b.client.post("/logout", follow_redirects=False)
    assert r.status_code == 403
    assert "text/html" in r.headers["content-type"]
    assert "页面已过期或请求来源不明" in r.text
    assert b.get("/").status_code == 200  # still signed in


def test_wrong_or_foreign_token_is_refused(browser, world):
    mine, other = browser("kg-out"), browser("kg-a1")
    assert b_post(mine, "/logout", {"csrf_token": "forged"}).status_code == 403
    assert b_post(mine, "/logout", {"csrf_token": other.csrf}).status_code == 403
    assert mine.client.post("/logout", headers={"X-CSRF-Token": other.csrf}, follow_redirects=False).status_code == 403
    assert b_post(mine, "/logout", {"csrf_token": mine.csrf}).status_code == 303


def b_post(b, url, data):
    return b.client.post(url, data=data, follow_redirects=False)


def test_login_form_needs_the_token_too(browser, world):
    b = browser()
    r = b.client.post("/login", data={"username": "kg-out", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert b.get("/", follow_redirects=False).status_code == 303


def test_htmx_requests_carry_the_token_as_a_header(browser, world):
    b = browser("kg-out")
    assert f'hx-headers=\'{{"X-CSRF-Token": "{b.csrf}"}}\'' in b.get("/").text
    r = b.post("/applications/check-field", {"head_phone": "123"}, htmx=True, headers={"HX-Trigger-Name": "head_phone"})
    assert r.status_code == 200
    no_header = b.client.post("/applications/check-field", data={"head_phone": "123"}, headers={"HX-Request": "true"})
    assert no_header.status_code == 403


def test_the_json_api_uses_bearer_tokens_and_no_csrf(client, world, login):
    r = client.post("/api/applications", headers=login("kg-out"), json={"name": "只填了名字"})
    assert r.status_code == 201
    # An API answer is JSON and sets no page cookie.
    assert r.headers["content-type"].startswith("application/json") and "set-cookie" not in r.headers
