"""我的账号 and 签名密钥 pages: the forced password change, one's password, the signing PIN, the seal,
and the officer's revocation of keys."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.fixtures.agreements import PIN, create_key
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import jpeg_bytes, png_bytes
from workflows.agreements.models import BureauSeal, SigningKey
from workflows.registry.models import Kindergarten

NEW_PASSWORD = "my-own-secret-9"


def oob_error(html: str, name: str) -> str:
    """The text of an error element swapped in next to its field (out of band)."""
    found = re.search(rf'<p class="field-error" id="err-{re.escape(name)}" role="alert"[^>]*>([^<]*)</p>', html)
    assert found, f"no error element for {name}"
    return found.group(1)


def reset_by_admin(client, login, world, username: str) -> str:
    r = client.post(f"/api/users/{world.users[username].id}/password-reset", headers=login("admin"), json={})
    assert r.status_code == 200, r.text
    return r.json()["temporary_password"]


def test_a_reset_user_is_sent_to_change_the_password_first(browser, client, login, world):
    temporary = reset_by_admin(client, login, world, "kg-a1")
    b = browser()
    r = b.login("kg-a1", temporary)
    assert r.status_code == 303
    for path in ("/", "/applications", "/account", "/notifications"):
        r = b.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account/password", path
    r = b.client.get("/agreements", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/account/password"
    page = b.get("/account/password")
    assert page.status_code == 200 and "请先设置您自己的密码" in page.text
    # Refusals come back as errors next to the fields only; nothing typed is sent back.
    r = b.post("/account/password", {"current_password": temporary, "new_password": NEW_PASSWORD,
                                     "new_password_confirm": "something-else"}, htmx=True)  # fmt: skip
    assert r.status_code == 200 and oob_error(r.text, "new_password_confirm") == "两次输入的新密码不一致"
    assert NEW_PASSWORD not in r.text and "<html" not in r.text
    r = b.post("/account/password", {"current_password": "wrong-password-1", "new_password": NEW_PASSWORD,
                                     "new_password_confirm": NEW_PASSWORD}, htmx=True)  # fmt: skip
    assert oob_error(r.text, "current_password") == "当前密码错误" and oob_error(r.text, "new_password") == ""
    r = b.post("/account/password", {"current_password": temporary, "new_password": "12345678901",
                                     "new_password_confirm": "12345678901"}, htmx=True)  # fmt: skip
    assert "全是数字" in oob_error(r.text, "new_password")
    r = b.post("/account/password", {"current_password": temporary, "new_password": NEW_PASSWORD,
                                     "new_password_confirm": NEW_PASSWORD, "next": "/"}, htmx=True)  # fmt: skip
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/"
    home = b.get("/")
    assert home.status_code == 200 and "密码已修改" in home.text
    assert client.post("/api/auth/token", data={"username": "kg-a1", "password": NEW_PASSWORD}).status_code == 200


def test_without_htmx_the_password_form_comes_back_as_a_page(browser, world):
    b = browser("kg-a2")
    r = b.post("/account/password", {"current_password": "", "new_password": "", "new_password_confirm": ""})
    assert r.status_code == 200 and "<html" in r.text
    assert oob_error(r.text, "current_password") == "请输入当前密码"
    r = b.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                     "new_password_confirm": NEW_PASSWORD})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/account"


@pytest.mark.parametrize("username", ["kg-a1", "officer", "researcher", "admin", "lead-a"])
def test_every_user_has_my_account(browser, world, username):
    b = browser(username)
    home = b.get("/").text
    assert 'href="/account"' in home and "我的账号" in home
    page = b.get("/account")
    assert page.status_code == 200 and username in page.text
    signs = username in ("kg-a1", "officer", "lead-a")
    assert ("签名密码" in page.text) is signs
    assert ("印章" in page.text) is (username in ("kg-a1", "officer", "lead-a"))


def test_the_profile_reads_in_chinese(browser, world):
    page = browser("pillar-a").get("/account").text
    assert "乡镇中心园" in page and html.escape(world.kindergartens["A-PIL"].name, quote=False) in page
    assert "pillar" not in re.sub(r"<[^>]+>", "", page).replace("pillar-a", "")


def test_setting_and_changing_the_pin(browser, world, runtime):
    b = browser("kg-b1")
    page = b.get("/account").text
    assert "您尚未设置签名密码" in page and 'name="current_pin"' not in page and "建议 8 位或更长" in page
    form = {"password": PASSWORD, "pin": "13579", "pin_confirm": "13579"}
    r = b.post("/account/pin", form, htmx=True)
    assert r.status_code == 200 and oob_error(r.text, "pin") == "签名密码须为 6–12 位数字"
    assert oob_error(r.text, "password") == "" and PASSWORD not in r.text
    r = b.post("/account/pin", form | {"pin": "24681357", "pin_confirm": "24681375"}, htmx=True)
    assert oob_error(r.text, "pin_confirm") == "两次输入的签名密码不一致"
    r = b.post("/account/pin", {"password": "wrong-password", "pin": "24681357", "pin_confirm": "24681357"}, htmx=True)
    assert oob_error(r.text, "password") == "登录密码错误"
    r = b.post("/account/pin", {"password": PASSWORD, "pin": "24681357", "pin_confirm": "24681357"}, htmx=True)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/account"
    page = b.get("/account").text
    assert "签名密码已设置" in page and "已设置签名密码" in page and 'name="current_pin"' in page
    change = {"password": PASSWORD, "pin": "97531864", "pin_confirm": "97531864"}
    r = b.post("/account/pin", change, htmx=True)
    assert oob_error(r.text, "current_pin") == "请输入原签名密码"
    r = b.post("/account/pin", change | {"current_pin": "11223344"}, htmx=True)
    assert oob_error(r.text, "current_pin") == "原签名密码错误"
    r = b.post("/account/pin", change | {"current_pin": "24681357"}, htmx=True)
    assert r.status_code == 204
    assert "签名密码已更换" in b.get("/account").text
    with runtime.db.session() as s:
        keys = list(s.scalars(select(SigningKey).where(SigningKey.user_id == world.users["kg-b1"].id)))
        assert len(keys) == 2 and sum(k.revoked_at is None for k in keys) == 1


def test_too_many_wrong_pins_show_the_lockout(browser, world, client, login):
    create_key(client, login("lead-b"))
    b = browser("lead-b")
    change = {"password": PASSWORD, "pin": "97531864", "pin_confirm": "97531864", "current_pin": "11223344"}
    for _ in range(5):
        assert oob_error(b.post("/account/pin", change, htmx=True).text, "current_pin") == "原签名密码错误"
    r = b.post("/account/pin", change | {"current_pin": PIN}, htmx=True)
    assert "签名密码错误次数过多" in r.text and oob_error(r.text, "current_pin") == ""


def test_researchers_and_admins_keep_no_key_or_seal(browser, world):
    b = browser("researcher")
    r = b.post("/account/pin", {"password": PASSWORD, "pin": "24681357", "pin_confirm": "24681357"}, htmx=True)
    assert r.status_code == 200 and "只有园所账号和成幼科账号可以设置签名密钥" in r.text
    r = b.post("/account/seal", files={"file": ("seal.png", png_bytes((200, 200)), "image/png")})
    assert r.headers["location"] == "/account"  # refused: back to the account page with the message
    assert 'class="flash flash-error"' in b.follow(r).text
    assert b.get("/account/seal.png").status_code == 404


def test_a_principal_uploads_the_seal_with_a_preview(browser, world, runtime):
    b = browser("kg-a1")
    assert b.get("/account/seal.png").status_code == 404
    assert "尚未上传印章图片" in b.get("/account").text

    def send(content: bytes, name: str = "seal.png"):
        return b.post("/account/seal", files={"file": (name, content, "image/png")}, htmx=True)

    r = send(jpeg_bytes((200, 200)), "seal.jpg")
    assert r.status_code == 200 and "只接受 PNG 图片" in oob_error(r.text, "seal")
    r = send(png_bytes((40, 40)))
    assert "至少 100 像素" in oob_error(r.text, "seal")
    r = send(png_bytes((5000, 120)))
    assert "不能超过 4000 像素" in oob_error(r.text, "seal")
    with runtime.db.session() as s:
        assert s.get(Kindergarten, world.kindergartens["A-M1"].id).seal_key is None
    seal = png_bytes((300, 300))
    r = send(seal)
    assert r.status_code == 200 and "印章图片已上传" in r.text and 'src="/account/seal.png?v=' in r.text
    assert oob_error(r.text, "seal") == ""
    image = b.get("/account/seal.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content == seal


def test_the_officer_uploads_the_bureau_seal(browser, world, runtime):
    b = browser("officer")
    assert "区教科体局印章" in b.get("/account").text
    r = b.post("/account/seal", files={"file": ("seal.png", png_bytes((240, 240)), "image/png")}, htmx=True)
    assert r.status_code == 200 and "印章图片已上传" in r.text
    with runtime.db.session() as s:
        assert s.scalars(select(BureauSeal)).one().seal_key


def test_the_officer_revokes_a_key_and_the_user_must_set_a_pin_again(browser, world, client, login):
    create_key(client, login("pillar-a"))
    officer = browser("officer")
    page = officer.get("/signing-keys").text
    assert 'id="key-pillar-a"' in page and "撤销密钥" in page
    assert 'id="key-pillar-a"' not in officer.get("/signing-keys?q=kg-").text
    r = officer.post(f"/signing-keys/{world.users['pillar-a'].id}/revoke", {"next": "/signing-keys"})
    assert r.status_code == 303 and r.headers["location"] == "/signing-keys"
    after = officer.get("/signing-keys").text
    assert "已撤销 pillar-a（pillar-a）的签名密钥" in after and 'id="key-pillar-a"' not in after
    again = officer.post(f"/signing-keys/{world.users['pillar-a'].id}/revoke", {"next": "/signing-keys"})
    assert again.headers["location"] == "/signing-keys" and "没有有效的签名密钥" in officer.follow(again).text
    mine = browser("pillar-a").get("/account").text
    assert "被撤销" in mine and 'name="current_pin"' not in mine
    for other in ("pillar-a", "researcher"):
        assert browser(other).get("/signing-keys").status_code == 404
    # The administrator revokes from the account's page, and comes back to it.
    create_key(client, login("kg-a2"))
    admin = browser("admin")
    target = world.users["kg-a2"].id
    assert "撤销签名密钥" in admin.get(f"/admin/users/{target}").text
    r = admin.post(f"/signing-keys/{target}/revoke", {"next": f"/admin/users/{target}"})
    assert r.headers["location"] == f"/admin/users/{target}"
    assert "已撤销，待本人重新设置" in admin.get(f"/admin/users/{target}").text
