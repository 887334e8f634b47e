"""In a real browser: the administrator creates a kindergarten account and a bureau account and resets
a password; the user is forced to change it, sets and changes the signing PIN, uploads the seal; the
officer revokes the key and the user sees they must set a PIN again.

Screenshots of every accounts page are saved at desktop and phone width; none may scroll sideways.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.files import jpeg_bytes, png_bytes

pytestmark = pytest.mark.slow

NEW_PASSWORD = "my-own-secret-9"
FIRST_PIN = "24681357"
SECOND_PIN = "97531864"


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_accounts_from_creation_to_a_revoked_key(person, live_server: LiveServer) -> None:
    world, base = live_server.world, live_server.url

    # The administrator finds accounts among many, and creates two.
    admin = person()
    admin.login("admin")
    page = admin.page
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="账号管理").click()
    expect(page.locator("#result-count")).to_contain_text("共 10 个账号")
    admin.screenshot("accounts-list")
    page.get_by_label("查找").fill("kg-a")
    page.get_by_label("状态").select_option(label="启用中")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#result-count")).to_contain_text("共 2 个账号")
    expect(page.locator("#user-kg-a1")).to_be_visible()
    admin.screenshot("accounts-list-search")

    page.get_by_role("link", name="新建账号").click()
    page.get_by_label("幼儿园").select_option(world.kid("A-LEAD"))
    page.get_by_label("姓名").fill("龙头园 业务园长")
    page.get_by_label("用户名").fill("lead-a-head")
    admin.screenshot("account-new-kindergarten")
    page.get_by_role("button", name="创建账号").click()
    expect(page.locator("#created")).to_contain_text("账号已创建")
    expect(page.locator(".pairs")).to_contain_text("龙头园")
    generated = page.locator("#temporary-password").inner_text()
    assert len(generated) >= 12
    admin.screenshot("account-created")

    admin.open("/admin/users/new")
    page.get_by_role("link", name="区教科体局岗位账号").click()
    page.get_by_label("岗位").select_option(label="教研室（教研员）")
    page.get_by_label("姓名").fill("幼教教研员 二")
    page.get_by_label("用户名").fill("X")  # refused, and everything typed stays
    page.get_by_label("临时密码").fill("handed-over-77")
    page.get_by_role("button", name="创建账号").click()
    expect(page.locator("#err-username")).to_contain_text("用户名须以小写字母开头")
    expect(page.get_by_label("姓名")).to_have_value("幼教教研员 二")
    expect(page.get_by_label("临时密码")).to_have_value("handed-over-77")
    admin.screenshot("account-new-bureau-error")
    page.get_by_label("用户名").fill("jiaoyan2")
    page.get_by_role("button", name="创建账号").click()
    expect(page.locator(".pairs")).to_contain_text("教研室")

    # A reset: the temporary password is shown once, on the account's page.
    admin.open("/admin/users?q=kg-a1")
    page.get_by_role("link", name="kg-a1").click()
    page.get_by_role("button", name="重置密码").click()
    temporary = page.locator("#reset-temporary-password").inner_text()
    assert len(temporary) >= 12
    expect(page.locator("#password-state")).to_have_text("临时密码，待本人修改")
    admin.screenshot("account-detail-reset")

    # The user signs in with it and can do nothing before choosing their own password.
    user = person()
    upage = user.page
    sign_in(upage, base, "kg-a1", temporary)
    upage.wait_for_url(base + "/account/password")
    expect(upage.locator(".notice-warn")).to_contain_text("请先设置您自己的密码")
    user.screenshot("password-forced")
    upage.goto(base + "/applications")
    upage.wait_for_url(base + "/account/password")
    upage.get_by_label("当前密码").fill(temporary)
    upage.locator("#in-new_password").fill(NEW_PASSWORD)
    upage.get_by_label("再次输入新密码").fill("not-the-same-1")
    upage.get_by_role("button", name="修改密码").click()
    expect(upage.locator("#err-new_password_confirm")).to_have_text("两次输入的新密码不一致")
    expect(upage.locator("#in-new_password")).to_have_value(NEW_PASSWORD)
    upage.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    upage.get_by_role("button", name="修改密码").click()
    upage.wait_for_url(base + "/")
    expect(upage.locator(".flash")).to_contain_text("密码已修改")

    # 我的账号 from the header: set the signing PIN (a five-digit one is refused next to its field).
    upage.locator(".who-name").click()
    upage.wait_for_url(base + "/account")
    expect(upage.locator("#pin-card")).to_contain_text("您尚未设置签名密码")
    user.screenshot("my-account")
    pin_card = upage.locator("#pin-card")
    pin_card.get_by_label("登录密码").fill(NEW_PASSWORD)
    pin_card.locator("#in-pin").fill("13579")
    pin_card.get_by_label("再次输入签名密码").fill("13579")
    pin_card.get_by_role("button", name="设置签名密码").click()
    expect(upage.locator("#err-pin")).to_have_text("签名密码须为 6–12 位数字")
    expect(pin_card.get_by_label("登录密码")).to_have_value(NEW_PASSWORD)
    expect(pin_card.get_by_label("再次输入签名密码")).to_have_value("13579")
    user.screenshot("my-account-pin-error")
    pin_card.locator("#in-pin").fill(FIRST_PIN)
    pin_card.get_by_label("再次输入签名密码").fill(FIRST_PIN)
    pin_card.get_by_role("button", name="设置签名密码").click()
    expect(upage.locator(".flash")).to_contain_text("签名密码已设置")

    # Changing it needs the old PIN: a wrong one is refused next to its field, the rest kept.
    pin_card = upage.locator("#pin-card")
    pin_card.get_by_label("登录密码").fill(NEW_PASSWORD)
    pin_card.get_by_label("原签名密码").fill("11223344")
    pin_card.locator("#in-pin").fill(SECOND_PIN)
    pin_card.get_by_label("再次输入签名密码").fill(SECOND_PIN)
    pin_card.get_by_role("button", name="更换签名密码").click()
    expect(upage.locator("#err-current_pin")).to_have_text("原签名密码错误")
    expect(pin_card.locator("#in-pin")).to_have_value(SECOND_PIN)
    pin_card.get_by_label("原签名密码").fill(FIRST_PIN)
    pin_card.get_by_role("button", name="更换签名密码").click()
    expect(upage.locator(".flash")).to_contain_text("签名密码已更换")

    # The seal: a JPEG is refused next to the file input, then a PNG is accepted and previewed.
    seal_card = upage.locator("#seal-card")
    seal_card.get_by_label("选择印章图片").set_input_files(
        files=[{"name": "印章.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((300, 300))}]
    )
    seal_card.get_by_role("button", name="上传").click()
    expect(upage.locator("#err-seal")).to_contain_text("只接受 PNG 图片")
    upage.locator("#seal-card").get_by_label("选择印章图片").set_input_files(
        files=[{"name": "印章.png", "mimeType": "image/png", "buffer": png_bytes((300, 300), "#c81010")}]
    )
    upage.locator("#seal-card").get_by_role("button", name="上传").click()
    expect(upage.locator("#seal-card")).to_contain_text("印章图片已上传")
    preview = upage.locator("#seal-card img")
    expect(preview).to_be_visible()
    upage.wait_for_function("document.querySelector('#seal-card img').naturalWidth > 0")
    expect(upage.locator("#err-seal")).to_have_text("")
    user.screenshot("my-account-seal")

    # The officer revokes the key; the user is told to set a PIN again.
    officer = person()
    officer.login("officer")
    opage = officer.page
    opage.get_by_role("navigation", name="主菜单").get_by_role("link", name="签名密钥").click()
    expect(opage.locator("#key-kg-a1")).to_be_visible()
    officer.screenshot("signing-keys")
    opage.locator("#key-kg-a1").get_by_role("button", name="撤销密钥").click()
    expect(opage.locator(".flash")).to_contain_text("已撤销")
    expect(opage.locator("#key-kg-a1")).to_have_count(0)
    upage.goto(base + "/account")
    expect(upage.locator("#key-revoked")).to_contain_text("被撤销")
    assert upage.locator("#pin-card").get_by_label("原签名密码").count() == 0
    user.screenshot("my-account-revoked")

    # The new kindergarten account is forced to change its generated password too.
    newcomer = person()
    sign_in(newcomer.page, base, "lead-a-head", generated)
    newcomer.page.wait_for_url(re.compile(r".*/account/password$"))
    expect(newcomer.page.locator(".notice-warn")).to_contain_text("请先设置您自己的密码")
