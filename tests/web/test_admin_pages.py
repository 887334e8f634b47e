"""The administrator's pages: accounts (create with field errors, enable/disable) and the template check."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.app import PASSWORD
from tests.web.test_pages import field_error


def new_user(world, **overrides) -> dict:
    return {
        "username": "kg-new",
        "display_name": "新园账号",
        "role": "applicant",
        "kindergarten_id": world.kid("C-OUT"),
        "password": "a-long-password-1",
    } | overrides


def test_admin_creates_a_user_who_can_then_sign_in(browser, world, client):
    admin = browser("admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "kg-a1" in page.text and "账号管理" in page.text
    r = admin.post("/admin/users", new_user(world))
    assert r.status_code == 303, r.text
    page = admin.get("/admin/users").text
    assert "已创建账号 kg-new" in page and "新园账号" in page
    r = client.post("/api/auth/token", data={"username": "kg-new", "password": "a-long-password-1"})
    assert r.status_code == 200, r.text


def test_bad_input_comes_back_with_field_errors(browser, world):
    admin = browser("admin")
    r = admin.post("/admin/users", new_user(world, username="X", password="short", display_name=""))
    assert r.status_code == 200
    assert field_error(r.text, "err-display_name") == "请输入姓名"
    r = admin.post("/admin/users", new_user(world, username="X", password="short"))
    assert r.status_code == 200
    assert "用户名须以小写字母开头" in field_error(r.text, "err-username")
    assert field_error(r.text, "err-password") == "密码至少 10 位"
    r = admin.post("/admin/users", new_user(world, kindergarten_id=""))
    assert field_error(r.text, "err-kindergarten_id") == "园所账号必须关联一所幼儿园"
    r = admin.post("/admin/users", new_user(world, role=""))
    assert field_error(r.text, "err-role") == "请选择角色"
    r = admin.post("/admin/users", new_user(world, username="kg-a1"))
    assert "已存在" in field_error(r.text, "err-username")
    assert 'value="kg-a1"' in r.text and "a-long-password-1" not in r.text


def test_admin_disables_and_enables_an_account_but_not_their_own(browser, world, client):
    admin = browser("admin")
    target = world.users["kg-out"].id
    r = admin.post(f"/admin/users/{target}/active", {"active": "false"})
    assert r.status_code == 303, r.text
    assert "已停用" in admin.get("/admin/users").text
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 401
    assert admin.post(f"/admin/users/{target}/active", {"active": "true"}).status_code == 303
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 200
    r = admin.post(f"/admin/users/{world.users['admin'].id}/active", {"active": "false"})
    assert r.status_code == 200 and "不能停用或启用自己的账号" in r.text


@pytest.mark.parametrize("username", ["officer", "kg-a1"])
def test_others_get_404(browser, world, username):
    b = browser(username)
    assert b.get("/admin/users").status_code == 404
    assert b.get("/admin/templates").status_code == 404
    # A refused post goes back to a page (the nearest one here), which is as unknown to them.
    assert b.follow(b.post("/admin/users", new_user(world))).status_code == 404
    assert b.follow(b.post(f"/admin/users/{world.users['kg-out'].id}/active", {"active": "false"})).status_code == 404
    assert "/admin/users" not in b.get("/").text


def test_creating_needs_the_csrf_token(browser, world):
    admin = browser("admin")
    assert 'href="/admin/users"' in admin.get("/").text
    r = admin.client.post("/admin/users", data=new_user(world), follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "kg-new" not in admin.get("/admin/users").text


def test_template_check_report(browser, world):
    page = browser("admin").get("/admin/templates")
    assert page.status_code == 200
    section = re.search(r"application_form\.docx.*?</section>", page.text, re.DOTALL).group(0)
    assert "通过" in section and "未通过" not in section


def test_admin_resets_a_password(browser, world, client):
    admin = browser("admin")
    target = world.users["kg-out"].id
    r = admin.post(f"/admin/users/{target}/password", {"password": "short"})
    assert r.status_code == 200
    assert field_error(r.text, "err-password-kg-out") == "密码至少 10 位"
    r = admin.post(f"/admin/users/{target}/password", {"password": "a-brand-new-pw"})
    assert r.status_code == 303, r.text
    assert "已重置账号 kg-out 的密码" in admin.get("/admin/users").text
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 401
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": "a-brand-new-pw"}).status_code == 200
    officer = browser("officer")
    assert officer.follow(officer.post(f"/admin/users/{target}/password", {"password": "x" * 12})).status_code == 404
