"""The administrator's pages: the account list (search, filters, pages), creating an account for a
kindergarten or a bureau post, deactivating, resetting a password; and the template check."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.fixtures.app import PASSWORD
from tests.web.test_pages import field_error
from workflows.accounts.models import User
from workflows.roles import Role


def secret_of(html: str, element_id: str = "temporary-password") -> str:
    found = re.search(rf'id="{element_id}">([^<]+)<', html)
    assert found, f"no {element_id}"
    return found.group(1)


def kindergarten_account(world, **overrides) -> dict:
    return {"kind": "kindergarten", "kindergarten_id": world.kid("A-LEAD"), "role": "", "username": "lead-a-head",
            "display_name": "龙头园 业务园长", "phone": "13900001111", "password": ""} | overrides  # fmt: skip


def usernames_on(html: str) -> list[str]:
    return re.findall(r'<tr id="user-([^"]+)">', html)


def test_the_list_searches_filters_and_pages(browser, world, runtime):
    admin = browser("admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "共 10 个账号" in page.text
    assert usernames_on(admin.get("/admin/users?q=kg-a").text) == ["kg-a1", "kg-a2"]
    assert usernames_on(admin.get("/admin/users?q=园外").text) == ["kg-out"]
    assert usernames_on(admin.get("/admin/users?role=lead").text) == ["lead-a", "lead-b"]
    filtered = admin.get(f"/admin/users?kindergarten={world.kid('A-PIL')}").text
    assert usernames_on(filtered) == ["pillar-a"] and f'<option value="{world.kid("A-PIL")}" selected>' in filtered
    # Nonsense in the address is ignored, not an error page.
    assert admin.get("/admin/users?role=boss&active=x&kindergarten=nope&section=zz&p=-3").status_code == 200
    # Thirty more accounts: two pages of twenty, the filters kept in the page links.
    with runtime.db.session() as s:
        model = s.scalar(select(User).where(User.username == "kg-a1"))
        for n in range(30):
            s.add(User(username=f"teacher{n:02d}", display_name=f"教师{n:02d}", password_hash=model.password_hash,
                       role=Role.APPLICANT, kindergarten_id=model.kindergarten_id, is_active=n % 2 == 0))  # fmt: skip
    first = admin.get("/admin/users?role=applicant").text
    assert "共 34 个账号，第 1 / 2 页" in first and len(usernames_on(first)) == 20
    assert 'href="/admin/users?role=applicant&amp;p=2"' in first
    second = admin.get("/admin/users?role=applicant&p=2").text
    assert len(usernames_on(second)) == 14 and "上一页" in second and "下一页" not in second
    stopped = admin.get("/admin/users?q=教师&active=0").text
    assert "共 15 个账号" in stopped and "已停用" in stopped


def test_admin_creates_a_kindergarten_account_with_the_suggested_role(browser, world, client):
    admin = browser("admin")
    form = admin.get("/admin/users/new").text
    names = {
        code: html.escape(world.kindergartens[code].name, quote=False) for code in ("A-LEAD", "A-PIL", "A-M1", "C-OUT")
    }
    assert f"{names['A-LEAD']}（龙头园）" in form and f"{names['A-PIL']}（乡镇中心园）" in form
    assert f"{names['A-M1']}（民办园）" in form and f"{names['C-OUT']}（民办园）" in form and "未加入联盟" in form
    r = admin.post("/admin/users/new", kindergarten_account(world))
    assert r.status_code == 200 and "账号已创建" in r.text
    assert "龙头园 业务园长" in r.text and "龙头园" in r.text and "临时密码，待本人修改" in r.text
    temporary = secret_of(r.text)
    assert client.post("/api/auth/token", data={"username": "lead-a-head", "password": temporary}).status_code == 200
    listed = admin.get("/admin/users?q=lead-a-head").text
    assert usernames_on(listed) == ["lead-a-head"] and "待改初始密码" in listed


def test_admin_creates_a_bureau_account(browser, world):
    admin = browser("admin")
    form = admin.get("/admin/users/new?kind=bureau").text
    assert "成幼科（审核、签署、考核）" in form and "教研室（教研员）" in form
    r = admin.post("/admin/users/new", {"kind": "bureau", "role": "researcher", "section": "", "username": "jiaoyan2",
                                        "display_name": "幼教教研员 二", "phone": "", "password": "handed-over-77"})  # fmt: skip
    assert r.status_code == 200 and "账号已创建" in r.text and "教研室" in r.text
    assert secret_of(r.text) == "handed-over-77"
    assert usernames_on(browser("admin").get("/admin/users?section=jiaoyan").text) == ["jiaoyan2"]


def test_bad_input_comes_back_next_to_the_fields_with_everything_typed(browser, world):
    admin = browser("admin")
    r = admin.post("/admin/users/new", kindergarten_account(world, kindergarten_id="", username="X", display_name=""))
    assert r.status_code == 200
    assert field_error(r.text, "err-kindergarten_id") == "请选择幼儿园"
    r = admin.post("/admin/users/new", kindergarten_account(world, username="X", display_name="", password="short"))
    assert "用户名须以小写字母开头" in field_error(r.text, "err-username")
    assert field_error(r.text, "err-display_name") == "请输入姓名"
    assert field_error(r.text, "err-password") == "密码至少 10 位"
    assert 'value="X"' in r.text and 'value="short"' in r.text and 'value="13900001111"' in r.text
    assert f'<option value="{world.kid("A-LEAD")}" selected>' in r.text
    r = admin.post("/admin/users/new", kindergarten_account(world, username="kg-a1"))
    assert "已存在" in field_error(r.text, "err-username")
    r = admin.post("/admin/users/new", {"kind": "bureau", "role": "", "username": "x-y-z", "display_name": "某"})
    assert field_error(r.text, "err-role") == "请选择岗位"


def test_admin_deactivates_and_reactivates_an_account_but_not_their_own(browser, world, client):
    admin = browser("admin")
    target = world.users["kg-out"].id
    detail = admin.get(f"/admin/users/{target}").text
    assert "停用账号" in detail and "kg-out" in detail
    r = admin.post(f"/admin/users/{target}/active", {"active": "false"})
    assert r.status_code == 303 and r.headers["location"] == f"/admin/users/{target}"
    assert "已停用账号 kg-out" in admin.get(f"/admin/users/{target}").text
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 401
    assert admin.post(f"/admin/users/{target}/active", {"active": "true"}).status_code == 303
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 200
    own = admin.get(f"/admin/users/{world.users['admin'].id}").text
    assert "停用账号" not in own and "我的账号" in own
    r = admin.post(f"/admin/users/{world.users['admin'].id}/active", {"active": "false"})
    assert r.headers["location"] == f"/admin/users/{world.users['admin'].id}"
    assert "不能停用或启用自己的账号" in admin.follow(r).text


def test_admin_resets_a_password_shown_once(browser, world, client):
    admin = browser("admin")
    target = world.users["kg-out"].id
    r = admin.post(f"/admin/users/{target}/password", {"password": "short"}, htmx=True)
    assert r.status_code == 200 and field_error(r.text, "err-reset-password") == "密码至少 10 位"
    r = admin.post(f"/admin/users/{target}/password", {"password": ""}, htmx=True)
    assert r.status_code == 200 and 'id="reset-result"' in r.text and "<html" not in r.text
    temporary = secret_of(r.text, "reset-temporary-password")
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 401
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": temporary}).status_code == 200
    assert temporary not in admin.get(f"/admin/users/{target}").text  # shown once
    assert "临时密码，待本人修改" in admin.get(f"/admin/users/{target}").text


@pytest.mark.parametrize("username", ["officer", "kg-a1"])
def test_others_get_404(browser, world, username):
    b = browser(username)
    target = world.users["kg-out"].id
    assert b.get("/admin/users").status_code == 404
    assert b.get("/admin/users/new").status_code == 404
    assert b.get(f"/admin/users/{target}").status_code == 404
    assert b.get("/admin/templates").status_code == 404
    # A refused post goes back to a page (the nearest one here), which is as unknown to them.
    assert b.follow(b.post("/admin/users/new", kindergarten_account(world))).status_code == 404
    assert b.follow(b.post(f"/admin/users/{target}/active", {"active": "false"})).status_code == 404
    assert b.follow(b.post(f"/admin/users/{target}/password", {"password": "x" * 12})).status_code == 404
    assert "/admin/users" not in b.get("/").text


def test_creating_needs_the_csrf_token(browser, world):
    admin = browser("admin")
    assert 'href="/admin/users"' in admin.get("/").text
    r = admin.client.post("/admin/users/new", data=kindergarten_account(world), follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "lead-a-head" not in admin.get("/admin/users").text


def test_template_check_report(browser, world):
    page = browser("admin").get("/admin/templates")
    assert page.status_code == 200
    section = re.search(r"application_form\.docx.*?</section>", page.text, re.DOTALL).group(0)
    assert "通过" in section and "未通过" not in section
