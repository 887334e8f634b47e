"""A signer whose key was retired by the move to the token (migration 0022) sees why on 我的账号, at
desktop and phone width, and sets a PIN again there: the new key is made in the token."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import LiveServer
from tests.fixtures.app import PASSWORD
from workflows.agreements import keys, token
from workflows.agreements.models import SigningKey

PIN = "86420975"


def test_a_signer_retired_by_the_upgrade_sets_a_pin_again(person, live_server: LiveServer) -> None:
    runtime = live_server.runtime
    user_id = live_server.world.users["pillar-a"].id
    with runtime.db.session() as s:
        # What migration 0022 leaves of a key from before the token: revoked, with nothing in the token.
        s.add(SigningKey(user_id=user_id, certificate_pem="-", certificate_serial="1", certificate_sha256="e" * 64,
                         key_id=keys.LEGACY_KEY_ID, pin_hash="", revoked_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC)))  # fmt: skip

    signer = person()
    signer.login("pillar-a")
    page = signer.open("/account")
    notice = page.locator("#key-revoked")
    expect(notice).to_contain_text("签名密钥现由签名令牌（硬件安全模块）保管")
    expect(notice).to_contain_text("2026-12-01 10:00")
    signer.screenshot("account-key-retired-by-upgrade")

    pin_card = page.locator("#pin-card")
    pin_card.get_by_label("登录密码").fill(PASSWORD)
    pin_card.locator("#in-pin").fill(PIN)
    pin_card.get_by_label("再次输入签名密码").fill(PIN)
    pin_card.get_by_role("button", name="设置签名密码").click()
    expect(page.locator(".flash")).to_contain_text("签名密码已设置")
    expect(page.locator("#pin-card")).to_contain_text("已设置签名密码")
    signer.screenshot("account-key-set-again-in-token")

    with runtime.db.session() as s:
        record = s.scalar(select(SigningKey).where(SigningKey.user_id == user_id, SigningKey.revoked_at.is_(None)))
        assert record is not None and record.key_id != keys.LEGACY_KEY_ID
        assert token.has_key(runtime.settings, bytes.fromhex(record.key_id))
        assert keys.unlock(session=s, settings=runtime.settings, user_id=user_id, pin=PIN).record.id == record.id
